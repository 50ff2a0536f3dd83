"""The rules every start keeps, by the short path or the full one: who may start when,
the attempt's first values and deadline, its questions and its audit row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core import audit, clock
from core.errors import Problem
from exam.models import AttemptStatus, Registration, RegistrationStatus, deadline_of
from exam.services.drawing import Draw
from exam.services.problems import no_registration


@dataclass(frozen=True)
class StartFacts:
    """What decides whether a registration may start now."""

    candidate_id: int
    status: str
    opens_at: datetime
    closes_at: datetime
    cancelled: bool
    start_not_before: datetime | None

    @classmethod
    def of(cls, registration: Registration) -> StartFacts:
        sitting = registration.sitting
        return cls(
            registration.candidate_id,
            registration.status,
            sitting.opens_at,
            sitting.closes_at,
            sitting.cancelled,
            registration.start_not_before,
        )


def check_startable(facts: StartFacts, candidate_id: int) -> None:
    if facts.candidate_id != candidate_id:
        raise no_registration()
    now = clock.now()
    if facts.status != RegistrationStatus.ADMITTED:
        raise Problem(409, "Not admitted yet", "Wait until the proctor admits you, then start.")
    if facts.cancelled or not (facts.opens_at <= now < facts.closes_at):
        raise Problem(
            409,
            "Outside the window",
            "This sitting can be started only between the ends of its window: "
            f"{clock.format_window(facts.opens_at, facts.closes_at)}.",
        )
    slot = facts.start_not_before
    if slot is not None and now < slot:
        raise Problem(
            409,
            "Not your start time yet",
            "Starts in this sitting are spread out: "
            f"you can start from {clock.format_moment(slot)}.",
            slug="start-slot",
            extra={"start_not_before": slot.isoformat()},
        )


def attempt_values(
    drawn: Draw,
    registration_id: int,
    candidate_id: int,
    sitting_id: int,
    time_factor: float,
    now: datetime,
) -> dict[str, Any]:
    values: dict[str, Any] = {
        # An attempt takes its registration's id (one attempt per registration), so the form
        # drawn at admission carries its option ids and media addresses before it exists.
        "id": registration_id,
        "registration_id": registration_id,
        "candidate_id": candidate_id,
        "sitting_id": sitting_id,
        "blueprint_version_id": drawn.version_id,
        "seed": drawn.seed,
        "status": AttemptStatus.IN_PROGRESS,
        "started_at": now,
        "time_limit_seconds": drawn.time_limit_seconds,
        "time_factor": time_factor,
        "extension_seconds": 0,
        "paused_seconds": 0,
        "state_version": 1,
        "receipt_digest": "",
    }
    values["deadline_at"] = deadline_of(now, drawn.time_limit_seconds, time_factor, 0, 0)
    return values


def record_start(session: Session, candidate_id: int, attempt_id: int, drawn: Draw) -> None:
    audit.record_straight(
        session,
        actor_id=candidate_id,
        action="attempt.started",
        object_type="attempt",
        object_id=attempt_id,
        after={
            "blueprint_version": drawn.version_number,
            "items": len(drawn.slots),
            "drawn": "at admission" if drawn.counted else "at start",
        },
    )


def attempt_items(attempt_id: int, drawn: Draw) -> list[dict[str, Any]]:
    return [
        {
            "attempt_id": attempt_id,
            "position": position,
            "item_id": item_id,
            "item_version_id": version_id,
            "option_order": list(order),
            "pretest": position in drawn.pretest_positions,
        }
        for position, (item_id, version_id, order) in enumerate(drawn.slots, start=1)
    ]
