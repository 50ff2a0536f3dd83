"""A candidate's sign-in that reaches its absolute lifetime mid-exam: the next autosave is
refused with a clear 401 and answers saved before stay saved (the page's side is in
tests/browser/test_exam_session_end.py)."""

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
