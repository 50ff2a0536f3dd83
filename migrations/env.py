"""Alembic environment: the app's engine (or DATABASE_URL) and every room's models."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection, Engine

import wsgi  # noqa: F401  (imports every room's models onto Base.metadata)
from core.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def _engine() -> Engine:
    engine = config.attributes.get("engine")
    if engine is not None:
        return engine
    url = os.environ.get("DATABASE_URL")
    if not url:
        from core.app import default_instance_path
        from core.config import load_config

        url = load_config(default_instance_path())["DATABASE_URL"]
    return make_engine(url)


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    """SQLite changes a table by copying it, and dropping the old copy would trip the
    foreign keys of rows that point at it; they are off while migrations run (set at the
    driver, before any transaction: the pragma is ignored inside one) and checked after."""
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    if on:
        broken = driver.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"migration left rows pointing nowhere: {broken[:5]}")


def run_migrations_online() -> None:
    engine = _engine()
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _sqlite_foreign_keys(connection, on=False)
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            _sqlite_foreign_keys(connection, on=True)


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `flask init-db`")
run_migrations_online()
