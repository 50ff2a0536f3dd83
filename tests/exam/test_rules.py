"""Exam rules end to end: eligibility, repeat attempts, exposure, racing submits, key safety."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

from flask import Flask
from sqlalchemy import select, update

from accounts.models import User
from core.audit import AuditEvent
from core.db import get_db
from exam.models import Attempt, AttemptItem, ItemExposure
from exam.services import delivery
from item_bank.models import ItemEnemy, ItemVersion
from tests.conftest import sign_in
from tests.exam.fixtures import ExamWorld


def _items(app: Flask, attempt_id: int) -> set[int]:
    with get_db(app).read_sessions() as session:
        return set(
            session.scalars(select(AttemptItem.item_id).where(AttemptItem.attempt_id == attempt_id))
        )


def _finish_as(app: Flask, attempt_id: int, result: str, when) -> None:
    with get_db(app).write_sessions() as session:
        session.execute(
            update(Attempt)
            .where(Attempt.id == attempt_id)
            .values(status="submitted", result=result, finished_at=when)
        )
        session.commit()


def test_a_second_attempt_avoids_items_already_seen_while_the_bank_allows(
    app: Flask, world: ExamWorld
) -> None:
    first_sitting = world.schedule()
    world.admitted("ana", first_sitting)
    first = world.start("ana", first_sitting)
    world.call("POST", f"/attempts/{first['id']}/submit", "ana", expect=200)
    _finish_as(app, first["id"], "pass", world.clock.now())
    second_sitting = world.schedule()
    world.admitted("ana", second_sitting)
    second = world.start("ana", second_sitting)
    seen, drawn = _items(app, first["id"]), _items(app, second["id"])
    with get_db(app).read_sessions() as session:
        approved = session.execute(
            select(ItemVersion.item_id, ItemVersion.primary_code).where(
                ItemVersion.status == "approved"
            )
        ).all()
        exposure = dict(session.execute(select(ItemExposure.item_id, ItemExposure.forms)).all())
        pairs = session.execute(select(ItemEnemy.item_id, ItemEnemy.enemy_id)).all()
    # An unseen item may stay unused only when an item on the form is its enemy.
    blocked = {b for a, b in pairs if a in drawn} | {a for a, b in pairs if b in drawn}
    subarea = {item_id: code.rsplit(".", 1)[0] for item_id, code in approved}
    for sub in set(subarea.values()):
        reused = {i for i in drawn & seen if subarea[i] == sub}
        unused_unseen = {
            i for i, s in subarea.items() if s == sub and i not in seen | drawn | blocked
        }
        assert not (reused and unused_unseen), (
            f"{sub}: reused seen items while unseen ones were left"
        )
    assert len(drawn - seen) > 40
    assert all(exposure[i] == (2 if i in seen and i in drawn else 1) for i in seen | drawn)


def test_eligibility_explains_every_refusal(app: Flask, world: ExamWorld) -> None:
    full = world.schedule(capacity=1)
    world.call("POST", f"/sittings/{full}/registrations", "ana", expect=201)
    refused = world.call("POST", f"/sittings/{full}/registrations", "ben").get_json()
    assert refused["status"] == 409 and "The sitting is full." in refused["reasons"]
    again = world.call("POST", f"/sittings/{full}/registrations", "ana").get_json()
    assert "already registered for this sitting" in again["detail"]
    other = world.schedule()
    busy = world.call("POST", f"/sittings/{other}/registrations", "ana").get_json()
    assert "already registered for “First Level, November”" in busy["detail"]


def test_retake_wait_and_the_attempts_cap(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    attempt = world.start("ana", sitting)
    _finish_as(app, attempt["id"], "fail", world.clock.now())
    soon = world.schedule(opens_in_minutes=60 * 24 * 7)
    refused = world.call("POST", f"/sittings/{soon}/registrations", "ana").get_json()
    assert "After a fail you wait 14 days" in refused["detail"]
    later = world.schedule(opens_in_minutes=60 * 24 * 15)
    world.call("POST", f"/sittings/{later}/registrations", "ana", expect=201)
    past_sittings = [world.schedule(), world.schedule()]
    with get_db(app).write_sessions() as session:  # two more attempts earlier this year
        from exam.models import Registration

        session.execute(
            update(Registration)
            .where(Registration.candidate_id == world.id("ana"))
            .values(status="cancelled")
        )
        row = session.get(Attempt, attempt["id"])
        for days, past in zip((100, 200), past_sittings, strict=True):
            registration = Registration(
                sitting_id=past,
                candidate_id=world.id("ana"),
                status="started",
                registered_at=world.clock.now(),
            )
            session.add(registration)
            session.flush()
            clone = Attempt(
                **{
                    c.name: getattr(row, c.name)
                    for c in Attempt.__table__.columns
                    if c.name != "id"
                }
            )
            clone.id = clone.registration_id = registration.id  # an attempt takes its id
            clone.sitting_id = past
            clone.started_at = world.clock.now() - timedelta(days=days)
            session.add(clone)
        session.commit()
    capped = world.schedule(opens_in_minutes=60 * 24 * 20)
    message = world.call("POST", f"/sittings/{capped}/registrations", "ana").get_json()["detail"]
    assert "You have used 3 of the 3 attempts allowed in 12 months" in message


def test_two_tabs_submitting_at_once_give_one_outcome(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    attempt = world.start("ana", sitting)
    digests: list[str] = []

    def submit() -> None:
        with app.app_context(), get_db(app).write_sessions() as session:
            ana = session.get(User, world.id("ana"))
            digests.append(delivery.submit(session, ana, attempt["id"]).receipt_digest)

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(digests)) == 1 and len(digests) == 4
    with get_db(app).read_sessions() as session:
        submitted = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "attempt.submitted")
        ).all()
    assert len(submitted) == 1


def test_no_candidate_page_carries_a_key_or_a_rationale(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    attempt = world.start("ana", sitting)
    client = app.test_client()
    sign_in(client, world.people["ana"]["user"].email)
    pages = [
        client.get(f"/exams/attempts/{attempt['id']}/q/{n}").get_data(as_text=True)
        for n in range(1, 61)
    ]
    pages += [
        client.get(f"/exams/attempts/{attempt['id']}/review").get_data(as_text=True),
        client.get(f"/exams/attempts/{attempt['id']}/state").get_data(as_text=True),
        client.get("/exams").get_data(as_text=True),
    ]
    with get_db(app).read_sessions() as session:
        versions = session.scalars(
            select(ItemVersion)
            .join(AttemptItem, AttemptItem.item_version_id == ItemVersion.id)
            .where(AttemptItem.attempt_id == attempt["id"])
        ).all()
        hidden = [(v.rationale[:60], v.item.ref) for v in versions]
    for page in pages:
        for rationale, ref in hidden:
            assert rationale not in page and ref not in page
        # No review status or key field, in markup or JSON (the words may occur in item text).
        assert not re.search(
            r'status-(approved|in_review|superseded)|"(keys|rationale|references)"', page
        )
    values = {v for page in pages for v in re.findall(r'name="answer"[^>]*value="([^"]+)"', page)}
    assert values and all(re.fullmatch(r"[0-9a-f]{16}", v) for v in values)


def test_a_turned_away_or_started_registration_is_not_reset_by_registering_again(
    app: Flask, world: ExamWorld
) -> None:
    sitting = world.schedule()
    world.call("POST", f"/sittings/{sitting}/registrations", "ana", expect=201)
    world.call("POST", f"/sittings/{sitting}/checkin", "ana", expect=200)
    world.call(
        "POST",
        f"/sittings/{sitting}/admissions",
        "proctor",
        {"candidate_id": world.id("ana"), "decision": "turn_away", "reason": "identity_mismatch"},
        200,
    )
    again = world.call("POST", f"/sittings/{sitting}/registrations", "ana")
    assert again.status_code == 409
    world.call("POST", f"/sittings/{sitting}/registrations", "ben", expect=201)
    client = app.test_client()
    sign_in(client, world.people["ben"]["user"].email)
    page = client.get("/exams").get_data(as_text=True)
    registration = re.search(r"/exams/(\d+)/cancel", page).group(1)
    from tests.conftest import post_form

    post_form(client, "/exams", f"/exams/{registration}/cancel", {})
    world.call(
        "POST", f"/sittings/{sitting}/registrations", "ben", expect=201
    )  # a cancelled place can be taken again


def test_odd_staff_input_is_a_4xx(app: Flask, world: ExamWorld) -> None:
    from tests.conftest import post_form

    admin = app.test_client()
    sign_in(admin, world.people["admin"]["user"].email)
    huge = post_form(
        admin,
        "/staff/accommodations",
        "/staff/accommodations",
        {"accommodation_id": str(2**70), "decision": "approve"},
    )
    assert huge.status_code == 404
    body = {
        "blueprint": "first-level",
        "title": "Ancient",
        "opens_at": "0001-01-01T00:00:00+01:00",
        "closes_at": "0001-01-01T03:00:00+01:00",
        "capacity": 5,
        "mode": "online",
        "proctor_ids": [2**70],
    }
    assert world.call("POST", "/sittings", "admin", body).status_code == 422


def test_event_reports_are_rate_limited(app: Flask, world: ExamWorld) -> None:
    from tests.conftest import csrf_from

    sitting = world.schedule()
    world.admitted("ana", sitting)
    attempt = world.start("ana", sitting)
    client = app.test_client()
    sign_in(client, world.people["ana"]["user"].email)
    token = csrf_from(client.get(f"/exams/attempts/{attempt['id']}/q/1").get_data(as_text=True))
    statuses = [
        client.post(
            f"/exams/attempts/{attempt['id']}/events",
            json={"kind": "window_blur"},
            headers={"X-CSRFToken": token},
        ).status_code
        for _ in range(121)
    ]
    assert statuses[:120] == [204] * 120 and statuses[120] == 429
