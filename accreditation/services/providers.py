"""Provider organisations, their members and the invitations that bring colleagues in."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import User
from accreditation.models import PROVIDER_ROLE, Organisation, ProviderMember
from accreditation.schemas import OrganisationInput
from core import audit, clock, mail
from core.auth import Actor
from core.errors import Problem


def get_membership(session: Session, user_id: int) -> ProviderMember | None:
    """The user's accepted membership; an invitation not yet accepted grants nothing."""
    member = session.get(ProviderMember, user_id)
    return member if member is not None and member.accepted_at is not None else None


def get_invitation(session: Session, user_id: int) -> tuple[ProviderMember, Organisation] | None:
    member = session.get(ProviderMember, user_id)
    if member is None or member.accepted_at is not None:
        return None
    organisation = session.get(Organisation, member.organisation_id)
    return (member, organisation) if organisation else None


def get_organisation_of(session: Session, user_id: int) -> Organisation | None:
    member = get_membership(session, user_id)
    return session.get(Organisation, member.organisation_id) if member else None


def save_organisation(session: Session, actor: Actor, data: OrganisationInput) -> Organisation:
    """Create the actor's organisation, or update it; audited."""
    organisation = get_organisation_of(session, actor.id)
    before = organisation_fields(organisation) if organisation else None
    if organisation is None:
        pending = session.get(ProviderMember, actor.id)
        if pending is not None:  # creating one's own organisation declines an invitation
            session.delete(pending)
        organisation = Organisation(created_at=clock.now())
        session.add(organisation)
    organisation.legal_name = data.legal_name
    organisation.country = data.country.upper()
    organisation.website = data.website
    organisation.contact_name = data.contact_name
    organisation.contact_email = data.contact_email
    session.flush()
    if before is None:
        session.add(
            ProviderMember(
                user_id=actor.id, organisation_id=organisation.id, accepted_at=clock.now()
            )
        )
    audit.record(
        session,
        actor_id=actor.id,
        action="organisation.saved",
        object_type="organisation",
        object_id=organisation.id,
        before=before,
        after=organisation_fields(organisation),
    )
    session.commit()
    return organisation


def invite_member(session: Session, actor: Actor, organisation: Organisation, user: User) -> None:
    """Invite a colleague; they join only when they accept, so nobody can be claimed."""
    if not user.has_role(PROVIDER_ROLE):
        raise Problem(422, "Not a provider", "Staff give your colleague the provider role first.")
    if session.get(ProviderMember, user.id) is not None:
        raise Problem(
            409, "Already taken", "This user belongs to, or is invited to, an organisation."
        )
    session.add(
        ProviderMember(user_id=user.id, organisation_id=organisation.id, invited_by_id=actor.id)
    )
    audit.record(
        session,
        actor_id=actor.id,
        action="organisation.member_invited",
        object_type="organisation",
        object_id=organisation.id,
        after={"user": user.email},
    )
    mail.enqueue(
        session,
        user.email,
        f"Join {organisation.legal_name} on CSM Certify",
        f"{_user(session, actor).full_name} invites you to work on "
        f"{organisation.legal_name}'s accreditation applications. "
        "Sign in and open Accreditation to accept or decline.\n",
    )
    session.commit()


def answer_invitation(session: Session, actor: Actor, accept: bool) -> Organisation:
    pending = get_invitation(session, actor.id)
    if pending is None:
        raise Problem(409, "No invitation", "There is no invitation waiting for you.")
    member, organisation = pending
    if accept:
        member.accepted_at = clock.now()
    else:
        session.delete(member)
    audit.record(
        session,
        actor_id=actor.id,
        action="organisation.member_joined" if accept else "organisation.invitation_declined",
        object_type="organisation",
        object_id=organisation.id,
        after={"user": _user(session, actor).email},
    )
    session.commit()
    return organisation


def _user(session: Session, actor: Actor) -> User:
    user = session.get(User, actor.id)
    assert user is not None
    return user


def organisation_fields(organisation: Organisation) -> dict[str, str]:
    """What the provider wrote about the organisation (audited before and after a save)."""
    return {
        "legal_name": organisation.legal_name,
        "country": organisation.country,
        "website": organisation.website,
        "contact_name": organisation.contact_name,
        "contact_email": organisation.contact_email,
    }


def members(session: Session, organisation_id: int) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(ProviderMember, ProviderMember.user_id == User.id)
            .where(
                ProviderMember.organisation_id == organisation_id,
                ProviderMember.accepted_at.is_not(None),
            )
            .order_by(User.family_name)
        )
    )
