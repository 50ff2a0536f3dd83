"""Answers queued offline are replayed late: a save carries when its answer was chosen,
and one chosen before the stored answer leaves that answer as it is."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from core.db import get_db
from exam.models import Response
from tests.exam.fixtures import ExamWorld


def _stored(app: Flask, attempt_id: int, position: int) -> Response:
    with get_db(app).read_sessions() as session:
        row = session.scalars(
            select(Response).where(Response.attempt_id == attempt_id, Response.position == position)
        ).one()
        session.expunge(row)
        return row


def _started(world: ExamWorld) -> dict:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    return world.start("ana", sitting)


def test_an_older_replay_never_overwrites_a_newer_answer(
    app: Flask, world: ExamWorld, clock
) -> None:
    attempt = _started(world)
    # The form is drawn at random: take a one-answer question with four options or more.
    question = next(
        q for q in attempt["questions"] if q["choose"] in (None, 1) and len(q["options"]) >= 4
    )
    aid, options, position = attempt["id"], question["options"], question["position"]
    now_ms = int(clock.now().timestamp() * 1000)
    url = f"/attempts/{aid}/responses/{position}"

    world.call("PUT", url, "ana", {"selected": [options[1]["id"]], "answered_at": now_ms}, 200)
    # The answer chosen a minute earlier, offline, arrives now: the newer one stands.
    late = {"selected": [options[0]["id"]], "flagged": True, "answered_at": now_ms - 60_000}
    assert world.call("PUT", url, "ana", late, 200).status_code == 200
    again = world.call("GET", f"/attempts/{aid}", "ana", expect=200).get_json()
    shown = again["questions"][position - 1]
    assert shown["selected"] == [options[1]["id"]]
    assert shown["flagged"] is False
    assert _stored(app, aid, position).answer_order == now_ms

    # A later choice replaces it; a claim from the future counts as now, so it cannot
    # shut out the answers that follow it.
    clock.advance(seconds=5)
    future = {"selected": [options[2]["id"]], "answered_at": now_ms + 3_600_000}
    world.call("PUT", url, "ana", future, 200)
    assert _stored(app, aid, position).answer_order == now_ms + 5_000
    clock.advance(seconds=1)
    world.call("PUT", url, "ana", {"selected": [options[3]["id"]]}, 200)
    stored = _stored(app, aid, position)
    assert stored.answer_order == now_ms + 6_000 and len(stored.selected) == 1


def test_a_replay_after_the_deadline_is_refused_however_early_it_was_chosen(
    app: Flask, world: ExamWorld, clock
) -> None:
    attempt = _started(world)
    aid, options = attempt["id"], attempt["questions"][1]["options"]
    chosen_ms = int(clock.now().timestamp() * 1000)
    clock.advance(minutes=91)
    world.refresh_tokens()
    body = {"selected": [options[0]["id"]], "answered_at": chosen_ms}
    refused = world.call("PUT", f"/attempts/{aid}/responses/2", "ana", body, 409)
    assert refused.get_json()["type"].endswith("/attempt-finished")
    with get_db(app).read_sessions() as session:
        assert session.scalars(select(Response).where(Response.attempt_id == aid)).all() == []


def test_a_bad_answered_at_names_the_field(app: Flask, world: ExamWorld) -> None:
    attempt = _started(world)
    body = {"selected": [], "answered_at": "yesterday"}
    problem = world.call("PUT", f"/attempts/{attempt['id']}/responses/1", "ana", body, 422)
    assert "answered_at" in problem.get_data(as_text=True)
