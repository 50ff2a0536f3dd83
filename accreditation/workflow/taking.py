"""Taking a step: which steps are open to someone, and the one path every step goes
through. Every step checks the application's ``version`` (a stale one is a 409, never a
silent overwrite), is audited (the audit trail is the application's timeline) and queues
an email to those it concerns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pydantic import ValidationError
from sqlalchemy.orm import Session

from accreditation.models import STAFF_ROLES, STATE_LABELS, Action, Application, Party
from accreditation.schemas import TransitionInput
from accreditation.services import check_version
from accreditation.workflow import appeals, decisions, review
from accreditation.workflow.messages import notify
from accreditation.workflow.parties import organisation_members, parts_played
from accreditation.workflow.steps import STEPS, SYSTEM_ACTOR, Effect, Step
from core import audit, clock
from core.auth import Actor
from core.duties import require_not_party
from core.errors import FieldError, Problem

MAX_AUDITED_COMMENT = 500

STEP_EFFECTS: dict[Action, Effect] = {
    Action.SUBMIT: review.submit,
    Action.SCREEN: review.screen,
    Action.RETURN_INCOMPLETE: review.return_incomplete,
    Action.ASSIGN: review.assign,
    Action.DECLARE: review.declare,
    Action.REQUEST_CLARIFICATION: review.request_clarification,
    Action.ANSWER: review.answer,
    Action.RECOMMEND: review.recommend,
    Action.ACCREDIT: decisions.accredit,
    Action.ACCREDIT_WITH_CONDITIONS: decisions.accredit_with_conditions,
    Action.REFUSE: decisions.decide_against,
    Action.DEFER: decisions.defer,
    Action.CONDITIONS_MET: decisions.conditions_met,
    Action.APPEAL: appeals.appeal,
    Action.UPHOLD_APPEAL: appeals.uphold_appeal,
    Action.DENY_APPEAL: appeals.deny_appeal,
}


def allowed_steps(session: Session, actor: Actor | None, application: Application) -> list[Step]:
    plays = parts_played(session, actor, application)
    return [
        step
        for step in STEPS.values()
        if application.state in step.sources
        and step.who != Party.SYSTEM
        and plays(step.who)
        and not (step.action == Action.APPEAL and not appeals.appeal_open(session, application))
    ]


# Steps whose consequences reach the provider and the public register: the page asks
# for them to be confirmed, the consequence stated, before taking them.
CONFIRMED_STEPS = (
    Action.ACCREDIT,
    Action.ACCREDIT_WITH_CONDITIONS,
    Action.DEFER,
    Action.REFUSE,
    Action.CONDITIONS_MET,
    Action.SUSPEND,
    Action.LIFT_SUSPENSION,
    Action.WITHDRAW_ACCREDITATION,
    Action.UPHOLD_APPEAL,
    Action.DENY_APPEAL,
)


@dataclass(frozen=True)
class StepPreview:
    """Where a step would leave the application."""

    state: str
    accreditation_number: str | None
    accredited_from: date | None
    accredited_until: date | None
    appealable: bool


def preview_step(
    session: Session, actor: Actor, application: Application, data: TransitionInput
) -> StepPreview:
    """The step taken and rolled back: every check it makes, and what it would set (the
    accreditation number and dates included), without changing anything."""
    try:
        apply_step(session, actor, application, data)
        session.flush()
        return StepPreview(
            application.state,
            application.accreditation_number,
            application.accredited_from,
            application.accredited_until,
            data.action in appeals.APPEALABLE,
        )
    finally:
        session.rollback()


def take_step(
    session: Session, actor: Actor | None, application: Application, data: TransitionInput
) -> Application:
    """One step as its own unit of work (``actor`` None is the system's daily job)."""
    apply_step(session, actor, application, data)
    session.commit()
    return application


def apply_step(
    session: Session, actor: Actor | None, application: Application, data: TransitionInput
) -> Application:
    """The step within the caller's transaction (several in one, as bulk assignment does)."""
    step = _permitted(session, actor, application, data.action)
    check_version(application, data.version)
    comment = data.comment.strip()
    if step.comment_required and not comment:
        raise Problem(
            422, "Say why", "This step needs a comment or letter.",
            errors=[FieldError("comment", "Required for this step.")],
        )  # fmt: skip
    before = application.state
    effect = STEP_EFFECTS.get(step.action)
    target = (effect(session, actor, application, data) if effect else None) or step.target
    assert target is not None
    application.state = target
    application.version += 1
    application.updated_at = clock.now()
    audit.record(
        session,
        actor_id=actor.id if actor else None,
        actor_label=None if actor else SYSTEM_ACTOR,
        action=step.action.audit_action,
        object_type="application",
        object_id=application.id,
        before={"state": before},
        after={"state": target, **({"comment": comment[:MAX_AUDITED_COMMENT]} if comment else {})},
    )
    notify(session, application, step, comment)
    return application


def _permitted(
    session: Session, actor: Actor | None, application: Application, action: str
) -> Step:
    try:
        step = STEPS[Action(action)]
    except ValueError:
        raise Problem(
            422, "Unknown step", f"Use one of: {', '.join(STEPS)}.",
            errors=[FieldError("action", "Unknown step.")],
        ) from None  # fmt: skip
    staff_step = step.who not in (Party.PROVIDER, Party.SYSTEM)
    if actor is not None and staff_step and actor.has_role(*STAFF_ROLES):
        require_not_party(
            actor.id,
            organisation_members(session, application),
            action=f"take the step '{step.label}' on this application",
            because="you are a member of the applying organisation",
        )
    allowed = allowed_steps(session, actor, application) if actor else []
    if step.who == Party.SYSTEM and actor is None and application.state in step.sources:
        allowed = [step]
    if step not in allowed:
        names = [s.action for s in allowed]
        raise Problem(
            409,
            "Step not allowed",
            f"'{step.label}' cannot be taken on an application that is "
            f"{STATE_LABELS[application.state].lower()}"
            + (f" by you. You can: {', '.join(names)}." if names else " by you."),
            extra={"allowed_steps": names, "state": application.state},
        )
    return step


@dataclass(frozen=True)
class BulkOutcome:
    application_id: int
    title: str
    done: bool
    detail: str


def bulk_assign(
    session: Session, lead: Actor, chosen: dict[int, int], assessor_id: int
) -> list[BulkOutcome]:
    """Assign one assessor to several screened applications; each succeeds or fails on its
    own (a stale version or a wrong state is reported, the others go ahead)."""
    outcomes = []
    for application_id, version in sorted(chosen.items()):
        application = session.get(Application, application_id, with_for_update=True)
        if application is None:
            continue
        try:
            with session.begin_nested():
                apply_step(
                    session,
                    lead,
                    application,
                    TransitionInput(action=Action.ASSIGN, version=version, assessor_id=assessor_id),
                )
        except (Problem, ValidationError) as problem:
            session.refresh(application)
            detail = problem.detail if isinstance(problem, Problem) else "Reload the queue."
            outcomes.append(BulkOutcome(application.id, application.title, False, detail))
        else:
            outcomes.append(BulkOutcome(application.id, application.title, True, "Assigned."))
    session.commit()
    return outcomes
