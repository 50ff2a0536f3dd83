"""What users do with their own account: change the password, sign out everywhere."""

from __future__ import annotations

from sqlalchemy.orm import Session

from accounts.models import User
from accounts.passwords import hash_password
from accounts.services.links import void_password_resets
from accounts.services.sign_in import check_own_password
from accounts.services.throttle import ThrottlePolicy
from accounts.services.validation import AccountError, check_password
from core import audit
from core.errors import FieldError


def change_password(
    session: Session,
    user: User,
    *,
    current: str,
    new: str,
    address: str,
    policy: ThrottlePolicy,
) -> User:
    """Set a new password; every other session and API token of the user ends.

    A wrong current password counts as a failed sign-in from ``address``.
    """
    if not check_own_password(session, user, current, address=address, policy=policy):
        raise AccountError([FieldError("current_password", "This is not your current password.")])
    if current == new:
        raise AccountError(
            [FieldError("new_password", "Choose a password you have not used here.")]
        )
    check_password(new, [user.email, user.given_name, user.family_name], field="new_password")
    user.password_hash = hash_password(new)
    void_password_resets(session, user)
    return _end_sessions(session, user, "user.password_changed")


def sign_out_everywhere(session: Session, user: User) -> User:
    return _end_sessions(session, user, "user.signed_out_everywhere")


def _end_sessions(session: Session, user: User, action: str) -> User:
    """Bump the session version: every cookie and API token issued before dies."""
    user.session_version += 1
    audit.record(session, actor_id=user.id, action=action, object_type="user", object_id=user.id)
    session.commit()
    return user
