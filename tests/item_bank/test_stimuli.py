"""Shared stimuli: authored once, versioned, attached to items, staff pages and the API."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from core.audit import AuditEvent
from core.db import get_db
from item_bank.models import Item, ItemVersion, Stimulus
from tests.conftest import post_form, sign_in
from tests.item_bank.fixtures import act, create, edit

PASSAGE = {
    "ref": "S-RENEWAL",
    "title": "Northgate: six months before renewal",
    "body": "Usage fell from 104 to 56 weekly users.\n\n- 120 seats paid for\n- Renewal in September",
}


def _stimulus(client, headers, **overrides) -> dict:
    response = client.post("/api/v1/stimuli", json={**PASSAGE, **overrides}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_items_on_a_stimulus_carry_it_and_the_stimulus_lists_its_set(app: Flask, staff) -> None:
    client, writer = app.test_client(), staff["writer"]["headers"]
    stimulus = _stimulus(client, writer)
    assert (stimulus["version"], stimulus["items"]) == (1, [])
    second = create(client, writer, stimulus={"ref": "S-RENEWAL", "position": 2})
    first = create(client, writer, stimulus={"ref": "S-RENEWAL", "position": 1})
    last = create(client, writer, stimulus={"ref": "S-RENEWAL"})  # no place: goes last
    assert first["stimulus"] == {
        "ref": "S-RENEWAL",
        "position": 1,
        "title": PASSAGE["title"],
        "body": PASSAGE["body"],
    }
    assert last["stimulus"]["position"] == 3
    read = client.get(f"/api/v1/stimuli/{stimulus['id']}", headers=writer).get_json()
    assert read["items"] == [first["ref"], second["ref"], last["ref"]]
    listed = client.get("/api/v1/stimuli", headers=staff["reviewer"]["headers"]).get_json()
    assert [s["ref"] for s in listed["stimuli"]] == ["S-RENEWAL"]
    # Detached by an edit that names no stimulus.
    assert edit(client, writer, last["id"]).get_json()["stimulus"] is None


def test_an_edited_passage_is_a_new_version_drafts_follow_approved_items_keep_theirs(
    app: Flask, staff
) -> None:
    client, writer = app.test_client(), staff["writer"]["headers"]
    stimulus = _stimulus(client, writer)
    approved = create(client, writer, stimulus={"ref": "S-RENEWAL"})
    act(client, writer, approved["id"], "submit")
    assert act(client, staff["reviewer"]["headers"], approved["id"], "approve").status_code == 200
    draft = create(client, writer, stimulus={"ref": "S-RENEWAL"})
    changed = {**PASSAGE, "body": "Usage fell to 56 weekly users.", "revision": 1}
    response = client.put(f"/api/v1/stimuli/{stimulus['id']}", json=changed, headers=writer)
    assert response.status_code == 200 and response.get_json()["version"] == 2
    assert [v["body"] for v in response.get_json()["versions"]] == [
        PASSAGE["body"],
        "Usage fell to 56 weekly users.",
    ]
    get = client.get
    assert get(f"/api/v1/items/{draft['id']}", headers=writer).get_json()["stimulus"]["body"] == (
        "Usage fell to 56 weekly users."
    )
    live = get(f"/api/v1/items/{approved['id']}", headers=writer).get_json()
    assert live["status"] == "approved" and live["stimulus"]["body"] == PASSAGE["body"]
    # A stale revision is refused and changes nothing.
    stale = client.put(f"/api/v1/stimuli/{stimulus['id']}", json=changed, headers=writer)
    assert stale.status_code == 409
    with get_db(app).read_sessions() as session:
        assert len(session.scalars(select(Stimulus)).one().versions) == 2
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_type == "stimulus")
        ).all()
    assert actions == ["stimulus.created", "stimulus.version_created"]


def test_stimulus_api_checks_roles_and_input(app: Flask, staff) -> None:
    client = app.test_client()
    assert client.get("/api/v1/stimuli").status_code == 401
    assert client.get("/api/v1/stimuli", headers=staff["candidate"]["headers"]).status_code == 403
    reviewer = staff["reviewer"]["headers"]
    assert client.post("/api/v1/stimuli", json=PASSAGE, headers=reviewer).status_code == 403
    writer = staff["writer"]["headers"]
    bad = client.post("/api/v1/stimuli", json={**PASSAGE, "title": ""}, headers=writer)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "title"
    _stimulus(client, writer)
    assert client.post("/api/v1/stimuli", json=PASSAGE, headers=writer).status_code == 409
    unknown = client.post("/api/v1/items", json=_record(stimulus={"ref": "S-NONE"}), headers=writer)
    assert unknown.status_code == 422 and "S-NONE" in unknown.get_json()["detail"]
    with get_db(app).read_sessions() as session:
        assert session.scalars(select(Item)).all() == []


def _record(**overrides: object) -> dict:
    from tests.item_bank.fixtures import record

    return record(**overrides)


def test_staff_write_a_scenario_and_attach_an_item_in_the_pages(app: Flask, staff) -> None:
    client = app.test_client()
    sign_in(client, staff["writer"]["user"].email)
    new = "/item-bank/stimuli/new"
    empty = post_form(client, new, new, {"title": "", "body": ""})
    assert empty.status_code == 422
    saved = post_form(client, new, new, PASSAGE)
    assert saved.status_code == 303
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Scenario S-RENEWAL" in page and "<li>120 seats paid for</li>" in page
    item = create(client, staff["writer"]["headers"], stimulus={"ref": "S-RENEWAL"})
    detail = client.get(f"/item-bank/items/{item['id']}").get_data(as_text=True)
    assert 'id="preview-stimulus"' in detail and PASSAGE["title"] in detail
    editor = client.get(f"/item-bank/items/{item['id']}/edit").get_data(as_text=True)
    assert '<option selected value="S-RENEWAL">' in editor
    listing = client.get("/item-bank/stimuli").get_data(as_text=True)
    assert "S-RENEWAL" in listing and "<td>1</td>" in listing
    with get_db(app).read_sessions() as session:
        stimulus_id = session.scalars(select(Stimulus.id)).one()
    edit_url = f"/item-bank/stimuli/{stimulus_id}/edit"
    edited = post_form(client, edit_url, edit_url, {**PASSAGE, "title": "Renamed", "revision": "1"})
    assert edited.status_code == 303
    assert "Renamed" in client.get(f"/item-bank/items/{item['id']}").get_data(as_text=True)
    # A reviewer reads scenarios but writes none; a candidate sees none.
    reviewer = app.test_client()
    sign_in(reviewer, staff["reviewer"]["user"].email)
    assert reviewer.get("/item-bank/stimuli").status_code == 200
    assert reviewer.get(new).status_code == 403
    candidate = app.test_client()
    sign_in(candidate, staff["candidate"]["user"].email)
    assert candidate.get(f"/item-bank/stimuli/{stimulus_id}").status_code == 403


def test_demo_data_holds_one_scenario_of_three_approved_items(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    assert "one scenario among them" in result.output
    with get_db(app).read_sessions() as session:
        stimulus = session.scalars(select(Stimulus)).one()
        members = session.scalars(
            select(Item.ref)
            .join(ItemVersion, ItemVersion.item_id == Item.id)
            .where(ItemVersion.stimulus_version_id == stimulus.current.id)
            .where(ItemVersion.status == "approved")
            .order_by(ItemVersion.stimulus_position)
        ).all()
    assert stimulus.ref == "SC-NORTHGATE-RENEWAL"
    assert members == ["SC.RENEWAL.01-1", "SC.RENEWAL.02-1", "SC.RENEWAL.03-1"]
