"""Pretest items: on trial, seeded unscored into forms where candidates cannot tell them
apart, left out of every result, analysed, then promoted or dropped by an exam admin."""

from __future__ import annotations

import json
import random

import pytest
from flask import Flask
from sqlalchemy import select

from accounts.models import User
from core.audit import AuditEvent
from core.db import get_db
from core.errors import Problem
from exam.models import AttemptItem, AttemptResult
from exam.psychometrics.models import PretestItem
from exam.services.assembly import PoolItem
from exam.services.option_ids import option_id
from exam.services.pool import load_pool
from exam.services.pretest import seed_pretest
from exam.services.statistics import exam_statistics
from item_bank.blueprints import require_blueprint, revise_blueprint
from item_bank.models import Item, ItemStatus, ItemVersion
from tests.conftest import csrf_from, sign_in
from tests.exam.fixtures import ExamWorld, form_slots, sit
from tests.exam.fixtures import world as world  # the fixture


def test_pretest_items_land_at_random_places_apart_from_their_enemies() -> None:
    slots = [(i, 1000 + i, ("A", "B", "C", "D")) for i in range(1, 61)]
    pool = [PoolItem(100 + n, 2000 + n, "CU.SK.X.01", 4, exposure=n) for n in range(8)]
    enemies = {100: {5}, 5: {100}, 101: {102}, 102: {101}}
    places = set()
    for seed in range(30):
        seeded, positions = seed_pretest(slots, pool, 3, enemies, random.Random(seed))
        assert len(seeded) == 63 and len(positions) == 3
        trial = {seeded[p - 1][0] for p in positions}
        assert trial <= {p.item_id for p in pool} and 100 not in trial  # enemy of item 5
        assert not {101, 102} <= trial
        assert [s for n, s in enumerate(seeded, 1) if n not in positions] == slots
        places |= positions
    assert len(places) > 30  # not the same places every time
    assert seed_pretest(slots, pool, 3, enemies, random.Random(4)) == seed_pretest(
        slots, pool, 3, enemies, random.Random(4)
    )
    few, positions = seed_pretest(slots, pool[:1], 3, {}, random.Random(1))
    assert len(few) == 61 and len(positions) == 1  # a short pool: fewer, never a failed draw


def _trial_refs(app: Flask, count: int) -> list[str]:
    with get_db(app).read_sessions() as session:
        return list(
            session.scalars(
                select(Item.ref)
                .join(ItemVersion, ItemVersion.item_id == Item.id)
                .where(
                    ItemVersion.status == ItemStatus.APPROVED,
                    ItemVersion.stimulus_version_id.is_(None),
                )
                .order_by(Item.ref)
                .limit(count)
            )
        )


def _admin(app: Flask, world: ExamWorld):
    client = app.test_client()
    sign_in(client, world.people["admin"]["user"].email)
    return client


def _on_pretest(app: Flask, world: ExamWorld, refs: list[str], per_form: int) -> None:
    admin = _admin(app, world)
    token = csrf_from(admin.get("/staff/pretest").get_data(as_text=True))
    for ref in refs:
        done = admin.post("/staff/pretest", data={"csrf_token": token, "blueprint": "first-level",
                                                  "ref": ref, "note": "New for 2027"})  # fmt: skip
        assert done.status_code == 303, done.get_data(as_text=True)
    with app.app_context(), get_db(app).write_sessions() as session:
        actor = session.get(User, world.id("admin"))
        blueprint = require_blueprint(session, "first-level")
        revise_blueprint(session, actor, blueprint, {"pretest_items": per_form}, "Try items out")
        session.commit()


def _questions_said(app: Flask, world: ExamWorld, who: str) -> str:
    client = app.test_client()
    sign_in(client, world.people[who]["user"].email)
    page = client.get("/exams").get_data(as_text=True)
    return page.split("<dt>Questions</dt><dd>", 1)[1].split(",", 1)[0]


def test_my_exams_counts_the_trial_questions_the_candidate_will_meet(
    app: Flask, world: ExamWorld
) -> None:
    refs = _trial_refs(app, 5)
    sitting = world.schedule()
    world.call("POST", f"/sittings/{sitting}/registrations", "ana", expect=201)
    assert _questions_said(app, world, "ana") == "60"
    _on_pretest(app, world, refs[:1], per_form=3)
    assert _questions_said(app, world, "ana") == "61"  # only one question is on trial
    _on_pretest(app, world, refs[1:], per_form=3)
    assert _questions_said(app, world, "ana") == "63"
    world.admitted("ben", sitting)  # the form is drawn at admission: its own length
    assert _questions_said(app, world, "ben") == "63"
    attempt = world.start("ben", sitting)
    assert len(attempt["questions"]) == 63
    assert _questions_said(app, world, "ben") == "63"


def test_candidates_cannot_tell_pretest_items_apart_and_they_never_count(
    app: Flask, world: ExamWorld
) -> None:
    refs = _trial_refs(app, 5)
    _on_pretest(app, world, refs, per_form=3)
    attempt = sit(world)
    assert len(attempt["questions"]) == 63
    with get_db(app).read_sessions() as session:
        rows = session.execute(
            select(AttemptItem.position, AttemptItem.pretest, Item.ref)
            .join(Item, Item.id == AttemptItem.item_id)
            .where(AttemptItem.attempt_id == attempt["id"])
        ).all()
    trial = {position for position, pretest, _ in rows if pretest}
    assert len(trial) == 3 and {ref for _, pretest, ref in rows if pretest} <= set(refs)
    assert not {ref for _, pretest, ref in rows if not pretest} & set(refs)  # never scored
    # The same shape for every question, and no word of trial anywhere the browser gets.
    shapes = {tuple(sorted(q)) for q in attempt["questions"]}
    assert len(shapes) == 1
    assert "pretest" not in json.dumps(attempt).lower()
    candidate = app.test_client()
    sign_in(candidate, world.people["ana"]["user"].email)
    for path in (f"/exams/attempts/{attempt['id']}", "/exams"):
        assert "pretest" not in candidate.get(path).get_data(as_text=True).lower()

    # Every counted question right, every pretest one wrong: a full score.
    secret = app.config["SECRET_KEY"]
    for slot in form_slots(app, attempt["id"]):
        wrong = [next(letter for letter in slot.order if letter not in slot.keys)]
        letters = wrong if slot.position in trial else slot.keys
        ids = [option_id(secret, attempt["id"], slot.position, letter) for letter in letters]
        world.call("PUT", f"/attempts/{attempt['id']}/responses/{slot.position}", "ana",
                   {"selected": ids}, 200)  # fmt: skip
    world.call("POST", f"/attempts/{attempt['id']}/submit", "ana", expect=200)
    result = world.call("GET", f"/attempts/{attempt['id']}/result", "ana", expect=200).get_json()
    assert (result["result"], result["percent"], result["max_score"]) == ("pass", 100.0, 60)
    with get_db(app).read_sessions() as session:
        stored = session.get(AttemptResult, attempt["id"])
        assert stored is not None and sum(area["max"] for area in stored.areas) == 60
        assert len(stored.item_scores) == 63  # the pretest answers kept for statistics
        assert all(stored.item_scores[str(p)] == 0 for p in trial)
    assert "pretest" not in json.dumps(result).lower()

    # Their answers are analysed: the statistics hold them, marked.
    with get_db(app).read_sessions() as session:
        stats = exam_statistics(session, "first-level")
    marked = {item.ref for item in stats.items if item.pretest}
    assert len(marked) == 3 and marked <= set(refs)
    assert all(item.p_value == 0 for item in stats.items if item.pretest)
    page = _admin(app, world).get("/staff/pretest").get_data(as_text=True)
    assert "The blueprint seeds <strong>3</strong> pretest items" in page
    assert all(ref in page for ref in refs)


def test_promoting_asks_first_is_audited_and_makes_the_item_scored(
    app: Flask, world: ExamWorld
) -> None:
    first, second = _trial_refs(app, 2)
    _on_pretest(app, world, [first, second], per_form=1)
    with get_db(app).read_sessions() as session:
        item_id = session.scalars(select(Item.id).where(Item.ref == first)).one()
        dropped_id = session.scalars(select(Item.id).where(Item.ref == second)).one()
    admin = _admin(app, world)
    token = csrf_from(admin.get("/staff/pretest").get_data(as_text=True))
    url = f"/staff/pretest/{item_id}/promote"
    body = {"csrf_token": token, "blueprint": "first-level", "note": "p 0.62, r 0.31"}
    asked = admin.post(url, data=body)
    text = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "What follows when you confirm" in text
    assert "drawn as a scored item" in text and 'name="confirmed" value="yes"' in text
    with get_db(app).read_sessions() as session:
        assert session.get(PretestItem, item_id).status == "pretest"  # nothing yet
    done = admin.post(url, data={**body, "confirmed": "yes"})
    assert done.status_code == 303
    drop = {"csrf_token": token, "blueprint": "first-level", "note": "r below 0.1",
            "confirmed": "yes"}  # fmt: skip
    assert admin.post(f"/staff/pretest/{dropped_id}/drop", data=drop).status_code == 303
    with get_db(app).read_sessions() as session:
        assert session.get(PretestItem, item_id).status == "promoted"
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "pretest.promoted")
        ).one()
        assert event.actor_id == world.id("admin") and event.before == {"status": "pretest"}
        framework_id = require_blueprint(session, "first-level").framework_id
        pool, _ = load_pool(session, framework_id, world.id("ana"))
        drawable = {item.item_id for item in pool}
    assert item_id in drawable and dropped_id not in drawable
    again = admin.post(url, data={**body, "confirmed": "yes"}, follow_redirects=True)
    assert "was promoted already" in again.get_data(as_text=True)


def test_only_an_exam_admin_and_only_a_real_approved_item(app: Flask, world: ExamWorld) -> None:
    admin = _admin(app, world)
    token = csrf_from(admin.get("/staff/pretest").get_data(as_text=True))
    missing = admin.post("/staff/pretest", data={"csrf_token": token, "ref": "NO-SUCH-REF"})
    assert missing.status_code == 422
    assert "No item with this reference." in missing.get_data(as_text=True)
    (ref,) = _trial_refs(app, 1)
    assert admin.post("/staff/pretest", data={"csrf_token": token, "ref": ref}).status_code == 303
    twice = admin.post("/staff/pretest", data={"csrf_token": token, "ref": ref})
    assert twice.status_code == 409
    no_reason = admin.post(
        f"/staff/pretest/{_item_id(app, ref)}/drop",
        data={"csrf_token": token, "confirmed": "yes"},
        follow_redirects=True,
    )
    assert "Say why, for the record." in no_reason.get_data(as_text=True)
    for who in ("proctor", "ana"):
        client = app.test_client()
        sign_in(client, world.people[who]["user"].email)
        assert client.get("/staff/pretest").status_code == 403


def _item_id(app: Flask, ref: str) -> int:
    with get_db(app).read_sessions() as session:
        return session.scalars(select(Item.id).where(Item.ref == ref)).one()


def test_the_api_lists_pretest_items_and_an_exam_admin_decides_on_them(
    app: Flask, world: ExamWorld
) -> None:
    first, second = _trial_refs(app, 2)
    _on_pretest(app, world, [first, second], per_form=2)
    listed = world.call("GET", "/blueprints/first-level/pretest", "admin", expect=200).get_json()
    assert listed["per_form"] == 2 and {i["ref"] for i in listed["items"]} == {first, second}
    assert all(i["status"] == "pretest" and i["n"] == 0 for i in listed["items"])
    item_id = _item_id(app, first)
    url = f"/blueprints/first-level/pretest/{item_id}/promote"
    for who in ("proctor", "ana"):
        world.call("POST", url, who, {"note": "good"}, 403)
    missing = world.call("POST", url, "admin", {}, 422).get_json()
    assert "note" in json.dumps(missing)
    world.call("POST", "/blueprints/first-level/pretest/999999/drop", "admin", {"note": "x"}, 404)
    done = world.call("POST", url, "admin", {"note": "p 0.6"}, 200).get_json()
    assert (done["ref"], done["status"]) == (first, "promoted")
    world.call("POST", url, "admin", {"note": "again"}, 409)
    with get_db(app).read_sessions() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "pretest.promoted")
        ).one()
        assert event.before == {"status": "pretest"} and event.after["note"] == "p 0.6"
    listed = app.test_cli_runner().invoke(args=["psychometrics", "pretest", "first-level"])
    assert listed.exit_code == 0, listed.output
    assert f"{first} " in listed.output and "promoted" in listed.output
    assert "pretest: n 0" in listed.output  # the other one, still on trial


def test_the_blueprint_refuses_a_bad_pretest_count(app: Flask, world: ExamWorld) -> None:
    with app.app_context(), get_db(app).write_sessions() as session:
        actor = session.get(User, world.id("admin"))
        blueprint = require_blueprint(session, "first-level")
        for bad in (-1, 2.5, "three"):
            with pytest.raises(Problem) as refused:
                revise_blueprint(session, actor, blueprint, {"pretest_items": bad}, "Try")
            assert refused.value.status == 422
            assert [e.field for e in refused.value.errors] == ["pretest_items"]
