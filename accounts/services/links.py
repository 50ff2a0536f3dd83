"""One-time links by email: resetting a forgotten password, accepting an invitation.

A link carries a random token; only its SHA-256 is stored, so a copy of the database
opens no account. A link works once and until it expires (read from ``core.clock``).

Asking for a reset answers the same whether or not the address has an account: the
page never says, and only an existing, active account gets an email. At most
:data:`RESETS_PER_HOUR` emails go to one account in an hour, however often it is asked,
so nobody can fill a mailbox from the form. Using a link sets the password, voids the
user's other reset links and ends every session and API token of the user.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from accounts.models import Invitation, PasswordReset, SignInFailure, User
from accounts.passwords import hash_password
from accounts.services.users import create_user, get_user_by_email
from accounts.services.validation import (
    EMAIL_MAX,
    AccountError,
    check_password,
    check_roles,
    clean_name,
    email_key,
    normalise_email,
)
from core import audit, clock, mail
from core.auth import ROLES, Actor
from core.errors import FieldError, Problem

RESET_LIFETIME = timedelta(hours=1)
INVITATION_LIFETIME = timedelta(days=7)
RESETS_PER_HOUR = 3


class InvitationState(enum.StrEnum):
    PENDING = "pending"
    EXPIRED = "expired"
    ACCEPTED = "accepted"
    WITHDRAWN = "withdrawn"


class LinkUnusable(Problem):
    """The same answer for a link that never existed, was used, withdrawn or expired."""

    def __init__(self, what: str, remedy: str) -> None:
        super().__init__(
            410,
            "Link no longer works",
            f"This {what} link has expired or has already been used. {remedy}",
            slug="link-unusable",
        )


RESET_UNUSABLE = ("password reset", "Ask for a new one from the sign-in page.")
INVITATION_UNUSABLE = ("invitation", "Ask the administrator who invited you for a new one.")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


# ---- password reset ---------------------------------------------------------------------


def request_password_reset(session: Session, email: str, *, link_base: str) -> None:
    """Email a reset link to the active account with this address, if there is one.

    The caller answers the same either way. ``link_base`` is the public address of the
    reset page; the token is appended to it.
    """
    user = get_user_by_email(session, email) if len(email) <= EMAIL_MAX else None
    if user is None or not user.active:
        # Written and committed like a real request, so the answer takes as long and an
        # address cannot be tested for an account by timing the page.
        audit.record(
            session,
            actor_id=None,
            actor_label="password reset request",
            action="user.password_reset_unmatched",
            object_type="user",
            object_id="-",
        )
        session.commit()
        return
    now = clock.now()
    recent = session.scalar(
        select(func.count(PasswordReset.id)).where(
            PasswordReset.user_id == user.id, PasswordReset.created_at > now - timedelta(hours=1)
        )
    )
    if (recent or 0) >= RESETS_PER_HOUR:
        return
    token, hashed = _new_token()
    session.add(
        PasswordReset(
            user_id=user.id, token_hash=hashed, created_at=now, expires_at=now + RESET_LIFETIME
        )
    )
    minutes = int(RESET_LIFETIME.total_seconds() // 60)
    mail.enqueue(
        session,
        user.email,
        "Reset your CSM Certify password",
        f"Hello {user.given_name},\n\n"
        "Someone, probably you, asked to reset the password of your CSM Certify account.\n"
        f"Choose a new password here within {minutes} minutes:\n\n"
        f"{link_base}/{token}\n\n"
        "The link works once. Setting a new password signs you out everywhere.\n"
        "If you did not ask, ignore this email: your password stays as it is.\n",
    )
    audit.record(
        session,
        actor_id=None,
        actor_label="password reset request",
        action="user.password_reset_requested",
        object_type="user",
        object_id=user.id,
    )
    session.commit()


def _usable_reset(session: Session, token: str) -> PasswordReset | None:
    reset = session.scalars(
        select(PasswordReset).where(PasswordReset.token_hash == token_hash(token))
    ).one_or_none()
    if reset is None or reset.used_at is not None or reset.expires_at <= clock.now():
        return None
    user = session.get(User, reset.user_id)
    return reset if user is not None and user.active else None


def password_reset_user(session: Session, token: str) -> User:
    """The user a reset link is for, or :class:`LinkUnusable` (looking uses nothing up)."""
    reset = _usable_reset(session, token)
    if reset is None:
        raise LinkUnusable(*RESET_UNUSABLE)
    user = session.get(User, reset.user_id)
    assert user is not None
    return user


def reset_password(session: Session, token: str, password: str) -> User:
    """Set the new password from a reset link; the link and the user's other reset links
    stop working, and every session and API token of the user ends; audited."""
    user = password_reset_user(session, token)
    check_password(password, [user.email, user.given_name, user.family_name])
    now = clock.now()
    # Taking the link is one conditional write: of two simultaneous uses only one wins.
    taken = session.execute(
        update(PasswordReset)
        .where(PasswordReset.token_hash == token_hash(token), PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise LinkUnusable(*RESET_UNUSABLE)
    void_password_resets(session, user)
    user.password_hash = hash_password(password)
    user.session_version += 1
    # Guesses at the old password count for nothing against the new one.
    session.execute(delete(SignInFailure).where(SignInFailure.email_key == user.email_key))
    audit.record(
        session,
        actor_id=user.id,
        action="user.password_reset",
        object_type="user",
        object_id=user.id,
    )
    session.commit()
    return user


def void_password_resets(session: Session, user: User) -> None:
    """Every reset link of ``user`` not yet used stops working (the caller commits)."""
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=clock.now())
    )


# ---- invitations ------------------------------------------------------------------------


def invitation_state(invitation: Invitation) -> InvitationState:
    if invitation.accepted_at is not None:
        return InvitationState.ACCEPTED
    if invitation.withdrawn_at is not None:
        return InvitationState.WITHDRAWN
    if invitation.expires_at <= clock.now():
        return InvitationState.EXPIRED
    return InvitationState.PENDING


def open_invitations(session: Session) -> list[Invitation]:
    """Invitations neither accepted nor withdrawn (expired ones too), newest first."""
    query = (
        select(Invitation)
        .where(Invitation.accepted_at.is_(None), Invitation.withdrawn_at.is_(None))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    )
    return list(session.scalars(query))


def invite(
    session: Session,
    actor: Actor | None,
    *,
    email: str,
    given_name: str,
    family_name: str,
    roles: Iterable[str],
    link_base: str,
    actor_label: str | None = None,
) -> Invitation:
    """Invite a person with ``roles``: they get a link to set their own password; audited.
    ``actor`` is None from the command line, which the audit row names by ``actor_label``.

    Refused, naming the field, for an address that has an account or a pending invitation.
    """
    errors: list[FieldError] = []
    cleaned: dict[str, str] = {}
    for name, value, check in (
        ("email", email, normalise_email),
        ("given_name", given_name, lambda v: clean_name(v, "given_name")),
        ("family_name", family_name, lambda v: clean_name(v, "family_name")),
    ):
        try:
            cleaned[name] = check(value)
        except AccountError as error:
            errors.extend(error.errors)
    role_list: list[str] = []
    try:
        role_list = check_roles(roles)
    except AccountError as error:
        errors.extend(error.errors)
    if not role_list and not errors:
        errors.append(FieldError("roles", "Choose at least one role."))
    if errors:
        raise AccountError(errors)
    key = email_key(cleaned["email"])
    if get_user_by_email(session, cleaned["email"]) is not None:
        raise AccountError(
            [FieldError("email", "This address already has an account: give it roles instead.")],
            status=409,
            title="Account exists",
        )
    if any(
        invitation_state(pending) is InvitationState.PENDING
        for pending in session.scalars(select(Invitation).where(Invitation.email_key == key))
    ):
        raise AccountError(
            [FieldError("email", "This address has a pending invitation: withdraw it first.")],
            status=409,
            title="Already invited",
        )
    now = clock.now()
    token, hashed = _new_token()
    invitation = Invitation(
        email=cleaned["email"],
        email_key=key,
        given_name=cleaned["given_name"],
        family_name=cleaned["family_name"],
        roles=sorted(role_list),
        token_hash=hashed,
        invited_by_id=actor.id if actor else None,
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    session.add(invitation)
    session.flush()
    role_names = ", ".join(dict(ROLES)[role] for role in invitation.roles)
    inviter = session.get(User, actor.id) if actor else None
    mail.enqueue(
        session,
        invitation.email,
        "You are invited to CSM Certify",
        f"Hello {invitation.given_name},\n\n"
        f"{inviter.full_name if inviter else 'An administrator'} invites you to CSM Certify "
        f"as {role_names}.\n"
        f"Choose your password here within {INVITATION_LIFETIME.days} days:\n\n"
        f"{link_base}/{token}\n\n"
        "The link works once. If you did not expect this, ignore this email.\n",
    )
    audit.record(
        session,
        actor_id=actor.id if actor else None,
        action="invitation.created",
        object_type="invitation",
        object_id=invitation.id,
        after={"email": invitation.email, "roles": invitation.roles},
        actor_label=actor_label,
    )
    session.commit()
    return invitation


def require_invitation(session: Session, invitation_id: int) -> Invitation:
    invitation = session.get(Invitation, invitation_id)
    if invitation is None:
        raise Problem(404, "No such invitation", f"There is no invitation {invitation_id}.")
    return invitation


def withdraw_invitation(
    session: Session, actor: Actor | None, invitation: Invitation, actor_label: str | None = None
) -> Invitation:
    """The link stops working; audited. An accepted invitation cannot be withdrawn."""
    state = invitation_state(invitation)
    if state in (InvitationState.ACCEPTED, InvitationState.WITHDRAWN):
        raise Problem(
            409, "Invitation closed", f"This invitation is already {state.value}; nothing changed."
        )
    invitation.withdrawn_at = clock.now()
    audit.record(
        session,
        actor_id=actor.id if actor else None,
        action="invitation.withdrawn",
        object_type="invitation",
        object_id=invitation.id,
        before={"state": state.value},
        after={"state": InvitationState.WITHDRAWN.value},
        actor_label=actor_label,
    )
    session.commit()
    return invitation


def invitation_for_token(session: Session, token: str) -> Invitation:
    """The pending invitation a link names, or :class:`LinkUnusable`."""
    invitation = session.scalars(
        select(Invitation).where(Invitation.token_hash == token_hash(token))
    ).one_or_none()
    if invitation is None or invitation_state(invitation) is not InvitationState.PENDING:
        raise LinkUnusable(*INVITATION_UNUSABLE)
    return invitation


def accept_invitation(session: Session, token: str, password: str) -> User:
    """Create the invited person's account with their own password and the invited roles;
    the link stops working; audited."""
    invitation = invitation_for_token(session, token)
    user = create_user(
        session,
        email=invitation.email,
        given_name=invitation.given_name,
        family_name=invitation.family_name,
        password=password,
        roles=invitation.roles,
        actor_id=invitation.invited_by_id,
    )
    taken = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
        .values(accepted_at=clock.now(), user_id=user.id)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]  # pragma: no cover - a race
        session.rollback()
        raise LinkUnusable(*INVITATION_UNUSABLE)
    audit.record(
        session,
        actor_id=user.id,
        action="invitation.accepted",
        object_type="invitation",
        object_id=invitation.id,
        after={"user": user.id, "roles": sorted(user.roles)},
    )
    session.commit()
    return user
