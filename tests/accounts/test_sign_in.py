"""Sign-in and out: one answer for every failure, fresh sessions (throttling: test_throttle)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import STRONG_PASSWORD, csrf_from, post_form, sign_in


def test_sign_in_then_out(client: FlaskClient, make_user) -> None:
    user = make_user(given_name="Mei")
    response = sign_in(client, user.email)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Welcome, Mei" in client.get("/").get_data(as_text=True)
    token = csrf_from(client.get("/").get_data(as_text=True))
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 302
    assert client.get("/account").status_code == 302


def test_unknown_email_and_wrong_password_get_the_same_answer(
    client: FlaskClient, make_user
) -> None:
    user = make_user()
    wrong_password = sign_in(client, user.email, "not-the-password-at-all")
    unknown_email = sign_in(client, "nobody@example.org", "not-the-password-at-all")
    assert wrong_password.status_code == unknown_email.status_code == 401

    def strip(response) -> str:
        return (
            response.get_data(as_text=True)
            .replace(user.email, "")
            .replace("nobody@example.org", "")
        )

    assert csrf_free(strip(wrong_password)) == csrf_free(strip(unknown_email))
    assert "email or password is not right" in wrong_password.get_data(as_text=True)


def csrf_free(html: str) -> str:
    import re

    return re.sub(r'value="[^"]*"', "", html)


def test_next_parameter_only_leads_within_the_site(client: FlaskClient, make_user) -> None:
    user = make_user()
    token = csrf_from(client.get("/sign-in").get_data(as_text=True))
    data = {"csrf_token": token, "email": user.email, "password": STRONG_PASSWORD}
    evil = client.post("/sign-in?next=//evil.example/x", data=data)
    assert evil.headers["Location"] == "/"
    client.post("/sign-out", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    token = csrf_from(client.get("/sign-in").get_data(as_text=True))
    good = client.post("/sign-in?next=/account", data={**data, "csrf_token": token})
    assert good.headers["Location"] == "/account"


def test_protected_page_redirects_to_sign_in_and_back(client: FlaskClient, make_user) -> None:
    response = client.get("/account")
    assert response.status_code == 302 and "/sign-in?next=/account" in response.headers["Location"]


def test_session_is_fresh_at_sign_in(client: FlaskClient, make_user) -> None:
    user = make_user()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    sign_in(client, user.email)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == f"{user.id}.1"


def test_deactivated_account_cannot_sign_in(app: Flask, client: FlaskClient, make_user) -> None:
    from accounts import services
    from accounts.models import User
    from core.db import get_db

    admin = make_user("admin")
    user = make_user()
    with app.app_context(), get_db(app).write_sessions() as session:
        services.set_active(session, session.get(User, admin.id), session.get(User, user.id), False)
    response = post_form(
        client, "/sign-in", "/sign-in", {"email": user.email, "password": STRONG_PASSWORD}
    )
    assert response.status_code == 403
    assert "deactivated" in response.get_data(as_text=True)
