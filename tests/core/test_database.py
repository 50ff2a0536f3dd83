"""The database layer: SQLite settings, write locks, UTC times, migrations matching models."""

from __future__ import annotations

import gc
import sqlite3
import threading
import warnings
from datetime import datetime, timedelta, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import Flask
from sqlalchemy import CheckConstraint, Engine, func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from accounts.models import User
from core.db import Base, get_db, make_engine
from core.demo import run_demo_loaders
from core.migrate import alembic_config, current_revision, upgrade_to_head
from tests.conftest import FIXED_START, USE_POSTGRES, app_config
from wsgi import create_app

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


def _model_checks() -> dict[str, set[str]]:
    return {
        table.name: {c.name for c in table.constraints if isinstance(c, CheckConstraint)}
        for table in Base.metadata.sorted_tables
    }


def test_every_state_column_is_checked_by_the_database_as_the_models_say(app: Flask) -> None:
    """Alembic's comparison skips CHECK constraints, so they are compared here."""
    inspector = inspect(get_db(app).engine)
    in_database = {
        table: {c["name"] for c in inspector.get_check_constraints(table)}
        for table in _model_checks()
    }
    assert in_database == _model_checks()
    assert "ck_attempt_status" in in_database["attempt"]


def test_the_database_refuses_a_state_the_code_does_not_know(app: Flask, first_level) -> None:
    with get_db(app).engine.connect() as conn, pytest.raises(IntegrityError):
        conn.execute(text("UPDATE framework_node SET kind = 'chapter'"))


@sqlite_only
def test_upgrading_a_database_full_of_data_keeps_every_row(tmp_path) -> None:
    """SQLite adds a CHECK by copying the table; rows that point at it must survive."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    application = create_app(
        app_config(f"sqlite:///{tmp_path / 'old.sqlite3'}", tmp_path / "instance")
    )
    # The demo data is written by today's code at head, then the schema is taken back to
    # 0012 (before the CHECKs): today's models cannot write into an older schema.
    upgrade_to_head(engine)
    with application.app_context():
        run_demo_loaders(application)
    get_db(application).dispose()
    command.downgrade(alembic_config(engine), "0012")
    before = _row_counts(engine)
    upgrade_to_head(engine)
    after = _row_counts(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        holders = conn.exec_driver_sql("SELECT COUNT(DISTINCT holder_id) FROM certificate")
        # Every holder of an earlier certificate gets the subject id their credential names.
        assert after["certificate_credential_subject"] == holders.scalar()
    assert {name: after[name] for name in before} == before  # tables added later start empty
    assert before["item_version"] > 200 and before["attempt"] >= 0
    engine.dispose()


def _row_counts(engine: Engine) -> dict[str, int | None]:
    """Rows per table, for the tables the database has at its revision."""
    present = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar()
            for table in Base.metadata.sorted_tables
            if table.name in present
        }
