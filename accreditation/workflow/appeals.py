"""Appeals: one per decision, heard by a lead who took no part in the case."""

from __future__ import annotations

from sqlalchemy.orm import Session

from accreditation.models import Action, Application, State
from accreditation.schemas import TransitionInput
from accreditation.workflow.decisions import close_conditions
from accreditation.workflow.messages import add_message
from core import audit, clock
from core.auth import Actor

# Staff decisions a provider may appeal (their own withdrawal is not one).
APPEALABLE = (Action.REFUSE, Action.CONDITIONS_MISSED, Action.WITHDRAW_ACCREDITATION)


def last_of(session: Session, application: Application, actions: tuple[Action, ...]) -> str | None:
    """The most recent of ``actions`` taken on the application, whatever came after."""
    last = audit.last_event(
        session, "application", application.id, [action.audit_action for action in actions]
    )
    return last.action.removeprefix("application.") if last else None


def appeal_open(session: Session, application: Application) -> bool:
    """Against a refusal, or a withdrawal staff made, and not again once an appeal
    against it was heard."""
    heard = (Action.WITHDRAW, Action.DENY_APPEAL, Action.UPHOLD_APPEAL)
    return last_of(session, application, (*APPEALABLE, *heard)) in APPEALABLE


def appeal(
    session: Session, actor: Actor | None, application: Application, data: TransitionInput
) -> None:
    application.appealed_from = application.state
    add_message(session, actor, application, data.comment, None)


def deny_appeal(
    session: Session, actor: Actor | None, application: Application, data: TransitionInput
) -> str:
    return application.appealed_from or State.REFUSED


def uphold_appeal(
    session: Session, actor: Actor | None, application: Application, data: TransitionInput
) -> str | None:
    """A withdrawal overturned restores the accreditation; a refusal overturned goes back
    to review, with the conditions of the refused decision closed."""
    decision = last_of(session, application, APPEALABLE)
    if decision == Action.WITHDRAW_ACCREDITATION and application.accredited_until:
        if application.accredited_until >= clock.now().date():
            return State.ACCREDITED
        return State.EXPIRED
    close_conditions(session, application)
    application.decided_by_id = None
    application.recommendation = ""
    return None
