"""Finding users, and creating them (by sign-up, staff or the CLI)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accounts.models import User, UserRole
from accounts.passwords import hash_password
from accounts.services.validation import (
    AccountError,
    check_password,
    check_roles,
    clean_name,
    email_key,
    normalise_email,
)
from core import audit, clock
from core.errors import FieldError, Problem

T = TypeVar("T")


def get_user_by_email(session: Session, email: str) -> User | None:
    query = select(User).where(User.email_key == email_key(email))
    return session.scalars(query).one_or_none()


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def require_user(session: Session, user_id: int) -> User:
    user = get_user(session, user_id)
    if user is None:
        raise Problem(404, "No such user", f"There is no user {user_id}.")
    return user


def create_user(
    session: Session,
    *,
    email: str,
    given_name: str,
    family_name: str,
    password: str,
    roles: Iterable[str],
    actor_id: int | None = None,
    actor_label: str | None = None,
) -> User:
    """Create an active user, or raise naming every field at fault; audited."""
    errors: list[FieldError] = []

    def checked(check: Callable[[], T], fallback: T) -> T:
        try:
            return check()
        except AccountError as error:
            errors.extend(error.errors)
            return fallback

    email = checked(lambda: normalise_email(email), email)
    given_name = checked(lambda: clean_name(given_name, "given_name"), given_name)
    family_name = checked(lambda: clean_name(family_name, "family_name"), family_name)
    role_list: list[str] = checked(lambda: check_roles(roles), [])
    checked(lambda: check_password(password, [email, given_name, family_name]), None)
    if errors:
        raise AccountError(errors)
    if get_user_by_email(session, email) is not None:
        raise _duplicate_email()
    user = User(
        email=email,
        email_key=email_key(email),
        given_name=given_name,
        family_name=family_name,
        password_hash=hash_password(password),
        active=True,
        session_version=1,
        created_at=clock.now(),
        role_rows=[UserRole(role=role) for role in role_list],
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent sign-up with the same email won the race
        session.rollback()
        raise _duplicate_email() from exc
    audit.record(
        session,
        actor_id=actor_id if actor_id is not None else user.id,
        actor_label=actor_label,
        action="user.created",
        object_type="user",
        object_id=user.id,
        after=user_snapshot(user),
    )
    session.commit()
    return user


def _duplicate_email() -> AccountError:
    return AccountError(
        [FieldError("email", "An account with this email already exists. Sign in instead.")],
        status=409,
        title="Email already registered",
    )


def user_snapshot(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "given_name": user.given_name,
        "family_name": user.family_name,
        "roles": sorted(user.roles),
        "active": user.active,
    }


def sign_up_candidate(
    session: Session, *, email: str, given_name: str, family_name: str, password: str
) -> User:
    return create_user(
        session,
        email=email,
        given_name=given_name,
        family_name=family_name,
        password=password,
        roles=["candidate"],
    )
