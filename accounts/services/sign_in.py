"""Signing in: authentication with throttling, and the sessions it opens and ends."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from accounts.models import SignInSession, User
from accounts.passwords import (
    burn_verification_time,
    hash_password,
    needs_rehash,
    verify_password,
)
from accounts.services.throttle import ThrottlePolicy, begin_try, forgive
from accounts.services.users import get_user_by_email
from accounts.services.validation import EMAIL_MAX
from core import clock
from core.errors import Problem


class InvalidCredentials(Problem):
    def __init__(self) -> None:
        super().__init__(401, "Sign-in failed", "The email or password is not right.")


class AccountDeactivated(Problem):
    def __init__(self) -> None:
        super().__init__(
            403, "Account deactivated", "This account is deactivated. Contact the association."
        )


def authenticate(
    session: Session, *, email: str, password: str, address: str, policy: ThrottlePolicy
) -> User:
    """The user whose credentials these are, or a refusal that reveals nothing more.

    An unknown email and a wrong password get the same answer in about the same
    time. While an account is throttled for this address even the right password is
    refused, so guessing cannot go on (see ``accounts.services.throttle``).
    """
    attempt = begin_try(session, email, address, policy)
    user = get_user_by_email(session, email) if len(email) <= EMAIL_MAX else None
    # End the read before the deliberately slow hash: a write session would otherwise
    # hold SQLite's write lock while Argon2 runs.
    session.commit()
    if user is None:
        burn_verification_time(password)
        raise InvalidCredentials()
    if not verify_password(user.password_hash, password):
        raise InvalidCredentials()
    forgive(session, attempt)
    if not user.active:
        session.commit()
        raise AccountDeactivated()
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_sign_in_at = clock.now()
    session.commit()
    return user


def check_own_password(
    session: Session, user: User, password: str, *, address: str, policy: ThrottlePolicy
) -> bool:
    """Whether ``password`` is the signed-in user's own, counted like a sign-in: a stolen
    session cannot guess the password faster than the sign-in form allows."""
    attempt = begin_try(session, user.email, address, policy)
    if not verify_password(user.password_hash, password):
        return False
    forgive(session, attempt)
    session.commit()
    return True


def user_for_session(
    session: Session,
    user_id: int,
    session_version: int,
    sign_in_id: str | None = None,
    signed_in_after: datetime | None = None,
) -> User | None:
    """The user a session cookie or API token names, if that session is still alive.

    A browser session also names its sign-in, which must not have been signed out and,
    given ``signed_in_after``, must have begun after it (the absolute session lifetime).
    """
    # One round trip: the user and its roles, only if the session is still alive.
    query = (
        select(User)
        .options(joinedload(User.role_rows))
        .where(User.id == user_id, User.active.is_(True), User.session_version == session_version)
    )
    if sign_in_id is not None:
        query = query.join(SignInSession, SignInSession.user_id == User.id).where(
            SignInSession.id == sign_in_id, SignInSession.ended_at.is_(None)
        )
        if signed_in_after is not None:
            query = query.where(SignInSession.created_at > signed_in_after)
    return session.scalars(query).unique().one_or_none()


def open_sign_in(session: Session, user: User) -> str:
    """Record a new signed-in browser; its id travels in the session cookie."""
    sign_in_id = secrets.token_urlsafe(32)
    session.add(SignInSession(id=sign_in_id, user_id=user.id, created_at=clock.now()))
    session.commit()
    return sign_in_id


def end_sign_in(session: Session, sign_in_id: str | None) -> None:
    """Sign out this browser: its cookie, even a copy of it, no longer signs anyone in."""
    if not sign_in_id:
        return
    row = session.get(SignInSession, sign_in_id)
    if row is not None and row.ended_at is None:
        row.ended_at = clock.now()
        session.commit()
