"""The one role decorator, on the HTML face and the API face."""

from __future__ import annotations

import re

import pytest
from flask import Flask, jsonify

from core.api import make_api_blueprint
from core.auth import roles_required
from tests.conftest import api_token, bearer, sign_in


@pytest.fixture
def guarded_app(make_app) -> Flask:
    """The real app plus one page and one API route that only an exam_admin may use."""
    app = make_app()

    @roles_required("exam_admin")
    def staff_page() -> str:
        return "staff only"

    app.add_url_rule("/staff-only", "staff_only", staff_page)
    api = make_api_blueprint("guard_test_api", __name__)

    @api.get("/staff-only")
    @roles_required("exam_admin")
    def staff_api():
        return jsonify(ok=True)

    app.register_blueprint(api)
    return app


def test_anonymous_html_is_sent_to_sign_in(guarded_app: Flask) -> None:
    response = guarded_app.test_client().get("/staff-only")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=/staff-only")


def test_anonymous_api_gets_401_problem(guarded_app: Flask) -> None:
    response = guarded_app.test_client().get("/api/v1/staff-only")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_role_is_403_on_both_faces(guarded_app: Flask, make_user) -> None:
    candidate = make_user("candidate")
    client = guarded_app.test_client()
    sign_in(client, candidate.email)
    page = client.get("/staff-only")
    assert page.status_code == 403 and "Exam administrator" in page.get_data(as_text=True)
    token = api_token(client, candidate.email)
    api = client.get("/api/v1/staff-only", headers=bearer(token))
    assert api.status_code == 403 and api.get_json()["status"] == 403


def test_right_role_passes_on_both_faces(guarded_app: Flask, make_user) -> None:
    staff = make_user("exam_admin", "proctor")
    client = guarded_app.test_client()
    sign_in(client, staff.email)
    assert client.get("/staff-only").get_data(as_text=True) == "staff only"
    token = api_token(client, staff.email)
    assert client.get("/api/v1/staff-only", headers=bearer(token)).get_json() == {"ok": True}


def test_unknown_role_in_decorator_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown roles"):
        roles_required("superuser")


def test_navigation_shows_only_what_the_role_may_use(app: Flask, make_user) -> None:
    admin, candidate = make_user("admin"), make_user("candidate")
    admin_client, candidate_client = app.test_client(), app.test_client()
    sign_in(admin_client, admin.email)
    sign_in(candidate_client, candidate.email)
    assert 'href="/admin/users"' in admin_client.get("/").get_data(as_text=True)
    assert 'href="/admin/users"' not in candidate_client.get("/").get_data(as_text=True)


def _header(client) -> str:
    html = client.get("/").get_data(as_text=True)
    return html[html.index('<nav aria-label="Main"') : html.index("</nav>")]


def test_the_header_gathers_a_users_links_of_one_kind_into_a_menu(app: Flask, make_user) -> None:
    visitor = _header(app.test_client())
    assert "nav-menu-button" not in visitor  # visitors see plain links
    writer, both = make_user("item_writer"), make_user("item_reviewer", "exam_admin", "admin")
    writer_client, both_client = app.test_client(), app.test_client()
    sign_in(writer_client, writer.email)
    sign_in(both_client, both.email)
    alone = _header(writer_client)
    assert ">Items</button>" not in alone  # one link of its kind: just the link
    assert 'href="/item-bank/items"' in alone
    many = _header(both_client)
    menus = re.findall(r'aria-controls="(menu-\d+)" hidden>([^<]+)</button>', many)
    assert [label for _, label in menus] == ["Public pages", "Items", "Account"]
    items = many[many.index(">Items</button>") :]
    items = items[: items.index("</ul>")]
    for path in ("/item-bank/items", "/item-bank/review", "/item-bank/coverage"):
        assert f'href="{path}"' in items
    # Every link is still in the page, so it works without JavaScript.
    assert 'href="/admin/users"' in many and 'href="/account"' in many
