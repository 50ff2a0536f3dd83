"""Password reset and invitations: one-time links by email, through the outbox."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from accounts.models import Invitation
from core.audit import AuditEvent
from core.db import get_db
from core.mail import OutboxMessage
from tests.conftest import STRONG_PASSWORD, csrf_from, post_form, sign_in

NEW_PASSWORD = "amber-meadow-compass-77"
LINK = re.compile(r"http://localhost(/(?:reset-password|invitation)/[A-Za-z0-9_-]+)")


def _outbox(app: Flask, recipient: str) -> list[OutboxMessage]:
    with get_db(app).read_sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.recipient == recipient)
        rows = list(session.scalars(query.order_by(OutboxMessage.id)))
        session.expunge_all()
        return rows


def _link(app: Flask, recipient: str) -> str:
    match = LINK.search(_outbox(app, recipient)[-1].body)
    assert match, "the email carries no link"
    return match.group(1)


def _actions(app: Flask) -> list[str]:
    with get_db(app).read_sessions() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _ask_reset(client: FlaskClient, email: str) -> str:
    response = post_form(client, "/forgot-password", "/forgot-password", {"email": email})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _set_password(client: FlaskClient, path: str, password: str = NEW_PASSWORD) -> object:
    return post_form(client, path, path, {"password": password, "confirm": password})


def test_sign_in_page_links_to_password_reset(client: FlaskClient) -> None:
    html = client.get("/sign-in").get_data(as_text=True)
    assert 'href="/forgot-password"' in html
    assert "Forgot your password?" in html


def test_reset_sets_the_password_once_and_ends_every_session(
    app: Flask, client: FlaskClient, make_user, clock
) -> None:
    user = make_user(email="kai@example.org")
    phone = app.test_client()
    assert sign_in(phone, user.email).status_code == 302
    page = _ask_reset(client, "KAI@example.org")
    assert "Check your email" in page
    path = _link(app, "kai@example.org")
    assert "Choose a new password" in client.get(path).get_data(as_text=True)

    response = _set_password(client, path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in"
    assert phone.get("/account").status_code == 302  # the other session has ended
    assert sign_in(app.test_client(), user.email, STRONG_PASSWORD).status_code == 401
    assert sign_in(app.test_client(), user.email, NEW_PASSWORD).status_code == 302

    again = client.get(path)
    assert again.status_code == 410
    assert "expired or has already been used" in again.get_data(as_text=True)
    assert "user.password_reset_requested" in _actions(app)
    assert "user.password_reset" in _actions(app)


def test_an_unknown_address_gets_the_same_answer_and_no_email(
    app: Flask, client: FlaskClient, make_user, clock
) -> None:
    make_user(email="known@example.org")
    known = _ask_reset(client, "known@example.org").replace("known@", "X@")
    unknown = _ask_reset(client, "nobody@example.org").replace("nobody@", "X@")
    strip = re.compile(r'name="csrf_token"[^>]*>')
    assert strip.sub("", known) == strip.sub("", unknown)
    assert _outbox(app, "nobody@example.org") == []
    assert len(_outbox(app, "known@example.org")) == 1
    # The unmatched request is written like a real one (same work), naming no address.
    actions = _actions(app)
    assert actions.count("user.password_reset_unmatched") == 1
    assert actions.count("user.password_reset_requested") == 1


def test_a_reset_link_expires_after_an_hour(
    app: Flask, client: FlaskClient, make_user, clock
) -> None:
    user = make_user(email="late@example.org")
    _ask_reset(client, user.email)
    path = _link(app, user.email)
    clock.advance(minutes=59)
    assert client.get(path).status_code == 200
    token = csrf_from(client.get(path).get_data(as_text=True))
    clock.advance(minutes=1, seconds=1)
    assert client.get(path).status_code == 410
    response = client.post(
        path, data={"csrf_token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.status_code == 410
    assert sign_in(app.test_client(), user.email, STRONG_PASSWORD).status_code == 302


def test_a_new_link_or_a_password_change_voids_older_links(
    app: Flask, client: FlaskClient, make_user, clock
) -> None:
    user = make_user(email="twice@example.org")
    _ask_reset(client, user.email)
    first = _link(app, user.email)
    _ask_reset(client, user.email)
    second = _link(app, user.email)
    assert first != second
    assert _set_password(client, second).status_code == 302
    assert client.get(first).status_code == 410

    _ask_reset(client, user.email)
    third = _link(app, user.email)
    signed_in = app.test_client()
    assert sign_in(signed_in, user.email, NEW_PASSWORD).status_code == 302
    changed = post_form(
        signed_in,
        "/account",
        "/account/password",
        {
            "current_password": NEW_PASSWORD,
            "new_password": STRONG_PASSWORD,
            "confirm": STRONG_PASSWORD,
        },
    )
    assert changed.status_code == 302
    assert client.get(third).status_code == 410


def test_reset_emails_to_one_account_are_throttled(
    app: Flask, client: FlaskClient, make_user, clock
) -> None:
    user = make_user(email="flood@example.org")
    for _ in range(5):
        assert "Check your email" in _ask_reset(client, user.email)
    assert len(_outbox(app, user.email)) == 3
    clock.advance(hours=1, seconds=1)
    _ask_reset(client, user.email)
    assert len(_outbox(app, user.email)) == 4


def test_a_weak_or_mismatched_new_password_is_refused_and_the_link_still_works(
    app: Flask, client: FlaskClient, make_user, clock
) -> None:
    user = make_user(email="weak@example.org", family_name="Moreau")
    _ask_reset(client, user.email)
    path = _link(app, user.email)
    short = _set_password(client, path, "short")
    assert short.status_code == 422
    assert "at least" in short.get_data(as_text=True)
    token = csrf_from(client.get(path).get_data(as_text=True))
    differ = client.post(
        path, data={"csrf_token": token, "password": NEW_PASSWORD, "confirm": "other-words-99x"}
    )
    assert differ.status_code == 422
    assert "The two passwords differ." in differ.get_data(as_text=True)
    assert _set_password(client, path).status_code == 302


def test_a_made_up_token_is_refused(client: FlaskClient, clock) -> None:
    assert client.get("/reset-password/not-a-real-token").status_code == 410
    assert client.get("/invitation/" + "x" * 500).status_code == 410


# ---- invitations ------------------------------------------------------------------------


def _invite(client: FlaskClient, email: str, *roles: str, **names: str) -> object:
    data = {
        "given_name": names.get("given_name", "Priya"),
        "family_name": names.get("family_name", "Raman"),
        "email": email,
        "roles": list(roles),
    }
    return post_form(client, "/admin/invitations", "/admin/invitations", data)


def _admin_client(app: Flask, make_user) -> FlaskClient:
    admin = make_user("admin", email="admin@example.org")
    client = app.test_client()
    assert sign_in(client, admin.email).status_code == 302
    return client


def test_an_invited_person_sets_a_password_and_holds_the_roles(
    app: Flask, make_user, clock
) -> None:
    admin = _admin_client(app, make_user)
    response = _invite(admin, "priya@example.org", "proctor", "item_reviewer")
    assert response.status_code == 302
    listing = admin.get("/admin/invitations").get_data(as_text=True)
    assert "priya@example.org" in listing
    assert "Proctor" in listing

    path = _link(app, "priya@example.org")
    visitor = app.test_client()
    page = visitor.get(path).get_data(as_text=True)
    assert "Welcome, Priya" in page
    assert _set_password(visitor, path).status_code == 302
    assert visitor.get("/proctor").status_code == 200  # signed in, with the invited role
    assert visitor.get(path).status_code == 410  # once only
    assert "priya@example.org" not in admin.get("/admin/invitations").get_data(as_text=True)
    assert sign_in(app.test_client(), "priya@example.org", NEW_PASSWORD).status_code == 302
    actions = _actions(app)
    assert {"invitation.created", "invitation.accepted", "user.created"} <= set(actions)


def test_a_withdrawn_invitation_link_no_longer_works(app: Flask, make_user, clock) -> None:
    admin = _admin_client(app, make_user)
    _invite(admin, "gone@example.org", "item_writer")
    path = _link(app, "gone@example.org")
    with get_db(app).read_sessions() as session:
        invitation_id = session.scalars(select(Invitation.id)).one()
    withdraw = f"/admin/invitations/{invitation_id}/withdraw"
    assert post_form(admin, "/admin/invitations", withdraw, {}).status_code == 302
    assert app.test_client().get(path).status_code == 410
    again = post_form(admin, "/admin/invitations", withdraw, {})
    assert again.status_code == 409
    assert "invitation.withdrawn" in _actions(app)


def test_an_invitation_expires_after_seven_days(app: Flask, make_user, clock) -> None:
    admin = _admin_client(app, make_user)
    _invite(admin, "slow@example.org", "proctor")
    path = _link(app, "slow@example.org")
    clock.advance(days=7, seconds=1)
    assert app.test_client().get(path).status_code == 410
    assert sign_in(admin, "admin@example.org").status_code == 302  # a sign-in lasts 12 hours
    assert "Expired" in admin.get("/admin/invitations").get_data(as_text=True)
    # An expired invitation does not stand in the way of a new one.
    assert _invite(admin, "slow@example.org", "proctor").status_code == 302


def test_bad_invitations_are_refused_naming_the_field(app: Flask, make_user, clock) -> None:
    admin = _admin_client(app, make_user)
    make_user(email="taken@example.org")
    no_roles = _invite(admin, "new@example.org")
    assert no_roles.status_code == 422
    assert "Choose at least one role." in no_roles.get_data(as_text=True)
    taken = _invite(admin, "taken@example.org", "proctor")
    assert taken.status_code == 409
    assert "already has an account" in taken.get_data(as_text=True)
    bad = _invite(admin, "not-an-address", "proctor")
    assert bad.status_code == 422
    assert "not a valid email address" in bad.get_data(as_text=True)
    unknown = _invite(admin, "new@example.org", "emperor")
    assert unknown.status_code == 422
    assert _invite(admin, "new@example.org", "proctor").status_code == 302
    twice = _invite(admin, "new@example.org", "proctor")
    assert twice.status_code == 409
    assert "pending invitation" in twice.get_data(as_text=True)
    assert len(_outbox(app, "new@example.org")) == 1


def test_only_admins_see_or_send_invitations(app: Flask, make_user, clock) -> None:
    writer = make_user("item_writer")
    client = app.test_client()
    assert client.get("/admin/invitations").status_code == 302
    assert sign_in(client, writer.email).status_code == 302
    assert client.get("/admin/invitations").status_code == 403
    token = csrf_from(client.get("/account").get_data(as_text=True))
    response = client.post(
        "/admin/invitations",
        data={
            "csrf_token": token,
            "email": "x@example.org",
            "given_name": "X",
            "family_name": "Y",
            "roles": ["admin"],
        },
    )
    assert response.status_code == 403


def test_reset_requests_are_limited_per_address(client: FlaskClient, clock) -> None:
    token = csrf_from(client.get("/forgot-password").get_data(as_text=True))
    statuses = [
        client.post(
            "/forgot-password", data={"csrf_token": token, "email": f"n{n}@example.org"}
        ).status_code
        for n in range(31)
    ]
    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429
