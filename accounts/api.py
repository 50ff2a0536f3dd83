"""JSON API: bearer tokens and the caller's own account."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_login import current_user
from pydantic import Field

from accounts import responses, services
from accounts.passwords import MAX_LENGTH
from accounts.responses import Me, TokenResponse
from core.api import (
    ApiModel,
    json_body,
    make_api_blueprint,
    model_response,
    parse_json,
    problem_responses,
    respond,
)
from core.auth import issue_api_token, login_required
from core.db import get_session
from core.extensions import limiter, per_email_and_address

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


OPENAPI_MODELS = (TokenRequest, TokenResponse, Me)
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
}
