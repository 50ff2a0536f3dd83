"""A reviewer's approval or return binds to the content they read: when the draft changed
under an open review page, the decision is a 409 naming what changed, and nothing moves."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from core.audit import AuditEvent
from core.db import get_db
from item_bank.models import ItemComment
from tests.conftest import sign_in
from tests.item_bank.fixtures import act, approval_form, create, edit

REVISION = re.compile(r'name="revision"[^>]*value="([^"]+)"')


def _read(client: FlaskClient, headers: dict[str, str], item_id: int) -> dict[str, Any]:
    return client.get(f"/api/v1/items/{item_id}", headers=headers).get_json()


def _decisions(app: Flask, item_id: int) -> int:
    with get_db(app).read_sessions() as session:
        return session.scalar(
            select(func.count()).where(
                AuditEvent.object_type == "item",
                AuditEvent.object_id == str(item_id),
                AuditEvent.action.in_(("item.approve", "item.return")),
            )
        )


def _changed_under_review(client: FlaskClient, staff: dict[str, Any], item_id: int) -> None:
    """The writer withdraws the item, changes its stem and key, and submits it again."""
    writer = staff["writer"]["headers"]
    assert act(client, writer, item_id, "withdraw").status_code == 200
    changed = edit(client, writer, item_id, stem="Which gap is this, really?", keys=["A"])
    assert changed.status_code == 200, changed.get_json()
    assert act(client, writer, item_id, "submit").status_code == 200


def _in_review(client: FlaskClient, staff: dict[str, Any]) -> dict[str, Any]:
    item = create(client, staff["writer"]["headers"])
    assert act(client, staff["writer"]["headers"], item["id"], "submit").status_code == 200
    return item


def _decide_on_what_was_read(
    client: FlaskClient, staff: dict[str, Any], **body: str
) -> tuple[dict[str, Any], str, Any]:
    """The reviewer reads an item in review; it changes; they send their decision."""
    item = _in_review(client, staff)
    seen = _read(client, staff["reviewer"]["headers"], item["id"])["content_revision"]
    _changed_under_review(client, staff, item["id"])
    response = client.post(
        f"/api/v1/items/{item['id']}/transitions",
        json={**body, "revision": seen},
        headers=staff["reviewer"]["headers"],
    )
    return item, seen, response


def test_an_approval_of_content_that_changed_since_it_was_read_is_a_409_naming_the_fields(
    app: Flask, staff
) -> None:
    client = app.test_client()
    reviewer = staff["reviewer"]["headers"]
    item, seen, stale = _decide_on_what_was_read(client, staff, action="approve")
    assert stale.status_code == 409
    body = stale.get_json()
    assert body["changed"] == ["stem", "key"]
    now = _read(client, reviewer, item["id"])
    assert body["revision"] == now["content_revision"] != seen
    assert body["errors"][0]["field"] == "revision"
    assert now["status"] == "in_review" and _decisions(app, item["id"]) == 0

    checks = [check["key"] for check in now["review_checks"]]
    approved = client.post(
        f"/api/v1/items/{item['id']}/transitions",
        json={"action": "approve", "revision": body["revision"], "checked": checks},
        headers=reviewer,
    )
    assert approved.status_code == 200 and approved.get_json()["status"] == "approved"


def test_a_return_of_changed_content_is_refused_and_keeps_no_comment(app: Flask, staff) -> None:
    client = app.test_client()
    reviewer = staff["reviewer"]["headers"]
    item, _seen, stale = _decide_on_what_was_read(
        client, staff, action="return", comment="The key is wrong."
    )
    assert stale.status_code == 409 and stale.get_json()["changed"] == ["stem", "key"]
    with get_db(app).read_sessions() as session:
        assert session.scalar(select(func.count()).select_from(ItemComment)) == 0
    assert _read(client, reviewer, item["id"])["status"] == "in_review"


def test_approving_or_returning_needs_a_revision(app: Flask, staff) -> None:
    client = app.test_client()
    reviewer = staff["reviewer"]["headers"]
    item = _in_review(client, staff)
    for body in (
        {"action": "approve"},
        {"action": "return", "comment": "No."},
        {"action": "approve", "revision": "1.not-a-revision"},
    ):
        refused = client.post(
            f"/api/v1/items/{item['id']}/transitions", json=body, headers=reviewer
        )
        assert refused.status_code == 422, body
        assert refused.get_json()["errors"][0]["field"] == "revision"
    assert _read(client, reviewer, item["id"])["status"] == "in_review"
    assert _decisions(app, item["id"]) == 0


def test_the_revision_follows_the_content_not_the_steps(app: Flask, staff) -> None:
    client = app.test_client()
    writer, reviewer = staff["writer"]["headers"], staff["reviewer"]["headers"]
    item = create(client, writer)
    first = _read(client, reviewer, item["id"])["content_revision"]
    assert edit(client, writer, item["id"], rationale="Another reason.").status_code == 200
    edited = _read(client, reviewer, item["id"])["content_revision"]
    assert edited != first
    assert act(client, writer, item["id"], "submit").status_code == 200
    assert _read(client, reviewer, item["id"])["content_revision"] == edited
    assert act(client, writer, item["id"], "withdraw").status_code == 200
    assert edit(client, writer, item["id"]).status_code == 200  # back to the first content
    assert _read(client, reviewer, item["id"])["content_revision"] == first


def test_the_review_page_shows_what_changed_and_decides_on_the_content_now_shown(
    app: Flask, staff
) -> None:
    api = app.test_client()
    item = _in_review(api, staff)
    browser = app.test_client()
    sign_in(browser, staff["reviewer"]["user"].email)
    page = browser.get(f"/item-bank/items/{item['id']}").get_data(as_text=True)
    seen = REVISION.search(page)
    assert seen
    _changed_under_review(api, staff, item["id"])

    stale = browser.post(f"/item-bank/items/{item['id']}/transitions", data=approval_form(page))
    assert stale.status_code == 409
    html = stale.get_data(as_text=True)
    assert "The item changed while you were reviewing it" in html
    assert "<li>stem</li>" in html and "<li>key</li>" in html and "<li>rationale</li>" not in html
    assert "Which gap is this, really?" in html
    assert _read(api, staff["reviewer"]["headers"], item["id"])["status"] == "in_review"
    assert _decisions(app, item["id"]) == 0

    current = REVISION.search(html)
    assert current and current.group(1) != seen.group(1)
    approved = browser.post(f"/item-bank/items/{item['id']}/transitions", data=approval_form(html))
    assert approved.status_code == 302
    assert _read(api, staff["reviewer"]["headers"], item["id"])["status"] == "approved"
