"""Registration: eligibility, booking, cancelling, check-in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock
from core.auth import Actor
from core.errors import Problem
from exam.models import (
    ACTIVE_REGISTRATION,
    OPEN_ATTEMPT,
    Attempt,
    Outcome,
    Registration,
    RegistrationStatus,
    Sitting,
)
from exam.services import drawing
from exam.services.duties import refuse_bank_reader
from exam.services.ladder import prerequisite_problems
from exam.services.problems import no_registration
from exam.services.sittings import count_places_taken
from item_bank.blueprints import current_version
from item_bank.models import BlueprintVersion

# A candidate checks in from this long before the window opens until it closes.
CHECK_IN_BEFORE = timedelta(minutes=30)


def _current_rules(session: Session, sitting: Sitting) -> dict[str, Any]:
    return current_version(session, sitting.blueprint_id).spec


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
            Attempt.candidate_id == candidate_id, Attempt.status.in_(OPEN_ATTEMPT)
        )
    ).first()
    if in_progress is not None:
        problems.append("You have an exam in progress.")
    blueprint_code = current_version(session, sitting.blueprint_id).blueprint.code
    problems += prerequisite_problems(session, candidate_id, blueprint_code)
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
    failed = [a.finished_at for a in attempts if a.result == Outcome.FAIL and a.finished_at]
    wait = rules["retake_wait_days"]
    if failed:
        wait_until = failed[-1] + timedelta(days=wait)
        if sitting.opens_at < wait_until:
            problems.append(
                f"After a fail you wait {wait} days: choose a sitting opening on or after "
                f"{clock.format_day(wait_until)}."
            )
    return problems


def register(session: Session, candidate: Actor, sitting: Sitting) -> Registration:
    """Register the candidate, or refuse with every reason in words (409); audited. Whoever
    can read the bank the exam is drawn from is refused outright (403)."""
    refuse_bank_reader(candidate)
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
    if existing is not None and existing.status != RegistrationStatus.CANCELLED:
        raise Problem(
            409, "Already registered", "You already have a place, or had one, in this sitting."
        )
    registration = existing or Registration(sitting_id=sitting.id, candidate_id=candidate.id)
    registration.status, registration.registered_at, registration.cancelled_at = (
        RegistrationStatus.REGISTERED,
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


def require_registration(session: Session, registration_id: int) -> Registration:
    registration = session.get(Registration, registration_id)
    if registration is None:
        raise no_registration()
    return registration


def require_own_registration(
    session: Session, candidate: Actor, registration_id: int
) -> Registration:
    """The candidate's own registration; anyone else's is a 404, not a 403."""
    registration = session.get(Registration, registration_id)
    if registration is None or registration.candidate_id != candidate.id:
        raise no_registration()
    return registration


def require_registration_for_sitting(
    session: Session, candidate: Actor, sitting_id: int
) -> Registration:
    for registration in my_registrations(session, candidate.id):
        if registration.sitting_id == sitting_id:
            return registration
    raise Problem(404, "Not registered", "You are not registered for this sitting.")


def cancel_registration(
    session: Session, candidate: Actor, registration: Registration
) -> Registration:
    if registration.candidate_id != candidate.id:
        raise no_registration()
    if registration.status not in ACTIVE_REGISTRATION:
        raise Problem(
            409, "Cannot cancel", f"This registration is {registration.status.replace('_', ' ')}."
        )
    drawing.let_go(session, registration.id, "the candidate cancelled", used=False)
    registration.status, registration.cancelled_at = RegistrationStatus.CANCELLED, clock.now()
    audit.record(
        session,
        actor_id=candidate.id,
        action="registration.cancelled",
        object_type="registration",
        object_id=registration.id,
    )
    session.commit()
    return registration


def check_in(session: Session, candidate: Actor, registration: Registration) -> Registration:
    if registration.candidate_id != candidate.id:
        raise no_registration()
    refuse_bank_reader(candidate)  # a role given since booking
    sitting, now = registration.sitting, clock.now()
    if registration.status == RegistrationStatus.CHECKED_IN:
        return registration
    if registration.status != RegistrationStatus.REGISTERED:
        raise Problem(
            409, "Cannot check in", f"This registration is {registration.status.replace('_', ' ')}."
        )
    if sitting.cancelled or not (sitting.opens_at - CHECK_IN_BEFORE <= now < sitting.closes_at):
        raise Problem(
            409,
            "Not open for check-in",
            f"Check-in opens 30 minutes before {clock.format_moment(sitting.opens_at)}.",
        )
    registration.status, registration.checked_in_at = RegistrationStatus.CHECKED_IN, now
    audit.record(
        session,
        actor_id=candidate.id,
        action="registration.checked_in",
        object_type="registration",
        object_id=registration.id,
    )
    session.commit()
    return registration
