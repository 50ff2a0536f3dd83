"""Signing in: authentication with throttling, and the sessions it opens and ends."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, joinedload

from accounts.models import SignInFailure, SignInSession, User
from accounts.passwords import (
    burn_verification_time,
    hash_password,
    needs_rehash,
    verify_password,
)
from accounts.services.users import get_user_by_email
from accounts.services.validation import EMAIL_MAX, email_key
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


class SignInThrottled(Problem):
    def __init__(self, retry_after: int) -> None:
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(
            429,
            "Too many failed sign-ins",
            f"Too many failed sign-ins. Try again in {minutes} minute{'s' * (minutes != 1)}.",
            headers={"Retry-After": str(retry_after)},
            slug="sign-in-throttled",
        )


@dataclass(frozen=True)
class ThrottlePolicy:
    max_per_account: int
    max_per_address: int
    window: timedelta

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ThrottlePolicy:
        return cls(
            max_per_account=config["SIGN_IN_MAX_FAILURES_PER_ACCOUNT"],
            max_per_address=config["SIGN_IN_MAX_FAILURES_PER_ADDRESS"],
            window=timedelta(seconds=config["SIGN_IN_FAILURE_WINDOW_SECONDS"]),
        )


def _retry_after(
    session: Session, column: Any, value: str, limit: int, policy: ThrottlePolicy
) -> int:
    since = clock.now() - policy.window
    recent = (
        select(SignInFailure.occurred_at)
        .where(column == value, SignInFailure.occurred_at > since)
        .order_by(SignInFailure.occurred_at.desc())
        .limit(limit)
    )
    times = list(session.scalars(recent))
    if len(times) < limit:
        return 0
    # Blocked until the oldest of the last `limit` failures leaves the window.
    unblocked_at = times[-1] + policy.window
    return max(1, math.ceil((unblocked_at - clock.now()).total_seconds()))


def check_throttle(session: Session, email: str, address: str, policy: ThrottlePolicy) -> None:
    wait = max(
        _retry_after(
            session, SignInFailure.email_key, email_key(email), policy.max_per_account, policy
        ),
        _retry_after(
            session, SignInFailure.remote_address, address, policy.max_per_address, policy
        ),
    )
    if wait:
        raise SignInThrottled(wait)


def _record_failure(session: Session, email: str, address: str, policy: ThrottlePolicy) -> None:
    now = clock.now()
    session.add(SignInFailure(email_key=email_key(email), remote_address=address, occurred_at=now))
    # Keep the table small: failures older than the window count for nothing.
    session.execute(delete(SignInFailure).where(SignInFailure.occurred_at < now - policy.window))
    session.commit()


def authenticate(
    session: Session, *, email: str, password: str, address: str, policy: ThrottlePolicy
) -> User:
    """The user whose credentials these are, or a refusal that reveals nothing more.

    An unknown email and a wrong password get the same answer in about the same
    time. While an account or an address is throttled even the right password is
    refused, so guessing cannot go on.
    """
    check_throttle(session, email, address, policy)
    user = get_user_by_email(session, email) if len(email) <= EMAIL_MAX else None
    # End the read before the deliberately slow hash: a write session would otherwise
    # hold SQLite's write lock while Argon2 runs.
    session.commit()
    if user is None:
        burn_verification_time(password)
        _record_failure(session, email[:EMAIL_MAX], address, policy)
        raise InvalidCredentials()
    if not verify_password(user.password_hash, password):
        _record_failure(session, email, address, policy)
        raise InvalidCredentials()
    if not user.active:
        raise AccountDeactivated()
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_sign_in_at = clock.now()
    session.execute(delete(SignInFailure).where(SignInFailure.email_key == email_key(email)))
    session.commit()
    return user


def user_for_session(
    session: Session, user_id: int, session_version: int, sign_in_id: str | None = None
) -> User | None:
    """The user a session cookie or API token names, if that session is still alive.

    A browser session also names its sign-in, which must not have been signed out.
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
