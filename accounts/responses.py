"""The accounts API's JSON bodies: what each handler sends and the document shows."""

from __future__ import annotations

from pydantic import Field

from accounts.models import User
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
