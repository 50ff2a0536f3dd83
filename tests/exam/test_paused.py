"""A paused attempt shows no question, on its pages or in the API, and saves nothing; the
answers saved before the pause are kept and everything comes back on resume."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from core.db import get_db
from exam.models import Response
from item_bank.models import ItemVersion
from tests.conftest import csrf_from, sign_in
from tests.exam.fixtures import ExamWorld, form_slots, sit


def _browser(app: Flask, world: ExamWorld, who: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, world.people[who]["user"].email)
    return client


def _stems(app: Flask, attempt_id: int) -> list[str]:
    """The first words of every question on the form, as a page would show them."""
    ids = [slot.item_id for slot in form_slots(app, attempt_id)]
    with get_db(app).read_sessions() as session:
        stems = session.scalars(select(ItemVersion.stem).where(ItemVersion.item_id.in_(ids)))
        # Runs too short to tell a question from the pause notice are left out.
        return [words for words in map(_plain_words, stems) if len(words) >= 12]


def _plain_words(stem: str) -> str:
    """The longest run of the stem that Markdown and HTML escaping leave as it is."""
    return max(re.split(r"[^A-Za-z0-9 ,.?-]|\s{2,}", stem), key=len).strip()[:40]


def _pause(world: ExamWorld, attempt_id: int) -> None:
    world.call("POST", f"/attempts/{attempt_id}/pause", "proctor", {"reason": "Fire alarm"}, 200)


def test_the_api_withholds_a_paused_attempts_questions_and_names_the_state(
    app: Flask, world: ExamWorld
) -> None:
    attempt = sit(world)
    aid = attempt["id"]
    first = attempt["questions"][0]["options"][0]["id"]
    world.call("PUT", f"/attempts/{aid}/responses/1", "ana", {"selected": [first]}, 200)
    _pause(world, aid)

    withheld = world.call("GET", f"/attempts/{aid}", "ana", expect=409)
    body = withheld.get_json()
    assert withheld.content_type == "application/problem+json"
    assert body["type"].endswith("/attempt-paused") and body["attempt_status"] == "paused"
    assert "questions" not in body and "paused" in body["detail"]
    again = world.call("POST", "/attempts", "ana", {"sitting_id": _sitting_of(world, aid)})
    assert again.status_code == 409 and "questions" not in again.get_json()
    # The clock and the state stay readable: the page needs them to know when to resume.
    assert world.call("GET", f"/attempts/{aid}/state", "ana", expect=200).get_json()["status"] == (
        "paused"
    )
    refused = world.call("PUT", f"/attempts/{aid}/responses/2", "ana", {"selected": []})
    assert refused.status_code == 409 and refused.get_json()["attempt_status"] == "paused"

    world.call("POST", f"/attempts/{aid}/resume", "proctor", {}, 200)
    back = world.call("GET", f"/attempts/{aid}", "ana", expect=200).get_json()
    assert len(back["questions"]) == 60 and back["questions"][0]["selected"] == [first]
    with get_db(app).read_sessions() as session:
        saved = session.scalars(select(Response.position).where(Response.attempt_id == aid))
        assert list(saved) == [1]  # kept through the pause; nothing saved while paused


def _sitting_of(world: ExamWorld, attempt_id: int) -> int:
    from exam.models import Attempt

    with get_db(world.app).read_sessions() as session:
        found = session.get(Attempt, attempt_id)
        assert found is not None
        return found.sitting_id


def test_the_question_and_review_pages_show_no_question_while_paused(
    app: Flask, world: ExamWorld
) -> None:
    attempt = sit(world)
    aid = attempt["id"]
    stems = _stems(app, aid)
    ana = _browser(app, world, "ana")
    running = ana.get(f"/exams/attempts/{aid}/q/1").get_data(as_text=True)
    assert any(stem in running for stem in stems)
    token = csrf_from(running)
    _pause(world, aid)

    pages = ("q/1", "q/7", "review")
    for page in (f"/exams/attempts/{aid}/{path}" for path in pages):
        shown = ana.get(page)
        html = shown.get_data(as_text=True)
        assert shown.status_code == 409, page
        assert "Your exam is paused by the proctor" in html and "time is stopped" in html
        assert not any(stem in html for stem in stems), page
        assert 'name="answer"' not in html and "Question 1</a>" not in html
    saved = ana.put(
        f"/exams/attempts/{aid}/responses/1",
        json={"selected": [attempt["questions"][0]["options"][0]["id"]]},
        headers={"X-CSRFToken": token},
    )
    assert saved.status_code == 409 and saved.get_json()["type"].endswith("/attempt-paused")
    option = re.search(r'name="answer" id="q1-A"\s+value="([a-z0-9]+)"', running).group(1)
    posted = ana.post(
        f"/exams/attempts/{aid}/q/1", data={"csrf_token": token, "answer": option, "go": "next"}
    )
    assert posted.status_code == 303  # the no-JavaScript form says why on the paused page
    assert "no answer is saved" in ana.get(posted.headers["Location"]).get_data(as_text=True)

    world.call("POST", f"/attempts/{aid}/resume", "proctor", {}, 200)
    resumed = ana.get(f"/exams/attempts/{aid}/q/1")
    assert resumed.status_code == 200
    assert any(stem in resumed.get_data(as_text=True) for stem in stems)
    assert re.search(r"Question 1 of 60", resumed.get_data(as_text=True))
