"""The accreditation workflow: who may take which step from which state, and what each
step records. ISO/IEC 17024 keeps the one who decides apart from the one who assesses,
and an appeal is heard by someone who took no part in the case.

Every step checks the application's ``version`` (a stale one is a 409, never a silent
overwrite), is audited (the audit trail is the application's timeline) and queues an
email to those it concerns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accounts.models import User, UserRole
from accreditation.models import (
    CRITERIA,
    Application,
    ApplicationVersion,
    Condition,
    ConflictDeclaration,
    Message,
    Organisation,
    ProviderMember,
)
from accreditation.schemas import TransitionInput
from accreditation.services import check_version, membership, missing_parts
from core import audit, clock, mail
from core.audit import AuditEvent, events_for
from core.clock import add_months, working_days_between
from core.errors import FieldError, Problem

SLA_WORKING_DAYS = 10
ACCREDITATION_YEARS = 3
PROVIDER_STATES = ("returned_incomplete", "clarification_requested")
OPEN_STATES = (
    "submitted",
    "screening",
    "returned_incomplete",
    "under_review",
    "clarification_requested",
    "recommended",
)
# Accredited now; an accreditation in one of these (or suspended) can still run out.
IN_FORCE_STATES = ("accredited", "accredited_with_conditions", "renewal_due")
ENDING_STATES = (*IN_FORCE_STATES, "suspended")
STATE_LABELS = {
    "draft": "Draft",
    "submitted": "Submitted",
    "screening": "Screening",
    "returned_incomplete": "Returned as incomplete",
    "under_review": "Under review",
    "clarification_requested": "Clarification requested",
    "recommended": "Recommended",
    "accredited": "Accredited",
    "accredited_with_conditions": "Accredited with conditions",
    "refused": "Refused",
    "suspended": "Suspended",
    "withdrawn": "Withdrawn",
    "renewal_due": "Renewal due",
    "expired": "Expired",
    "appealed": "Under appeal",
}


@dataclass(frozen=True)
class Step:
    action: str
    sources: tuple[str, ...]
    target: str
    who: str
    label: str
    comment_required: bool = True


STEPS: dict[str, Step] = {
    step.action: step
    for step in (
        Step("submit", ("draft", "returned_incomplete"), "submitted", "provider", "Submit", False),
        Step("screen", ("submitted",), "screening", "lead", "Start screening", False),
        Step(
            "return_incomplete",
            ("screening",),
            "returned_incomplete",
            "lead",
            "Return as incomplete",
        ),
        Step("assign", ("screening",), "under_review", "lead", "Assign an assessor", False),
        Step(
            "declare",
            ("under_review",),
            "under_review",
            "uncleared_assessor",
            "Declare interests",
            False,
        ),
        Step(
            "request_clarification",
            ("under_review",),
            "clarification_requested",
            "cleared_assessor",
            "Ask the provider",
        ),
        Step("answer", ("clarification_requested",), "under_review", "provider", "Send the answer"),
        Step("recommend", ("under_review",), "recommended", "cleared_assessor", "Recommend"),
        Step("accredit", ("recommended",), "accredited", "deciding_lead", "Accredit"),
        Step(
            "accredit_with_conditions",
            ("recommended",),
            "accredited_with_conditions",
            "deciding_lead",
            "Accredit with conditions",
        ),
        Step("defer", ("recommended",), "clarification_requested", "deciding_lead", "Defer"),
        Step("refuse", ("recommended",), "refused", "deciding_lead", "Refuse"),
        Step(
            "conditions_met",
            ("accredited_with_conditions",),
            "accredited",
            "lead",
            "Record conditions met",
        ),
        Step("suspend", ("accredited",), "suspended", "lead", "Suspend"),
        Step("lift_suspension", ("suspended",), "accredited", "lead", "Lift the suspension"),
        Step(
            "withdraw_accreditation",
            ("accredited", "accredited_with_conditions", "suspended", "renewal_due"),
            "withdrawn",
            "lead",
            "Withdraw the accreditation",
        ),
        Step(
            "withdraw", ("draft", *OPEN_STATES), "withdrawn", "provider", "Withdraw the application"
        ),
        Step("appeal", ("refused", "withdrawn"), "appealed", "provider", "Appeal"),
        Step("uphold_appeal", ("appealed",), "under_review", "appeal_lead", "Uphold the appeal"),
        Step("deny_appeal", ("appealed",), "", "appeal_lead", "Deny the appeal"),
        Step("renewal_due", ("accredited",), "renewal_due", "system", "Renewal due", False),
        Step(
            "expire",
            ENDING_STATES,
            "expired",
            "system",
            "Expire",
            False,
        ),
        Step(
            "conditions_missed",
            ("accredited_with_conditions",),
            "refused",
            "system",
            "Conditions missed",
            False,
        ),
    )
}


# ---- who may act -----------------------------------------------------------------------


def is_member(session: Session, user: User, application: Application) -> bool:
    member = membership(session, user.id)
    return (
        member is not None
        and member.organisation_id == application.organisation_id
        and user.has_role("provider")
    )


def declared_conflict(session: Session, user: User, application: Application) -> bool:
    return bool(
        session.scalar(
            select(func.count()).where(
                ConflictDeclaration.application_id == application.id,
                ConflictDeclaration.assessor_id == user.id,
                ConflictDeclaration.has_conflict.is_(True),
            )
        )
    )


def took_part(session: Session, user: User, application: Application) -> bool:
    """Anyone who screened, assessed, decided or otherwise acted on the file."""
    acted = session.scalar(
        select(func.count()).where(
            AuditEvent.object_type == "application",
            AuditEvent.object_id == str(application.id),
            AuditEvent.actor_id == user.id,
        )
    )
    return bool(acted) or user.id in (application.assessor_id, application.decided_by_id)


def _roles_held(
    session: Session, user: User | None, application: Application
) -> Callable[[str], bool]:
    """Which part ``user`` plays on this application, each answer worked out at most once
    (the queue asks for fifty applications at a time)."""
    if user is None:
        return lambda who: who == "system"
    lead = user.has_role("accreditation_lead")
    assessor = user.has_role("accreditation_reviewer") and application.assessor_id == user.id
    checks: dict[str, Callable[[], bool]] = {
        "system": lambda: False,
        "provider": lambda: is_member(session, user, application),
        "lead": lambda: lead,
        "uncleared_assessor": lambda: assessor and application.assessor_cleared_at is None,
        "cleared_assessor": lambda: assessor and application.assessor_cleared_at is not None,
        "deciding_lead": lambda: (
            lead
            and application.assessor_id != user.id
            and not declared_conflict(session, user, application)
        ),
        "appeal_lead": lambda: lead and not took_part(session, user, application),
    }
    known: dict[str, bool] = {}

    def holds(who: str) -> bool:
        if who not in known:
            known[who] = checks[who]()
        return known[who]

    return holds


def allowed_steps(session: Session, user: User | None, application: Application) -> list[Step]:
    holds = _roles_held(session, user, application)
    return [
        step
        for step in STEPS.values()
        if application.state in step.sources
        and step.who != "system"
        and holds(step.who)
        and not (step.action == "appeal" and not appeal_open(session, application))
    ]


APPEALABLE = ("refuse", "conditions_missed", "withdraw_accreditation")


def _last_of(session: Session, application: Application, actions: tuple[str, ...]) -> str | None:
    """The most recent of ``actions`` taken on the application, whatever came after."""
    last = audit.last_event(
        session, "application", application.id, [f"application.{a}" for a in actions]
    )
    return last.action.removeprefix("application.") if last else None


def appeal_open(session: Session, application: Application) -> bool:
    """One appeal per decision: against a refusal, or a withdrawal staff made (not the
    provider's own), and not again once an appeal against it was heard."""
    last = _last_of(session, application, (*APPEALABLE, "withdraw", "deny_appeal", "uphold_appeal"))
    return last in APPEALABLE


# ---- taking a step ---------------------------------------------------------------------


def take_step(
    session: Session, user: User | None, application: Application, data: TransitionInput
) -> Application:
    step = STEPS.get(data.action)
    if step is None:
        raise Problem(
            422, "Unknown step", f"Use one of: {', '.join(STEPS)}.",
            errors=[FieldError("action", "Unknown step.")],
        )  # fmt: skip
    allowed = allowed_steps(session, user, application) if user else []
    if step.who == "system" and user is None and application.state in step.sources:
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
    check_version(application, data.version)
    comment = data.comment.strip()
    if step.comment_required and not comment:
        raise Problem(
            422, "Say why", "This step needs a comment or letter.",
            errors=[FieldError("comment", "Required for this step.")],
        )  # fmt: skip
    before = application.state
    target = (
        STEP_EFFECTS.get(step.action, _no_effect)(session, user, application, data) or step.target
    )
    application.state = target
    application.version += 1
    application.updated_at = clock.now()
    audit.record(
        session,
        actor_id=user.id if user else None,
        actor_label=None if user else "system:accreditation",
        action=f"application.{step.action}",
        object_type="application",
        object_id=application.id,
        before={"state": before},
        after={"state": target, **({"comment": comment[:500]} if comment else {})},
    )
    _notify(session, application, step, comment)
    return application


def _no_effect(*_: object) -> str | None:
    return None


def _submit(
    session: Session, user: User | None, application: Application, _: TransitionInput
) -> None:
    missing = missing_parts(session, application)
    if missing:
        raise Problem(
            422,
            "Not complete yet",
            "Complete these before submitting: " + "; ".join(error.message for error in missing),
            errors=missing,
        )
    assert user is not None
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
            submitted_by_id=user.id,
        )
    )
    if application.submitted_at is None:
        application.submitted_at = clock.now()
    _resume_clock(application)


def _pause_clock(application: Application) -> None:
    if application.clock_paused_at is None:
        application.clock_paused_at = clock.now()


def _resume_clock(application: Application) -> None:
    if application.clock_paused_at is not None:
        paused = working_days_between(application.clock_paused_at, clock.now())
        application.paused_seconds += round(paused * 86_400)
        application.clock_paused_at = None


def _screen(
    session: Session, user: User | None, application: Application, _: TransitionInput
) -> None:
    assert user is not None
    application.screened_by_id = user.id


def _return(
    session: Session, user: User | None, application: Application, data: TransitionInput
) -> None:
    _pause_clock(application)
    _message(session, user, application, data.comment, data.due_on)


def _assign(
    session: Session, user: User | None, application: Application, data: TransitionInput
) -> None:
    assessor = session.get(User, data.assessor_id) if data.assessor_id else None
    if assessor is None or not assessor.active or not assessor.has_role("accreditation_reviewer"):
        raise Problem(
            422, "Choose an assessor", "Assign an active user with the assessor role.",
            errors=[FieldError("assessor_id", "Not an assessor.")],
        )  # fmt: skip
    if user is not None and assessor.id == user.id:
        raise Problem(
            422,
            "Not yourself",
            "A lead who screens cannot also assess the file.",
            errors=[FieldError("assessor_id", "Choose someone else.")],
        )
    application.assessor_id, application.assessor_cleared_at = assessor.id, None


def _declare(
    session: Session, user: User | None, application: Application, data: TransitionInput
) -> str | None:
    """No conflict opens the file to the assessor; a conflict hands it back to screening."""
    assert user is not None
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
            assessor_id=user.id,
            has_conflict=data.has_conflict,
            statement=data.comment.strip(),
            declared_at=clock.now(),
        )
    )
    if data.has_conflict:
        application.assessor_id, application.assessor_cleared_at = None, None
        return "screening"
    application.assessor_cleared_at = clock.now()
    if application.first_reviewed_at is None:
        application.first_reviewed_at = clock.now()
    return None


def _clarify(
    session: Session, user: User | None, application: Application, data: TransitionInput
) -> None:
    if data.due_on is None or data.due_on <= clock.now().date():
        raise Problem(
            422,
            "Due date",
            "Give the provider a due date in the future.",
            errors=[FieldError("due_on", "A future date is required.")],
        )
    _pause_clock(application)
    _message(session, user, application, data.comment, data.due_on)


def _answer(
    session: Session, user: User | None, application: Application, data: TransitionInput
) -> None:
    _resume_clock(application)
    _message(session, user, application, data.comment, None)


def _recommend(
    session: Session, user: User | None, application: Application, data: TransitionInput
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
            "comment": data.judgement_comments.get(code, "")[:2000],
        }
        for code in CRITERIA
    }
    application.recommendation = data.recommendation


def _accredit(
    session: Session, user: User | None, application: Application, data: TransitionInput
) -> None:
    assert user is not None
    today = clock.now().date()
    application.decided_by_id, application.decision_letter = user.id, data.comment.strip()
    application.accredited_from = today
    application.accredited_until = add_months(today, 12 * ACCREDITATION_YEARS)
    if application.accreditation_number is None:
        application.accreditation_number = _next_number(session, application, today.year)


def _accredit_with_conditions(
    session: Session, user: User | None, application: Application, data: TransitionInput
) -> None:
    if not data.conditions:
        raise Problem(
            422,
            "Conditions",
            "List at least one condition with its due date.",
            errors=[FieldError("conditions", "Required.")],
        )
    for condition in data.conditions:
        if condition.due_on <= clock.now().date():
            raise Problem(
                422,
                "Due date",
                "Each condition's due date must be in the future.",
                errors=[FieldError("conditions", "A future date is required.")],
            )
    _accredit(session, user, application, data)
    for condition in data.conditions:
        session.add(
            Condition(application_id=application.id, text=condition.text, due_on=condition.due_on)
        )


def _decide_against(
    session: Session, user: User | None, application: Application, data: TransitionInput
) -> None:
    assert user is not None
    application.decided_by_id, application.decision_letter = user.id, data.comment.strip()
    _close_conditions(session, application)


def _close_conditions(session: Session, application: Application) -> None:
    """Conditions belong to one decision; a new decision leaves none of them open."""
    for condition in _open_conditions(session, application):
        condition.closed_at = clock.now()


def _defer(
    session: Session, user: User | None, application: Application, data: TransitionInput
) -> None:
    _decide_against(session, user, application, data)
    _clarify(session, user, application, data)


def _conditions_met(
    session: Session, user: User | None, application: Application, data: TransitionInput
) -> None:
    for condition in _open_conditions(session, application):
        condition.met_at = clock.now()


def _appeal(
    session: Session, user: User | None, application: Application, data: TransitionInput
) -> None:
    application.appealed_from = application.state
    _message(session, user, application, data.comment, None)


def _deny_appeal(
    session: Session, user: User | None, application: Application, data: TransitionInput
) -> str:
    return application.appealed_from or "refused"


def _uphold_appeal(
    session: Session, user: User | None, application: Application, data: TransitionInput
) -> str | None:
    """A withdrawal overturned restores the accreditation; a refusal overturned goes back
    to review, with the conditions of the refused decision closed."""
    decision = _last_of(session, application, APPEALABLE)
    if decision == "withdraw_accreditation" and application.accredited_until:
        return "accredited" if application.accredited_until >= clock.now().date() else "expired"
    _close_conditions(session, application)
    application.decided_by_id = None
    application.recommendation = ""
    return None


STEP_EFFECTS: dict[
    str, Callable[[Session, User | None, Application, TransitionInput], str | None]
] = {
    "submit": _submit,
    "screen": _screen,
    "return_incomplete": _return,
    "assign": _assign,
    "declare": _declare,
    "request_clarification": _clarify,
    "answer": _answer,
    "recommend": _recommend,
    "accredit": _accredit,
    "accredit_with_conditions": _accredit_with_conditions,
    "refuse": _decide_against,
    "defer": _defer,
    "conditions_met": _conditions_met,
    "appeal": _appeal,
    "uphold_appeal": _uphold_appeal,
    "deny_appeal": _deny_appeal,
}


def _open_conditions(session: Session, application: Application) -> list[Condition]:
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
    for _ in range(20):
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


def _message(
    session: Session, user: User | None, application: Application, body: str, due_on: date | None
) -> None:
    if user is None or not body.strip():
        return
    session.add(
        Message(
            application_id=application.id,
            author_id=user.id,
            from_provider=is_member(session, user, application),
            body=body.strip(),
            due_on=due_on,
            created_at=clock.now(),
        )
    )


def post_message(session: Session, user: User, application: Application, body: str) -> Message:
    """A message outside any step; the other side is told by email."""
    if not body.strip():
        raise Problem(
            422, "Empty message", "Write something.", errors=[FieldError("body", "Required.")]
        )
    _message(session, user, application, body[:8000], None)
    audit.record(
        session, actor_id=user.id, action="application.message", object_type="application",
        object_id=application.id,
    )  # fmt: skip
    _notify(session, application, None, body)
    return session.scalars(
        select(Message).where(Message.application_id == application.id).order_by(Message.id.desc())
    ).first()  # type: ignore[return-value]


# ---- the clock and notifications ---------------------------------------------------------


def working_days_waiting(application: Application) -> float:
    """Service-level clock: working days from submission to first review, less the time
    the file spent back with the provider."""
    if application.submitted_at is None:
        return 0.0
    end = application.first_reviewed_at or application.clock_paused_at or clock.now()
    elapsed = working_days_between(application.submitted_at, end)
    return max(0.0, elapsed - application.paused_seconds / 86_400)


def overdue(application: Application) -> bool:
    """Past the service level and waiting on us (a paused clock waits on the provider)."""
    return (
        application.first_reviewed_at is None
        and application.clock_paused_at is None
        and application.state in OPEN_STATES
        and working_days_waiting(application) > SLA_WORKING_DAYS
    )


# Steps whose comments are between staff: a conflict statement, the assessor's report.
INTERNAL_STEPS = ("declare", "recommend")


@dataclass(frozen=True)
class TimelineEntry:
    occurred_at: datetime
    actor_id: int | None
    actor_label: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def timeline(session: Session, application: Application, user: User) -> list[Any]:
    """The audit trail as the viewer may see it: the provider's users see every step but
    not the comments staff wrote to each other."""
    trail = events_for(session, "application", application.id)
    if not is_member(session, user, application):
        return trail
    internal = {f"application.{action}" for action in INTERNAL_STEPS}
    return [
        TimelineEntry(
            event.occurred_at,
            event.actor_id,
            event.actor_label,
            event.action,
            event.before,
            {k: v for k, v in (event.after or {}).items() if k != "comment"}
            if event.action in internal
            else event.after,
        )
        for event in trail
    ]


def _notify(session: Session, application: Application, step: Step | None, comment: str) -> None:
    what = step.label if step else "New message"
    subject = f"[{application.title[:80]}] {what}: now {STATE_LABELS[application.state].lower()}"
    body = (
        f"Application {application.id} ({application.title}) is now "
        f"{STATE_LABELS[application.state].lower()}.\n\n"
        + (f"{comment.strip()}\n\n" if comment.strip() else "")
        + "Sign in to CSM Certify to see the whole timeline.\n"
    )
    internal = step is not None and step.action in INTERNAL_STEPS
    for recipient in _recipients(session, application, step, staff_only=internal):
        mail.enqueue(session, recipient, subject, body)


def _recipients(
    session: Session, application: Application, step: Step | None, staff_only: bool = False
) -> set[str]:
    staff_ids = {application.assessor_id, application.screened_by_id, application.decided_by_id}
    staff = set(session.scalars(select(User.email).where(User.id.in_(staff_ids - {None}))))
    if step is not None and step.action in ("submit", "recommend", "appeal"):
        staff |= set(lead_emails(session))
    return staff if staff_only else staff | provider_emails(session, application)


def provider_emails(session: Session, application: Application) -> set[str]:
    """The organisation's contact address and its members' (accepted) accounts."""
    organisation = session.get(Organisation, application.organisation_id)
    members = session.scalars(
        select(User.email)
        .join(ProviderMember, ProviderMember.user_id == User.id)
        .where(
            ProviderMember.organisation_id == application.organisation_id,
            ProviderMember.accepted_at.is_not(None),
        )
    )
    return set(members) | ({organisation.contact_email} if organisation else set())


def lead_emails(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(User.email)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == "accreditation_lead", User.active.is_(True))
        )
    )


@dataclass(frozen=True)
class BulkOutcome:
    application_id: int
    title: str
    done: bool
    detail: str


def bulk_assign(
    session: Session, lead: User, chosen: dict[int, int], assessor_id: int
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
                take_step(
                    session,
                    lead,
                    application,
                    TransitionInput(action="assign", version=version, assessor_id=assessor_id),
                )
        except (Problem, ValidationError) as problem:
            session.refresh(application)
            detail = problem.detail if isinstance(problem, Problem) else "Reload the queue."
            outcomes.append(BulkOutcome(application.id, application.title, False, detail))
        else:
            outcomes.append(BulkOutcome(application.id, application.title, True, "Assigned."))
    return outcomes
