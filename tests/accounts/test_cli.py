"""Commands: init-db, users create, demo-data."""

from __future__ import annotations

import stat
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from accounts.models import User
from core.auth import ROLES
from core.db import get_db
from tests.conftest import STRONG_PASSWORD, sign_in


def _create(app: Flask, *extra: str, email: str = "new.user@example.org"):
    args = [
        "users",
        "create",
        "--email",
        email,
        "--given-name",
        "New",
        "--family-name",
        "User",
        "--password",
        STRONG_PASSWORD,
        *extra,
    ]
    return app.test_cli_runner().invoke(args=args)


def test_users_create_prints_the_id_and_user_can_sign_in(app: Flask) -> None:
    result = _create(app, "--role", "proctor", "--role", "item_writer")
    assert result.exit_code == 0, result.output
    user_id = int(result.output.strip())
    with get_db(app).read_sessions() as session:
        user = session.get(User, user_id)
        assert user.roles == {"proctor", "item_writer"}
    assert sign_in(app.test_client(), "new.user@example.org").status_code == 302


def test_users_create_refuses_duplicates_and_unknown_roles(app: Flask) -> None:
    assert _create(app, "--role", "candidate").exit_code == 0
    duplicate = _create(app, "--role", "candidate", email="NEW.user@example.org")
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    unknown = _create(app, "--role", "wizard", email="other@example.org")
    assert unknown.exit_code == 1 and "Unknown role wizard" in unknown.output
    with get_db(app).read_sessions() as session:
        assert len(session.scalars(select(User)).all()) == 1


def test_init_db_is_idempotent(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0 and "up to date" in result.output


def test_demo_data_makes_one_account_per_role_with_generated_passwords(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    logins = Path(app.instance_path) / "demo-logins.txt"
    assert stat.S_IMODE(logins.stat().st_mode) == 0o600
    lines = [line.split() for line in logins.read_text().splitlines()[1:] if line.strip()]
    emails = {parts[-2]: parts[-1] for parts in lines}
    assert len(emails) == len(ROLES)
    passwords = list(emails.values())
    assert len(set(passwords)) == len(passwords) and all(len(p) >= 12 for p in passwords)
    for password in passwords:
        assert password in result.output  # printed once, at install
    with get_db(app).read_sessions() as session:
        roles = [sorted(u.roles) for u in session.scalars(select(User))]
    assert sorted(r[0] for r in roles) == sorted(ROLES)
    email, password = next(iter(emails.items()))
    assert sign_in(app.test_client(), email, password).status_code == 302

    again = app.test_cli_runner().invoke(args=["demo-data"])
    assert again.exit_code == 0 and "already exist" in again.output
    assert logins.read_text().count("\n") == len(ROLES) + 1
