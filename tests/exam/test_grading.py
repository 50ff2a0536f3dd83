"""Grading against the blueprint's pass rules, the score report, and the result event."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from core import events
from core.db import get_db
from exam.services.grading import score_item
from item_bank.models import ItemVersion
from tests.conftest import sign_in
from tests.exam.fixtures import ExamWorld, answer_all, sit


@pytest.mark.parametrize(
    ("keys", "selected", "partial", "expected"),
    [
        (["B"], ["B"], False, 1.0),
        (["B"], ["A"], False, 0.0),
        (["B"], [], False, 0.0),
        (["A", "C"], ["A", "C"], False, 1.0),
        (["A", "C"], ["A"], False, 0.0),
        (["A", "C"], ["A"], True, 0.5),
        (["A", "C"], ["A", "B"], True, 0.0),
        (["A", "C"], ["A", "B", "C"], True, 0.5),
    ],
)
def test_score_item(keys, selected, partial, expected) -> None:
    assert score_item(keys, selected, partial) == expected


def test_all_right_passes_with_a_full_report(app: Flask, world: ExamWorld) -> None:
    seen: list[dict] = []
    events.subscribe(app, "attempt.result_changed", lambda session, **payload: seen.append(payload))
    attempt = sit(world)
    answer_all(world, app, attempt, lambda code: True)
    world.call("POST", f"/attempts/{attempt['id']}/submit", "ana", expect=200)
    result = world.call("GET", f"/attempts/{attempt['id']}/result", "ana", expect=200).get_json()
    assert (result["result"], result["percent"], result["score"], result["max_score"]) == (
        "pass",
        100.0,
        60.0,
        60,
    )
    assert [a["code"] for a in result["areas"]] == ["CU.SK", "CU.KN", "CO.SK", "CO.KN"]
    assert all(a["met"] for a in result["areas"])
    assert seen == [{"attempt_id": attempt["id"], "before": None, "after": "pass"}]


def test_an_area_below_its_minimum_fails_even_above_the_cut(app: Flask, world: ExamWorld) -> None:
    attempt = sit(world)
    # Everything right except Company knowledge (12 of 60): 80 % overall, 0 % in one area.
    answer_all(world, app, attempt, lambda code: not code.startswith("CO.KN"))
    world.call("POST", f"/attempts/{attempt['id']}/submit", "ana", expect=200)
    result = world.call("GET", f"/attempts/{attempt['id']}/result", "ana", expect=200).get_json()
    assert result["result"] == "fail" and result["percent"] == 80.0
    assert result["certificate"] is None  # a fail produces none
    assert [a["met"] for a in result["areas"]] == [True, True, True, False]
    client = app.test_client()
    sign_in(client, world.people["ana"]["user"].email)
    page = client.get(f"/exams/attempts/{attempt['id']}/result").get_data(as_text=True)
    assert "You did not pass this time" in page and "What to study" in page
    assert "CO.KN.TERM.03" in page and "<svg" in page
    with get_db(app).read_sessions() as session:
        rationales = session.scalars(select(ItemVersion.rationale)).all()
    assert not any(r[:50] in page for r in rationales)


def test_terminated_is_void_and_unanswered_scores_nothing(app: Flask, world: ExamWorld) -> None:
    attempt = sit(world)
    world.call(
        "POST", f"/attempts/{attempt['id']}/terminate", "proctor", {"reason": "Notes on desk"}, 200
    )
    result = world.call("GET", f"/attempts/{attempt['id']}/result", "ana", expect=200).get_json()
    assert (result["result"], result["score"]) == ("void", 0.0)


def test_results_held_for_review_are_hidden_from_the_candidate(
    app: Flask, world: ExamWorld
) -> None:
    from item_bank import blueprints

    with app.app_context(), get_db(app).write_sessions() as session:
        spec = blueprints.BlueprintSpec.model_validate(
            blueprints.get_blueprint(session, "first-level").current.spec
        )
        blueprints.save_blueprint(
            session,
            "first-level",
            spec.model_copy(update={"hold_results_for_review": True}),
            actor_id=None,
            actor_label="test",
        )
    attempt = sit(world)
    world.call("POST", f"/attempts/{attempt['id']}/submit", "ana", expect=200)
    assert world.call("GET", f"/attempts/{attempt['id']}/result", "ana").status_code == 404
    staff = world.call("GET", f"/attempts/{attempt['id']}/result", "admin", expect=200).get_json()
    assert staff["result"] == "fail"
    client = app.test_client()
    sign_in(client, world.people["ana"]["user"].email)
    assert "not out yet" in client.get(f"/exams/attempts/{attempt['id']}/result").get_data(
        as_text=True
    )


def test_a_result_is_the_candidates_own(app: Flask, world: ExamWorld) -> None:
    attempt = sit(world)
    world.call("POST", f"/attempts/{attempt['id']}/submit", "ana", expect=200)
    assert world.call("GET", f"/attempts/{attempt['id']}/result", "ben").status_code == 404
