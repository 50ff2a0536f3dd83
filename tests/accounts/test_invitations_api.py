"""Invitations over the API and from the command line: the same rules as the admin page
(the link by email, named refusals, withdrawal), each audited with who acted."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from core.audit import AuditEvent
from core.db import get_db
from tests.accounts.test_links import NEW_PASSWORD, _link, _outbox, _set_password
from tests.conftest import api_token, bearer, sign_in


def _admin_headers(app: Flask, make_user) -> dict[str, str]:
    admin = make_user("admin", email="admin@example.org")
    return bearer(api_token(app.test_client(), admin.email))


def _audit(app: Flask, action: str) -> list[AuditEvent]:
    with get_db(app).read_sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_an_admin_invites_lists_and_withdraws_over_the_api(app: Flask, make_user, clock) -> None:
    client, headers = app.test_client(), _admin_headers(app, make_user)
    body = {
        "email": "Ravi@Example.org",
        "given_name": "Ravi",
        "family_name": "Okafor",
        "roles": ["item_reviewer"],
    }
    created = client.post("/api/v1/invitations", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    invitation = created.get_json()
    assert invitation["state"] == "pending" and invitation["roles"] == ["item_reviewer"]
    assert "token" not in str(invitation).lower()
    listed = client.get("/api/v1/invitations", headers=headers).get_json()["invitations"]
    assert [i["id"] for i in listed] == [invitation["id"]]

    path = _link(app, invitation["email"])
    withdrawn = client.post(
        f"/api/v1/invitations/{invitation['id']}/withdraw", json={}, headers=headers
    )
    assert withdrawn.status_code == 200 and withdrawn.get_json()["state"] == "withdrawn"
    assert app.test_client().get(path).status_code == 410
    again = client.post(f"/api/v1/invitations/{invitation['id']}/withdraw", headers=headers)
    assert again.status_code == 409
    (event,) = _audit(app, "invitation.withdrawn")
    assert event.actor_id is not None
    assert client.get("/api/v1/invitations", headers=headers).get_json()["invitations"] == []


def test_bad_invitations_over_the_api_name_the_field_and_change_nothing(
    app: Flask, make_user, clock
) -> None:
    client, headers = app.test_client(), _admin_headers(app, make_user)
    good = {"email": "new@example.org", "given_name": "New", "family_name": "Person"}
    for body, field in (
        ({**good, "roles": []}, "roles"),
        ({**good, "roles": ["wizard"]}, "roles"),
        ({**good, "email": "not-an-address", "roles": ["proctor"]}, "email"),
        ({**good, "email": "admin@example.org", "roles": ["proctor"]}, "email"),
    ):
        refused = client.post("/api/v1/invitations", json=body, headers=headers)
        assert refused.status_code in (409, 422), body
        assert field in [error["field"] for error in refused.get_json()["errors"]], body
    assert _outbox(app, "new@example.org") == [] and _audit(app, "invitation.created") == []
    assert client.post("/api/v1/invitations/999/withdraw", headers=headers).status_code == 404


def test_only_an_admin_may_invite(app: Flask, make_user, clock) -> None:
    proctor = make_user("proctor", email="proctor@example.org")
    headers = bearer(api_token(app.test_client(), proctor.email))
    client = app.test_client()
    body = {"email": "x@example.org", "given_name": "X", "family_name": "Y", "roles": ["admin"]}
    assert client.post("/api/v1/invitations", json=body, headers=headers).status_code == 403
    assert client.get("/api/v1/invitations", headers=headers).status_code == 403
    assert client.post("/api/v1/invitations", json=body).status_code == 401


def test_the_command_line_invites_lists_and_withdraws(app: Flask, clock) -> None:
    runner = app.test_cli_runner()
    invited = runner.invoke(
        args=[
            "users",
            "invite",
            "--email",
            "aiko@example.org",
            "--given-name",
            "Aiko",
            "--family-name",
            "Tanaka",
            "--role",
            "accreditation_reviewer",
        ]
    )
    assert invited.exit_code == 0, invited.output
    assert "Aiko Tanaka <aiko@example.org>, the link works for 7 days" in invited.output
    listing = runner.invoke(args=["users", "invitations"])
    assert "pending" in listing.output and "aiko@example.org" in listing.output
    (created,) = _audit(app, "invitation.created")
    assert created.actor_id is None and created.actor_label == "command line"

    visitor = app.test_client()
    assert _set_password(visitor, _link(app, "aiko@example.org")).status_code == 302
    assert sign_in(app.test_client(), "aiko@example.org", NEW_PASSWORD).status_code == 302

    again = ["--email", "aiko@example.org", "--given-name", "A", "--family-name", "T"]
    twice = runner.invoke(args=["users", "invite", *again, "--role", "proctor"])
    assert twice.exit_code == 1 and "email: This address already has an account" in twice.output
    gone = runner.invoke(args=["users", "withdraw-invitation", "12345"])
    assert gone.exit_code == 1 and "There is no invitation 12345" in gone.output


def test_the_command_line_withdraws_a_pending_invitation(app: Flask, clock) -> None:
    runner = app.test_cli_runner()
    args = ["users", "invite", "--email", "b@example.org", "--given-name", "B"]
    assert runner.invoke(args=[*args, "--family-name", "C", "--role", "proctor"]).exit_code == 0
    path = _link(app, "b@example.org")
    invitation_id = _audit(app, "invitation.created")[0].object_id
    done = runner.invoke(args=["users", "withdraw-invitation", invitation_id])
    assert done.exit_code == 0 and "is withdrawn" in done.output
    assert app.test_client().get(path).status_code == 410
    (event,) = _audit(app, "invitation.withdrawn")
    assert event.actor_label == "command line"
