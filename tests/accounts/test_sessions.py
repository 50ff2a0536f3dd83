"""Sessions end from the server: password change, sign-out everywhere, deactivation."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from core.audit import AuditEvent
from core.db import get_db
from tests.conftest import STRONG_PASSWORD, csrf_from, post_form, sign_in

NEW_PASSWORD = "amber-meadow-compass-77"


def _signed_in(app: Flask, email: str, password: str = STRONG_PASSWORD) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, email, password).status_code == 302
    return client


def _actions(app: Flask) -> list[str]:
    with get_db(app).read_sessions() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_password_change_ends_other_sessions_but_keeps_this_one(app: Flask, make_user) -> None:
    user = make_user()
    laptop, phone = _signed_in(app, user.email), _signed_in(app, user.email)
    response = post_form(
        laptop,
        "/account",
        "/account/password",
        {
            "current_password": STRONG_PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert laptop.get("/account").status_code == 200
    assert phone.get("/account").status_code == 302  # sent to sign in
    assert sign_in(app.test_client(), user.email, STRONG_PASSWORD).status_code == 401
    assert sign_in(app.test_client(), user.email, NEW_PASSWORD).status_code == 302
    assert "user.password_changed" in _actions(app)


def test_password_change_needs_the_current_password(app: Flask, make_user) -> None:
    user = make_user()
    client = _signed_in(app, user.email)
    response = post_form(
        client,
        "/account",
        "/account/password",
        {
            "current_password": "not-my-password",
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 422
    assert "not your current password" in response.get_data(as_text=True)
    assert sign_in(app.test_client(), user.email, STRONG_PASSWORD).status_code == 302


def test_sign_out_everywhere_ends_every_session(app: Flask, make_user) -> None:
    user = make_user()
    laptop, phone = _signed_in(app, user.email), _signed_in(app, user.email)
    token = csrf_from(laptop.get("/account").get_data(as_text=True))
    assert (
        laptop.post("/account/sign-out-everywhere", data={"csrf_token": token}).status_code == 302
    )
    assert laptop.get("/account").status_code == 302
    assert phone.get("/account").status_code == 302
    assert "user.signed_out_everywhere" in _actions(app)


def test_a_stolen_old_cookie_stays_dead_after_sign_out_everywhere(app: Flask, make_user) -> None:
    user = make_user()
    client = _signed_in(app, user.email)
    stolen = client.get_cookie("csm_session").value
    token = csrf_from(client.get("/account").get_data(as_text=True))
    client.post("/account/sign-out-everywhere", data={"csrf_token": token})
    thief = app.test_client()
    thief.set_cookie("csm_session", stolen)
    assert thief.get("/account").status_code == 302


def test_signing_out_ends_this_browser_even_for_a_copied_cookie(app: Flask, make_user) -> None:
    user = make_user()
    shared_pc, phone = _signed_in(app, user.email), _signed_in(app, user.email)
    copied = shared_pc.get_cookie("csm_session").value
    token = csrf_from(shared_pc.get("/account").get_data(as_text=True))
    shared_pc.post("/sign-out", data={"csrf_token": token})
    thief = app.test_client()
    thief.set_cookie("csm_session", copied)
    assert thief.get("/account").status_code == 302
    assert phone.get("/account").status_code == 200  # the other browser stays signed in


def test_a_session_in_use_ends_at_its_absolute_lifetime(app: Flask, make_user, clock) -> None:
    """The cookie slides on every response; the sign-in itself still ends
    SESSION_ABSOLUTE_HOURS after it began."""
    user = make_user()
    client = _signed_in(app, user.email)
    hours = app.config["SESSION_ABSOLUTE_HOURS"]
    for _ in range(hours * 2 - 1):
        clock.advance(minutes=30)
        assert client.get("/account").status_code == 200
    clock.advance(minutes=29)
    assert client.get("/account").status_code == 200
    clock.advance(minutes=1)
    ended = client.get("/account")
    assert ended.status_code == 302 and "/sign-in" in ended.headers["Location"]
    assert _signed_in(app, user.email).get("/account").status_code == 200


def test_the_absolute_lifetime_is_configurable(make_app, make_user, clock) -> None:
    app = make_app(SESSION_ABSOLUTE_HOURS=2)
    user = make_user()
    client = _signed_in(app, user.email)
    clock.advance(hours=1, minutes=59)
    assert client.get("/account").status_code == 200
    clock.advance(minutes=1)
    assert client.get("/account").status_code == 302
