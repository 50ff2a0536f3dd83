"""The step table: who may take which step from which state, and where it leads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from accreditation.models import ENDING_STATES, OPEN_STATES, Action, Application, Party, State
from accreditation.schemas import TransitionInput
from core.auth import Actor

SYSTEM_ACTOR = "system:accreditation"


@dataclass(frozen=True)
class Step:
    action: Action
    sources: tuple[State, ...]
    # Where the step leads; an effect may choose otherwise (a conflict, an appeal).
    target: State | None
    who: Party
    label: str
    comment_required: bool = True


def _steps(*steps: Step) -> dict[Action, Step]:
    return {step.action: step for step in steps}


_PROVIDER, _LEAD, _SYSTEM = Party.PROVIDER, Party.LEAD, Party.SYSTEM
_DECIDER = Party.DECIDING_LEAD

STEPS: dict[Action, Step] = _steps(
    Step(
        Action.SUBMIT,
        (State.DRAFT, State.RETURNED_INCOMPLETE),
        State.SUBMITTED,
        _PROVIDER,
        "Submit",
        False,
    ),
    Step(Action.SCREEN, (State.SUBMITTED,), State.SCREENING, _LEAD, "Start screening", False),
    Step(
        Action.RETURN_INCOMPLETE,
        (State.SCREENING,),
        State.RETURNED_INCOMPLETE,
        _LEAD,
        "Return as incomplete",
    ),
    Step(Action.ASSIGN, (State.SCREENING,), State.UNDER_REVIEW, _LEAD, "Assign an assessor", False),
    Step(
        Action.DECLARE,
        (State.UNDER_REVIEW,),
        State.UNDER_REVIEW,
        Party.UNCLEARED_ASSESSOR,
        "Declare interests",
        False,
    ),
    Step(
        Action.REQUEST_CLARIFICATION,
        (State.UNDER_REVIEW,),
        State.CLARIFICATION_REQUESTED,
        Party.CLEARED_ASSESSOR,
        "Ask the provider",
    ),
    Step(
        Action.ANSWER,
        (State.CLARIFICATION_REQUESTED,),
        State.UNDER_REVIEW,
        _PROVIDER,
        "Send the answer",
    ),
    Step(
        Action.RECOMMEND,
        (State.UNDER_REVIEW,),
        State.RECOMMENDED,
        Party.CLEARED_ASSESSOR,
        "Recommend",
    ),
    Step(Action.ACCREDIT, (State.RECOMMENDED,), State.ACCREDITED, _DECIDER, "Accredit"),
    Step(
        Action.ACCREDIT_WITH_CONDITIONS,
        (State.RECOMMENDED,),
        State.ACCREDITED_WITH_CONDITIONS,
        _DECIDER,
        "Accredit with conditions",
    ),
    Step(Action.DEFER, (State.RECOMMENDED,), State.CLARIFICATION_REQUESTED, _DECIDER, "Defer"),
    Step(Action.REFUSE, (State.RECOMMENDED,), State.REFUSED, _DECIDER, "Refuse"),
    Step(
        Action.CONDITIONS_MET,
        (State.ACCREDITED_WITH_CONDITIONS,),
        State.ACCREDITED,
        _LEAD,
        "Record conditions met",
    ),
    Step(Action.SUSPEND, (State.ACCREDITED,), State.SUSPENDED, _LEAD, "Suspend"),
    Step(
        Action.LIFT_SUSPENSION, (State.SUSPENDED,), State.ACCREDITED, _LEAD, "Lift the suspension"
    ),
    Step(
        Action.WITHDRAW_ACCREDITATION,
        (
            State.ACCREDITED,
            State.ACCREDITED_WITH_CONDITIONS,
            State.SUSPENDED,
            State.RENEWAL_DUE,
        ),
        State.WITHDRAWN,
        _LEAD,
        "Withdraw the accreditation",
    ),
    Step(
        Action.WITHDRAW,
        (State.DRAFT, *OPEN_STATES),
        State.WITHDRAWN,
        _PROVIDER,
        "Withdraw the application",
    ),
    Step(Action.APPEAL, (State.REFUSED, State.WITHDRAWN), State.APPEALED, _PROVIDER, "Appeal"),
    Step(
        Action.UPHOLD_APPEAL,
        (State.APPEALED,),
        State.UNDER_REVIEW,
        Party.APPEAL_LEAD,
        "Uphold the appeal",
    ),
    # Back to the state appealed from (see ``appeals``).
    Step(Action.DENY_APPEAL, (State.APPEALED,), None, Party.APPEAL_LEAD, "Deny the appeal"),
    Step(
        Action.RENEWAL_DUE,
        (State.ACCREDITED,),
        State.RENEWAL_DUE,
        _SYSTEM,
        "Renewal due",
        False,
    ),
    Step(Action.EXPIRE, ENDING_STATES, State.EXPIRED, _SYSTEM, "Expire", False),
    Step(
        Action.CONDITIONS_MISSED,
        (State.ACCREDITED_WITH_CONDITIONS,),
        State.REFUSED,
        _SYSTEM,
        "Conditions missed",
        False,
    ),
)

# Steps whose comments are between staff: a conflict statement, the assessor's report.
INTERNAL_STEPS = (Action.DECLARE, Action.RECOMMEND)
# Steps the leads hear about by email, whoever else is concerned.
LEADS_NOTIFIED = (Action.SUBMIT, Action.RECOMMEND, Action.APPEAL)

# What a step does beyond moving the state; it may name a state other than the step's
# target (a declared conflict goes back to screening, say).
Effect = Callable[[Session, Actor | None, Application, TransitionInput], str | None]
