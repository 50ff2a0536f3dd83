"""The database layer: SQLite settings, write locks, UTC times, migrations matching models."""

from __future__ import annotations

import gc
import sqlite3
import threading
import warnings
from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import Flask
from sqlalchemy import select, text

from accounts.models import User
from core.db import Base, get_db, make_engine
from core.migrate import current_revision, upgrade_to_head
from tests.conftest import FIXED_START, USE_POSTGRES

sqlite_only = pytest.mark.skipif(USE_POSTGRES, reason="SQLite settings")


@sqlite_only
def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(app: Flask) -> None:
    with get_db(app).engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


@sqlite_only
def test_write_session_takes_the_write_lock_at_its_first_statement(app: Flask) -> None:
    db = get_db(app)
    path = db.engine.url.database
    with db.write_sessions() as session:
        session.execute(select(User.id)).all()  # only a read, yet the lock is held
        other = sqlite3.connect(path, timeout=0)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
    with db.read_sessions() as session:
        session.execute(select(User.id)).all()
        other = sqlite3.connect(path, timeout=0)
        other.execute("BEGIN IMMEDIATE")  # a reader blocks no writer
        other.rollback()
        other.close()


def test_times_are_stored_in_utc_and_read_back_aware(app: Flask, make_user) -> None:
    user = make_user()
    offset = timezone(timedelta(hours=5, minutes=30))
    local = datetime(2026, 3, 1, 17, 30, tzinfo=offset)
    with get_db(app).write_sessions() as session:
        row = session.get(User, user.id)
        row.last_sign_in_at = local
        session.commit()
    with get_db(app).read_sessions() as session:
        stored = session.get(User, user.id).last_sign_in_at
    assert stored == local
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert stored.hour == 12


def test_naive_times_are_refused(app: Flask, make_user) -> None:
    user = make_user()
    with get_db(app).write_sessions() as session:
        session.get(User, user.id).last_sign_in_at = datetime(2026, 1, 1)
        with pytest.raises(Exception, match="naive datetime"):
            session.commit()


def test_migrations_create_exactly_the_models(app: Flask) -> None:
    with get_db(app).engine.connect() as conn, warnings.catch_warnings():
        # Alembic cannot reflect expression indexes on SQLite and says so.
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


@sqlite_only
def test_upgrade_head_is_idempotent_on_a_new_database(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    upgrade_to_head(engine)
    upgrade_to_head(engine)
    assert current_revision(engine) is not None
    with engine.connect() as conn:
        tables = {
            r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
        }
    assert {"user_account", "user_role", "audit_event", "sign_in_failure"} <= tables
    engine.dispose()


def test_email_is_unique_whatever_its_case_in_the_database_itself(app: Flask, make_user) -> None:
    make_user(email="Kim.Lee@example.org")
    with get_db(app).engine.connect() as conn, pytest.raises(Exception, match=r"(?i)unique"):
        conn.execute(
            text(
                "INSERT INTO user_account (email, email_key, given_name, family_name, password_hash,"
                " active, session_version, created_at) VALUES ('KIM.lee@example.org',"
                " 'kim.lee@example.org', 'K', 'L', 'x', true, 1, :now)"
            ),
            {"now": FIXED_START},
        )


def test_a_threads_autocommit_connection_is_closed_when_the_thread_ends(app: Flask) -> None:
    """A server that starts a thread per request must not leak a connection per request,
    and the autocommit connection must never be handed to an ORM session."""
    db = get_db(app)
    used: list[object] = []

    def one_request() -> None:
        assert db.single_statement("UPDATE user_account SET given_name = given_name", {}) == 0
        used.append(db._autocommit_connection().dbapi_connection)

    worker = threading.Thread(target=one_request)
    worker.start()
    worker.join()
    gc.collect()
    with pytest.raises(Exception, match="closed"):
        used[0].execute("SELECT 1")  # type: ignore[attr-defined]
    with db.write_sessions() as session:
        session.execute(text("SELECT 1"))
        assert session.connection().connection.dbapi_connection is not used[0]
