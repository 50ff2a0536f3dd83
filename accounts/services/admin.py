"""Staff administration of users: finding them, their roles, (de)activation."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from accounts.models import User, UserRole
from accounts.services.users import user_snapshot
from accounts.services.validation import AccountError, check_roles
from core import audit
from core.auth import Actor
from core.errors import FieldError
from core.paging import Page, paginate


def search_users(
    session: Session, *, text: str = "", role: str = "", page: int = 1, per_page: int = 25
) -> Page[User]:
    query = select(User)
    if text:
        needle = text.strip().lower()
        query = query.where(
            or_(
                User.email_key.contains(needle, autoescape=True),
                func.lower(User.given_name).contains(needle, autoescape=True),
                func.lower(User.family_name).contains(needle, autoescape=True),
            )
        )
    if role:
        query = query.where(User.role_rows.any(UserRole.role == role))
    return paginate(
        session, query.order_by(User.family_name, User.given_name, User.id), page, per_page
    )


def names_by_id(session: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    """Full names of the given users, for showing who did what."""
    wanted = {user_id for user_id in user_ids if user_id is not None}
    if not wanted:
        return {}
    rows = session.execute(
        select(User.id, User.given_name, User.family_name).where(User.id.in_(wanted))
    )
    return {row.id: f"{row.given_name} {row.family_name}" for row in rows}


def _active_admin_count(session: Session) -> int:
    query = select(func.count(User.id)).where(
        User.active.is_(True), User.role_rows.any(UserRole.role == "admin")
    )
    return session.scalar(query) or 0


def _refuse_last_admin(session: Session, user: User, field: str) -> None:
    if user.active and "admin" in user.roles and _active_admin_count(session) <= 1:
        raise AccountError(
            [FieldError(field, "This is the last active administrator; appoint another first.")],
            status=409,
            title="Would leave no administrator",
        )


def set_roles(session: Session, actor: Actor, user: User, roles: Iterable[str]) -> User:
    """Replace ``user``'s roles with ``roles``; audited with before and after."""
    wanted = set(check_roles(roles))
    before = user_snapshot(user)
    if "admin" not in wanted:
        _refuse_last_admin(session, user, "roles")
    if wanted == user.roles:
        return user
    user.role_rows = [row for row in user.role_rows if row.role in wanted] + [
        UserRole(role=role) for role in sorted(wanted - user.roles)
    ]
    session.flush()
    audit.record(
        session,
        actor_id=actor.id,
        action="user.roles_changed",
        object_type="user",
        object_id=user.id,
        before={"roles": before["roles"]},
        after={"roles": sorted(user.roles)},
    )
    session.commit()
    return user


def set_active(session: Session, actor: Actor, user: User, active: bool) -> User:
    """Deactivate (ending every session and token at once) or reactivate; audited."""
    if user.active == active:
        return user
    if not active:
        _refuse_last_admin(session, user, "active")
        user.session_version += 1
    user.active = active
    audit.record(
        session,
        actor_id=actor.id,
        action="user.reactivated" if active else "user.deactivated",
        object_type="user",
        object_id=user.id,
        before={"active": not active},
        after={"active": active},
    )
    session.commit()
    return user
