"""What a proctor does to a running attempt: pause, resume, extend, terminate, note.

Every action is audited and kept in the attempt's event log; each bumps the attempt's
``state_version`` so the candidate's page notices within seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock
from core.config import MAX_TOTAL_EXTENSION_MINUTES
from core.errors import FieldError, Problem
from exam.delivery import finalise_if_due, finish_attempt, seconds_left
from exam.models import Attempt, AttemptEvent, Registration, Response, Sitting
from exam.sittings import Actor, require_proctor


def _reason(reason: str, field: str = "reason") -> str:
    reason = reason.strip()
    if not reason or len(reason) > 2000:
        raise Problem(
            422,
            "Reason needed",
            "Give a reason (at most 2,000 characters); it goes in the sitting's log.",
            errors=[FieldError(field, "Required.")],
        )
    return reason


def get_attempt_for_proctor(session: Session, actor: Actor, attempt_id: int) -> Attempt:
    # Row lock (PostgreSQL): a submit or expiry racing this action waits, then is seen.
    attempt = session.get(Attempt, attempt_id, with_for_update=True, populate_existing=True)
    if attempt is None:
        raise Problem(404, "No such attempt", "")
    require_proctor(actor, session.get(Sitting, attempt.sitting_id))
    return finalise_if_due(session, attempt)


def _log(
    session: Session, actor: Actor, attempt: Attempt, kind: str, detail: dict[str, Any]
) -> None:
    session.add(
        AttemptEvent(
            attempt_id=attempt.id,
            kind=kind,
            by_user_id=actor.id,
            detail=detail,
            occurred_at=clock.now(),
        )
    )
    audit.record(
        session,
        actor_id=actor.id,
        action=f"attempt.{kind}",
        object_type="attempt",
        object_id=attempt.id,
        after=detail,
    )


def _require_open(attempt: Attempt, action: str) -> None:
    if attempt.finished:
        raise Problem(
            409, "The attempt has ended", f"Cannot {action} an attempt that is {attempt.status}."
        )


def pause(session: Session, actor: Actor, attempt: Attempt, reason: str) -> Attempt:
    _require_open(attempt, "pause")
    if attempt.status == "paused":
        return attempt
    attempt.status, attempt.paused_at = "paused", clock.now()
    attempt.state_version += 1
    _log(
        session,
        actor,
        attempt,
        "pause",
        {"reason": _reason(reason), "seconds_left": seconds_left(attempt)},
    )
    session.commit()
    return attempt


def resume(session: Session, actor: Actor, attempt: Attempt) -> Attempt:
    _require_open(attempt, "resume")
    if attempt.status != "paused" or attempt.paused_at is None:
        return attempt
    paused_for = math.ceil((clock.now() - attempt.paused_at).total_seconds())
    attempt.paused_seconds += paused_for
    attempt.status, attempt.paused_at = "in_progress", None
    attempt.deadline_at = attempt.compute_deadline()
    attempt.state_version += 1
    _log(session, actor, attempt, "resume", {"paused_seconds": paused_for})
    session.commit()
    return attempt


def extend(session: Session, actor: Actor, attempt: Attempt, minutes: int, reason: str) -> Attempt:
    _require_open(attempt, "extend")
    allowed = MAX_TOTAL_EXTENSION_MINUTES - attempt.extension_seconds // 60
    if not 1 <= minutes <= allowed:
        raise Problem(
            422,
            "Invalid extension",
            f"Extensions total at most {MAX_TOTAL_EXTENSION_MINUTES} minutes; "
            f"{max(allowed, 0)} remain for this attempt.",
            errors=[FieldError("minutes", "Out of range.")],
        )
    attempt.extension_seconds += minutes * 60
    attempt.deadline_at = attempt.compute_deadline()
    attempt.state_version += 1
    _log(session, actor, attempt, "extend", {"minutes": minutes, "reason": _reason(reason)})
    session.commit()
    return attempt


def terminate(session: Session, actor: Actor, attempt: Attempt, reason: str) -> Attempt:
    """End the attempt for misconduct: recorded as void, not as a fail."""
    _require_open(attempt, "terminate")
    detail = {"reason": _reason(reason)}
    finish_attempt(session, attempt, "terminated", clock.now())
    _log(session, actor, attempt, "terminate", detail)
    session.commit()
    return attempt


def note(session: Session, actor: Actor, attempt: Attempt, text: str) -> None:
    _log(session, actor, attempt, "note", {"note": _reason(text, "note")})
    session.commit()


@dataclass(frozen=True)
class RosterRow:
    registration: Registration
    attempt: Attempt | None
    answered: int
    total: int
    seconds_left: int
    events: list[AttemptEvent]


def live_roster(session: Session, sitting: Sitting) -> list[RosterRow]:
    """Everyone in the sitting with status, progress, time left and recent events."""
    registrations = session.scalars(
        select(Registration).where(Registration.sitting_id == sitting.id).order_by(Registration.id)
    ).all()
    attempts = {
        a.registration_id: a
        for a in session.scalars(select(Attempt).where(Attempt.sitting_id == sitting.id))
    }
    answered: dict[int, int] = {}
    for attempt_id, selected in session.execute(
        select(Response.attempt_id, Response.selected).where(
            Response.attempt_id.in_([a.id for a in attempts.values()])
        )
    ).all():
        answered[attempt_id] = answered.get(attempt_id, 0) + (1 if selected else 0)
    events: dict[int, list[AttemptEvent]] = {}
    for attempt in attempts.values():
        events[attempt.id] = list(
            session.scalars(
                select(AttemptEvent)
                .where(AttemptEvent.attempt_id == attempt.id)
                .order_by(AttemptEvent.id.desc())
                .limit(5)
            )
        )
    rows = []
    for registration in registrations:
        attempt = attempts.get(registration.id)
        if attempt is not None:
            finalise_if_due(session, attempt)
        rows.append(
            RosterRow(
                registration,
                attempt,
                answered.get(attempt.id, 0) if attempt else 0,
                len(attempt.items) if attempt else 0,
                seconds_left(attempt) if attempt else 0,
                events.get(attempt.id, [])[:5] if attempt else [],
            )
        )
    return rows


def sitting_log(session: Session, sitting: Sitting) -> list[AttemptEvent]:
    """Every proctor action and reported event in the sitting, newest first."""
    query = (
        select(AttemptEvent)
        .join(Attempt, Attempt.id == AttemptEvent.attempt_id)
        .where(Attempt.sitting_id == sitting.id)
        .order_by(AttemptEvent.id.desc())
        .limit(200)
    )
    return list(session.scalars(query))
