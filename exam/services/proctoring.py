"""What a proctor does to a running attempt: pause, resume, extend, terminate, note.

Every action is audited and kept in the attempt's event log; each bumps the attempt's
``state_version`` so the candidate's page notices within seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock
from core.auth import Actor
from core.config import MAX_TOTAL_EXTENSION_MINUTES
from core.errors import FieldError, Problem
from exam.models import (
    Attempt,
    AttemptEvent,
    AttemptStatus,
    PreparedForm,
    ProctorAction,
    Registration,
    RegistrationStatus,
    Response,
    Sitting,
)
from exam.services import drawing
from exam.services.admission import require_proctor
from exam.services.duties import refuse_own_attempt
from exam.services.problems import required_text
from exam.services.timing import expire_overdue, finish_attempt, seconds_left


def _reason(reason: str, field: str = "reason") -> str:
    return required_text(
        reason,
        field,
        2000,
        "Give a reason (at most 2,000 characters); it goes in the sitting's log.",
    )


def require_attempt_for_proctor(session: Session, actor: Actor, attempt_id: int) -> Attempt:
    # Row lock (PostgreSQL): a submit or expiry racing this action waits, then is seen.
    attempt = session.get(Attempt, attempt_id, with_for_update=True, populate_existing=True)
    if attempt is None:
        raise Problem(404, "No such attempt", "")
    sitting = session.get(Sitting, attempt.sitting_id)
    assert sitting is not None  # attempt.sitting_id is a foreign key
    require_proctor(actor, sitting)
    refuse_own_attempt(actor, attempt, "pause, resume, extend, terminate or note this attempt")
    return attempt


def act(
    session: Session,
    actor: Actor,
    attempt: Attempt,
    action: str,
    reason: str,
    minutes: int | None,
) -> Attempt:
    """One proctor action on an attempt from :func:`require_attempt_for_proctor`, the same
    for the console and the API; an attempt whose time is up is expired first, so the
    action meets it as it really is."""
    if action not in tuple(ProctorAction):
        raise Problem(
            422,
            "Unknown action",
            f"Actions: {', '.join(ProctorAction)}.",
            errors=[FieldError("action", "Unknown action.")],
        )
    expire_overdue(session, attempt)
    if action == ProctorAction.PAUSE:
        return pause(session, actor, attempt, reason)
    if action == ProctorAction.RESUME:
        return resume(session, actor, attempt)
    if action == ProctorAction.EXTEND:
        check_extend(attempt, minutes)
        assert minutes is not None
        return extend(session, actor, attempt, minutes, reason)
    if action == ProctorAction.TERMINATE:
        return terminate(session, actor, attempt, reason)
    note(session, actor, attempt, reason)
    return attempt


def log_action(
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
    _require_open(attempt, ProctorAction.PAUSE)
    if attempt.status == AttemptStatus.PAUSED:
        return attempt
    attempt.status, attempt.paused_at = AttemptStatus.PAUSED, clock.now()
    attempt.state_version += 1
    log_action(
        session,
        actor,
        attempt,
        ProctorAction.PAUSE,
        {"reason": _reason(reason), "seconds_left": seconds_left(attempt)},
    )
    session.commit()
    return attempt


def resume(session: Session, actor: Actor, attempt: Attempt) -> Attempt:
    _require_open(attempt, ProctorAction.RESUME)
    if attempt.status != AttemptStatus.PAUSED or attempt.paused_at is None:
        return attempt
    paused_for = math.ceil((clock.now() - attempt.paused_at).total_seconds())
    attempt.paused_seconds += paused_for
    attempt.status, attempt.paused_at = AttemptStatus.IN_PROGRESS, None
    attempt.deadline_at = attempt.compute_deadline()
    attempt.state_version += 1
    log_action(session, actor, attempt, ProctorAction.RESUME, {"paused_seconds": paused_for})
    session.commit()
    return attempt


def check_extend(attempt: Attempt, minutes: int | None) -> datetime:
    """The deadline the extension would set, once every rule of it holds; checked before
    the proctor is asked to confirm, and again when they do. Writes nothing."""
    _require_open(attempt, ProctorAction.EXTEND)
    if minutes is None:
        raise Problem(
            422,
            "Minutes needed",
            "Say how many minutes to add.",
            errors=[FieldError("minutes", "Say how many minutes to add (1 to 120).")],
        )
    allowed = MAX_TOTAL_EXTENSION_MINUTES - attempt.extension_seconds // 60
    if not 1 <= minutes <= allowed:
        raise Problem(
            422,
            "Invalid extension",
            f"Extensions total at most {MAX_TOTAL_EXTENSION_MINUTES} minutes; "
            f"{max(allowed, 0)} remain for this attempt.",
            errors=[FieldError("minutes", "Out of range.")],
        )
    return attempt.compute_deadline() + timedelta(minutes=minutes)


def extend(session: Session, actor: Actor, attempt: Attempt, minutes: int, reason: str) -> Attempt:
    check_extend(attempt, minutes)
    attempt.extension_seconds += minutes * 60
    attempt.deadline_at = attempt.compute_deadline()
    attempt.state_version += 1
    log_action(
        session,
        actor,
        attempt,
        ProctorAction.EXTEND,
        {"minutes": minutes, "reason": _reason(reason)},
    )
    session.commit()
    return attempt


def check_terminate(attempt: Attempt, reason: str) -> str:
    """The reason, once every rule of ending this attempt holds; checked before the
    proctor is asked to confirm, and again when they do. Writes nothing."""
    _require_open(attempt, ProctorAction.TERMINATE)
    return _reason(reason)


def terminate(session: Session, actor: Actor, attempt: Attempt, reason: str) -> Attempt:
    """End the attempt for misconduct: recorded as void, not as a fail."""
    detail = {"reason": check_terminate(attempt, reason)}
    finish_attempt(session, attempt, AttemptStatus.TERMINATED, clock.now())
    log_action(session, actor, attempt, ProctorAction.TERMINATE, detail)
    session.commit()
    return attempt


def note(session: Session, actor: Actor, attempt: Attempt, text: str) -> None:
    log_action(session, actor, attempt, ProctorAction.NOTE, {"note": _reason(text, "note")})
    session.commit()


@dataclass(frozen=True)
class RosterRow:
    registration: Registration
    attempt: Attempt | None
    status: str  # the attempt's effective status, else the registration's
    answered: int
    total: int
    seconds_left: int
    events: list[AttemptEvent]
    form_note: str = ""  # for an admitted candidate: whether their form is drawn


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
    prepared = drawing.prepared_by_registration(session, sitting.id)
    rows = []
    for registration in registrations:
        sat = attempts.get(registration.id)
        rows.append(
            RosterRow(
                registration,
                sat,
                sat.effective_status if sat else registration.status,
                answered.get(sat.id, 0) if sat else 0,
                len(sat.items) if sat else 0,
                seconds_left(sat) if sat else 0,
                events.get(sat.id, [])[:5] if sat else [],
                _form_note(registration, prepared.get(registration.id)),
            )
        )
    return rows


def _form_note(registration: Registration, prepared: PreparedForm | None) -> str:
    if registration.status != RegistrationStatus.ADMITTED:
        return ""
    slot = registration.start_not_before
    start = f"; starts from {clock.format_moment(slot)}" if slot else ""
    if prepared is None:
        return f"Form to be drawn at start{start}"
    if not prepared.ready:
        return f"Form to be drawn at start: {prepared.problem}{start}"
    return f"Form ready{start}"


def question_numbers(positions: list[int]) -> str:
    """Positions as people say them: "question 2", "questions 1, 2 and 3"."""
    ordered = sorted(set(positions))
    if not ordered:
        return "no question"
    if len(ordered) == 1:
        return f"question {ordered[0]}"
    first = ", ".join(str(p) for p in ordered[:-1])
    return f"questions {first} and {ordered[-1]}"


def event_detail(detail: dict[str, Any]) -> str:
    """A log event's detail in words: "saved questions 1, 2 and 3; none kept newer"; a list
    holds question numbers, and an empty one reads "none"."""
    said = []
    for key, value in detail.items():
        label = key.replace("_", " ")
        if isinstance(value, list):
            said.append(f"{label} {question_numbers(value)}" if value else f"none {label}")
        else:
            said.append(f"{label} {value}")
    return "; ".join(said)


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
