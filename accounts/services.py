"""The rules of accounts: sign-up, sign-in with throttling, passwords, sessions, roles.

Each function takes a session and plain values and commits its own unit of work,
so the HTML views, the JSON API and the CLI share exactly the same behaviour.
"""

from __future__ import annotations

import math
import secrets
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from accounts.models import SignInFailure, SignInSession, User, UserRole
from accounts.passwords import (
    burn_verification_time,
    hash_password,
    needs_rehash,
    password_problems,
    verify_password,
)
from core import audit, clock
from core.auth import ROLES, Actor
from core.errors import FieldError, Problem
from core.paging import Page, paginate

NAME_MAX = 100
T = TypeVar("T")
EMAIL_MAX = 254


class AccountError(Problem):
    """A refused account change, naming the fields at fault (rendered as 4xx)."""

    def __init__(self, errors: list[FieldError], status: int = 422, title: str = "") -> None:
        super().__init__(
            status=status,
            title=title or "Some fields need attention",
            detail=" ".join(error.message for error in errors),
            errors=errors,
            slug="validation",
        )


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


# ---- validation --------------------------------------------------------------------


def email_key(email: str) -> str:
    return unicodedata.normalize("NFC", email.strip()).casefold()


def normalise_email(email: str, field: str = "email") -> str:
    email = email.strip()
    if len(email) > EMAIL_MAX:
        raise AccountError([FieldError(field, f"Use at most {EMAIL_MAX} characters.")])
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise AccountError(
            [FieldError(field, f"This is not a valid email address: {exc}")]
        ) from exc


def clean_name(value: str, field: str) -> str:
    value = unicodedata.normalize("NFC", value.strip())
    if not value:
        raise AccountError([FieldError(field, "This field is required.")])
    if len(value) > NAME_MAX:
        raise AccountError([FieldError(field, f"Use at most {NAME_MAX} characters.")])
    if any(unicodedata.category(ch).startswith("C") for ch in value):
        raise AccountError([FieldError(field, "Remove the control characters.")])
    return value


def check_roles(roles: Iterable[str], field: str = "roles") -> list[str]:
    roles = list(dict.fromkeys(roles))
    unknown = [role for role in roles if role not in ROLES]
    if unknown:
        raise AccountError(
            [FieldError(field, f"Unknown role {', '.join(unknown)}; known: {', '.join(ROLES)}.")]
        )
    return roles


def check_password(password: str, personal: list[str], field: str = "password") -> None:
    problems = password_problems(password, personal)
    if problems:
        raise AccountError([FieldError(field, problem) for problem in problems])


# ---- users -------------------------------------------------------------------------


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
        after=_snapshot(user),
    )
    session.commit()
    return user


def _duplicate_email() -> AccountError:
    return AccountError(
        [FieldError("email", "An account with this email already exists. Sign in instead.")],
        status=409,
        title="Email already registered",
    )


def _snapshot(user: User) -> dict[str, Any]:
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


# ---- sign-in and throttling ------------------------------------------------------------


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


# ---- a user's own account ---------------------------------------------------------------


def change_password(session: Session, user: User, *, current: str, new: str) -> User:
    """Set a new password; every other session and API token of the user ends."""
    if not verify_password(user.password_hash, current):
        raise AccountError([FieldError("current_password", "This is not your current password.")])
    if current == new:
        raise AccountError(
            [FieldError("new_password", "Choose a password you have not used here.")]
        )
    check_password(new, [user.email, user.given_name, user.family_name], field="new_password")
    user.password_hash = hash_password(new)
    return _end_sessions(session, user, "user.password_changed")


def sign_out_everywhere(session: Session, user: User) -> User:
    return _end_sessions(session, user, "user.signed_out_everywhere")


def _end_sessions(session: Session, user: User, action: str) -> User:
    """Bump the session version: every cookie and API token issued before dies."""
    user.session_version += 1
    audit.record(session, actor_id=user.id, action=action, object_type="user", object_id=user.id)
    session.commit()
    return user


# ---- staff administration ------------------------------------------------------------------


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
    before = _snapshot(user)
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
