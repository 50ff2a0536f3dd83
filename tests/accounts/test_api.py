"""API tokens and /me: issue, expiry, revocation, and bad input that changes nothing."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from accounts.models import SignInFailure, User
from core.db import get_db
from tests.conftest import STRONG_PASSWORD, api_token, bearer, post_form, sign_in


def test_token_then_me(client: FlaskClient, make_user, clock) -> None:
    user = make_user("candidate", "proctor", given_name="Ola", family_name="Nordmann")
    response = client.post(
        "/api/v1/tokens", json={"email": user.email.upper(), "password": STRONG_PASSWORD}
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["expires_at"] == "2026-11-22T10:00:00+00:00"
    me = client.get("/api/v1/me", headers=bearer(body["token"])).get_json()
    assert me["email"] == user.email and me["roles"] == ["candidate", "proctor"]
    assert me["given_name"] == "Ola" and "password_hash" not in me


def test_token_expires_after_an_hour(client: FlaskClient, make_user, clock) -> None:
    user = make_user()
    token = api_token(client, user.email)
    clock.advance(minutes=59)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    clock.advance(minutes=2)
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401
    assert "expired" in response.get_json()["detail"]


@pytest.mark.parametrize("mangle", [lambda t: t[:-3] + "abc", lambda t: t[:20], lambda t: "x" + t])
def test_forged_or_truncated_token_is_refused(client: FlaskClient, make_user, mangle) -> None:
    user = make_user()
    token = api_token(client, user.email)
    response = client.get("/api/v1/me", headers=bearer(mangle(token)))
    assert response.status_code == 401 and response.mimetype == "application/problem+json"


def test_token_signed_with_another_key_is_refused(
    app: Flask, client: FlaskClient, make_user
) -> None:
    from itsdangerous import URLSafeTimedSerializer

    user = make_user()
    forged = URLSafeTimedSerializer("guessed-key", salt="api-token").dumps({"u": user.id, "v": 1})
    assert client.get("/api/v1/me", headers=bearer(forged)).status_code == 401


def test_malformed_authorization_header_is_401(client: FlaskClient) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": "Basic abc"})
    assert response.status_code == 401 and "Bearer" in response.get_json()["detail"]


def test_a_public_operation_refuses_a_token_that_is_not_valid_as_documented(
    client: FlaskClient,
) -> None:
    response = client.get("/api/v1/register", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    document = client.get("/api/v1/openapi.json").get_json()
    assert "401" in document["paths"]["/register"]["get"]["responses"]


def test_password_change_revokes_tokens(app: Flask, client: FlaskClient, make_user) -> None:
    user = make_user()
    token = api_token(client, user.email)
    sign_in(client, user.email)
    new = "amber-meadow-compass-77"
    post_form(
        client,
        "/account",
        "/account/password",
        {"current_password": STRONG_PASSWORD, "new_password": new, "confirm": new},
    )
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401 and "revoked" in response.get_json()["detail"]
    assert (
        client.get("/api/v1/me", headers=bearer(api_token(client, user.email, new))).status_code
        == 200
    )


def test_deactivation_revokes_tokens(app: Flask, client: FlaskClient, make_user) -> None:
    admin, user = make_user("admin"), make_user()
    token = api_token(client, user.email)
    admin_client = app.test_client()
    sign_in(admin_client, admin.email)
    post_form(
        admin_client, f"/admin/users/{user.id}", f"/admin/users/{user.id}/active", {"active": "0"}
    )
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    refused = client.post("/api/v1/tokens", json={"email": user.email, "password": STRONG_PASSWORD})
    assert refused.status_code == 403


def test_a_browser_session_does_not_authorise_the_api(client: FlaskClient, make_user) -> None:
    user = make_user()
    sign_in(client, user.email)
    assert client.get("/api/v1/me").status_code == 401


def _users_and_failures(app: Flask) -> tuple[int, int]:
    with get_db(app).read_sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(User)),
            session.scalar(select(func.count()).select_from(SignInFailure)),
        )


@pytest.mark.parametrize(
    ("kwargs", "status", "field"),
    [
        ({"data": "{not json", "content_type": "application/json"}, 400, None),
        ({"data": "[1, 2]", "content_type": "application/json"}, 400, None),
        (
            {"data": "email=a&password=b", "content_type": "application/x-www-form-urlencoded"},
            415,
            None,
        ),
        ({"json": {"email": "a@example.org"}}, 422, "password"),
        ({"json": {"email": "a@example.org", "password": "x", "admin": True}}, 422, "admin"),
        ({"json": {"email": "a" * 300 + "@example.org", "password": "x"}}, 422, "email"),
        ({"json": {"email": 5, "password": "x"}}, 422, "email"),
    ],
)
def test_bad_token_requests_name_the_problem_and_change_nothing(
    app: Flask, client: FlaskClient, make_user, kwargs, status, field
) -> None:
    make_user()
    before = _users_and_failures(app)
    response = client.post("/api/v1/tokens", **kwargs)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["detail"]
    if field:
        assert field in [error["field"] for error in body["errors"]]
    assert _users_and_failures(app) == before


def test_wrong_password_is_401_problem(client: FlaskClient, make_user) -> None:
    user = make_user()
    response = client.post(
        "/api/v1/tokens", json={"email": user.email, "password": "wrong-password-1"}
    )
    assert response.status_code == 401
    assert response.get_json()["title"] == "Sign-in failed"
