"""The offline answers file: sealed by the exam page under the attempt's key, uploaded by the
sitting's proctor, opened only by the server, and saved as any save is (on that attempt,
before its deadline, never over an answer chosen later)."""

from __future__ import annotations

import base64
import io
import json
import os
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from core.audit import AuditEvent
from core.db import get_db
from exam.models import Response
from exam.services.offline_answers import FORMAT, attempt_key
from tests.conftest import csrf_from, sign_in
from tests.exam.fixtures import ExamWorld


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def sealed(app: Flask, attempt_id: int, rows: list[dict[str, Any]]) -> bytes:
    """The file as the exam page writes it (static/js/exam.js, sealedAnswers)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    iv = os.urandom(12)
    key = attempt_key(app.config["SECRET_KEY"], attempt_id)
    plain = json.dumps({"answers": rows}).encode()
    data = AESGCM(key).encrypt(iv, plain, str(attempt_id).encode())
    outer = {"format": FORMAT, "attempt": attempt_id, "iv": _b64(iv), "data": _b64(data)}
    return json.dumps(outer).encode()


def _proctor(app: Flask, world: ExamWorld) -> FlaskClient:
    client = app.test_client()
    sign_in(client, world.people["proctor"]["user"].email)
    return client


def _upload(client: FlaskClient, sitting: int, content: bytes) -> Any:
    page = client.get(f"/proctor/sittings/{sitting}").get_data(as_text=True)
    return client.post(
        f"/proctor/sittings/{sitting}/offline-answers",
        data={"csrf_token": csrf_from(page), "file": (io.BytesIO(content), "answers.json")},
        content_type="multipart/form-data",
    )


def _rows(app: Flask, attempt_id: int) -> dict[int, tuple[list[str], bool]]:
    with get_db(app).read_sessions() as session:
        found = session.scalars(select(Response).where(Response.attempt_id == attempt_id))
        return {r.position: (r.selected, r.flagged) for r in found}


def test_the_proctor_uploads_a_candidates_sealed_answers(
    app: Flask, world: ExamWorld, clock
) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    attempt = world.start("ana", sitting)
    aid, questions = attempt["id"], attempt["questions"]
    now_ms = int(clock.now().timestamp() * 1000)
    # Question 2 was saved online after the file's answer to it was chosen: it stands.
    later = {"selected": [questions[1]["options"][1]["id"]], "answered_at": now_ms}
    world.call("PUT", f"/attempts/{aid}/responses/2", "ana", later, 200)
    clock.advance(minutes=5)
    rows = [
        {"position": 1, "selected": [questions[0]["options"][-1]["id"]], "flagged": True, "at": now_ms - 1},
        {"position": 2, "selected": [questions[1]["options"][0]["id"]], "flagged": False, "at": now_ms - 1},
        {"position": 3, "selected": ["not-an-option"], "flagged": False, "at": now_ms - 1},
    ]  # fmt: skip
    proctor = _proctor(app, world)
    done = _upload(proctor, sitting, sealed(app, aid, rows))
    assert done.status_code == 303
    console = proctor.get(done.headers["Location"]).get_data(as_text=True)
    assert (
        "question 1 saved; question 2 already held a later answer, kept; question 3 refused"
        in console
    )
    # The sitting's log shows the upload beside the other proctor actions.
    log = console[console.index("Sitting log") :]
    assert (
        "<strong>offline answers uploaded</strong>: saved question 1; kept newer question 2;"
        " refused question 3" in log
    )
    stored = _rows(app, aid)
    assert stored[1][1] is True and len(stored[1][0]) == 1
    assert 3 not in stored
    again = world.call("GET", f"/attempts/{aid}", "ana", expect=200).get_json()
    assert again["questions"][0]["selected"] == [questions[0]["options"][-1]["id"]]
    assert again["questions"][1]["selected"] == [questions[1]["options"][1]["id"]]
    with get_db(app).read_sessions() as session:
        audit = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "attempt.offline_answers_uploaded")
        ).one()
        assert audit.after == {"saved": [1], "kept_newer": [2], "refused": [3]}


def test_the_log_names_the_uploaded_questions_in_words(app: Flask, world: ExamWorld, clock) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    attempt = world.start("ana", sitting)
    aid, questions = attempt["id"], attempt["questions"]
    at = int(clock.now().timestamp() * 1000)
    rows = [
        {"position": n, "selected": [questions[n - 1]["options"][0]["id"]], "flagged": False, "at": at}
        for n in (3, 1, 2)
    ]  # fmt: skip
    proctor = _proctor(app, world)
    done = _upload(proctor, sitting, sealed(app, aid, rows))
    console = proctor.get(done.headers["Location"]).get_data(as_text=True)
    assert "Offline answers of Ana" in console and "questions 1, 2 and 3 saved." in console
    log = console[console.index("Sitting log") :]
    assert (
        "<strong>offline answers uploaded</strong>: saved questions 1, 2 and 3;"
        " none kept newer; none refused (by proctor)" in log
    )
    assert "[" not in log.split("offline answers uploaded", 1)[1].split("</li>", 1)[0]


def test_a_changed_file_a_foreign_one_and_a_late_one_are_refused(
    app: Flask, world: ExamWorld, clock
) -> None:
    sitting, other = world.schedule(), world.schedule()
    world.admitted("ana", sitting)
    attempt = world.start("ana", sitting)
    aid, option = attempt["id"], attempt["questions"][0]["options"][0]["id"]
    row = [{"position": 1, "selected": [option], "flagged": False, "at": 1}]
    proctor = _proctor(app, world)

    good = json.loads(sealed(app, aid, row))
    good["data"] = good["data"][:-4] + ("AAAA" if good["data"][-4:] != "AAAA" else "BBBB")
    changed = _upload(proctor, sitting, json.dumps(good).encode())
    assert changed.status_code == 422
    assert "changed after the exam page saved it" in changed.get_data(as_text=True)
    assert _upload(proctor, sitting, b"not json").status_code == 422
    assert _upload(proctor, sitting, b"").status_code == 422
    foreign = _upload(proctor, other, sealed(app, aid, row))
    assert foreign.status_code in (403, 422)
    assert _rows(app, aid) == {}

    clock.advance(minutes=91)
    late = _upload(proctor, sitting, sealed(app, aid, row))
    console = proctor.get(late.headers["Location"]).get_data(as_text=True)
    assert "question 1 refused (the attempt is expired)" in console
    assert _rows(app, aid) == {}
