"""The service-level clock: it runs from submission, pauses while the file is with the
provider, and stops at the first review."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from accreditation.models import OPEN_STATES, Application
from core import clock
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


def working_days_waiting(application: Application) -> float:
    """Working days from submission to first review, less the time the file spent back
    with the provider."""
    if application.submitted_at is None:
        return 0.0
    end = application.first_reviewed_at or application.clock_paused_at or clock.now()
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
    STOPPED = "stopped"  # first reviewed, or no longer open


@dataclass(frozen=True)
class Waiting:
    """The clock as people read it: whole working days, and whether it still counts."""

    days: int
    state: ClockState


def waiting(application: Application) -> Waiting:
    """Whole working days so far (a day counts once it has passed); the figure stops at
    the first review and when the application leaves the queue."""
    days = math.floor(working_days_waiting(application) + 1e-9)
    if application.first_reviewed_at is not None or application.state not in OPEN_STATES:
        return Waiting(days, ClockState.STOPPED)
    if application.clock_paused_at is not None:
        return Waiting(days, ClockState.PAUSED)
    return Waiting(days, ClockState.RUNNING)
