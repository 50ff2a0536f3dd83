"""A reviewer approves an item only by confirming each point of its review checklist: the
API and the page refuse an approval that leaves a point out, naming it, and the audit row
keeps the points confirmed."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from core.audit import AuditEvent
from core.db import get_db
from tests.conftest import sign_in
from tests.item_bank.fixtures import act, approval_form, create

ALL_POINTS = ["competency", "cognitive-level", "one-best-answer", "distractors", "no-cueing"]


def _in_review(app: Flask, staff: dict[str, Any]) -> dict[str, Any]:
    client, writer = app.test_client(), staff["writer"]["headers"]
    item = create(client, writer)
    assert act(client, writer, item["id"], "submit").status_code == 200
    return client.get(
        f"/api/v1/items/{item['id']}", headers=staff["reviewer"]["headers"]
    ).get_json()


def _approve(app: Flask, staff: dict[str, Any], item: dict[str, Any], checked: list[str]) -> Any:
    return app.test_client().post(
        f"/api/v1/items/{item['id']}/transitions",
        json={"action": "approve", "revision": item["content_revision"], "checked": checked},
        headers=staff["reviewer"]["headers"],
    )


def _approvals(app: Flask, item_id: int) -> list[AuditEvent]:
    with get_db(app).read_sessions() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "item.approve", AuditEvent.object_id == str(item_id)
                )
            )
        )


def test_the_reviewer_is_given_the_checklist_and_the_writer_is_not(app: Flask, staff) -> None:
    item = _in_review(app, staff)
    assert [check["key"] for check in item["review_checks"]] == ALL_POINTS
    assert item["review_checks"][2]["title"] == "One best answer"
    as_writer = app.test_client().get(
        f"/api/v1/items/{item['id']}", headers=staff["writer"]["headers"]
    )
    assert as_writer.get_json()["review_checks"] == []


def test_an_approval_that_leaves_points_unconfirmed_is_refused_naming_them(
    app: Flask, staff
) -> None:
    item = _in_review(app, staff)
    for checked, named in (
        ([], "Competency, Cognitive level, One best answer, Plausible distractors, No cueing"),
        (
            ["competency", "cognitive-level", "one-best-answer", "bogus"],
            "Plausible distractors, No cueing",
        ),
    ):
        refused = _approve(app, staff, item, checked)
        assert refused.status_code == 422
        body = refused.get_json()
        assert body["errors"] == [{"field": "checked", "message": f"Not confirmed: {named}."}]
    status = app.test_client().get(
        f"/api/v1/items/{item['id']}", headers=staff["reviewer"]["headers"]
    )
    assert status.get_json()["status"] == "in_review"
    assert _approvals(app, item["id"]) == []


def test_a_confirmed_approval_records_the_points_in_the_audit(app: Flask, staff) -> None:
    item = _in_review(app, staff)
    approved = _approve(app, staff, item, list(reversed(ALL_POINTS)))
    assert approved.status_code == 200 and approved.get_json()["status"] == "approved"
    (event,) = _approvals(app, item["id"])
    assert event.after["checked"] == ALL_POINTS


def test_the_page_keeps_the_item_in_review_until_every_point_is_ticked(app: Flask, staff) -> None:
    item = _in_review(app, staff)
    browser = app.test_client()
    sign_in(browser, staff["reviewer"]["user"].email)
    page = browser.get(f"/item-bank/items/{item['id']}").get_data(as_text=True)
    assert "<legend><h3>Before you approve</h3></legend>" in page
    form = approval_form(page)
    assert form["checked"] == ALL_POINTS

    partial = browser.post(
        f"/item-bank/items/{item['id']}/transitions",
        data={**form, "checked": ALL_POINTS[:-1]},
        follow_redirects=True,
    )
    assert "Confirm every point of the checklist before approving: No cueing." in (
        partial.get_data(as_text=True)
    )
    assert _approvals(app, item["id"]) == []

    done = browser.post(f"/item-bank/items/{item['id']}/transitions", data=form)
    assert done.status_code == 302
    assert _approvals(app, item["id"])[0].after["checked"] == ALL_POINTS
