"""Who the parties of the exam room's matters are, for the rule in ``core.duties``: the
candidate of a registration or attempt, the candidates a scoring decision rescores, and
whether someone's own exam is open (which closes the bank to them)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.auth import ROLES, Actor
from core.duties import require_not_party, require_not_reader
from exam.models import (
    OPEN_ATTEMPT,
    Attempt,
    AttemptItem,
    AttemptStatus,
    Registration,
    Sitting,
)
from exam.models import RegistrationStatus as RS
from item_bank.services import STAFF_ROLES as BANK_READERS

# At the door or inside the room, from check-in until the attempt ends (or the sitting closes).
AT_THE_EXAM = frozenset({RS.CHECKED_IN, RS.ADMITTED})


def refuse_own_registration(actor: Actor, registration: Registration, action: str) -> None:
    require_not_party(
        actor.id, [registration.candidate_id], action=action, because="you are the candidate"
    )


def refuse_own_attempt(actor: Actor, attempt: Attempt, action: str) -> None:
    require_not_party(
        actor.id, [attempt.candidate_id], action=action, because="it is your own attempt"
    )


def refuse_own_scoring(session: Session, actor: Actor, item_version_id: int) -> None:
    """A scoring decision rescores everyone who met the item: none of them may make it."""
    met_it = session.scalars(
        select(Attempt.candidate_id)
        .join(AttemptItem, AttemptItem.attempt_id == Attempt.id)
        .where(AttemptItem.item_version_id == item_version_id, Attempt.candidate_id == actor.id)
        .limit(1)
    )
    require_not_party(
        actor.id,
        met_it,
        action="decide how this item is scored",
        because="it was on your own exam, which the decision would rescore",
    )


def refuse_bank_reader(actor: Actor) -> None:
    """Whoever can read the bank's items cannot sit an exam drawn from it."""
    held = [role for role in BANK_READERS if actor.has_role(role)]
    require_not_reader(held, [ROLES[role] for role in held])


def open_exam_reason(session: Session, user_id: int) -> str | None:
    """Why the bank is closed to ``user_id`` now: their exam has begun or is about to."""
    attempts = session.scalars(
        select(Attempt).where(
            Attempt.candidate_id == user_id, Attempt.status.in_(tuple(OPEN_ATTEMPT))
        )
    ).all()
    for attempt in attempts:
        if attempt.status == AttemptStatus.PAUSED or clock.now() < attempt.deadline_at:
            return f"Your exam (attempt {attempt.id}) is {attempt.status.replace('_', ' ')}."
    waiting = session.scalars(
        select(Registration.status)
        .join(Sitting, Sitting.id == Registration.sitting_id)
        .where(
            Registration.candidate_id == user_id,
            Registration.status.in_(tuple(AT_THE_EXAM)),
            Sitting.closes_at > clock.now(),
        )
        .limit(1)
    ).first()
    if waiting is not None:
        return f"You are {waiting.replace('_', ' ')} for a sitting."
    return None
