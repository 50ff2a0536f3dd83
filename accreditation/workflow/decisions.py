"""The lead's decisions and what follows them: the accreditation number and period, the
conditions and whether they were met."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accreditation.models import Application, Condition
from accreditation.schemas import TransitionInput
from accreditation.workflow.review import request_clarification
from core import clock
from core.auth import Actor
from core.clock import add_months
from core.errors import FieldError, Problem

ACCREDITATION_YEARS = 3
NUMBER_ATTEMPTS = 20


def accredit(
    session: Session, actor: Actor | None, application: Application, data: TransitionInput
) -> None:
    assert actor is not None
    today = clock.now().date()
    application.decided_by_id, application.decision_letter = actor.id, data.comment.strip()
    application.accredited_from = today
    application.accredited_until = add_months(today, 12 * ACCREDITATION_YEARS)
    if application.accreditation_number is None:
        application.accreditation_number = _next_number(session, application, today.year)


def accredit_with_conditions(
    session: Session, actor: Actor | None, application: Application, data: TransitionInput
) -> None:
    if not data.conditions:
        raise Problem(
            422,
            "Conditions",
            "List at least one condition with its due date.",
            errors=[FieldError("conditions", "Required.")],
        )
    if any(condition.due_on <= clock.now().date() for condition in data.conditions):
        raise Problem(
            422,
            "Due date",
            "Each condition's due date must be in the future.",
            errors=[FieldError("conditions", "A future date is required.")],
        )
    accredit(session, actor, application, data)
    for condition in data.conditions:
        session.add(
            Condition(application_id=application.id, text=condition.text, due_on=condition.due_on)
        )


def decide_against(
    session: Session, actor: Actor | None, application: Application, data: TransitionInput
) -> None:
    assert actor is not None
    application.decided_by_id, application.decision_letter = actor.id, data.comment.strip()
    close_conditions(session, application)


def defer(
    session: Session, actor: Actor | None, application: Application, data: TransitionInput
) -> None:
    decide_against(session, actor, application, data)
    request_clarification(session, actor, application, data)


def conditions_met(
    session: Session, actor: Actor | None, application: Application, data: TransitionInput
) -> None:
    for condition in open_conditions(session, application):
        condition.met_at = clock.now()


def close_conditions(session: Session, application: Application) -> None:
    """Conditions belong to one decision; a new decision leaves none of them open."""
    for condition in open_conditions(session, application):
        condition.closed_at = clock.now()


def open_conditions(session: Session, application: Application) -> list[Condition]:
    return list(
        session.scalars(
            select(Condition).where(
                Condition.application_id == application.id,
                Condition.met_at.is_(None),
                Condition.closed_at.is_(None),
            )
        )
    )


def _next_number(session: Session, application: Application, year: int) -> str:
    """``CSA-AP-2026-0042``: the year's next number, safe when two decisions race."""
    prefix = f"CSA-AP-{year}-"
    for _ in range(NUMBER_ATTEMPTS):
        taken = (
            session.scalar(
                select(func.count()).where(Application.accreditation_number.like(f"{prefix}%"))
            )
            or 0
        )
        number = f"{prefix}{taken + 1:04d}"
        try:
            with session.begin_nested():
                application.accreditation_number = number
                session.flush()
            return number
        except IntegrityError:
            continue
    raise Problem(409, "Try again", "Another decision took the same number; send it again.")
