"""The short start from a form drawn at admission: it answers with exactly what the attempt
shows afterwards, reads nothing of the bank, checks the token's account in its own read,
and a page opened before option ids were spelt in hex still saves."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import event, select, update

from accounts.models import User, UserRole
from core.db import get_db
from exam.models import Attempt, AttemptItem, PreparedForm, Registration, RegistrationStatus
from exam.services.option_ids import key_check
from tests.exam.fixtures import ExamWorld
from tests.exam.fixtures import world as world  # the fixture


@contextmanager
def _statements(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement the app sends while the block runs."""
    seen: list[str] = []
    engine = get_db(app).engine

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _without_clock(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in {"server_now_ms", "seconds_left"}}


def test_the_start_answers_with_what_the_attempt_shows(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    started = world.start("ana", sitting)
    shown = world.call("GET", f"/attempts/{started['id']}", "ana", expect=200).get_json()
    assert len(started["questions"]) == 60
    assert _without_clock(started) == _without_clock(shown)
    # Asking again gives the same attempt, now read as stored.
    again = world.call("POST", "/attempts", "ana", {"sitting_id": sitting}, 201).get_json()
    assert _without_clock(again) == _without_clock(shown)


def _kept_form(app: Flask, who_id: int) -> PreparedForm:
    with get_db(app).read_sessions() as session:
        return session.scalars(
            select(PreparedForm)
            .join(Registration, Registration.id == PreparedForm.registration_id)
            .where(Registration.candidate_id == who_id)
        ).one()


def test_the_start_sends_the_questions_rendered_at_admission(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    kept = _kept_form(app, world.id("ana"))
    assert kept.rendered is not None and kept.rendered_key == key_check(app.config["SECRET_KEY"])
    started = world.start("ana", sitting)
    # The attempt takes its registration's id, which the ids and addresses were made for.
    assert started["id"] == kept.registration_id
    assert started["questions"] == json.loads(kept.rendered)
    assert started["answered"] == 0 and started["status"] == "in_progress"
    with get_db(app).read_sessions() as session:
        copied = session.scalars(
            select(AttemptItem).where(AttemptItem.attempt_id == started["id"])
        ).all()
        assert session.get(PreparedForm, kept.id) is None  # the kept form is used up
    pretest = set(kept.pretest_positions or ())
    assert [
        (q.position, q.item_id, q.item_version_id, q.option_order, q.pretest) for q in copied
    ] == [
        (position, item, version, order, position in pretest)
        for position, (item, version, order) in enumerate(kept.items, start=1)
    ]


def test_a_new_secret_key_after_admission_renders_the_questions_anew(
    app: Flask, world: ExamWorld
) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    app.config["SECRET_KEY"] = "a key put in place between admission and start"
    world.refresh_tokens()  # the tokens are signed with the key too
    started = world.start("ana", sitting)
    shown = world.call("GET", f"/attempts/{started['id']}", "ana", expect=200).get_json()
    assert _without_clock(started) == _without_clock(shown)  # ids of the key now in use
    option = started["questions"][0]["options"][0]["id"]
    path = f"/attempts/{started['id']}/responses/1"
    world.call("PUT", path, "ana", {"selected": [option], "flagged": False}, 200)


def test_an_attempt_holding_the_registrations_id_sends_the_start_the_full_way(
    app: Flask, world: ExamWorld
) -> None:
    sitting, elsewhere = world.schedule(), world.schedule(opens_in_minutes=60 * 24)
    world.admitted("ana", sitting)
    world.admitted("ben", sitting)
    ben_registration = _kept_form(app, world.id("ben")).registration_id
    ana = world.start("ana", sitting)
    with get_db(app).write_sessions() as session:  # an attempt made before ids were shared
        source = session.get(Attempt, ana["id"])
        assert source is not None
        other = Registration(
            sitting_id=elsewhere,
            candidate_id=world.id("ana"),
            status=RegistrationStatus.STARTED,
            registered_at=world.clock.now(),
        )
        session.add(other)
        session.flush()
        values = {c.name: getattr(source, c.name) for c in Attempt.__table__.columns}
        session.add(Attempt(**{**values, "id": ben_registration, "registration_id": other.id}))
        session.commit()
    ben = world.start("ben", sitting)
    assert ben["id"] != ben_registration
    shown = world.call("GET", f"/attempts/{ben['id']}", "ben", expect=200).get_json()
    assert _without_clock(ben) == _without_clock(shown)
    assert len(shown["questions"]) == 60


def test_a_start_from_a_drawn_form_reads_nothing_of_the_bank(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    with _statements(app) as seen:
        started = world.start("ana", sitting)
    assert len(started["questions"]) == 60
    statements = [s for s in seen if not s.startswith("BEGIN")]
    bank_reads = [s for s in statements if "stimulus_version" in s or "item_version_media" in s]
    assert bank_reads == []
    # The sitting's Safe Exam Browser rule, one read (which also checks that the form's
    # versions are still approved), then the write: registration, attempt, its items,
    # kept form, audit row.
    assert len(statements) <= 7, "\n\n".join(s[:150] for s in statements)


def test_the_short_start_checks_the_tokens_account(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule()
    for who in ("ana", "ben", "cy"):
        world.admitted(who, sitting)
    with get_db(app).write_sessions() as session:
        session.execute(  # signed out everywhere after being admitted
            update(User)
            .where(User.id == world.id("ana"))
            .values(session_version=User.session_version + 1)
        )
        session.execute(update(User).where(User.id == world.id("ben")).values(active=False))
        session.add(UserRole(user_id=world.id("cy"), role="item_writer"))
        session.commit()
    for who in ("ana", "ben"):
        refused = world.call("POST", "/attempts", who, {"sitting_id": sitting}, 401)
        assert "revoked" in refused.get_json()["detail"]
    refused = world.call("POST", "/attempts", "cy", {"sitting_id": sitting}, 403)
    assert "Item writer" in refused.get_json()["detail"]
    with get_db(app).read_sessions() as session:
        assert session.scalars(select(Attempt)).all() == []
        assert len(session.scalars(select(PreparedForm)).all()) == 3  # every form still kept


def test_an_option_id_spelt_as_before_still_saves(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    attempt = world.start("ana", sitting)
    question = attempt["questions"][0]
    key = hashlib.sha256(b"option-id:" + app.config["SECRET_KEY"].encode()).digest()
    shown_id = question["options"][0]["id"]
    slices = hmac.digest(key, f"{attempt['id']}:1".encode(), "sha512")
    letters = [
        letter
        for index, letter in enumerate("ABCDEF")
        if slices[8 * index : 8 * index + 8].hex() == shown_id
    ]
    assert len(letters) == 1  # the id the page shows: a slice of one keyed hash per question
    mac = hmac.digest(key, f"{attempt['id']}:1:{letters[0]}".encode(), "sha256")[:10]
    earlier = base64.b32encode(mac).decode().lower()  # one keyed hash per option, base32
    path = f"/attempts/{attempt['id']}/responses/1"
    world.call("PUT", path, "ana", {"selected": [earlier], "flagged": False}, 200)
    shown = world.call("GET", f"/attempts/{attempt['id']}", "ana", expect=200).get_json()
    assert shown["questions"][0]["selected"] == [shown_id]
