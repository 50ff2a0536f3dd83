"""Alembic environment: the app's engine (or DATABASE_URL) and every room's models."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Engine

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


def run_migrations_online() -> None:
    engine = _engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `flask init-db`")
run_migrations_online()
