"""Who sees what: an application's readers, and the assessors to choose from."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import User, UserRole
from accreditation.models import ASSESSOR_ROLE, LEAD_ROLE, PROVIDER_ROLE, Application
from accreditation.services.providers import get_membership
from core.auth import Actor
from core.errors import Problem


def is_member(session: Session, actor: Actor, application: Application) -> bool:
    member = get_membership(session, actor.id)
    return (
        member is not None
        and member.organisation_id == application.organisation_id
        and actor.has_role(PROVIDER_ROLE)
    )


def require_application(
    session: Session, actor: Actor, application_id: int, for_update: bool = False
) -> Application:
    """The application if ``actor`` may see it: its provider's users, every lead, and the
    assessor assigned to it. Anyone else gets the same 404 as for a missing one.

    ``for_update`` locks the row until the transaction ends, so two people acting at once
    take turns and the second meets the first one's version (a 409), never overwrites it.
    """
    application = session.get(Application, application_id, with_for_update=for_update)
    if application is None:
        raise Problem(404, "Not found", "No such application.")
    member = get_membership(session, actor.id)
    if member is not None and member.organisation_id == application.organisation_id:
        return application
    if actor.has_role(LEAD_ROLE):
        return application
    if actor.has_role(ASSESSOR_ROLE) and application.assessor_id == actor.id:
        return application
    raise Problem(404, "Not found", "No such application.")


def content_open_to(actor: Actor, application: Application) -> bool:
    """An assessor reads the file only after declaring no conflict of interest."""
    if application.assessor_id == actor.id:  # a lead assigned as assessor declares too
        return application.assessor_cleared_at is not None
    return True


def assessors(session: Session) -> list[Any]:
    """Active assessors, by family name, for choosing one."""
    return list(
        session.execute(
            select(User.id, User.given_name, User.family_name)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == ASSESSOR_ROLE, User.active.is_(True))
            .order_by(User.family_name)
        ).all()
    )


def require_own_application(session: Session, actor: Actor, application_id: int) -> Application:
    """The application, locked, if ``actor`` is one of its provider's users; a 404 for
    anyone else, staff included."""
    application = require_application(session, actor, application_id, for_update=True)
    if not is_member(session, actor, application):
        raise Problem(404, "Not found", "No such application.")
    return application
