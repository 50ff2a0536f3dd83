"""Forms drawn at admission: the candidate gets the form drawn for them, exposure is counted
once, and a blueprint or bank change between the drawing and the start is handled and
explained; starts spread over minutes are enforced by the server."""

from __future__ import annotations

import threading
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select

from accounts.models import User
from core.audit import AuditEvent
from core.db import get_db
from exam.models import (
    Attempt,
    AttemptEvent,
    AttemptItem,
    ItemExposure,
    PreparedForm,
    Registration,
    Sitting,
)
from item_bank.blueprints import require_blueprint, revise_blueprint
from item_bank.models import Item
from item_bank.services.workflow import take_step
from tests.conftest import csrf_from, sign_in
from tests.exam.fixtures import ExamWorld
from tests.exam.fixtures import world as world  # the fixture


def _prepared(app: Flask, who_id: int) -> PreparedForm:
    with get_db(app).read_sessions() as session:
        registration = session.scalars(
            select(Registration).where(Registration.candidate_id == who_id)
        ).one()
        return session.scalars(
            select(PreparedForm).where(PreparedForm.registration_id == registration.id)
        ).one()


def _form_of(app: Flask, attempt_id: int) -> list[list[object]]:
    with get_db(app).read_sessions() as session:
        rows = session.scalars(
            select(AttemptItem)
            .where(AttemptItem.attempt_id == attempt_id)
            .order_by(AttemptItem.position)
        ).all()
        return [[row.item_id, row.item_version_id, row.option_order] for row in rows]


def _exposure(app: Flask) -> dict[int, int]:
    with get_db(app).read_sessions() as session:
        return {row.item_id: row.forms for row in session.scalars(select(ItemExposure))}


def _events(app: Flask, attempt_id: int) -> list[AttemptEvent]:
    with get_db(app).read_sessions() as session:
        return list(
            session.scalars(select(AttemptEvent).where(AttemptEvent.attempt_id == attempt_id))
        )


def test_the_form_drawn_at_admission_is_the_one_the_candidate_gets(
    app: Flask, world: ExamWorld
) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    prepared = _prepared(app, world.id("ana"))
    assert prepared.ready and len(prepared.items) == 60
    # Exposure is counted when the form is drawn, once per item.
    assert _exposure(app) == {item_id: 1 for item_id, _, _ in prepared.items}

    attempt = world.start("ana", sitting)
    assert _form_of(app, attempt["id"]) == prepared.items
    assert _exposure(app) == {item_id: 1 for item_id, _, _ in prepared.items}  # not twice
    assert _events(app, attempt["id"]) == []
    with get_db(app).read_sessions() as session:
        assert session.scalar(select(func.count()).select_from(PreparedForm)) == 0
        started = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "attempt.started")
        ).one()
        assert started.after["drawn"] == "at admission"


def test_exposure_counts_every_form_drawn_ahead(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule()
    for who in ("ana", "ben", "cy"):
        world.admitted(who, sitting)
    forms = [_prepared(app, world.id(who)).items for who in ("ana", "ben", "cy")]
    exposure = _exposure(app)
    for items in forms:
        for item_id, _, _ in items:
            assert exposure[item_id] == sum(item_id in {row[0] for row in other} for other in forms)


def test_a_new_blueprint_version_after_the_drawing_draws_again_and_says_why(
    app: Flask, world: ExamWorld
) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    old = _prepared(app, world.id("ana"))
    with app.app_context(), get_db(app).write_sessions() as session:
        admin = session.get(User, world.id("admin"))
        blueprint = require_blueprint(session, "first-level")
        revise_blueprint(session, admin, blueprint, {"time_limit_minutes": 100}, "Longer")
        session.commit()

    attempt = world.start("ana", sitting)
    with get_db(app).read_sessions() as session:
        stored = session.get(Attempt, attempt["id"])
        assert stored is not None and stored.time_limit_seconds == 100 * 60
        let_go = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "prepared_form.let_go")
        ).one()
        assert "blueprint changed" in let_go.after["why"]
    (event,) = _events(app, attempt["id"])
    assert event.kind == "drawn_at_start" and "blueprint changed" in event.detail["why"]
    # The old form's exposure was given back; the new form's counted once.
    new = _form_of(app, attempt["id"])
    exposure = _exposure(app)
    assert all(exposure[item_id] == 1 for item_id, _, _ in new)
    only_old = {row[0] for row in old.items} - {row[0] for row in new}
    assert all(exposure.get(item_id, 0) == 0 for item_id in only_old)


def test_an_item_retired_after_the_drawing_is_not_given(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    retired_id = _prepared(app, world.id("ana")).items[0][0]
    with app.app_context(), get_db(app).write_sessions() as session:
        admin = session.get(User, world.id("admin"))  # an exam administrator may retire
        take_step(session, admin, session.get(Item, retired_id), "retire", "Key disputed")
        session.commit()

    attempt = world.start("ana", sitting)
    assert retired_id not in {row[0] for row in _form_of(app, attempt["id"])}
    (event,) = _events(app, attempt["id"])
    assert "retired or replaced" in event.detail["why"]


def test_turning_away_an_admitted_candidate_gives_the_exposure_back(
    app: Flask, world: ExamWorld
) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    assert set(_exposure(app).values()) == {1}
    world.call(
        "POST",
        f"/sittings/{sitting}/admissions",
        "proctor",
        {"candidate_id": world.id("ana"), "decision": "turn_away", "reason": "no_show"},
        200,
    )
    assert set(_exposure(app).values()) == {0}
    with get_db(app).read_sessions() as session:
        assert session.scalar(select(func.count()).select_from(PreparedForm)) == 0


def test_racing_starts_on_a_drawn_form_make_one_attempt(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    prepared = _prepared(app, world.id("ana"))
    barrier, ids, statuses = threading.Barrier(4), [], []

    def start() -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(
            "/api/v1/attempts", json={"sitting_id": sitting}, headers=world.headers("ana")
        )
        statuses.append(response.status_code)
        ids.append(response.get_json().get("id"))

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(statuses) <= {200, 201} and len(set(ids)) == 1
    with get_db(app).read_sessions() as session:
        assert session.scalar(select(func.count()).select_from(Attempt)) == 1
        assert session.scalar(select(func.count()).select_from(AttemptItem)) == 60
    assert _form_of(app, ids[0]) == prepared.items
    assert set(_exposure(app).values()) == {1}


def test_spread_starts_give_each_candidate_a_time_the_server_keeps(
    app: Flask, world: ExamWorld
) -> None:
    sitting = world.schedule(capacity=10)
    with get_db(app).write_sessions() as session:
        row = session.get(Sitting, sitting)
        assert row is not None
        row.start_spread_minutes = 10  # ten places over ten minutes: one a minute
        session.commit()
    world.admitted("ana", sitting)
    world.admitted("ben", sitting)
    with get_db(app).read_sessions() as session:
        opens = session.get(Sitting, sitting).opens_at  # type: ignore[union-attr]
        slots = {r.candidate_id: r.start_not_before for r in session.scalars(select(Registration))}
    assert slots[world.id("ana")] == opens
    assert slots[world.id("ben")] == opens + timedelta(minutes=1)

    world.start("ana", sitting)
    early = world.call("POST", "/attempts", "ben", {"sitting_id": sitting})
    assert early.status_code == 409
    assert "you can start from" in early.get_json()["detail"]
    assert early.get_json()["start_not_before"] == slots[world.id("ben")].isoformat()
    world.clock.advance(seconds=61)
    assert world.start("ben", sitting)["id"]


def test_the_proctor_sees_whose_form_is_drawn_and_why_not(
    app: Flask, make_user, clock, first_level
) -> None:
    world = ExamWorld(app, make_user, clock)  # a framework without items: nothing to draw
    sitting = world.schedule()
    world.admitted("ana", sitting)
    client = app.test_client()
    sign_in(client, world.people["proctor"]["user"].email)
    page = " ".join(client.get(f"/proctor/sittings/{sitting}").get_data(as_text=True).split())
    assert "Form to be drawn at start: The CSM and the Customer: Basic Skills (CU.SK)" in page
    roster = client.get(f"/proctor/sittings/{sitting}/roster.json").get_json()
    assert roster["rows"][0]["form"].startswith("Form to be drawn at start: The CSM")


def test_the_console_says_a_form_is_ready(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    client = app.test_client()
    sign_in(client, world.people["proctor"]["user"].email)
    assert "Form ready" in client.get(f"/proctor/sittings/{sitting}").get_data(as_text=True)


def test_the_candidate_reads_their_start_time_and_staff_set_the_spread(
    app: Flask, world: ExamWorld
) -> None:
    body = {
        "blueprint": "first-level",
        "title": "Big sitting",
        "opens_at": world.clock.now().isoformat(),
        "closes_at": (world.clock.now() + timedelta(hours=3)).isoformat(),
        "capacity": 2,
        "mode": "online",
        "proctor_ids": [world.id("proctor")],
        "start_spread_minutes": 4,
    }
    sitting = world.call("POST", "/sittings", "admin", body, 201).get_json()
    assert sitting["start_spread_minutes"] == 4
    refused = world.call("POST", "/sittings", "admin", {**body, "start_spread_minutes": 500})
    assert refused.status_code == 422 and "start_spread_minutes" in str(refused.get_json())
    world.admitted("ana", sitting["id"])
    world.admitted("ben", sitting["id"])
    client = app.test_client()
    sign_in(client, world.people["ben"]["user"].email)
    page = " ".join(client.get("/exams").get_data(as_text=True).split())
    assert "Your start time is" in page and "Start works from then." in page
    world.clock.advance(minutes=2, seconds=1)
    page = " ".join(client.get("/exams").get_data(as_text=True).split())
    assert "Your start time is" not in page


def test_cancelling_after_admission_gives_the_exposure_back(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    world.admitted("ben", sitting)
    assert _exposure(app) and max(_exposure(app).values()) >= 1
    ana = app.test_client()
    sign_in(ana, world.people["ana"]["user"].email)
    with get_db(app).read_sessions() as session:
        mine = session.scalars(
            select(Registration).where(Registration.candidate_id == world.id("ana"))
        ).one()
    page = ana.get("/exams").get_data(as_text=True)
    ana.post(f"/exams/{mine.id}/cancel", data={"csrf_token": csrf_from(page)})
    ben_form = {item_id for item_id, _, _ in _prepared(app, world.id("ben")).items}
    assert {i for i, n in _exposure(app).items() if n} == ben_form  # Ana's form given back

    admin = app.test_client()
    sign_in(admin, world.people["admin"]["user"].email)
    page = admin.get(f"/staff/sittings/{sitting}/edit").get_data(as_text=True)
    admin.post(
        f"/staff/sittings/{sitting}/cancel",
        data={"csrf_token": csrf_from(page), "reason": "The venue flooded."},
    )
    assert set(_exposure(app).values()) == {0}
    with get_db(app).read_sessions() as session:
        assert session.scalar(select(func.count()).select_from(PreparedForm)) == 0
