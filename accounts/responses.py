"""The accounts API's JSON bodies: what each handler sends and the document shows."""

from __future__ import annotations

from pydantic import Field

from accounts.models import Invitation, User
from accounts.services import InvitationState, invitation_state
from core.api import Moment, ResponseModel


class TokenResponse(ResponseModel):
    token: str
    expires_at: Moment = Field(description="RFC 3339 UTC time after which the token is refused.")


class Me(ResponseModel):
    id: int
    email: str
    given_name: str
    family_name: str
    roles: list[str]
    active: bool
    created_at: Moment
    last_sign_in_at: Moment | None


def me(user: User) -> Me:
    return Me.of(user, roles=sorted(user.roles))


class InvitationOut(ResponseModel):
    """An invitation as an administrator sees it; its link goes only to the invited address."""

    id: int
    email: str
    given_name: str
    family_name: str
    roles: list[str]
    state: InvitationState
    invited_by_id: int | None
    created_at: Moment
    expires_at: Moment


class InvitationList(ResponseModel):
    invitations: list[InvitationOut]


def invitation_out(invitation: Invitation) -> InvitationOut:
    return InvitationOut.of(invitation, state=invitation_state(invitation))
