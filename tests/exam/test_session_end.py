"""A candidate's sign-in that reaches its absolute lifetime mid-exam: the next autosave is
refused with a clear 401 (the page then asks to sign in again), answers saved before stay
saved, and after signing in again the exam goes on."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from core.db import get_db
from exam.models import Response
from tests.conftest import csrf_from, sign_in
from tests.exam.fixtures import ExamWorld


def _page_client(app: Flask, world: ExamWorld, attempt_id: int) -> tuple[FlaskClient, str]:
    client = app.test_client()
    assert sign_in(client, world.people["ana"]["user"].email).status_code == 302
    page = client.get(f"/exams/attempts/{attempt_id}/q/1")
    return client, csrf_from(page.get_data(as_text=True))


def test_autosave_after_the_absolute_lifetime_is_a_401_and_keeps_saved_answers(
    make_app, make_user, clock, sample_bank
) -> None:
    app = make_app(SESSION_ABSOLUTE_HOURS=1)  # ends well inside the exam's time
    world = ExamWorld(app, make_user, clock)
    sitting = world.schedule()
    world.admitted("ana", sitting)
    attempt = world.start("ana", sitting)
    options = [q["options"][0]["id"] for q in attempt["questions"][:2]]
    ana, token = _page_client(app, world, attempt["id"])
    url = f"/exams/attempts/{attempt['id']}/responses/%d"
    headers = {"X-CSRFToken": token}
    assert ana.put(url % 1, json={"selected": [options[0]]}, headers=headers).status_code == 200

    clock.advance(minutes=40)
    assert ana.get(f"/exams/attempts/{attempt['id']}/q/2").status_code == 200
    clock.advance(minutes=20, seconds=1)
    refused = ana.put(url % 2, json={"selected": [options[1]]}, headers=headers)
    assert refused.status_code == 401
    assert refused.mimetype == "application/problem+json"
    assert "sign in again" in refused.get_json()["detail"]
    with get_db(app).read_sessions() as session:
        saved = session.scalars(
            select(Response.position).where(Response.attempt_id == attempt["id"])
        )
        assert list(saved) == [1]


def test_the_exam_page_asks_to_sign_in_again_when_the_session_ends() -> None:
    """The page's script tells a 401 (session ended: sign in again, the answer is kept on
    the device) apart from a 400 (page out of date: reload)."""
    from pathlib import Path

    script = (Path(__file__).parents[2] / "static" / "js" / "exam.js").read_text()
    after_401 = script.split("response.status === 401", 1)[1].split("return;", 1)[0]
    assert "Sign in again" in after_401 and "/sign-in?next=" in after_401
