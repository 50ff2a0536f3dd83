"""The steps before a decision: submission, screening, assignment, the declaration of
interests, clarification and the assessor's recommendation."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import User
from accreditation.models import (
    ASSESSOR_ROLE,
    CRITERIA,
    Application,
    ApplicationVersion,
    ConflictDeclaration,
    State,
)
from accreditation.schemas import TransitionInput
from accreditation.services import missing_parts
from accreditation.workflow.clock import pause_clock, resume_clock
from accreditation.workflow.messages import add_message
from accreditation.workflow.parties import organisation_members
from core import clock
from core.auth import Actor
from core.errors import FieldError, Problem

MAX_JUDGEMENT_COMMENT = 2000


def submit(
    session: Session, actor: Actor | None, application: Application, _: TransitionInput
) -> None:
    missing = missing_parts(session, application)
    if missing:
        raise Problem(
            422,
            "Not complete yet",
            "Complete these before submitting: " + "; ".join(error.message for error in missing),
            errors=missing,
        )
    assert actor is not None
    number = (
        session.scalar(
            select(func.max(ApplicationVersion.number)).where(
                ApplicationVersion.application_id == application.id
            )
        )
        or 0
    ) + 1
    session.add(
        ApplicationVersion(
            application_id=application.id,
            number=number,
            content=application.content,
            submitted_at=clock.now(),
            submitted_by_id=actor.id,
        )
    )
    if application.submitted_at is None:
        application.submitted_at = clock.now()
    resume_clock(application)


def screen(
    session: Session, actor: Actor | None, application: Application, _: TransitionInput
) -> None:
    assert actor is not None
    application.screened_by_id = actor.id


def return_incomplete(
    session: Session, actor: Actor | None, application: Application, data: TransitionInput
) -> None:
    pause_clock(application)
    add_message(session, actor, application, data.comment, data.due_on)


def assign(
    session: Session, actor: Actor | None, application: Application, data: TransitionInput
) -> None:
    assessor = session.get(User, data.assessor_id) if data.assessor_id else None
    if assessor is None or not assessor.active or not assessor.has_role(ASSESSOR_ROLE):
        raise Problem(
            422, "Choose an assessor", "Assign an active user with the assessor role.",
            errors=[FieldError("assessor_id", "Not an assessor.")],
        )  # fmt: skip
    if actor is not None and assessor.id == actor.id:
        raise Problem(
            422,
            "Not yourself",
            "A lead who screens cannot also assess the file.",
            errors=[FieldError("assessor_id", "Choose someone else.")],
        )
    if assessor.id in organisation_members(session, application):
        raise Problem(
            422,
            "A party to the application",
            "The assessor is a member of the applying organisation; choose someone else.",
            errors=[FieldError("assessor_id", "A member of the applying organisation.")],
        )
    application.assessor_id, application.assessor_cleared_at = assessor.id, None


def declare(
    session: Session, actor: Actor | None, application: Application, data: TransitionInput
) -> str | None:
    """No conflict opens the file to the assessor; a conflict hands it back to screening."""
    assert actor is not None
    if data.has_conflict is None:
        raise Problem(
            422,
            "Declare",
            "Say whether you have a conflict of interest.",
            errors=[FieldError("has_conflict", "Required.")],
        )
    session.add(
        ConflictDeclaration(
            application_id=application.id,
            assessor_id=actor.id,
            has_conflict=data.has_conflict,
            statement=data.comment.strip(),
            declared_at=clock.now(),
        )
    )
    if data.has_conflict:
        application.assessor_id, application.assessor_cleared_at = None, None
        return State.SCREENING
    application.assessor_cleared_at = clock.now()
    if application.first_reviewed_at is None:
        application.first_reviewed_at = clock.now()
    return None


def request_clarification(
    session: Session, actor: Actor | None, application: Application, data: TransitionInput
) -> None:
    if data.due_on is None or data.due_on <= clock.now().date():
        raise Problem(
            422,
            "Due date",
            "Give the provider a due date in the future.",
            errors=[FieldError("due_on", "A future date is required.")],
        )
    pause_clock(application)
    add_message(session, actor, application, data.comment, data.due_on)


def answer(
    session: Session, actor: Actor | None, application: Application, data: TransitionInput
) -> None:
    resume_clock(application)
    add_message(session, actor, application, data.comment, None)


def recommend(
    session: Session, actor: Actor | None, application: Application, data: TransitionInput
) -> None:
    missing = [code for code in CRITERIA if code not in data.judgements]
    if missing or not data.recommendation:
        raise Problem(
            422, "Judge every criterion",
            "Judge each criterion and choose a recommendation.",
            errors=[FieldError(f"judgements.{code}", "Required.") for code in missing]
            + ([] if data.recommendation else [FieldError("recommendation", "Required.")]),
        )  # fmt: skip
    application.judgements = {
        code: {
            "judgement": data.judgements[code],
            "comment": data.judgement_comments.get(code, "")[:MAX_JUDGEMENT_COMMENT],
        }
        for code in CRITERIA
    }
    application.recommendation = data.recommendation
