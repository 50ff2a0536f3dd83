"""SQLite writers queue for their turn: a writer that waits longer than SQLite's busy
timeout still gets the lock when the writer before it commits, instead of failing with
"database is locked"; and the turn is given up after a rollback as after a commit."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from core.db import make_engine

HOLD_S = 0.4  # far longer than the busy timeout below


def _engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'turns.sqlite3'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)")
    return engine


def _writer(engine: Engine) -> Connection:
    conn = engine.connect()
    conn.exec_driver_sql("PRAGMA busy_timeout=50")  # SQLite alone gives up after 50 ms
    conn.commit()
    return conn.execution_options(sqlite_begin="IMMEDIATE")


def test_a_writer_waits_for_its_turn_past_the_busy_timeout(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    first, second = _writer(engine), _writer(engine)
    holding, errors = threading.Event(), []

    def hold_the_lock() -> None:
        with first.begin():
            first.execute(text("INSERT INTO note (body) VALUES ('first')"))
            holding.set()
            threading.Event().wait(HOLD_S)  # a monotonic wait: real under faketime too

    thread = threading.Thread(target=hold_the_lock)
    thread.start()
    holding.wait()
    began = time.monotonic()
    try:
        with second.begin():
            second.execute(text("INSERT INTO note (body) VALUES ('second')"))
    except Exception as error:
        errors.append(error)
    waited = time.monotonic() - began
    thread.join()
    assert errors == []
    assert waited > 0.1  # it did wait for the first writer, longer than the busy timeout
    with engine.connect() as conn:
        bodies = conn.execute(text("SELECT body FROM note ORDER BY id")).scalars().all()
    assert bodies == ["first", "second"]


def test_a_rolled_back_writer_gives_up_its_turn(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    first, second = _writer(engine), _writer(engine)
    transaction = first.begin()
    first.execute(text("INSERT INTO note (body) VALUES ('dropped')"))
    transaction.rollback()
    with second.begin():  # would wait for ever if the turn were still held
        second.execute(text("INSERT INTO note (body) VALUES ('kept')"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT body FROM note")).scalars().all() == ["kept"]
