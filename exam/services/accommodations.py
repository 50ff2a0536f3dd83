"""Extra time: requested by the candidate before admission, decided by the exam team."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock
from core.auth import Actor
from core.config import MAX_TIME_FACTOR
from core.errors import Problem
from exam.models import Accommodation, AccommodationStatus, Registration, RegistrationStatus
from exam.services.duties import refuse_own_registration
from exam.services.problems import invalid, no_registration

BEFORE_ADMISSION = frozenset({RegistrationStatus.REGISTERED, RegistrationStatus.CHECKED_IN})


def request_accommodation(
    session: Session, candidate: Actor, registration: Registration, time_factor: float, reason: str
) -> Accommodation:
    if registration.candidate_id != candidate.id:
        raise no_registration()
    if registration.status not in BEFORE_ADMISSION:
        raise Problem(409, "Too late", "Extra time must be requested before admission.")
    if not 1.0 < time_factor <= MAX_TIME_FACTOR:
        raise invalid(
            "time_factor",
            f"Extra time is a factor above 1 and at most {MAX_TIME_FACTOR} (1.25 gives 25 % more).",
        )
    if not reason.strip() or len(reason) > 4000:
        raise invalid("reason", "Say why you need extra time (at most 4,000 characters).")
    accommodation = registration.accommodation or Accommodation(registration=registration)
    if accommodation.status == AccommodationStatus.APPROVED:
        raise Problem(409, "Already approved", "Your extra time is approved already.")
    accommodation.time_factor, accommodation.reason = round(time_factor, 2), reason.strip()
    accommodation.status, accommodation.requested_at = AccommodationStatus.REQUESTED, clock.now()
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
    refuse_own_registration(actor, accommodation.registration, "decide your own request")
    if accommodation.status != AccommodationStatus.REQUESTED:
        raise Problem(409, "Already decided", f"This request is {accommodation.status}.")
    if accommodation.registration.status not in BEFORE_ADMISSION:
        raise Problem(409, "Too late", "The candidate has been admitted or has left the sitting.")
    if not approve and not note.strip():
        raise invalid("note", "Say why the request is denied; the candidate is told.")
    accommodation.status = AccommodationStatus.APPROVED if approve else AccommodationStatus.DENIED
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


def require_accommodation(session: Session, accommodation_id: int | None) -> Accommodation:
    accommodation = session.get(Accommodation, accommodation_id) if accommodation_id else None
    if accommodation is None:
        raise Problem(404, "No such request", "There is no such request for extra time.")
    return accommodation


def pending_accommodations(session: Session) -> list[Accommodation]:
    query = (
        select(Accommodation)
        .where(Accommodation.status == AccommodationStatus.REQUESTED)
        .order_by(Accommodation.requested_at)
    )
    return list(session.scalars(query))


def approved_time_factor(registration: Registration) -> float:
    accommodation = registration.accommodation
    return (
        accommodation.time_factor
        if accommodation and accommodation.status == AccommodationStatus.APPROVED
        else 1.0
    )
