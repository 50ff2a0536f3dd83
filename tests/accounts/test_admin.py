"""Staff user administration: list, roles, deactivation, each change audited."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from accounts.models import User
from core.audit import AuditEvent
from core.db import get_db
from tests.conftest import csrf_from, post_form, sign_in


def _admin_client(app: Flask, make_user) -> tuple[FlaskClient, User]:
    admin = make_user("admin", email="root@example.org", given_name="Ada", family_name="Admin")
    client = app.test_client()
    sign_in(client, admin.email)
    return client, admin


def _user(app: Flask, user_id: int) -> User:
    with get_db(app).read_sessions() as session:
        user = session.get(User, user_id)
        session.expunge(user)
        return user


def test_list_filters_by_text_and_role_and_pages(app: Flask, make_user) -> None:
    client, _ = _admin_client(app, make_user)
    make_user("proctor", given_name="Pat", family_name="Quinn")
    for n in range(30):
        make_user("candidate", email=f"cand{n:02}@example.org", family_name=f"Zed{n:02}")
    page = client.get("/admin/users?role=proctor").get_data(as_text=True)
    assert "Quinn, Pat" in page and "Zed00" not in page and "1 user found" in page
    assert "Quinn, Pat" in client.get("/admin/users?q=quin").get_data(as_text=True)
    first = client.get("/admin/users?role=candidate").get_data(as_text=True)
    assert "30 users found" in first and "Page 1 of 2" in first
    second = client.get("/admin/users?role=candidate&page=2").get_data(as_text=True)
    assert "Zed29" in second and "Zed00" not in second


def test_non_admin_cannot_reach_user_admin(app: Flask, make_user) -> None:
    staff = make_user("exam_admin")
    client = app.test_client()
    sign_in(client, staff.email)
    assert client.get("/admin/users").status_code == 403
    target = make_user()
    token = csrf_from(client.get("/account").get_data(as_text=True))
    response = client.post(
        f"/admin/users/{target.id}/roles", data={"csrf_token": token, "roles": ["admin"]}
    )
    assert response.status_code == 403
    assert _user(app, target.id).roles == {"candidate"}


def test_granting_and_removing_roles_is_audited(app: Flask, make_user) -> None:
    client, admin = _admin_client(app, make_user)
    target = make_user("candidate")
    page = f"/admin/users/{target.id}"
    response = post_form(client, page, f"{page}/roles", {"roles": ["candidate", "proctor"]})
    assert response.status_code == 302
    assert _user(app, target.id).roles == {"candidate", "proctor"}
    post_form(client, page, f"{page}/roles", {"roles": ["proctor"]})
    assert _user(app, target.id).roles == {"proctor"}
    with get_db(app).read_sessions() as session:
        events = list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "user.roles_changed")
                .order_by(AuditEvent.id)
            )
        )
    assert [(e.actor_id, e.before, e.after) for e in events] == [
        (admin.id, {"roles": ["candidate"]}, {"roles": ["candidate", "proctor"]}),
        (admin.id, {"roles": ["candidate", "proctor"]}, {"roles": ["proctor"]}),
    ]
    assert "user.roles_changed" in client.get(page).get_data(as_text=True)


def test_unknown_role_is_refused_and_changes_nothing(app: Flask, make_user) -> None:
    client, _ = _admin_client(app, make_user)
    target = make_user("candidate")
    page = f"/admin/users/{target.id}"
    response = post_form(client, page, f"{page}/roles", {"roles": ["superuser"]})
    assert response.status_code == 422
    assert _user(app, target.id).roles == {"candidate"}


def test_deactivation_ends_the_users_sessions_at_once_and_is_audited(app: Flask, make_user) -> None:
    client, _ = _admin_client(app, make_user)
    target = make_user("candidate")
    victim_browser = app.test_client()
    sign_in(victim_browser, target.email)
    assert victim_browser.get("/account").status_code == 200
    page = f"/admin/users/{target.id}"
    assert post_form(client, page, f"{page}/active", {"active": "0"}).status_code == 302
    assert victim_browser.get("/account").status_code == 302
    assert not _user(app, target.id).active
    post_form(client, page, f"{page}/active", {"active": "1"})
    assert _user(app, target.id).active
    with get_db(app).read_sessions() as session:
        actions = list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.object_id == str(target.id))
                .order_by(AuditEvent.id)
            )
        )
    assert actions == ["user.created", "user.deactivated", "user.reactivated"]


def test_last_admin_cannot_be_removed_or_deactivated(app: Flask, make_user) -> None:
    client, admin = _admin_client(app, make_user)
    page = f"/admin/users/{admin.id}"
    response = post_form(client, page, f"{page}/roles", {"roles": ["proctor"]})
    assert response.status_code == 409 and "last active administrator" in response.get_data(
        as_text=True
    )
    response = post_form(client, page, f"{page}/active", {"active": "0"})
    assert response.status_code == 409
    assert _user(app, admin.id).active and "admin" in _user(app, admin.id).roles


def test_unknown_user_is_404(app: Flask, make_user) -> None:
    client, _ = _admin_client(app, make_user)
    assert client.get("/admin/users/99999").status_code == 404
