"""Fixtures: a clean real database per test (SQLite, or PostgreSQL when TEST_POSTGRES=1),
the app and its client, a movable clock, user factories and form helpers."""

from __future__ import annotations

import functools
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

from accounts import services as account_services
from accounts.models import User
from core import clock as core_clock
from core.db import Base, get_db, make_engine
from core.migrate import upgrade_to_head
from wsgi import create_app

# Fixtures of the rooms, shared by their own tests and the browser tests.
pytest_plugins = [
    "tests.item_bank.fixtures",
    "tests.exam.fixtures",
    "tests.accreditation.fixtures",
]

USE_POSTGRES = os.environ.get("TEST_POSTGRES") == "1"
STRONG_PASSWORD = "violet-harbour-lantern-42"


def _postgres_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.exit("TEST_POSTGRES=1 needs TEST_DATABASE_URL (make test starts a cluster)", 2)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return _database_of_worker(url, worker) if worker else url


def _database_of_worker(url: str, worker: str) -> str:
    """A database of its own for one xdist worker (``gw0``...), made new in the cluster of
    ``url``: the workers empty their databases after every test, so they cannot share one."""
    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database at the migrations' head, made once per run.

    SQLite: a template file that each test copies. PostgreSQL: one database
    that each test leaves empty again.
    """
    if USE_POSTGRES:
        url = _postgres_url()
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade_to_head(engine)
        engine.dispose()
        return url
    template = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{template}")
    upgrade_to_head(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return str(template)


def _empty_postgres(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    engine = make_engine(url)
    with engine.begin() as conn:
        # Replica mode skips triggers, including the audit log's refusal to be emptied.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database_url(migrated_database: str, tmp_path: Path) -> Iterator[str]:
    """A clean database per test: a copy of the SQLite template, or PostgreSQL emptied after."""
    if USE_POSTGRES:
        yield migrated_database
        _empty_postgres(migrated_database)
        return
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(migrated_database, path)
    yield f"sqlite:///{path}"


@functools.cache
def rsa_test_key() -> str:
    """One RSA signing key for the whole run: generating one per app would cost a third
    of a second each. A test of key generation sets ``CERT_RSA_SIGNING_KEY=None``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def app_config(database_url: str, instance: Path, **extra: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "INSTANCE_PATH": str(instance),
        "PASSWORD_HASH_TIME_COST": 1,
        "PASSWORD_HASH_MEMORY_KIB": 64,
        "RATELIMIT_STORAGE_URI": "memory://",
        "PUBLIC_BASE_URL": "http://localhost",
        "CERT_RSA_SIGNING_KEY": rsa_test_key(),
        **extra,
    }


AppFactory = Callable[..., Flask]


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator[AppFactory]:
    """Build apps on this test's database; their connections are closed at teardown."""
    made: list[Flask] = []

    def make(**extra: Any) -> Flask:
        config = app_config(database_url, tmp_path / "instance", **extra)
        config = {key: value for key, value in config.items() if value is not None}
        application = create_app(config)
        made.append(application)
        return application

    yield make
    for application in made:
        get_db(application).dispose()


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    """A session on the test's database, inside an app context (as a CLI command has)."""
    with app.app_context(), get_db(app).write_sessions() as session:
        yield session


@dataclass
class MovableClock:
    """The app's clock in a test: stands still at ``current`` (or, ``ticking``, runs on
    from it in real seconds) and moves only when the test moves it."""

    current: datetime
    ticking: bool = False
    _started: float = field(default_factory=time.monotonic)

    def now(self) -> datetime:
        if not self.ticking:
            return self.current
        return self.current + timedelta(seconds=time.monotonic() - self._started)

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.now()

    def freeze(self) -> datetime:
        """Stop a ticking clock where it stands (to read an exact countdown, say)."""
        self.current, self.ticking = self.now(), False
        return self.current


FIXED_START = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Iterator[MovableClock]:
    """A fixed day, so no test depends on the date it runs on."""
    movable = MovableClock(FIXED_START)
    core_clock.set_source(movable.now)
    yield movable
    core_clock.set_source(None)


UserFactory = Callable[..., User]


@pytest.fixture
def make_user(app: Flask) -> UserFactory:
    counter = iter(range(1, 10_000))

    def make(
        *roles: str,
        email: str | None = None,
        password: str = STRONG_PASSWORD,
        given_name: str = "Dana",
        family_name: str = "Whitaker",
    ) -> User:
        number = next(counter)
        with app.app_context(), get_db(app).write_sessions() as session:
            user = account_services.create_user(
                session,
                email=email or f"user{number}@example.org",
                given_name=given_name,
                family_name=family_name,
                password=password,
                roles=roles or ("candidate",),
                actor_label="test",
            )
            session.expunge(user)
        return user

    return make


CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_PATTERN.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def post_form(client: FlaskClient, page: str, action: str, data: dict[str, Any]) -> Any:
    """Load ``page`` as a browser would, then post ``data`` to ``action`` with its CSRF token."""
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, **data})


def sign_in(client: FlaskClient, email: str, password: str = STRONG_PASSWORD) -> Any:
    return post_form(client, "/sign-in", "/sign-in", {"email": email, "password": password})


def api_token(client: FlaskClient, email: str, password: str = STRONG_PASSWORD) -> str:
    response = client.post("/api/v1/tokens", json={"email": email, "password": password})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
