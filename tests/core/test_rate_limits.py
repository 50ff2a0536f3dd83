"""Request rate limits (Flask-Limiter) answer 429 with Retry-After on both faces."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import csrf_from


def test_sign_up_posts_are_limited_per_address(app: Flask, client: FlaskClient) -> None:
    token = csrf_from(client.get("/sign-up").get_data(as_text=True))
    statuses = [
        client.post("/sign-up", data={"csrf_token": token, "email": f"x{n}"}).status_code
        for n in range(21)
    ]
    assert statuses[:20] == [422] * 20
    assert statuses[20] == 429
    blocked = client.post("/sign-up", data={"csrf_token": token})
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert "Too many" in blocked.get_data(as_text=True)
    assert client.get("/sign-up").status_code == 200  # reading the form is not limited
    other_address = client.post(
        "/sign-up", data={"csrf_token": token}, environ_base={"REMOTE_ADDR": "10.9.8.7"}
    )
    assert other_address.status_code == 422


def test_token_requests_are_limited_with_problem_json(app: Flask, client: FlaskClient) -> None:
    for _ in range(30):
        client.post("/api/v1/tokens", json={"email": "x@example.org"})
    response = client.post("/api/v1/tokens", json={"email": "x@example.org"})
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0


def test_limits_can_be_switched_off_by_configuration(make_app) -> None:
    client = make_app(RATELIMIT_ENABLED=False).test_client()
    for _ in range(31):
        response = client.post("/api/v1/tokens", json={"email": "x@example.org"})
    assert response.status_code == 422
