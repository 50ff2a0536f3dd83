"""The thread between provider and staff, the emails each step sends, and the timeline
as each viewer may see it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import User, UserRole
from accreditation.models import (
    LEAD_ROLE,
    STATE_LABELS,
    Application,
    Message,
    Organisation,
    ProviderMember,
)
from accreditation.services import is_member
from accreditation.workflow.steps import INTERNAL_STEPS, LEADS_NOTIFIED, Step
from core import audit, clock, mail
from core.audit import events_for
from core.auth import Actor
from core.errors import FieldError, Problem

MAX_MESSAGE = 8000


def add_message(
    session: Session,
    actor: Actor | None,
    application: Application,
    body: str,
    due_on: date | None,
) -> Message | None:
    """A message in the thread from ``actor``; nothing when there is nothing to say."""
    if actor is None or not body.strip():
        return None
    message = Message(
        application_id=application.id,
        author_id=actor.id,
        from_provider=is_member(session, actor, application),
        body=body.strip(),
        due_on=due_on,
        created_at=clock.now(),
    )
    session.add(message)
    return message


def post_message(session: Session, actor: Actor, application: Application, body: str) -> Message:
    """A message outside any step; the other side is told by email."""
    message = add_message(session, actor, application, body[:MAX_MESSAGE], None)
    if message is None:
        raise Problem(
            422, "Empty message", "Write something.", errors=[FieldError("body", "Required.")]
        )
    audit.record(
        session, actor_id=actor.id, action="application.message", object_type="application",
        object_id=application.id,
    )  # fmt: skip
    notify(session, application, None, body)
    session.commit()
    return message


def notify(session: Session, application: Application, step: Step | None, comment: str) -> None:
    what = step.label if step else "New message"
    state = STATE_LABELS[application.state].lower()
    subject = f"[{application.title[:80]}] {what}: now {state}"
    body = (
        f"Application {application.id} ({application.title}) is now {state}.\n\n"
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
    if step is not None and step.action in LEADS_NOTIFIED:
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
            .where(UserRole.role == LEAD_ROLE, User.active.is_(True))
        )
    )


@dataclass(frozen=True)
class TimelineEntry:
    occurred_at: datetime
    actor_id: int | None
    actor_label: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def timeline(session: Session, application: Application, viewer: Actor) -> list[Any]:
    """The audit trail as the viewer may see it: the provider's users see every step but
    not the comments staff wrote to each other."""
    trail = events_for(session, "application", application.id)
    if not is_member(session, viewer, application):
        return trail
    internal = {action.audit_action for action in INTERNAL_STEPS}
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
