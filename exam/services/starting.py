"""Starting an attempt: the clock starts on the form drawn at admission, or on one drawn now.

A whole room presses start together, so a form drawn at admission starts by the short path
(``exam.services.short_start``). Anything else (no form drawn ahead, one that no longer
holds, a start that already happened, a refusal to explain) takes the full path here, which
takes the kept form if it still holds or draws one now, and explains every refusal.
"""

from __future__ import annotations

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import clock
from core.auth import Actor
from core.db import Database
from exam.models import Attempt, AttemptEvent, AttemptItem, Registration, RegistrationStatus
from exam.services import drawing, short_start
from exam.services.accommodations import approved_time_factor
from exam.services.delivery import attempt_for_registration
from exam.services.duties import refuse_bank_reader
from exam.services.problems import no_registration
from exam.services.start_rules import (
    StartFacts,
    attempt_items,
    attempt_values,
    check_startable,
    record_start,
)


def start_attempt(db: Database, candidate: Actor, registration_id: int) -> int:
    """Start the clock on the form drawn at admission (or draw one now); starting again
    returns the same attempt's id.

    Everything is read on a read-only session; only the short insert takes the write
    lock, so a room of candidates pressing start together is not served one at a time.
    """
    candidate_id = candidate.id
    with db.read_sessions() as session:
        registration = session.get(Registration, registration_id)
        if registration is None:
            raise no_registration()
        existing = attempt_for_registration(session, registration_id)
        if existing is not None and registration.candidate_id == candidate_id:
            return existing.id
        refuse_bank_reader(candidate)  # a role given since booking
    started = short_start.start_registration(db, registration_id, candidate_id)
    if started is not None:
        return started.attempt.id
    return _start_in_full(db, candidate_id, registration_id)


def _start_in_full(db: Database, candidate_id: int, registration_id: int) -> int:
    """The full start: reads the registration as stored, takes the form drawn ahead if it
    still holds or draws one now, and explains every refusal."""
    with db.read_sessions() as session:
        registration = session.get(Registration, registration_id)
        if registration is None:
            raise no_registration()
        check_startable(StartFacts.of(registration), candidate_id)
        drawn, why_not_kept = drawing.kept_draw(session, registration)
        if drawn is None:
            drawn = drawing.draw_form(session, registration)
    with db.write_sessions() as session:
        registration = session.get(Registration, registration_id)
        assert registration is not None
        existing = attempt_for_registration(session, registration_id)
        if existing is not None:
            return existing.id
        check_startable(StartFacts.of(registration), candidate_id)
        try:
            return _store_attempt(session, registration, drawn, why_not_kept)
        except IntegrityError:  # PostgreSQL: the same start won in another transaction
            session.rollback()
            existing = attempt_for_registration(session, registration_id)
            if existing is None:
                raise
            return existing.id


def _store_attempt(
    session: Session, registration: Registration, drawn: drawing.Draw, why_not_kept: str
) -> int:
    now = clock.now()
    values = attempt_values(
        drawn, registration.id, registration.candidate_id, registration.sitting_id,
        approved_time_factor(registration), now,
    )  # fmt: skip
    attempt = Attempt(**{**values, "id": _free_attempt_id(session, values["id"])})
    registration.status = RegistrationStatus.STARTED
    session.add(attempt)
    session.flush()
    session.execute(insert(AttemptItem), attempt_items(attempt.id, drawn))
    drawing.let_go(session, registration.id, why_not_kept, used=drawn.counted)
    if not drawn.counted:
        drawing.count_exposure(session, drawn.item_ids, now, +1)
        session.add(
            AttemptEvent(
                attempt_id=attempt.id,
                kind="drawn_at_start",
                detail={"why": why_not_kept},
                occurred_at=now,
            )
        )
    record_start(session, registration.candidate_id, attempt.id, drawn)
    session.commit()
    return attempt.id


def _free_attempt_id(session: Session, wanted: int) -> int:
    """The registration's id, unless an attempt made before attempts took their
    registration's id holds it: then the next id after every attempt's."""
    if session.get(Attempt, wanted) is None:
        return wanted
    return int(session.scalar(select(func.max(Attempt.id))) or 0) + 1
