"""A sitting that requires Safe Exam Browser, through the real routes: the staff form, the
"start in SEB" page, the header checks on pages, autosave, events and the API, the
configuration download, and sittings without SEB left alone."""

from __future__ import annotations

import gzip
import hashlib
import io
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from core.audit import AuditEvent
from core.db import get_db
from exam.models import Attempt
from tests.conftest import csrf_from, sign_in
from tests.exam.fixtures import ExamWorld
from tests.exam.seb.test_config_key import FIXTURE, independent_config_key

KEY = independent_config_key(FIXTURE)
BASE = "http://localhost"  # the test app's PUBLIC_BASE_URL
BEK_A, BEK_B = (
    hashlib.sha256(b"SEB 3.7 x64").hexdigest(),
    hashlib.sha256(b"SEB 3.7 x86").hexdigest(),
)


def _hash(url: str, key: str) -> str:
    return hashlib.sha256((url + key).encode()).hexdigest()


def seb_headers(path: str, key: str = KEY, exam_key: str | None = None) -> dict[str, str]:
    """What Safe Exam Browser sends with a request for ``path``."""
    headers = {"X-SafeExamBrowser-ConfigKeyHash": _hash(BASE + path, key)}
    if exam_key is not None:
        headers["X-SafeExamBrowser-RequestHash"] = _hash(BASE + path, exam_key)
    return headers


def _browser(app: Flask, world: ExamWorld, who: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, world.people[who]["user"].email)
    return client


def post_seb(admin: FlaskClient, sitting: int, **fields: Any) -> Any:
    page = admin.get(f"/staff/sittings/{sitting}/edit").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), **fields}
    return admin.post(
        f"/staff/sittings/{sitting}/seb", data=data, content_type="multipart/form-data"
    )


def _upload(data: bytes = FIXTURE, name: str = "first-level.seb") -> tuple[io.BytesIO, str]:
    return io.BytesIO(data), name


def _registration(client: FlaskClient) -> str:
    return re.search(r"/exams/(\d+)/start", client.get("/exams").get_data(as_text=True)).group(1)


def _seb_sitting(app: Flask, world: ExamWorld, **fields: Any) -> tuple[int, FlaskClient]:
    """A sitting requiring SEB with the fixture's configuration, Ana admitted to it."""
    sitting = world.schedule()
    admin = _browser(app, world, "admin")
    done = post_seb(admin, sitting, required="y", seb_file=_upload(), **fields)
    assert done.status_code == 303, done.get_data(as_text=True)
    world.admitted("ana", sitting)
    return sitting, _browser(app, world, "ana")


def _attempts(app: Flask) -> int:
    with get_db(app).read_sessions() as session:
        return session.scalar(select(func.count()).select_from(Attempt)) or 0


def test_a_browser_without_seb_gets_the_start_page_and_nothing_starts(
    app: Flask, world: ExamWorld
) -> None:
    sitting, ana = _seb_sitting(app, world)
    registration = _registration(ana)
    token = csrf_from(ana.get("/exams").get_data(as_text=True))
    refused = ana.post(f"/exams/{registration}/start", data={"csrf_token": token})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 403
    assert "Start this exam in Safe Exam Browser" in page
    assert 'href="seb://localhost/exams"' in page
    assert f'href="/sittings/{sitting}/seb/config.seb"' in page
    assert _attempts(app) == 0  # the clock did not start outside SEB

    path = f"/exams/{registration}/start"
    started = ana.post(path, data={"csrf_token": token}, headers=seb_headers(path))
    assert started.status_code == 303 and started.headers["Location"].endswith("/q/1")
    question = started.headers["Location"]
    assert ana.get(question, headers=seb_headers(question)).status_code == 200
    again = ana.get(question)
    assert again.status_code == 403 and f'href="seb://localhost{question}"' in again.get_data(
        as_text=True
    )


def test_a_wrong_hash_is_refused_and_the_right_one_passes_pages_and_autosave(
    app: Flask, world: ExamWorld
) -> None:
    _sitting, ana = _seb_sitting(app, world)
    registration = _registration(ana)
    token = csrf_from(ana.get("/exams").get_data(as_text=True))
    path = f"/exams/{registration}/start"
    ana.post(path, data={"csrf_token": token}, headers=seb_headers(path))
    with get_db(app).read_sessions() as session:
        attempt_id = session.scalars(select(Attempt.id)).one()
    page = f"/exams/attempts/{attempt_id}/q/1"

    other_key = seb_headers(page, key="0" * 64)
    wrong = ana.get(page, headers=other_key)
    assert wrong.status_code == 403
    assert "not set up for this exam" in wrong.get_data(as_text=True)
    another_url = ana.get(page, headers=seb_headers(f"/exams/attempts/{attempt_id}/q/2"))
    assert another_url.status_code == 403  # the hash is of this very URL

    html = ana.get(page, headers=seb_headers(page)).get_data(as_text=True)
    option = re.search(r'name="answer" id="q1-A"\s+value="([a-z0-9]+)"', html).group(1)
    save = f"/exams/attempts/{attempt_id}/responses/1"
    body = {"selected": [option]}
    csrf = {"X-CSRFToken": csrf_from(html)}
    bare = ana.put(save, json=body, headers=csrf)
    assert bare.status_code == 403 and bare.content_type == "application/problem+json"
    assert bare.get_json()["type"].endswith("/seb-required")
    forged = ana.put(save, json=body, headers={**csrf, **seb_headers(save, key="f" * 64)})
    assert forged.status_code == 403 and forged.get_json()["type"].endswith("/seb-key-mismatch")
    saved = ana.put(save, json=body, headers={**csrf, **seb_headers(save)})
    assert saved.status_code == 200 and saved.get_json()["position"] == 1

    events = f"/exams/attempts/{attempt_id}/events"
    assert ana.post(events, json={"kind": "copy"}, headers=csrf).status_code == 403
    sent = ana.post(events, json={"kind": "copy"}, headers={**csrf, **seb_headers(events)})
    assert sent.status_code == 204
    review = f"/exams/attempts/{attempt_id}/review"
    assert ana.get(review).status_code == 403
    assert ana.get(review, headers=seb_headers(review)).status_code == 200


def test_the_api_calls_of_an_attempt_are_checked_too(app: Flask, world: ExamWorld) -> None:
    sitting, _ana = _seb_sitting(app, world)
    start = world.call("POST", "/attempts", "ana", {"sitting_id": sitting})
    assert start.status_code == 403 and start.get_json()["type"].endswith("/seb-required")
    assert _attempts(app) == 0
    headers = {**world.headers("ana"), **seb_headers("/api/v1/attempts")}
    started = world.client.post("/api/v1/attempts", json={"sitting_id": sitting}, headers=headers)
    assert started.status_code == 201
    aid = started.get_json()["id"]
    path = f"/api/v1/attempts/{aid}"
    assert world.call("GET", f"/attempts/{aid}", "ana").status_code == 403
    shown = world.client.get(path, headers={**world.headers("ana"), **seb_headers(path)})
    assert shown.status_code == 200 and len(shown.get_json()["questions"]) == 60
    # A proctor's actions on the attempt are not exam requests: no SEB needed.
    world.call("POST", f"/attempts/{aid}/pause", "proctor", {"reason": "Fire alarm"}, 200)


def test_browser_exam_keys_when_given_must_match_one_of_them(app: Flask, world: ExamWorld) -> None:
    _sitting, ana = _seb_sitting(app, world, browser_exam_keys=f"{BEK_A}\n{BEK_B.upper()}")
    registration = _registration(ana)
    token = csrf_from(ana.get("/exams").get_data(as_text=True))
    path = f"/exams/{registration}/start"
    config_only = ana.post(path, data={"csrf_token": token}, headers=seb_headers(path))
    assert config_only.status_code == 403  # the SEB build is not one of those allowed
    unknown = seb_headers(path, exam_key="1" * 64)
    assert ana.post(path, data={"csrf_token": token}, headers=unknown).status_code == 403
    started = ana.post(path, data={"csrf_token": token}, headers=seb_headers(path, exam_key=BEK_B))
    assert started.status_code == 303


def test_the_url_hashed_is_the_public_one_not_the_proxys(app: Flask, world: ExamWorld) -> None:
    _sitting, ana = _seb_sitting(app, world)
    registration = _registration(ana)
    token = csrf_from(ana.get("/exams").get_data(as_text=True))
    path = f"/exams/{registration}/start"
    # Behind a TLS proxy the app is asked for http://localhost/...; the browser asked
    # for the public https address, and hashed that.
    public = "https://certify.example.org"
    app.config["PUBLIC_BASE_URL"] = public
    as_app_sees = {"X-SafeExamBrowser-ConfigKeyHash": _hash(BASE + path, KEY)}
    refused = ana.post(path, data={"csrf_token": token}, headers=as_app_sees)
    assert refused.status_code == 403
    assert 'href="sebs://certify.example.org/exams"' in refused.get_data(as_text=True)
    as_browser_sees = {"X-SafeExamBrowser-ConfigKeyHash": _hash(public + path, KEY)}
    passed = ana.post(path, data={"csrf_token": token}, headers=as_browser_sees)
    assert passed.status_code == 303


def test_a_sitting_without_seb_is_unaffected(app: Flask, world: ExamWorld) -> None:
    _seb_sitting(app, world)  # another sitting requires SEB
    plain = world.schedule()
    world.admitted("ben", plain)
    attempt = world.start("ben", plain)
    option = attempt["questions"][0]["options"][0]["id"]
    world.call("PUT", f"/attempts/{attempt['id']}/responses/1", "ben", {"selected": [option]}, 200)
    ben = _browser(app, world, "ben")
    assert ben.get(f"/exams/attempts/{attempt['id']}/q/1").status_code == 200


def test_the_configuration_is_served_only_to_the_sittings_candidates(
    app: Flask, world: ExamWorld
) -> None:
    sitting, ana = _seb_sitting(app, world)
    url = f"/sittings/{sitting}/seb/config.seb"
    served = ana.get(url)
    assert served.status_code == 200 and served.data == FIXTURE
    assert served.headers["Content-Disposition"] == 'attachment; filename="first-level.seb"'
    assert _browser(app, world, "ben").get(url).status_code == 404  # not registered
    assert _browser(app, world, "admin").get(url).status_code == 403  # not a candidate
    assert app.test_client().get(url).status_code == 302  # to sign in


def test_staff_set_and_change_the_requirement_with_an_audit_row(
    app: Flask, world: ExamWorld
) -> None:
    sitting = world.schedule()
    admin = _browser(app, world, "admin")
    form = admin.get(f"/staff/sittings/{sitting}/edit").get_data(as_text=True)
    assert "Require Safe Exam Browser for this sitting" in form and "not required" in form
    assert (
        post_seb(admin, sitting, required="y", seb_file=_upload(gzip.compress(FIXTURE))).status_code
        == 303
    )
    pasted = hashlib.sha256(b"another configuration").hexdigest()
    assert post_seb(admin, sitting, required="y", config_key=pasted.upper()).status_code == 303
    assert post_seb(admin, sitting, config_key="").status_code == 303  # no longer required
    with get_db(app).read_sessions() as session:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "sitting.seb_changed", AuditEvent.object_id == str(sitting))
            .order_by(AuditEvent.id)
        ).all()
    assert [(r.before["required"], r.after["required"]) for r in rows] == [
        (False, True),
        (True, True),
        (True, False),
    ]
    assert rows[0].after["config_file"] == "first-level.seb"
    assert rows[1].after["config_file"] == ""  # the file no longer matches the pasted key
    assert all(KEY not in str(r.after) and pasted not in str(r.after) for r in rows)
    assert rows[0].actor_id == world.id("admin")
    page = admin.get(f"/staff/sittings/{sitting}/edit").get_data(as_text=True)
    assert KEY not in page and pasted not in page  # the key is a secret


def test_bad_seb_settings_are_refused_by_field_and_change_nothing(
    app: Flask, world: ExamWorld
) -> None:
    sitting = world.schedule()
    admin = _browser(app, world, "admin")
    encrypted = _upload(gzip.compress(b"pswd" + bytes(100)), "locked.seb")
    cases = [
        ({"required": "y", "seb_file": encrypted}, "Paste the Config Key"),
        ({"required": "y"}, "upload the .seb file or paste its Config Key"),
        ({"required": "y", "config_key": "not-a-key"}, "64 hexadecimal digits"),
        (
            {"required": "y", "seb_file": _upload(), "config_key": "a" * 64},
            "is not the uploaded file",
        ),
        ({"required": "y", "config_key": KEY, "browser_exam_keys": "xyz"}, "64 hexadecimal"),
    ]
    for fields, message in cases:
        refused = post_seb(admin, sitting, **fields)
        assert refused.status_code == 422, fields
        assert message in refused.get_data(as_text=True), fields
    with get_db(app).read_sessions() as session:
        changed = session.scalar(
            select(func.count()).where(AuditEvent.action == "sitting.seb_changed")
        )
    assert changed == 0
    world.admitted("ana", sitting)
    assert world.call("POST", "/attempts", "ana", {"sitting_id": sitting}).status_code == 201
    ana = _browser(app, world, "ana")
    token = csrf_from(ana.get("/exams").get_data(as_text=True))
    nope = ana.post(f"/staff/sittings/{sitting}/seb", data={"csrf_token": token, "required": "y"})
    assert nope.status_code == 403
