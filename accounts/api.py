"""JSON API: bearer tokens and the caller's own account."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_login import current_user
from pydantic import Field

from accounts import responses, services
from accounts.passwords import MAX_LENGTH
from accounts.responses import InvitationList, InvitationOut, Me, TokenResponse
from accounts.services.validation import EMAIL_MAX, NAME_MAX
from core.api import (
    ApiModel,
    json_body,
    make_api_blueprint,
    model_response,
    parse_json,
    problem_responses,
    respond,
)
from core.auth import current_actor, issue_api_token, login_required, roles_required
from core.db import get_session
from core.extensions import limiter, per_email_and_address
from core.web import link_base

api = make_api_blueprint("accounts_api", __name__)


class TokenRequest(ApiModel):
    email: str = Field(min_length=1, max_length=services.EMAIL_MAX)
    password: str = Field(min_length=1, max_length=MAX_LENGTH)


@api.post("/tokens")
@limiter.limit("30 per minute", key_func=per_email_and_address)
def create_token() -> Any:
    body = parse_json(TokenRequest)
    user = services.authenticate(
        get_session(),
        email=body.email,
        password=body.password,
        address=request.remote_addr or "unknown",
        policy=services.ThrottlePolicy.from_config(current_app.config),
    )
    token, expires_at = issue_api_token(user)
    return respond(TokenResponse(token=token, expires_at=expires_at), 201)


@api.get("/me")
@login_required
def me() -> Any:
    return respond(responses.me(current_user))


class InvitationRequest(ApiModel):
    email: str = Field(min_length=1, max_length=EMAIL_MAX)
    given_name: str = Field(min_length=1, max_length=NAME_MAX)
    family_name: str = Field(min_length=1, max_length=NAME_MAX)
    roles: list[str] = Field(min_length=1, max_length=20, description="Role codes, as in /me.")


@api.get("/invitations")
@roles_required("admin")
def list_invitations() -> Any:
    invitations = services.open_invitations(get_session())
    return respond(InvitationList(invitations=[responses.invitation_out(i) for i in invitations]))


@api.post("/invitations")
@roles_required("admin")
def create_invitation() -> Any:
    body = parse_json(InvitationRequest)
    invitation = services.invite(
        get_session(),
        current_actor(),
        email=body.email,
        given_name=body.given_name,
        family_name=body.family_name,
        roles=body.roles,
        link_base=link_base("accounts.accept_invitation"),
    )
    return respond(responses.invitation_out(invitation), 201)


@api.post("/invitations/<id:invitation_id>/withdraw")
@roles_required("admin")
def withdraw_invitation(invitation_id: int) -> Any:
    invitation = services.require_invitation(get_session(), invitation_id)
    services.withdraw_invitation(get_session(), current_actor(), invitation)
    return respond(responses.invitation_out(invitation))


OPENAPI_MODELS = (TokenRequest, TokenResponse, Me, InvitationRequest, InvitationOut, InvitationList)
OPENAPI_PATHS: dict[str, dict[str, Any]] = {
    "/tokens": {
        "post": {
            "summary": "Exchange email and password for a bearer token (one hour)",
            "operationId": "createToken",
            "requestBody": json_body(TokenRequest),
            "responses": {
                "201": model_response("A token", TokenResponse),
                **problem_responses(400, 401, 403, 415, 422, 429),
            },
        }
    },
    "/me": {
        "get": {
            "summary": "The account the token belongs to",
            "operationId": "getMe",
            "security": [{"bearer": []}],
            "responses": {
                "200": model_response("The account", Me),
                **problem_responses(401),
            },
        }
    },
    "/invitations": {
        "get": {
            "summary": "Invitations neither accepted nor withdrawn, expired ones too (admin)",
            "operationId": "listInvitations",
            "security": [{"bearer": []}],
            "responses": {
                "200": model_response("The open invitations", InvitationList),
                **problem_responses(401, 403),
            },
        },
        "post": {
            "summary": "Invite a person with roles; the link is emailed to them (admin, audited)",
            "operationId": "createInvitation",
            "security": [{"bearer": []}],
            "requestBody": json_body(InvitationRequest),
            "responses": {
                "201": model_response("The invitation", InvitationOut),
                **problem_responses(400, 401, 403, 409, 415, 422),
            },
        },
    },
    "/invitations/{invitation_id}/withdraw": {
        "post": {
            "summary": "Withdraw an invitation: its link stops working (admin, audited)",
            "operationId": "withdrawInvitation",
            "security": [{"bearer": []}],
            "parameters": [
                {
                    "name": "invitation_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer"},
                }
            ],
            "responses": {
                "200": model_response("The withdrawn invitation", InvitationOut),
                **problem_responses(401, 403, 404, 409),
            },
        }
    },
}
