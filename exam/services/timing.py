"""The attempt's clock: time left, finishing once, and expiring attempts whose time is up.

Reads never write: a page shows an attempt past its deadline through
``Attempt.time_is_up``/``effective_status``; :func:`expire_overdue` is the one named write
that seals it (called by ``flask attempts expire`` and by the POST paths that act on it).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from core import clock
from exam.models import OPEN_ATTEMPT, Attempt, AttemptStatus, Outcome, Response
from exam.services.grading import grade


def seconds_left(attempt: Attempt) -> int:
    if attempt.finished:
        return 0
    paused = attempt.status == AttemptStatus.PAUSED and attempt.paused_at
    now = attempt.paused_at if paused and attempt.paused_at else clock.now()
    return max(0, int((attempt.deadline_at - now).total_seconds()))


def expire_overdue(session: Session, attempt: Attempt) -> Attempt:
    """Finish as expired, at its deadline, an attempt whose time is up; commits.

    Written through a session of its own that takes the write lock first when ``session``
    is a read-only one, so the caller needs no lock upgrade.
    """
    if not attempt.time_is_up:
        return attempt
    bind = session.get_bind()
    if bind.dialect.name != "sqlite" or bind.get_execution_options().get("sqlite_begin"):
        finish_attempt(session, attempt, AttemptStatus.EXPIRED, attempt.deadline_at)
        session.commit()
        return attempt
    with Session(
        bind=bind.execution_options(sqlite_begin="IMMEDIATE"), expire_on_commit=False
    ) as writer:
        fresh = writer.get(Attempt, attempt.id)
        if fresh is not None and fresh.time_is_up:
            finish_attempt(writer, fresh, AttemptStatus.EXPIRED, fresh.deadline_at)
        writer.commit()
    session.commit()  # end this session's snapshot so it sees the finished attempt
    session.refresh(attempt)
    return attempt


def responses(session: Session, attempt_id: int) -> list[Response]:
    return list(
        session.scalars(
            select(Response).where(Response.attempt_id == attempt_id).order_by(Response.position)
        )
    )


def receipt_digest(saved: list[Response]) -> str:
    canonical = json.dumps(
        [[r.position, sorted(r.selected), r.flagged] for r in saved], separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Receipt:
    status: AttemptStatus
    finished_at: datetime
    digest: str


def receipt(session: Session, attempt: Attempt) -> Receipt | None:
    """The receipt as sealed, or, for an attempt whose time is up but not yet expired, the
    one sealing will give (no answer is saved past the deadline); None while running."""
    if attempt.finished and attempt.finished_at and attempt.receipt_digest:
        return Receipt(AttemptStatus(attempt.status), attempt.finished_at, attempt.receipt_digest)
    if attempt.time_is_up:
        digest = receipt_digest(responses(session, attempt.id))
        return Receipt(AttemptStatus.EXPIRED, attempt.deadline_at, digest)
    return None


def finish_attempt(session: Session, attempt: Attempt, status: AttemptStatus, at: datetime) -> bool:
    """Finish once: the conditional update lets exactly one racing request win.

    The row lock comes first (PostgreSQL; SQLite's write lock already covers it) so no
    save lands between the digest and the status change.
    """
    session.execute(select(Attempt.id).where(Attempt.id == attempt.id).with_for_update())
    digest = receipt_digest(responses(session, attempt.id))
    result = session.execute(
        update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.status.in_(OPEN_ATTEMPT))
        .values(
            status=status,
            finished_at=at,
            receipt_digest=digest,
            state_version=Attempt.state_version + 1,
            result=Outcome.VOID if status == AttemptStatus.TERMINATED else None,
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(attempt)
    if not isinstance(result, CursorResult) or result.rowcount != 1:
        return False
    grade(session, attempt)
    return True


def expire_due(session: Session) -> int:
    """Finish every attempt whose deadline passed (``flask attempts expire``); commits."""
    due = session.scalars(
        select(Attempt).where(
            Attempt.status == AttemptStatus.IN_PROGRESS, Attempt.deadline_at <= clock.now()
        )
    ).all()
    finished = sum(
        finish_attempt(session, attempt, AttemptStatus.EXPIRED, attempt.deadline_at)
        for attempt in due
    )
    session.commit()
    return finished
