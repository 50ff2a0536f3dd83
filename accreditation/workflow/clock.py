"""The service-level clock: it runs from submission, pauses while the file is with the
provider, and stops at the first review, or when the file leaves the queue without one
(withdrawn, say): that moment is read from the application's state history, its audit
trail."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from accreditation.models import OPEN_STATES, Application
from core import clock
from core.audit import AuditEvent
from core.clock import working_days_between

SLA_WORKING_DAYS = 10
SECONDS_A_DAY = 86_400


def pause_clock(application: Application) -> None:
    if application.clock_paused_at is None:
        application.clock_paused_at = clock.now()


def resume_clock(application: Application) -> None:
    if application.clock_paused_at is not None:
        paused = working_days_between(application.clock_paused_at, clock.now())
        application.paused_seconds += round(paused * SECONDS_A_DAY)
        application.clock_paused_at = None


def working_days_waiting(application: Application, left_at: datetime | None = None) -> float:
    """Working days from submission to first review, less the time the file spent back
    with the provider; ``left_at``, when it left the queue unreviewed, ends the count."""
    if application.submitted_at is None:
        return 0.0
    end = application.first_reviewed_at or application.clock_paused_at or left_at or clock.now()
    elapsed = working_days_between(application.submitted_at, end)
    return max(0.0, elapsed - application.paused_seconds / SECONDS_A_DAY)


def overdue(application: Application) -> bool:
    """Past the service level and waiting on us (a paused clock waits on the provider)."""
    return (
        application.first_reviewed_at is None
        and application.clock_paused_at is None
        and application.state in OPEN_STATES
        and working_days_waiting(application) > SLA_WORKING_DAYS
    )


class ClockState(StrEnum):
    RUNNING = "running"  # waiting on the association
    PAUSED = "paused"  # back with the provider
    STOPPED = "stopped"  # first reviewed
    CLOSED = "closed"  # left the queue before a first review (withdrawn, say)


@dataclass(frozen=True)
class Waiting:
    """The clock as people read it: whole working days, and whether it still counts."""

    days: int
    state: ClockState


def waiting(application: Application, left_at: datetime | None = None) -> Waiting:
    """Whole working days so far (a day counts once it has passed); the figure stops at
    the first review, and at ``left_at`` when the application left the queue without one
    (``clocks`` reads that moment from the state history)."""
    if application.first_reviewed_at is not None:
        return Waiting(_whole(working_days_waiting(application)), ClockState.STOPPED)
    if application.state not in OPEN_STATES:
        left_at = left_at or application.updated_at  # no history: its last change
        return Waiting(_whole(working_days_waiting(application, left_at)), ClockState.CLOSED)
    state = ClockState.PAUSED if application.clock_paused_at is not None else ClockState.RUNNING
    return Waiting(_whole(working_days_waiting(application)), state)


def _whole(days: float) -> int:
    return math.floor(days + 1e-9)


def clocks(session: Session, applications: Iterable[Application]) -> dict[int, Waiting]:
    """Each application's clock, by id, in one read of the state history for those that
    left the queue before a first review."""
    listed = list(applications)
    closed = [
        str(a.id)
        for a in listed
        if a.submitted_at and a.first_reviewed_at is None and a.state not in OPEN_STATES
    ]
    left: dict[int, datetime] = {}
    if closed:
        history = session.execute(
            select(
                AuditEvent.object_id, AuditEvent.occurred_at, AuditEvent.before, AuditEvent.after
            )
            .where(AuditEvent.object_type == "application", AuditEvent.object_id.in_(closed))
            .order_by(AuditEvent.id)
        )
        for object_id, occurred_at, before, after in history:
            was, became = (before or {}).get("state"), (after or {}).get("state")
            if was in OPEN_STATES and became not in OPEN_STATES:
                left[int(object_id)] = occurred_at  # the latest time it left counts
    return {a.id: waiting(a, left.get(a.id)) for a in listed}
