"""Database engine, the one declarative ``Base``, and a session per request or command.

SQLite (the embedded default) runs with WAL, foreign keys and a busy timeout; a
session opened for writing takes the write lock up front (``BEGIN IMMEDIATE``)
so concurrent writers queue on the busy timeout instead of failing with
"database is locked" when a read transaction tries to upgrade.
"""

from __future__ import annotations

import json
import re
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Engine,
    Index,
    MetaData,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from core.clock import as_utc
from core.sqlite_turns import queue_writers, take_turn

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no zone; PostgreSQL's ``timestamptz`` does. Either way the
    application only ever sees aware UTC datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use core.clock.now()")
        return as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


def _configure_sqlite(engine: Engine) -> None:
    database_path = engine.url.database
    if not database_path or database_path == ":memory:":
        database_path = None
    else:
        queue_writers(engine)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode == "IMMEDIATE" and database_path:
            take_turn(conn, database_path)
        conn.exec_driver_sql(f"BEGIN {mode}")


def partial_index(name: str, *columns: str, where: str, unique: bool = False) -> Index:
    """An index over the rows matching ``where`` only, on SQLite and PostgreSQL alike."""
    return Index(
        name,
        *columns,
        unique=unique,
        sqlite_where=text(where),
        postgresql_where=text(where),
    )


def allowed_values(column: str, states: type[StrEnum], blank: bool = False) -> CheckConstraint:
    """A CHECK constraint that keeps ``column`` to the members of ``states`` (and the
    empty string where ``blank``), named ``ck_<table>_<column>``: the database refuses a
    state the code does not know."""
    values = [state.value for state in states] + ([""] if blank else [])
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({listed})", name=column)


def make_engine(url: str, echo: bool = False) -> Engine:
    """Create the engine for ``url`` with the per-dialect settings above."""
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 10}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


class Database:
    """The engine and session factories of one app."""

    def __init__(self, url: str, echo: bool = False) -> None:
        self.engine = make_engine(url, echo)
        write_bind = self.engine
        if self.engine.dialect.name == "sqlite":
            write_bind = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._local = threading.local()
        self._holders: weakref.WeakSet[_ThreadConnection] = weakref.WeakSet()
        self._holders_lock = threading.Lock()
        self.read_sessions = sessionmaker(bind=self.engine, expire_on_commit=False)
        self.write_sessions = sessionmaker(bind=write_bind, expire_on_commit=False)

    @contextmanager
    def session_scope(self, write: bool = True) -> Iterator[Session]:
        """A session for a command or job: committed on success, rolled back on error."""
        factory = self.write_sessions if write else self.read_sessions
        with factory() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def single_statement(self, sql: str, params: dict[str, Any]) -> int:
        """Run one self-contained write statement in autocommit and return its row count.

        For the hottest path (the exam autosave): a per-thread driver connection skips
        the session, the pool and the transaction round trips. The statement itself
        must carry every check it needs. ``sql`` uses ``:name`` parameters; datetimes
        are stored as the ORM stores them.
        """
        connection = self._autocommit_connection()
        cursor = connection.cursor()
        try:
            if self.engine.dialect.name == "sqlite":
                cursor.execute(sql, _sqlite_params(params))
            else:
                cursor.execute(_pyformat(sql), params)
            rowcount: int = cursor.rowcount
            return rowcount
        finally:
            cursor.close()

    def single_read(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """One read on the same per-thread autocommit connection as :meth:`single_statement`:
        for checks on the exam's hottest paths, which must cost no session or transaction.
        Values come back as the driver gives them (JSON as text on SQLite)."""
        connection = self._autocommit_connection()
        cursor = connection.cursor()
        try:
            if self.engine.dialect.name == "sqlite":
                cursor.execute(sql, _sqlite_params(params))
            else:
                cursor.execute(_pyformat(sql), params)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def _autocommit_connection(self) -> Any:
        holder: _ThreadConnection | None = getattr(self._local, "holder", None)
        if holder is None:
            holder = _ThreadConnection(self.engine)
            self._local.holder = holder
            with self._holders_lock:
                self._holders.add(holder)
        return holder.connection

    def dispose(self) -> None:
        with self._holders_lock:
            holders = list(self._holders)
        for holder in holders:
            holder.close()
        self._local = threading.local()
        self.engine.dispose()


class _ThreadConnection:
    """One thread's autocommit driver connection, closed when the thread ends.

    It is detached from the pool, so its autocommit setting never reaches an ORM
    session. A thread's locals are dropped when the thread exits, which drops this
    holder and closes the connection: servers that start a thread per request
    (the development server) open and close one per request instead of leaking it.
    """

    def __init__(self, engine: Engine) -> None:
        self.connection = engine.raw_connection()
        if engine.dialect.name != "sqlite":
            driver: Any = self.connection.driver_connection
            driver.autocommit = True
        self.connection.detach()
        self._closed = False

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.connection.close()

    def __del__(self) -> None:
        self.close()


_PARAM = re.compile(r"(?<!:):(\w+)")


@lru_cache(maxsize=512)
def _pyformat(sql: str) -> str:
    """``sql``'s ``:name`` parameters spelt as psycopg's ``%(name)s`` (worked out once)."""
    return _PARAM.sub(r"%(\1)s", sql)


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def get_db(app: Flask | None = None) -> Database:
    database: Database = (app or current_app).extensions["csm_db"]
    return database


def get_session() -> Session:
    """The session of the current request, opened on first use and closed on teardown.

    Requests that may change state (anything but GET/HEAD/OPTIONS) get a
    session that takes the write lock at its first statement.
    """
    if "db_session" not in g:
        db = get_db()
        reading = has_request_context() and request.method in SAFE_METHODS
        factory = db.read_sessions if reading else db.write_sessions
        g.db_session = factory()
    session: Session = g.db_session
    return session


def raw_rows(session: Session, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Plain tuples straight from the driver, inside the session's transaction.

    For reads of hundreds of thousands of rows (statistics, rescoring) where building
    result rows costs more than the query, and for the few writes of the exam's start
    (with ``RETURNING``). ``sql`` uses ``:name`` parameters; values come back as the driver
    gives them (read them with :func:`stored_json` and :func:`stored_moment`).
    """
    cursor = _raw_cursor(session, sql, params)
    try:
        return list(cursor.fetchall())
    finally:
        cursor.close()


def raw_write(session: Session, sql: str, params: dict[str, Any]) -> int:
    """One write straight to the driver, inside the session's transaction: its row count.
    For the exam's start, where building the statement would cost more than running it."""
    cursor = _raw_cursor(session, sql, params)
    try:
        rowcount: int = cursor.rowcount
        return rowcount
    finally:
        cursor.close()


def _raw_cursor(session: Session, sql: str, params: dict[str, Any]) -> Any:
    """The driver's cursor after ``sql``; a broken constraint is raised as SQLAlchemy's
    ``IntegrityError``, as a statement run through the session would raise it."""
    connection = session.connection()
    cursor = connection.connection.cursor()
    try:
        if connection.dialect.name == "sqlite":
            cursor.execute(sql, _sqlite_params(params))
        else:
            cursor.execute(_pyformat(sql), params)
    except connection.dialect.loaded_dbapi.IntegrityError as error:
        cursor.close()
        raise IntegrityError(sql, params, error) from error
    return cursor


def _sqlite_params(params: dict[str, Any]) -> dict[str, Any]:
    return {key: _sqlite_value(value) for key, value in params.items()}


def stored_json(value: Any) -> Any:
    """A JSON column read through the driver: text on SQLite, decoded on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value


def stored_moment(value: Any) -> datetime | None:
    """A timestamp read through the driver, as aware UTC: text on SQLite, a datetime on
    PostgreSQL."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return as_utc(moment)


def end_request_transaction() -> None:
    """Commit what the request's session has done so far, releasing SQLite's write lock,
    before a write on another connection (see ``Database.single_statement``)."""
    session: Session | None = g.get("db_session")
    if session is not None:
        session.commit()


def _close_session(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()


def init_app(app: Flask) -> Database:
    db = Database(app.config["DATABASE_URL"], app.config.get("SQL_ECHO", False))
    app.extensions["csm_db"] = db
    app.teardown_appcontext(_close_session)
    return db
