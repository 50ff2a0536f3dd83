"""Security headers, cookies, CSRF and the error pages on both faces."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import Conflict

from tests.conftest import csrf_from, sign_in


def test_pages_carry_security_headers(client: FlaskClient) -> None:
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_templates_hold_no_inline_script(client: FlaskClient) -> None:
    for path in ("/", "/sign-in", "/sign-up"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html and " onclick=" not in html


def test_session_cookie_is_httponly_lax_and_secure(client: FlaskClient, make_user) -> None:
    user = make_user()
    response = sign_in(client, user.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_secret_key_is_generated_into_instance_once(make_app, tmp_path: Path) -> None:
    first = make_app(SECRET_KEY=None).config["SECRET_KEY"]
    second = make_app(SECRET_KEY=None).config["SECRET_KEY"]
    secret_file = tmp_path / "instance" / "secret_key"
    assert first == second == secret_file.read_text().strip()
    assert len(first) >= 40
    assert secret_file.stat().st_mode & 0o077 == 0


def test_missing_csrf_token_is_a_clear_400(client: FlaskClient) -> None:
    response = client.post("/sign-in", data={"email": "a@example.org", "password": "x" * 12})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)


def test_unknown_page_is_a_friendly_404(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Page not found" in response.get_data(as_text=True)


def test_unknown_api_route_is_problem_json(client: FlaskClient) -> None:
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 404 and body["title"] and body["type"].startswith("https://")


def test_wrong_method_is_405_with_allow(client: FlaskClient) -> None:
    response = client.get("/api/v1/tokens")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert response.get_json()["status"] == 405


def test_too_large_body_is_413_on_both_faces(make_app) -> None:
    app = make_app(MAX_CONTENT_LENGTH=1024)
    client = app.test_client()
    api = client.post("/api/v1/tokens", data="x" * 4096, content_type="application/json")
    assert api.status_code == 413 and api.mimetype == "application/problem+json"
    page = client.post("/sign-in", data={"email": "x" * 4096})
    assert page.status_code == 413 and "Too large" in page.get_data(as_text=True)


def _app_with_failing_routes(make_app) -> Flask:
    app = make_app()

    def explode() -> str:
        raise RuntimeError("boom")

    def clash() -> str:
        raise Conflict("Someone else changed it first.")

    app.add_url_rule("/explode", "explode", explode)
    app.add_url_rule("/api/v1/explode", "api_explode", explode)
    app.add_url_rule("/clash", "clash", clash)
    app.add_url_rule("/api/v1/clash", "api_clash", clash)
    return app


def test_unexpected_error_is_a_calm_500_that_reveals_nothing(make_app) -> None:
    client = _app_with_failing_routes(make_app).test_client()
    page = client.get("/explode")
    assert page.status_code == 500
    html = page.get_data(as_text=True)
    assert "went wrong on our side" in html and "boom" not in html and "Traceback" not in html
    api = client.get("/api/v1/explode")
    assert api.status_code == 500 and api.mimetype == "application/problem+json"
    assert "boom" not in api.get_data(as_text=True)


def test_conflict_is_409_on_both_faces(make_app) -> None:
    client = _app_with_failing_routes(make_app).test_client()
    page = client.get("/clash")
    assert page.status_code == 409 and "Someone else changed it first." in page.get_data(
        as_text=True
    )
    api = client.get("/api/v1/clash")
    assert api.status_code == 409 and api.get_json()["detail"] == "Someone else changed it first."


def test_healthz_checks_the_database(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_a_form_from_the_start_of_the_longest_exam_still_posts_and_sessions_end_by_the_clock(
    app, client: FlaskClient, make_user, clock
) -> None:
    """Sessions and the CSRF tokens they hold age by the app's clock, not the machine's."""
    from core.config import LONGEST_EXAM_SECONDS, SESSION_LIFETIME_SECONDS

    user = make_user("candidate")
    assert sign_in(client, user.email).status_code == 302
    token = csrf_from(client.get("/account").get_data(as_text=True))
    clock.advance(seconds=LONGEST_EXAM_SECONDS)
    signed_out = client.post("/sign-out", data={"csrf_token": token})
    assert signed_out.status_code == 302  # a stale token would be a 400 page

    assert sign_in(client, user.email).status_code == 302
    assert client.get("/account").status_code == 200
    clock.advance(seconds=SESSION_LIFETIME_SECONDS - 60)
    assert client.get("/account").status_code == 200  # each request renews the session
    clock.advance(seconds=SESSION_LIFETIME_SECONDS + 1)
    expired = client.get("/account")
    assert expired.status_code == 302 and "/sign-in" in expired.headers["Location"]
