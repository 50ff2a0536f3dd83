"""Candidate sign-up: the policy, duplicates, and bad input that changes nothing."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from accounts.models import User
from core.audit import AuditEvent
from core.db import get_db
from tests.conftest import STRONG_PASSWORD, post_form


def _sign_up(client: FlaskClient, **overrides: str):
    data = {
        "given_name": "Ana",
        "family_name": "Pereira",
        "email": "ana.pereira@example.org",
        "password": STRONG_PASSWORD,
        "confirm": STRONG_PASSWORD,
        **overrides,
    }
    return post_form(client, "/sign-up", "/sign-up", data)


def _count(app: Flask, model=User) -> int:
    with get_db(app).read_sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_sign_up_creates_a_signed_in_candidate(app: Flask, client: FlaskClient) -> None:
    response = _sign_up(client)
    assert response.status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "Welcome, Ana" in home and "Candidate" in home
    with get_db(app).read_sessions() as session:
        user = session.scalars(select(User)).one()
        assert user.roles == {"candidate"}
        assert (
            user.password_hash.startswith("$argon2id$")
            and STRONG_PASSWORD not in user.password_hash
        )
        event = session.scalars(select(AuditEvent)).one()
        assert (event.action, event.object_id, event.actor_id) == (
            "user.created",
            str(user.id),
            user.id,
        )


def test_duplicate_email_in_any_case_is_409_and_changes_nothing(
    app: Flask, client: FlaskClient
) -> None:
    _sign_up(client)
    other = app.test_client()
    response = _sign_up(other, email="ANA.Pereira@Example.org", given_name="Someone")
    assert response.status_code == 409
    assert "already exists" in response.get_data(as_text=True)
    assert _count(app) == 1
    assert _count(app, AuditEvent) == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"password": "short-pw", "confirm": "short-pw"}, "at least 12 and at most 256"),
        ({"password": "qwerty123456", "confirm": "qwerty123456"}, "most common passwords"),
        ({"password": "aaaaaaaaaaaaaaa", "confirm": "aaaaaaaaaaaaaaa"}, "easy to guess"),
        ({"password": "anapereira2024", "confirm": "anapereira2024"}, "name or email"),
        ({"confirm": "something-else-entirely"}, "differ"),
        ({"email": "not-an-email"}, "email"),
        ({"given_name": ""}, "required"),
        ({"family_name": "x" * 101}, "100"),
    ],
)
def test_bad_sign_up_names_the_field_and_creates_nothing(
    app: Flask, client: FlaskClient, overrides: dict[str, str], message: str
) -> None:
    response = _sign_up(client, **overrides)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in html
    assert message.lower() in html.lower()
    assert _count(app) == 0


def test_sign_up_without_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    response = client.post(
        "/sign-up",
        data={
            "given_name": "A",
            "family_name": "B",
            "email": "a@example.org",
            "password": STRONG_PASSWORD,
            "confirm": STRONG_PASSWORD,
        },
    )
    assert response.status_code == 400
    assert _count(app) == 0


def test_signed_in_user_is_sent_home_from_sign_up(client: FlaskClient, make_user) -> None:
    user = make_user()
    post_form(client, "/sign-in", "/sign-in", {"email": user.email, "password": STRONG_PASSWORD})
    assert client.get("/sign-up").status_code == 302
