"""JSON API: bearer tokens and the caller's own account."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request
from flask_login import current_user
from pydantic import Field

from accounts import services
from accounts.models import User
from accounts.passwords import MAX_LENGTH
from core.api import (
    ApiModel,
    json_body,
    json_response,
    make_api_blueprint,
    parse_json,
    problem_responses,
)
from core.auth import issue_api_token, login_required
from core.db import get_session
from core.extensions import limiter

api = make_api_blueprint("accounts_api", __name__)


class TokenRequest(ApiModel):
    email: str = Field(min_length=1, max_length=services.EMAIL_MAX)
    password: str = Field(min_length=1, max_length=MAX_LENGTH)


class TokenResponse(ApiModel):
    token: str
    expires_at: str = Field(description="RFC 3339 UTC time after which the token is refused.")


class Me(ApiModel):
    id: int
    email: str
    given_name: str
    family_name: str
    roles: list[str]
    active: bool
    created_at: str
    last_sign_in_at: str | None


def user_json(user: User) -> dict[str, Any]:
    return Me(
        id=user.id,
        email=user.email,
        given_name=user.given_name,
        family_name=user.family_name,
        roles=sorted(user.roles),
        active=user.active,
        created_at=user.created_at.isoformat(),
        last_sign_in_at=user.last_sign_in_at.isoformat() if user.last_sign_in_at else None,
    ).model_dump()


@api.post("/tokens")
@limiter.limit("30 per minute")
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
    response = jsonify(TokenResponse(token=token, expires_at=expires_at.isoformat()).model_dump())
    response.status_code = 201
    return response


@api.get("/me")
@login_required
def me() -> Any:
    return jsonify(user_json(current_user))


OPENAPI_MODELS = (TokenRequest, TokenResponse, Me)
OPENAPI_PATHS: dict[str, dict[str, Any]] = {
    "/tokens": {
        "post": {
            "summary": "Exchange email and password for a bearer token (one hour)",
            "operationId": "createToken",
            "requestBody": json_body(TokenRequest),
            "responses": {
                "201": json_response("A token", {"$ref": "#/components/schemas/TokenResponse"}),
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
                "200": json_response("The account", {"$ref": "#/components/schemas/Me"}),
                **problem_responses(401),
            },
        }
    },
}
