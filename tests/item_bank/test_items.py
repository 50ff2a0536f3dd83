"""Items through the API: validation, roles, the review workflow, versions, audit."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from flask import Flask
from sqlalchemy import func, select

from core.audit import AuditEvent
from core.db import get_db
from item_bank.models import Item, ItemStatus, ItemVersion
from item_bank.schemas import ExchangeStatus
from tests.item_bank.fixtures import act, create, edit, record


def _count(app: Flask, model: Any = Item) -> int:
    with get_db(app).read_sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_writer_creates_a_draft_item(app: Flask, staff) -> None:
    client = app.test_client()
    body = create(
        client,
        staff["writer"]["headers"],
        ref="X-1",
        competencies=["CU.KN.TERM.01", "CO.KN.TERM.03"],
    )
    assert (body["ref"], body["status"], body["version"]) == ("X-1", "draft", 1)
    assert body["competencies"] == ["CU.KN.TERM.01", "CO.KN.TERM.03"]
    assert body["allowed_actions"] == ["submit"]
    fetched = client.get(
        f"/api/v1/items/{body['id']}", headers=staff["reviewer"]["headers"]
    ).get_json()
    assert fetched["keys"] == ["B"] and fetched["rationale"]


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"competencies": ["CU.KN.TERM.99"]}, "competencies", "Unknown competency"),
        ({"competencies": ["CU.KN.TERM"]}, "competencies", "leaf competency"),
        ({"keys": []}, "keys", ""),
        ({"keys": ["E"]}, "keys", "not among the options"),
        ({"keys": ["A", "B"]}, "keys", "exactly one key"),
        ({"options": ["Same", "same ", "Other", "More"]}, "options", "same"),
        ({"options": ["Only one"], "keys": ["A"]}, "options", ""),
        ({"options": [f"o{n}" for n in range(7)]}, "options", ""),
        (
            {"type": "multiple_response", "keys": ["A", "B"], "choose": 3},
            "choose",
            "does not match",
        ),
        ({"type": "multiple_response", "keys": ["A"], "choose": None}, "keys", "at least two"),
        ({"type": "true_false", "options": ["Yes", "No"], "keys": ["A"]}, "options", "True"),
        ({"type": "essay"}, "type", ""),
        ({"stem": ""}, "stem", ""),
        ({"rationale": ""}, "rationale", ""),
        ({"cognitive_level": "guessing"}, "cognitive_level", ""),
        ({"stem": "x" * 4001}, "stem", ""),
        ({"enemies": ["NO-SUCH-ITEM"]}, "enemies", "No item"),
        ({"surprise": 1}, "surprise", "Unknown field"),
    ],
)
def test_invalid_items_name_the_field_and_create_nothing(
    app: Flask, staff, overrides, field, words
) -> None:
    response = app.test_client().post(
        "/api/v1/items", json=record(**overrides), headers=staff["writer"]["headers"]
    )
    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["errors"]
    assert any(e["field"].split(".")[0] == field and words in e["message"] for e in errors), errors
    assert _count(app) == 0


def test_roles_on_the_item_api(app: Flask, staff) -> None:
    client = app.test_client()
    assert client.get("/api/v1/items").status_code == 401
    assert client.get("/api/v1/items", headers=staff["candidate"]["headers"]).status_code == 403
    assert (
        client.post(
            "/api/v1/items", json=record(), headers=staff["reviewer"]["headers"]
        ).status_code
        == 403
    )
    assert client.get("/api/v1/items", headers=staff["admin"]["headers"]).status_code == 200
    assert _count(app) == 0


def test_review_workflow_with_separation_of_duties(app: Flask, staff) -> None:
    client = app.test_client()
    author = staff["writer_reviewer"]
    item = create(client, author["headers"])
    assert act(client, author["headers"], item["id"], "submit").status_code == 200
    refused = act(client, author["headers"], item["id"], "approve")
    assert refused.status_code == 403 and "wrote or edited" in refused.get_json()["detail"]
    no_comment = act(client, staff["reviewer"]["headers"], item["id"], "return")
    assert no_comment.status_code == 422
    returned = act(
        client,
        staff["reviewer"]["headers"],
        item["id"],
        "return",
        "Distractor C is also defensible.",
    )
    assert returned.get_json()["status"] == "draft"
    act(client, author["headers"], item["id"], "submit")
    approved = act(client, staff["reviewer"]["headers"], item["id"], "approve").get_json()
    assert approved["status"] == "approved"
    retired = act(client, staff["admin"]["headers"], item["id"], "retire", "Outdated terminology.")
    assert retired.get_json()["status"] == "retired"
    with get_db(app).read_sessions() as session:
        trail = session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "item", AuditEvent.object_id == str(item["id"]))
            .order_by(AuditEvent.id)
        ).all()
    assert trail == [
        "item.created",
        "item.submit",
        "item.return",
        "item.submit",
        "item.approve",
        "item.retire",
    ]


def test_a_step_not_allowed_now_is_409_listing_what_is(app: Flask, staff) -> None:
    client = app.test_client()
    item = create(client, staff["writer"]["headers"])
    response = act(client, staff["reviewer"]["headers"], item["id"], "approve")
    assert response.status_code == 409
    assert response.get_json()["allowed_actions"] == ["retire"]
    response = act(client, staff["writer"]["headers"], item["id"], "retire", "no")
    assert response.status_code == 409 and response.get_json()["allowed_actions"] == ["submit"]
    assert act(client, staff["writer"]["headers"], item["id"], "explode").status_code == 422


def _approve(client, staff, item_id: int) -> None:
    act(client, staff["writer"]["headers"], item_id, "submit")
    assert act(client, staff["reviewer"]["headers"], item_id, "approve").status_code == 200


def test_editing_an_approved_item_makes_a_new_draft_and_never_changes_the_used_version(
    app: Flask, staff
) -> None:
    client = app.test_client()
    item = create(client, staff["writer"]["headers"])
    _approve(client, staff, item["id"])
    with get_db(app).read_sessions() as session:
        v1_before = (
            session.scalars(select(ItemVersion).where(ItemVersion.item_id == item["id"]))
            .one()
            .content()
        )
    edited = edit(client, staff["writer"]["headers"], item["id"], stem="Reworded stem?").get_json()
    assert (edited["version"], edited["status"]) == (2, "draft")
    assert edited["versions"] == [
        {"number": 1, "status": "approved"},
        {"number": 2, "status": "draft"},
    ]
    with get_db(app).read_sessions() as session:
        v1 = session.scalars(
            select(ItemVersion).where(ItemVersion.item_id == item["id"], ItemVersion.number == 1)
        ).one()
        assert v1.content() == v1_before and v1.status == "approved"
    _approve(client, staff, item["id"])
    final = client.get(f"/api/v1/items/{item['id']}", headers=staff["writer"]["headers"]).get_json()
    assert final["versions"] == [
        {"number": 1, "status": "superseded"},
        {"number": 2, "status": "approved"},
    ]
    assert final["stem"] == "Reworded stem?"


def test_one_approved_version_per_item_is_enforced_by_the_database(app: Flask, staff) -> None:
    client = app.test_client()
    item = create(client, staff["writer"]["headers"])
    _approve(client, staff, item["id"])
    assert edit(client, staff["writer"]["headers"], item["id"]).status_code == 200
    with get_db(app).write_sessions() as session:
        draft = session.scalars(select(ItemVersion).where(ItemVersion.number == 2)).one()
        draft.status = ItemStatus.APPROVED
        with pytest.raises(Exception, match=r"(?i)unique"):
            session.commit()


def test_stale_draft_edit_is_409_not_an_overwrite(app: Flask, staff) -> None:
    client = app.test_client()
    item = create(client, staff["writer"]["headers"])
    first = client.put(
        f"/api/v1/items/{item['id']}",
        json=record(ref=item["ref"], stem="Mine", revision=1),
        headers=staff["writer"]["headers"],
    )
    assert first.status_code == 200 and first.get_json()["revision"] == 2
    second = client.put(
        f"/api/v1/items/{item['id']}",
        json=record(ref=item["ref"], stem="Theirs", revision=1),
        headers=staff["writer2"]["headers"],
    )
    assert second.status_code == 409
    assert (
        client.get(f"/api/v1/items/{item['id']}", headers=staff["writer"]["headers"]).get_json()[
            "stem"
        ]
        == "Mine"
    )


def test_an_item_in_review_is_frozen(app: Flask, staff) -> None:
    client = app.test_client()
    item = create(client, staff["writer"]["headers"])
    act(client, staff["writer"]["headers"], item["id"], "submit")
    response = client.put(
        f"/api/v1/items/{item['id']}",
        json=record(ref=item["ref"], stem="Sneaky"),
        headers=staff["writer"]["headers"],
    )
    assert response.status_code == 409
    assert (
        act(client, staff["writer"]["headers"], item["id"], "withdraw").get_json()["status"]
        == "draft"
    )


def test_enemies_are_symmetric(app: Flask, staff) -> None:
    client = app.test_client()
    a = create(client, staff["writer"]["headers"], ref="EN-A")
    b = create(client, staff["writer"]["headers"], ref="EN-B", enemies=["EN-A"])
    assert b["enemies"] == ["EN-A"]
    assert client.get(f"/api/v1/items/{a['id']}", headers=staff["writer"]["headers"]).get_json()[
        "enemies"
    ] == ["EN-B"]
    own = client.post(
        "/api/v1/items",
        json=record(ref="EN-C", enemies=["EN-C"]),
        headers=staff["writer"]["headers"],
    )
    assert own.status_code == 422


def test_search_filters(app: Flask, staff) -> None:
    client = app.test_client()
    headers = staff["writer"]["headers"]
    create(client, headers, ref="S-1", stem="About churn by logo", competencies=["CO.KN.TERM.03"])
    create(
        client,
        headers,
        ref="S-2",
        stem="About a kick-off",
        competencies=["CU.SK.COMM.10"],
        type="true_false",
        options=["True", "False"],
        keys=["A"],
    )

    def refs(query: str) -> list[str]:
        return [
            i["ref"]
            for i in client.get(f"/api/v1/items?{query}", headers=headers).get_json()["items"]
        ]

    assert refs("competency=CO") == ["S-1"]
    assert refs("competency=CU.SK.COMM") == ["S-2"]
    assert refs("type=true_false") == ["S-2"]
    assert refs("q=CHURN") == ["S-1"]
    assert refs("status=approved") == []


def test_a_reviewer_who_edited_someone_elses_draft_cannot_approve_it(app: Flask, staff) -> None:
    client = app.test_client()
    item = create(client, staff["writer"]["headers"])
    assert (
        edit(
            client, staff["writer_reviewer"]["headers"], item["id"], stem="My rewrite?"
        ).status_code
        == 200
    )
    act(client, staff["writer"]["headers"], item["id"], "submit")
    refused = act(client, staff["writer_reviewer"]["headers"], item["id"], "approve")
    assert refused.status_code == 403
    assert act(client, staff["reviewer"]["headers"], item["id"], "approve").status_code == 200


def test_an_edit_without_the_current_revision_is_refused(app: Flask, staff) -> None:
    client = app.test_client()
    item = create(client, staff["writer"]["headers"])
    act(client, staff["writer"]["headers"], item["id"], "submit")
    act(client, staff["reviewer"]["headers"], item["id"], "approve")
    blind = client.put(
        f"/api/v1/items/{item['id']}",
        json=record(ref=item["ref"]),
        headers=staff["writer"]["headers"],
    )
    assert blind.status_code == 409 and blind.get_json()["revision"] == 3
    stale = client.put(
        f"/api/v1/items/{item['id']}",
        json=record(ref=item["ref"], revision=1),
        headers=staff["writer"]["headers"],
    )
    assert stale.status_code == 409


def test_retiring_takes_the_live_version_and_the_draft_out_of_service(app: Flask, staff) -> None:
    client = app.test_client()
    item = create(client, staff["writer"]["headers"])
    act(client, staff["writer"]["headers"], item["id"], "submit")
    act(client, staff["reviewer"]["headers"], item["id"], "approve")
    edit(client, staff["writer"]["headers"], item["id"], stem="Draft of v2?")
    retired = act(
        client, staff["admin"]["headers"], item["id"], "retire", "Standard changed"
    ).get_json()
    assert retired["versions"] == [
        {"number": 1, "status": "retired"},
        {"number": 2, "status": "retired"},
    ]


def test_exchange_statuses_are_item_statuses_but_superseded() -> None:
    assert set(get_args(ExchangeStatus)) == set(ItemStatus) - {ItemStatus.SUPERSEDED}
