"""Who plays which part on an application. ISO/IEC 17024 keeps the one who decides apart
from the one who assesses; an assessor with a conflict of interest steps aside."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accreditation.models import (
    ASSESSOR_ROLE,
    LEAD_ROLE,
    Application,
    ConflictDeclaration,
    Party,
    ProviderMember,
)
from accreditation.services import is_member
from core.audit import AuditEvent
from core.auth import Actor


def organisation_members(session: Session, application: Application) -> list[int]:
    """The applying organisation's people (accepted members): parties to the application,
    so none of them screens, assesses or decides it."""
    return list(
        session.scalars(
            select(ProviderMember.user_id).where(
                ProviderMember.organisation_id == application.organisation_id,
                ProviderMember.accepted_at.is_not(None),
            )
        )
    )


def declared_conflict(session: Session, actor: Actor, application: Application) -> bool:
    return bool(
        session.scalar(
            select(func.count()).where(
                ConflictDeclaration.application_id == application.id,
                ConflictDeclaration.assessor_id == actor.id,
                ConflictDeclaration.has_conflict.is_(True),
            )
        )
    )


def took_part(session: Session, actor: Actor, application: Application) -> bool:
    """Anyone who screened, assessed, decided or otherwise acted on the file."""
    acted = session.scalar(
        select(func.count()).where(
            AuditEvent.object_type == "application",
            AuditEvent.object_id == str(application.id),
            AuditEvent.actor_id == actor.id,
        )
    )
    return bool(acted) or actor.id in (application.assessor_id, application.decided_by_id)


def parts_played(
    session: Session, actor: Actor | None, application: Application
) -> Callable[[Party], bool]:
    """Which part ``actor`` plays on this application, each answer worked out at most once
    (the queue asks for fifty applications at a time). No actor is the system."""
    if actor is None:
        return lambda who: who == Party.SYSTEM
    lead = actor.has_role(LEAD_ROLE)
    assessor = actor.has_role(ASSESSOR_ROLE) and application.assessor_id == actor.id
    checks: dict[Party, Callable[[], bool]] = {
        Party.SYSTEM: lambda: False,
        Party.PROVIDER: lambda: is_member(session, actor, application),
        Party.LEAD: lambda: lead,
        Party.UNCLEARED_ASSESSOR: lambda: assessor and application.assessor_cleared_at is None,
        Party.CLEARED_ASSESSOR: lambda: assessor and application.assessor_cleared_at is not None,
        Party.DECIDING_LEAD: lambda: (
            lead
            and application.assessor_id != actor.id
            and not declared_conflict(session, actor, application)
        ),
        Party.APPEAL_LEAD: lambda: lead and not took_part(session, actor, application),
    }
    known: dict[Party, bool] = {}

    def plays(who: Party) -> bool:
        if who not in known:
            known[who] = checks[who]()
        return known[who]

    return plays
