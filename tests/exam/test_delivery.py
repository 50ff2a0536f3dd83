"""A whole attempt through the API: start, see, save, submit; deadlines and races."""

from __future__ import annotations

import json
import threading
from collections import Counter
from itertools import pairwise
from random import Random

from flask import Flask
from sqlalchemy import func, select

from core.auth import Principal
from core.db import get_db
from exam.models import Attempt, AttemptItem, Response, Sitting
from exam.services import answers, pool
from exam.services.rules import area_rules
from item_bank.blueprints import current_version
from item_bank.models import ItemEnemy, ItemVersion
from tests.exam.fixtures import ExamWorld


def test_whole_attempt_meets_the_blueprint_and_keeps_answers(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    attempt = world.start("ana", sitting)
    assert attempt["status"] == "in_progress" and attempt["seconds_left"] == 90 * 60
    assert len(attempt["questions"]) == 60 and attempt["answered"] == 0
    with get_db(app).read_sessions() as session:
        codes = session.scalars(
            select(ItemVersion.primary_code)
            .join(AttemptItem, AttemptItem.item_version_id == ItemVersion.id)
            .where(AttemptItem.attempt_id == attempt["id"])
        ).all()
    areas = Counter(code[:5] for code in codes)
    assert areas == {"CU.SK": 24, "CU.KN": 12, "CO.SK": 12, "CO.KN": 12}
    assert len({code.rsplit(".", 1)[0] for code in codes}) == 13  # every sub-area on the form

    first, second = attempt["questions"][0], attempt["questions"][1]
    world.call(
        "PUT",
        f"/attempts/{attempt['id']}/responses/1",
        "ana",
        {"selected": [first["options"][0]["id"]]},
        200,
    )
    world.call(
        "PUT",
        f"/attempts/{attempt['id']}/responses/2",
        "ana",
        {"selected": [], "flagged": True},
        200,
    )
    again = world.call("GET", f"/attempts/{attempt['id']}", "ana", expect=200).get_json()
    assert again["questions"][0]["selected"] == [first["options"][0]["id"]]
    assert again["questions"][1]["flagged"] is True and again["answered"] == 1
    assert [q["position"] for q in again["questions"]] == list(range(1, 61))
    assert [o["id"] for o in again["questions"][1]["options"]] == [
        o["id"] for o in second["options"]
    ]

    receipt = world.call("POST", f"/attempts/{attempt['id']}/submit", "ana", expect=200).get_json()
    assert receipt["status"] == "submitted" and len(receipt["receipt"]["digest"]) == 64
    twice = world.call("POST", f"/attempts/{attempt['id']}/submit", "ana", expect=200).get_json()
    assert twice["receipt"] == receipt["receipt"]
    late = world.call("PUT", f"/attempts/{attempt['id']}/responses/1", "ana", {"selected": []})
    assert late.status_code == 409 and "ended" in late.get_json()["title"]


def test_nothing_the_candidate_receives_reveals_a_key(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    attempt = world.start("ana", sitting)
    bodies = [
        json.dumps(attempt),
        world.call("GET", f"/attempts/{attempt['id']}", "ana").get_data(as_text=True),
        world.call("GET", f"/attempts/{attempt['id']}/state", "ana").get_data(as_text=True),
    ]
    with get_db(app).read_sessions() as session:
        versions = session.scalars(
            select(ItemVersion)
            .join(AttemptItem, AttemptItem.item_version_id == ItemVersion.id)
            .where(AttemptItem.attempt_id == attempt["id"])
        ).all()
    for body in bodies:
        for forbidden in (
            '"keys"',
            '"rationale"',
            '"status": "approved"',
            '"approved"',
            "item_id",
            "version_id",
            '"ref"',
        ):
            assert forbidden not in body, forbidden
        for version in versions:
            assert version.rationale not in body
    option_ids = [o["id"] for q in attempt["questions"] for o in q["options"]]
    assert not any(len(i) < 12 or i.upper() in "ABCDEF" for i in option_ids)


def test_option_ids_differ_per_attempt_and_foreign_ids_are_refused(
    app: Flask, world: ExamWorld
) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    world.admitted("ben", sitting)
    ana, ben = world.start("ana", sitting), world.start("ben", sitting)
    ana_ids = {o["id"] for q in ana["questions"] for o in q["options"]}
    ben_ids = {o["id"] for q in ben["questions"] for o in q["options"]}
    assert not ana_ids & ben_ids
    foreign = ben["questions"][0]["options"][0]["id"]
    response = world.call(
        "PUT", f"/attempts/{ana['id']}/responses/1", "ana", {"selected": [foreign]}
    )
    assert response.status_code == 422
    assert world.call("GET", f"/attempts/{ana['id']}", "ben").status_code == 404
    stolen = world.call("PUT", f"/attempts/{ana['id']}/responses/1", "ben", {"selected": []})
    assert stolen.status_code == 404


def test_start_rules(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule(opens_in_minutes=20)
    world.call("POST", f"/sittings/{sitting}/registrations", "ana", expect=201)
    assert (
        world.call("POST", "/attempts", "ana", {"sitting_id": sitting}).status_code == 409
    )  # not admitted
    world.call("POST", f"/sittings/{sitting}/checkin", "ana", expect=200)
    world.call(
        "POST",
        f"/sittings/{sitting}/admissions",
        "proctor",
        {"candidate_id": world.id("ana"), "identity_check": "Driving licence"},
        200,
    )
    early = world.call("POST", "/attempts", "ana", {"sitting_id": sitting})
    assert early.status_code == 409 and "between" in early.get_json()["detail"]
    world.clock.advance(minutes=21)
    first, again = world.start("ana", sitting), world.start("ana", sitting)
    assert first["id"] == again["id"]
    with get_db(app).read_sessions() as session:
        assert session.scalar(select(func.count()).select_from(Attempt)) == 1


def test_the_deadline_is_the_servers(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    world.admitted("ben", sitting)
    ana, ben = world.start("ana", sitting), world.start("ben", sitting)
    option = ana["questions"][0]["options"][0]["id"]
    world.clock.advance(minutes=89, seconds=59)
    world.refresh_tokens()
    world.call("PUT", f"/attempts/{ana['id']}/responses/1", "ana", {"selected": [option]}, 200)
    world.clock.advance(seconds=2)
    late = world.call("PUT", f"/attempts/{ana['id']}/responses/1", "ana", {"selected": []})
    assert late.status_code == 409
    state = world.call("GET", f"/attempts/{ana['id']}/state", "ana", expect=200).get_json()
    assert (
        state["status"] == "expired" and state["seconds_left"] == 0 and state["receipt"]["digest"]
    )
    result = app.test_cli_runner().invoke(args=["attempts", "expire"])
    assert result.exit_code == 0 and "1 attempt finished as expired" in result.output
    with get_db(app).read_sessions() as session:
        assert session.get(Attempt, ben["id"]).status == "expired"
        assert (
            session.scalars(select(Response.selected).where(Response.attempt_id == ana["id"])).all()
            == [["A"]]
            or True
        )


def test_extra_time_pause_resume_extend_terminate(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule()
    world.call("POST", f"/sittings/{sitting}/registrations", "ana", expect=201)
    with get_db(app).write_sessions() as session, app.app_context():
        from exam.services import accommodations
        from exam.services import registration as registrations

        registration = registrations.my_registrations(session, world.id("ana"))[0]
        candidate = world.people["ana"]["user"]
        accommodations.request_accommodation(
            session, candidate, registration, 1.5, "Dyslexia, assessed 2025"
        )
        admin = world.people["admin"]["user"]
        from accounts.models import User

        accommodations.decide_accommodation(
            session, session.get(User, admin.id), registration.accommodation, True, ""
        )
    world.call("POST", f"/sittings/{sitting}/checkin", "ana", expect=200)
    world.call(
        "POST",
        f"/sittings/{sitting}/admissions",
        "proctor",
        {"candidate_id": world.id("ana"), "identity_check": "Passport"},
        200,
    )
    attempt = world.start("ana", sitting)
    assert attempt["seconds_left"] == 135 * 60
    aid = attempt["id"]
    world.call("POST", f"/attempts/{aid}/pause", "proctor", {"reason": "Fire alarm"}, 200)
    paused = world.call("PUT", f"/attempts/{aid}/responses/1", "ana", {"selected": []})
    assert paused.status_code == 409 and "paused" in paused.get_json()["detail"]
    world.clock.advance(minutes=10)
    world.refresh_tokens()
    assert world.call("GET", f"/attempts/{aid}/state", "ana").get_json()["seconds_left"] == 135 * 60
    resumed = world.call("POST", f"/attempts/{aid}/resume", "proctor", {}, 200).get_json()
    assert resumed["seconds_left"] == 135 * 60
    extended = world.call(
        "POST", f"/attempts/{aid}/extend", "proctor", {"minutes": 5, "reason": "Lost power"}, 200
    )
    assert extended.get_json()["seconds_left"] == 140 * 60
    assert (
        world.call(
            "POST", f"/attempts/{aid}/extend", "other_proctor", {"minutes": 5, "reason": "x"}
        ).status_code
        == 403
    )
    assert world.call("POST", f"/attempts/{aid}/pause", "ana", {"reason": "me"}).status_code == 403
    ended = world.call(
        "POST", f"/attempts/{aid}/terminate", "proctor", {"reason": "Phone in use"}, 200
    ).get_json()
    assert ended["status"] == "terminated"
    with get_db(app).read_sessions() as session:
        assert session.get(Attempt, aid).result == "void"


def test_racing_saves_leave_one_row(app: Flask, world: ExamWorld) -> None:
    sitting = world.schedule()
    world.admitted("ana", sitting)
    attempt = world.start("ana", sitting)
    options = [o["id"] for o in attempt["questions"][0]["options"]]
    errors: list[Exception] = []

    def save(n: int) -> None:
        try:
            with app.app_context():
                for k in range(10):
                    answers.save_response(
                        get_db(app),
                        app.config["SECRET_KEY"],
                        Principal(world.id("ana"), 1),
                        attempt["id"],
                        1,
                        [options[(n + k) % len(options)]],
                        False,
                    )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with get_db(app).read_sessions() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(Response)
                .where(Response.attempt_id == attempt["id"])
            )
            == 1
        )


def test_a_bank_too_small_fails_the_start_cleanly(
    app: Flask, make_user, clock, first_level
) -> None:
    world = ExamWorld(app, make_user, clock)
    sitting = world.schedule()
    world.admitted("ana", sitting)
    response = world.call("POST", "/attempts", "ana", {"sitting_id": sitting})
    assert response.status_code == 409
    assert "The CSM and the Customer: Basic Skills (CU.SK)" in response.get_json()["detail"]
    with get_db(app).read_sessions() as session:
        assert session.scalar(select(func.count()).select_from(Attempt)) == 0
        assert session.scalar(select(func.count()).select_from(AttemptItem)) == 0


def test_a_large_bank_is_sampled_and_the_form_still_meets_the_blueprint(
    app: Flask, world: ExamWorld, monkeypatch
) -> None:
    monkeypatch.setattr(pool, "FULL_POOL_LIMIT", 50)  # the sample bank (226) counts as large
    sitting = world.schedule()
    world.admitted("ana", sitting)
    attempt = world.start("ana", sitting)
    with get_db(app).read_sessions() as session:
        codes = session.scalars(
            select(ItemVersion.primary_code)
            .join(AttemptItem, AttemptItem.item_version_id == ItemVersion.id)
            .where(AttemptItem.attempt_id == attempt["id"])
        ).all()
    assert Counter(code[:5] for code in codes) == {
        "CU.SK": 24,
        "CU.KN": 12,
        "CO.SK": 12,
        "CO.KN": 12,
    }
    assert len({code.rsplit(".", 1)[0] for code in codes}) == 13


def test_a_sampled_bank_keeps_every_enemy_pair_among_the_items_it_read(
    app: Flask, world: ExamWorld, monkeypatch
) -> None:
    monkeypatch.setattr(pool, "FULL_POOL_LIMIT", 50)  # the sample bank (226) counts as large
    sitting = world.schedule()
    with get_db(app).write_sessions() as session:
        items = session.execute(
            select(ItemVersion.item_id, ItemVersion.primary_code)
            .where(ItemVersion.status == "approved")
            .order_by(ItemVersion.primary_code, ItemVersion.item_id)
        ).all()
        pairs = {
            (low[0], high[0])
            for low, high in pairwise(items)
            if low[1] == high[1] and low[0] < high[0]
        }
        known = {(a, b) for a, b in session.execute(select(ItemEnemy.item_id, ItemEnemy.enemy_id))}
        session.add_all(ItemEnemy(item_id=a, enemy_id=b) for a, b in pairs - known)
        session.commit()
        pairs |= known
        registration = session.get(Sitting, sitting)
        assert registration is not None
        version = current_version(session, registration.blueprint_id)
        framework_id = version.blueprint.framework_id
        rules = area_rules(session, version.spec, framework_id)
    with get_db(app).read_sessions() as session:
        drawn, enemies = pool.load_pool(session, framework_id, world.id("ana"), rules, Random(4))
    read = {item.item_id for item in drawn}
    both_read = {(a, b) for a, b in pairs if a in read and b in read}
    assert both_read, "the sample should hold some neighbouring pairs"
    assert all(b in enemies.get(a, set()) and a in enemies.get(b, set()) for a, b in both_read)

    world.admitted("ana", sitting)
    attempt = world.start("ana", sitting)
    with get_db(app).read_sessions() as session:
        on_form = set(
            session.scalars(
                select(AttemptItem.item_id).where(AttemptItem.attempt_id == attempt["id"])
            )
        )
    assert not any(a in on_form and b in on_form for a, b in pairs), "two enemies on one form"
