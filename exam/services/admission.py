"""Who may proctor a sitting, and admitting or turning away checked-in candidates."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import User
from core import audit, clock
from core.auth import Actor
from core.errors import Problem
from exam import responses
from exam.models import ACTIVE_REGISTRATION, Registration, RegistrationStatus, Sitting
from exam.services import drawing
from exam.services.duties import refuse_own_registration
from exam.services.option_ids import key_check
from exam.services.problems import invalid
from exam.services.sittings import all_sittings

TURN_AWAY_REASONS = {"no_show": "Did not attend", "identity_mismatch": "Identity did not match"}


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
    refuse_own_registration(actor, registration, "admit yourself")
    if registration.status == RegistrationStatus.ADMITTED:
        return registration
    if registration.status != RegistrationStatus.CHECKED_IN:
        raise Problem(409, "Cannot admit", "Only a checked-in candidate can be admitted.")
    if not identity_check.strip():
        raise invalid(
            "identity_check", "Record how identity was checked (document type and last digits)."
        )
    drawn = drawing.draw_ahead(session, registration)  # before any write: no lock held
    registration.start_not_before = _start_slot(session, registration.sitting)
    registration.status, registration.admitted_at = RegistrationStatus.ADMITTED, clock.now()
    registration.decided_by, registration.identity_check = actor.id, identity_check.strip()[:2000]
    drawing.keep_drawn(session, registration, drawn, _rendered(drawn, registration.id))
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


def _rendered(ahead: drawing.DrawnAhead | str, registration_id: int) -> tuple[str, str] | None:
    """The drawn form's questions as the start will send them (the attempt takes the
    registration's id), and the check of the key their option ids were made with."""
    if isinstance(ahead, str):
        return None
    secret_key: str = current_app.config["SECRET_KEY"]
    questions = responses.rendered_questions(ahead.contents, secret_key, registration_id)
    return questions, key_check(secret_key)


def _start_slot(session: Session, sitting: Sitting) -> datetime | None:
    """When a sitting spreads its starts, the next admitted candidate's start time: slots
    fill the spread evenly for a full sitting, in the order of admission."""
    if sitting.start_spread_minutes <= 0:
        return None
    admitted_before = session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(Registration.sitting_id == sitting.id, Registration.admitted_at.is_not(None))
    )
    step = sitting.start_spread_minutes * 60 / max(sitting.capacity, 1)
    return sitting.opens_at + timedelta(seconds=round((admitted_before or 0) * step))


def check_turn_away(actor: Actor, registration: Registration, reason: str) -> None:
    """Every rule of turning a candidate away, checked before the proctor is asked to
    confirm; writes nothing."""
    require_proctor(actor, registration.sitting)
    refuse_own_registration(actor, registration, "turn yourself away")
    if reason not in TURN_AWAY_REASONS:
        raise invalid("reason", f"Reason is one of: {', '.join(TURN_AWAY_REASONS)}.")
    if registration.status not in ACTIVE_REGISTRATION:
        raise Problem(
            409,
            "Cannot turn away",
            f"This registration is {registration.status.replace('_', ' ')}.",
        )


def turn_away(
    session: Session, actor: Actor, registration: Registration, reason: str
) -> Registration:
    check_turn_away(actor, registration, reason)
    drawing.let_go(session, registration.id, f"turned away: {reason}", used=False)
    registration.status, registration.turned_away_reason, registration.decided_by = (
        RegistrationStatus.TURNED_AWAY,
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


def require_registration_of(session: Session, sitting: Sitting, candidate_id: int) -> Registration:
    registration = session.scalars(
        select(Registration).where(
            Registration.sitting_id == sitting.id, Registration.candidate_id == candidate_id
        )
    ).one_or_none()
    if registration is None:
        raise Problem(404, "Not registered", "That candidate is not registered for this sitting.")
    return registration


def decide_admission(
    session: Session,
    actor: Actor,
    registration: Registration,
    *,
    admit_them: bool,
    identity_check: str = "",
    reason: str = "",
) -> Registration:
    """The proctor's decision at the door, the same from the console and the API."""
    if admit_them:
        return admit(session, actor, registration, identity_check)
    return turn_away(session, actor, registration, reason)


def people_by_id(session: Session, user_ids: Iterable[int]) -> dict[int, User]:
    """The named users, for pages that list candidates by name."""
    ids = sorted(set(user_ids))
    return {user.id: user for user in session.scalars(select(User).where(User.id.in_(ids)))}
