"""SQLite writers queue for their turn in the kernel, not in SQLite's busy handler.

SQLite has one writer at a time; a transaction that finds the write lock taken sleeps in
its busy handler (1, 2, 5, 10 ms and longer) and tries again. When a whole room presses
start together the lock is always taken, so a waiting worker sleeps through the moments it
is free while the other worker takes it again and again: the writes go one at a time and
half the workers idle. A write transaction therefore first takes an exclusive ``flock`` on
a file beside the database: a waiter blocks in the kernel and wakes the moment the
previous writer commits. Each turn opens the file for itself (a ``flock`` belongs to an
open file, so two connections of one process queue too), the turn ends right after the
commit or rollback, and a process that dies loses its turn with it. A thread already
holding a turn on another connection does not wait for a second one (that would wait for
itself); SQLite's own lock and busy timeout still guard every write, as before.
"""

from __future__ import annotations

import fcntl
import threading
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection

_TURN = "write_turn"  # the open turn file, in the pooled connection's info
_holding = threading.local()


def queue_writers(engine: Engine) -> None:
    """End a turn taken by :func:`take_turn` right after its commit or rollback."""

    @event.listens_for(engine, "commit")
    def _commit_then_end_turn(conn: Connection) -> None:
        # The driver's own commit follows and finds nothing left to commit.
        _finish_then_end_turn(conn, "COMMIT")

    @event.listens_for(engine, "rollback")
    def _roll_back_then_end_turn(conn: Connection) -> None:
        _finish_then_end_turn(conn, "ROLLBACK")

    @event.listens_for(engine, "checkin")
    def _end_turn_on_return(_dbapi_connection: Any, record: Any) -> None:
        _end_turn(record.info)


def take_turn(conn: Connection, database_path: str) -> None:
    """Wait for the writers' turn before ``BEGIN IMMEDIATE`` on ``conn``."""
    info = conn.connection.info
    if _TURN in info or _held_by_this_thread():
        return
    turn_file = open(database_path + "-writers", "ab")  # noqa: SIM115  (closed by _end_turn)
    try:
        fcntl.flock(turn_file.fileno(), fcntl.LOCK_EX)
    except BaseException:
        turn_file.close()
        raise
    info[_TURN] = turn_file
    _holding.count = _held_by_this_thread() + 1


def _finish_then_end_turn(conn: Connection, statement: str) -> None:
    info = conn.connection.info
    if _TURN not in info:
        return
    try:
        dbapi_connection = conn.connection.dbapi_connection
        if dbapi_connection is not None and dbapi_connection.in_transaction:
            dbapi_connection.execute(statement)
    finally:
        _end_turn(info)


def _end_turn(info: dict[Any, Any]) -> None:
    turn_file = info.pop(_TURN, None)
    if turn_file is None:
        return
    _holding.count = max(_held_by_this_thread() - 1, 0)
    turn_file.close()  # closing the file gives the turn up


def _held_by_this_thread() -> int:
    count: int = getattr(_holding, "count", 0)
    return count
