"""Sittings, registration with eligibility, accommodations, check-in and admission."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import User
from core import audit, clock
from core.config import MAX_TIME_FACTOR
from core.errors import FieldError, Problem
from core.web import valid_id
from exam.models import Accommodation, Attempt, Registration, Sitting, SittingProctor
from item_bank.models import Blueprint, BlueprintVersion

ACTIVE_REGISTRATION = ("registered", "checked_in", "admitted")
HOLDS_A_PLACE = (*ACTIVE_REGISTRATION, "started")
TURN_AWAY_REASONS = {"no_show": "Did not attend", "identity_mismatch": "Identity did not match"}


class Actor(Protocol):
    id: int

    def has_role(self, *roles: str) -> bool: ...


@dataclass(frozen=True)
class SittingInput:
    blueprint_code: str
    title: str
    opens_at: datetime
    closes_at: datetime
    capacity: int
    mode: str
    location: str = ""
    proctor_ids: tuple[int, ...] = ()


def _invalid(field: str, message: str) -> Problem:
    return Problem(
        422,
        "Some fields need attention",
        message,
        errors=[FieldError(field, message)],
        slug="validation",
    )


def _check_sitting(session: Session, data: SittingInput) -> Blueprint:
    blueprint = session.scalars(
        select(Blueprint).where(Blueprint.code == data.blueprint_code)
    ).one_or_none()
    if blueprint is None:
        raise _invalid("blueprint", f"No blueprint {data.blueprint_code}.")
    if data.opens_at.tzinfo is None or data.closes_at.tzinfo is None:
        raise _invalid("opens_at", "Give times with a time zone.")
    if data.opens_at.year < 2000 or data.closes_at.year > 2200:
        raise _invalid("opens_at", "Give a date between 2000 and 2200.")
    if any(valid_id(pid) is None for pid in data.proctor_ids):
        raise _invalid("proctors", "Unknown proctor.")
    if data.closes_at <= data.opens_at:
        raise _invalid("closes_at", "The window must close after it opens.")
    if not 1 <= data.capacity <= 10_000:
        raise _invalid("capacity", "Capacity is between 1 and 10,000.")
    if data.mode not in ("online", "test_centre"):
        raise _invalid("mode", "Mode is online or test_centre.")
    if data.mode == "test_centre" and not data.location.strip():
        raise _invalid("location", "A test centre sitting needs a location.")
    proctors = session.scalars(select(User).where(User.id.in_(data.proctor_ids))).all()
    if len(proctors) != len(set(data.proctor_ids)) or not all(
        p.has_role("proctor") for p in proctors
    ):
        raise _invalid("proctors", "Every assigned proctor must be a user with the proctor role.")
    return blueprint


def _snapshot(sitting: Sitting) -> dict[str, Any]:
    return {
        "title": sitting.title,
        "opens_at": sitting.opens_at.isoformat(),
        "closes_at": sitting.closes_at.isoformat(),
        "capacity": sitting.capacity,
        "mode": sitting.mode,
        "location": sitting.location,
        "proctors": sorted(sitting.proctor_ids),
    }


def schedule_sitting(session: Session, actor: Actor, data: SittingInput) -> Sitting:
    blueprint = _check_sitting(session, data)
    sitting = Sitting(
        blueprint_id=blueprint.id,
        title=data.title.strip()[:200],
        opens_at=data.opens_at,
        closes_at=data.closes_at,
        capacity=data.capacity,
        mode=data.mode,
        location=data.location.strip(),
        created_by=actor.id,
        created_at=clock.now(),
        revision=1,
        proctor_links=[SittingProctor(user_id=pid) for pid in sorted(set(data.proctor_ids))],
    )
    if not sitting.title:
        raise _invalid("title", "Give the sitting a title.")
    session.add(sitting)
    session.flush()
    audit.record(
        session,
        actor_id=actor.id,
        action="sitting.scheduled",
        object_type="sitting",
        object_id=sitting.id,
        after=_snapshot(sitting),
    )
    session.commit()
    return sitting


def edit_sitting(
    session: Session, actor: Actor, sitting: Sitting, data: SittingInput, revision: int
) -> Sitting:
    if sitting.cancelled:
        raise Problem(409, "Cancelled", "A cancelled sitting cannot be edited.")
    if revision != sitting.revision:
        raise Problem(
            409, "Edited by someone else", "This sitting changed since you opened it; reload it."
        )
    _check_sitting(session, data)
    held = count_places_taken(session, sitting.id)
    if data.capacity < held:
        raise _invalid(
            "capacity", f"{held} candidates already hold a place; capacity cannot go below that."
        )
    before = _snapshot(sitting)
    sitting.title, sitting.opens_at, sitting.closes_at = (
        data.title.strip()[:200],
        data.opens_at,
        data.closes_at,
    )
    sitting.capacity, sitting.mode, sitting.location = (
        data.capacity,
        data.mode,
        data.location.strip(),
    )
    sitting.proctor_links = [SittingProctor(user_id=pid) for pid in sorted(set(data.proctor_ids))]
    sitting.revision += 1
    session.flush()
    audit.record(
        session,
        actor_id=actor.id,
        action="sitting.edited",
        object_type="sitting",
        object_id=sitting.id,
        before=before,
        after=_snapshot(sitting),
    )
    session.commit()
    return sitting


def cancel_sitting(session: Session, actor: Actor, sitting: Sitting, reason: str) -> Sitting:
    if sitting.cancelled:
        return sitting
    if not reason.strip():
        raise _invalid("reason", "Say why the sitting is cancelled; candidates are told.")
    started = session.scalar(
        select(func.count()).select_from(Attempt).where(Attempt.sitting_id == sitting.id)
    )
    if started:
        raise Problem(
            409, "Already under way", "Candidates have started; terminate attempts instead."
        )
    sitting.cancelled_at, sitting.cancel_reason = clock.now(), reason.strip()[:2000]
    for registration in session.scalars(
        select(Registration).where(
            Registration.sitting_id == sitting.id, Registration.status.in_(ACTIVE_REGISTRATION)
        )
    ):
        registration.status, registration.cancelled_at = "cancelled", clock.now()
    sitting.revision += 1
    audit.record(
        session,
        actor_id=actor.id,
        action="sitting.cancelled",
        object_type="sitting",
        object_id=sitting.id,
        after={"reason": sitting.cancel_reason},
    )
    session.commit()
    return sitting


def get_sitting(session: Session, sitting_id: int) -> Sitting:
    sitting = session.get(Sitting, sitting_id)
    if sitting is None:
        raise Problem(404, "No such sitting", f"There is no sitting {sitting_id}.")
    return sitting


def count_places_taken(session: Session, sitting_id: int) -> int:
    query = (
        select(func.count())
        .select_from(Registration)
        .where(Registration.sitting_id == sitting_id, Registration.status.in_(HOLDS_A_PLACE))
    )
    return session.scalar(query) or 0


def open_sittings(session: Session) -> list[Sitting]:
    """Sittings a candidate can still register for, soonest first."""
    query = (
        select(Sitting)
        .where(Sitting.cancelled_at.is_(None), Sitting.closes_at > clock.now())
        .order_by(Sitting.opens_at, Sitting.id)
    )
    return list(session.scalars(query))


def all_sittings(session: Session) -> list[Sitting]:
    return list(
        session.scalars(select(Sitting).order_by(Sitting.opens_at.desc(), Sitting.id.desc()))
    )


# ---- eligibility and registration -----------------------------------------------------------


def _current_rules(session: Session, sitting: Sitting) -> dict[str, Any]:
    version = session.scalars(
        select(BlueprintVersion)
        .where(BlueprintVersion.blueprint_id == sitting.blueprint_id)
        .order_by(BlueprintVersion.number.desc())
        .limit(1)
    ).one()
    return version.spec


def eligibility_problems(session: Session, candidate_id: int, sitting: Sitting) -> list[str]:
    """Why this candidate may not register for this sitting, in words (empty: eligible)."""
    now = clock.now()
    problems: list[str] = []
    if sitting.cancelled:
        return ["This sitting was cancelled."]
    if sitting.closes_at <= now:
        return ["This sitting's window has closed."]
    if count_places_taken(session, sitting.id) >= sitting.capacity:
        problems.append("The sitting is full.")
    other = session.scalars(
        select(Registration).where(
            Registration.candidate_id == candidate_id, Registration.status.in_(ACTIVE_REGISTRATION)
        )
    ).first()
    if other is not None:
        same = other.sitting_id == sitting.id
        problems.append(
            "You are already registered for this sitting."
            if same
            else f"You are already registered for “{other.sitting.title}”; cancel that first."
        )
    in_progress = session.scalars(
        select(Attempt).where(
            Attempt.candidate_id == candidate_id, Attempt.status.in_(("in_progress", "paused"))
        )
    ).first()
    if in_progress is not None:
        problems.append("You have an exam in progress.")
    problems += _history_problems(session, candidate_id, sitting)
    return problems


def _history_problems(session: Session, candidate_id: int, sitting: Sitting) -> list[str]:
    rules = _current_rules(session, sitting)
    attempts = session.scalars(
        select(Attempt)
        .join(BlueprintVersion, BlueprintVersion.id == Attempt.blueprint_version_id)
        .where(
            Attempt.candidate_id == candidate_id,
            BlueprintVersion.blueprint_id == sitting.blueprint_id,
        )
        .order_by(Attempt.started_at)
    ).all()
    problems = []
    window_start = sitting.opens_at - timedelta(days=365)
    recent = [a for a in attempts if a.started_at > window_start]
    cap = rules["max_attempts_per_12_months"]
    if len(recent) >= cap:
        first_free = recent[-cap].started_at + timedelta(days=365)
        problems.append(
            f"You have used {len(recent)} of the {cap} attempts allowed in 12 months; "
            f"you can sit again from {clock.format_day(first_free)}."
        )
    failed = [a for a in attempts if a.result == "fail" and a.finished_at]
    wait = rules["retake_wait_days"]
    if failed:
        wait_until = failed[-1].finished_at + timedelta(days=wait)
        if sitting.opens_at < wait_until:
            problems.append(
                f"After a fail you wait {wait} days: choose a sitting opening on or after "
                f"{clock.format_day(wait_until)}."
            )
    return problems


def register(session: Session, candidate: Actor, sitting: Sitting) -> Registration:
    """Register the candidate, or refuse with every reason in words (409); audited."""
    # Lock the sitting row (PostgreSQL) so two bookings cannot both take the last place.
    session.execute(select(Sitting.id).where(Sitting.id == sitting.id).with_for_update())
    problems = eligibility_problems(session, candidate.id, sitting)
    if problems:
        raise Problem(
            409,
            "You cannot register for this sitting",
            " ".join(problems),
            slug="not-eligible",
            extra={"reasons": problems},
        )
    existing = session.scalars(
        select(Registration).where(
            Registration.sitting_id == sitting.id, Registration.candidate_id == candidate.id
        )
    ).one_or_none()
    if existing is not None and existing.status != "cancelled":
        raise Problem(
            409, "Already registered", "You already have a place, or had one, in this sitting."
        )
    registration = existing or Registration(sitting_id=sitting.id, candidate_id=candidate.id)
    registration.status, registration.registered_at, registration.cancelled_at = (
        "registered",
        clock.now(),
        None,
    )
    session.add(registration)
    session.flush()
    audit.record(
        session,
        actor_id=candidate.id,
        action="registration.created",
        object_type="registration",
        object_id=registration.id,
        after={"sitting": sitting.id},
    )
    session.commit()
    return registration


def my_registrations(session: Session, candidate_id: int) -> list[Registration]:
    query = (
        select(Registration)
        .join(Sitting)
        .where(Registration.candidate_id == candidate_id)
        .order_by(Sitting.opens_at.desc())
    )
    return list(session.scalars(query))


def get_registration(session: Session, registration_id: int) -> Registration:
    registration = session.get(Registration, registration_id)
    if registration is None:
        raise Problem(404, "No such registration", "")
    return registration


def cancel_registration(
    session: Session, candidate: Actor, registration: Registration
) -> Registration:
    if registration.candidate_id != candidate.id:
        raise Problem(404, "No such registration", "")
    if registration.status not in ACTIVE_REGISTRATION:
        raise Problem(
            409, "Cannot cancel", f"This registration is {registration.status.replace('_', ' ')}."
        )
    registration.status, registration.cancelled_at = "cancelled", clock.now()
    audit.record(
        session,
        actor_id=candidate.id,
        action="registration.cancelled",
        object_type="registration",
        object_id=registration.id,
    )
    session.commit()
    return registration


# ---- accommodations -----------------------------------------------------------------------


def request_accommodation(
    session: Session, candidate: Actor, registration: Registration, time_factor: float, reason: str
) -> Accommodation:
    if registration.candidate_id != candidate.id:
        raise Problem(404, "No such registration", "")
    if registration.status not in ("registered", "checked_in"):
        raise Problem(409, "Too late", "Extra time must be requested before admission.")
    if not 1.0 < time_factor <= MAX_TIME_FACTOR:
        raise _invalid(
            "time_factor",
            f"Extra time is a factor above 1 and at most {MAX_TIME_FACTOR} (1.25 gives 25 % more).",
        )
    if not reason.strip() or len(reason) > 4000:
        raise _invalid("reason", "Say why you need extra time (at most 4,000 characters).")
    accommodation = registration.accommodation or Accommodation(registration=registration)
    if accommodation.status == "approved":
        raise Problem(409, "Already approved", "Your extra time is approved already.")
    accommodation.time_factor, accommodation.reason = round(time_factor, 2), reason.strip()
    accommodation.status, accommodation.requested_at = "requested", clock.now()
    accommodation.decided_by, accommodation.decided_at, accommodation.decision_note = None, None, ""
    session.add(accommodation)
    session.flush()
    audit.record(
        session,
        actor_id=candidate.id,
        action="accommodation.requested",
        object_type="registration",
        object_id=registration.id,
        after={"time_factor": accommodation.time_factor},
    )
    session.commit()
    return accommodation


def decide_accommodation(
    session: Session, actor: Actor, accommodation: Accommodation, approve: bool, note: str
) -> Accommodation:
    if accommodation.status != "requested":
        raise Problem(409, "Already decided", f"This request is {accommodation.status}.")
    if accommodation.registration.status not in ("registered", "checked_in"):
        raise Problem(409, "Too late", "The candidate has been admitted or has left the sitting.")
    if not approve and not note.strip():
        raise _invalid("note", "Say why the request is denied; the candidate is told.")
    accommodation.status = "approved" if approve else "denied"
    accommodation.decided_by, accommodation.decided_at = actor.id, clock.now()
    accommodation.decision_note = note.strip()[:4000]
    audit.record(
        session,
        actor_id=actor.id,
        action=f"accommodation.{accommodation.status}",
        object_type="registration",
        object_id=accommodation.registration_id,
        after={
            "time_factor": accommodation.time_factor,
            "note": accommodation.decision_note or None,
        },
    )
    session.commit()
    return accommodation


def pending_accommodations(session: Session) -> list[Accommodation]:
    query = (
        select(Accommodation)
        .where(Accommodation.status == "requested")
        .order_by(Accommodation.requested_at)
    )
    return list(session.scalars(query))


def approved_time_factor(registration: Registration) -> float:
    accommodation = registration.accommodation
    return (
        accommodation.time_factor if accommodation and accommodation.status == "approved" else 1.0
    )


# ---- check-in and admission -------------------------------------------------------------------


def check_in(session: Session, candidate: Actor, registration: Registration) -> Registration:
    if registration.candidate_id != candidate.id:
        raise Problem(404, "No such registration", "")
    sitting, now = registration.sitting, clock.now()
    if registration.status == "checked_in":
        return registration
    if registration.status != "registered":
        raise Problem(
            409, "Cannot check in", f"This registration is {registration.status.replace('_', ' ')}."
        )
    if sitting.cancelled or not (
        sitting.opens_at - timedelta(minutes=30) <= now < sitting.closes_at
    ):
        raise Problem(
            409,
            "Not open for check-in",
            f"Check-in opens 30 minutes before {clock.format_moment(sitting.opens_at)}.",
        )
    registration.status, registration.checked_in_at = "checked_in", now
    audit.record(
        session,
        actor_id=candidate.id,
        action="registration.checked_in",
        object_type="registration",
        object_id=registration.id,
    )
    session.commit()
    return registration


def may_proctor(actor: Actor, sitting: Sitting) -> bool:
    return actor.id in sitting.proctor_ids or actor.has_role("exam_admin")


def sittings_for_proctor(session: Session, actor: Actor) -> list[Sitting]:
    """The sittings this proctor is named on; an exam administrator sees every one."""
    return [sitting for sitting in all_sittings(session) if may_proctor(actor, sitting)]


def require_proctor(actor: Actor, sitting: Sitting) -> None:
    if not may_proctor(actor, sitting):
        raise Problem(
            403,
            "Not your sitting",
            "Only the sitting's proctors (or an exam administrator) may do this.",
        )


def admit(
    session: Session, actor: Actor, registration: Registration, identity_check: str
) -> Registration:
    require_proctor(actor, registration.sitting)
    if registration.status == "admitted":
        return registration
    if registration.status != "checked_in":
        raise Problem(409, "Cannot admit", "Only a checked-in candidate can be admitted.")
    if not identity_check.strip():
        raise _invalid(
            "identity_check", "Record how identity was checked (document type and last digits)."
        )
    registration.status, registration.admitted_at = "admitted", clock.now()
    registration.decided_by, registration.identity_check = actor.id, identity_check.strip()[:2000]
    audit.record(
        session,
        actor_id=actor.id,
        action="registration.admitted",
        object_type="registration",
        object_id=registration.id,
        after={"identity_check": registration.identity_check},
    )
    session.commit()
    return registration


def turn_away(
    session: Session, actor: Actor, registration: Registration, reason: str
) -> Registration:
    require_proctor(actor, registration.sitting)
    if reason not in TURN_AWAY_REASONS:
        raise _invalid("reason", f"Reason is one of: {', '.join(TURN_AWAY_REASONS)}.")
    if registration.status not in ACTIVE_REGISTRATION:
        raise Problem(
            409,
            "Cannot turn away",
            f"This registration is {registration.status.replace('_', ' ')}.",
        )
    registration.status, registration.turned_away_reason, registration.decided_by = (
        "turned_away",
        reason,
        actor.id,
    )
    audit.record(
        session,
        actor_id=actor.id,
        action="registration.turned_away",
        object_type="registration",
        object_id=registration.id,
        after={"reason": reason},
    )
    session.commit()
    return registration


def roster(session: Session, sitting: Sitting) -> list[Registration]:
    query = (
        select(Registration)
        .where(Registration.sitting_id == sitting.id)
        .order_by(Registration.status, Registration.checked_in_at, Registration.id)
    )
    return list(session.scalars(query))
