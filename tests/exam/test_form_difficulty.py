"""Forms of equal difficulty: over many drawn forms, a candidate at the cut expects the
same score on each (within the blueprint's tolerance) while every other rule still holds."""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import User
from core.db import get_db
from exam.models import PreparedForm, Registration
from exam.psychometrics.models import CalibrationRun
from exam.services.assembly import AreaRule, Form, PoolItem, assemble
from exam.services.drawing import draw_form
from exam.services.form_difficulty import DifficultyGoal
from item_bank.blueprints import require_blueprint, revise_blueprint
from tests.conftest import sign_in
from tests.exam.fixtures import ExamWorld
from tests.exam.fixtures import world as world  # the fixture
from tests.exam.simulated import simulated_bank

AREAS = [
    AreaRule("A", "Area A", 12, ("A.1", "A.2", "A.3")),
    AreaRule("B", "Area B", 8, ("B.1", "B.2")),
]
FORM_ITEMS = sum(area.items for area in AREAS)


def _bank(
    seed: int, per_sub: int = 40, uncalibrated: float = 0.1
) -> tuple[list[PoolItem], dict[int, set[int]]]:
    rng = random.Random(seed)
    pool = []
    subs = [sub for area in AREAS for sub in area.subareas]
    for index in range(per_sub * len(subs)):
        sub = subs[index % len(subs)]
        difficulty = None if rng.random() < uncalibrated else rng.gauss(0, 1.2)
        seen = datetime(2026, 1, 1, tzinfo=UTC) if rng.random() < 0.1 else None
        pool.append(
            PoolItem(index + 1, 1000 + index, f"{sub}.{index % 3 + 1}", 4,
                     exposure=rng.randrange(0, 40), last_seen=seen, difficulty=difficulty)
        )  # fmt: skip
    enemies: dict[int, set[int]] = {}
    for _ in range(len(pool) // 10):
        a, b = rng.sample(range(1, len(pool) + 1), 2)
        enemies.setdefault(a, set()).add(b)
        enemies.setdefault(b, set()).add(a)
    return pool, enemies


def _chance(item: PoolItem, goal: DifficultyGoal) -> float:
    if item.difficulty is None:
        return goal.neutral
    return 1 / (1 + math.exp(item.difficulty - goal.cut_measure))


def _check_rules(form: Form, enemies: dict[int, set[int]], goal: DifficultyGoal | None) -> float:
    items = [drawn.item for drawn in form.items]
    ids = [item.item_id for item in items]
    assert len(ids) == len(set(ids)) == FORM_ITEMS
    per_area = Counter(drawn.area for drawn in form.items)
    assert per_area == {area.code: area.items for area in AREAS}
    per_sub = Counter(drawn.subarea for drawn in form.items)
    assert all(per_sub[sub] >= 1 for area in AREAS for sub in area.subareas)
    for drawn in form.items:
        assert drawn.item.primary_code.startswith(drawn.subarea + ".")
    assert not any(enemies.get(i, set()) & set(ids) for i in ids)
    if goal is None:
        return 0.0
    assert sum(item.difficulty is None for item in items) <= goal.max_uncalibrated
    expected = sum(_chance(item, goal) for item in items)
    assert form.expected_at_cut is not None
    assert math.isclose(form.expected_at_cut, expected, abs_tol=1e-6)
    return expected


def _cut_for(pool: list[PoolItem], pass_share: float) -> float:
    """The measure at which the bank's average item is answered right ``pass_share`` of the
    time, as the calibration sets it."""
    low, high = -8.0, 8.0
    calibrated = [item.difficulty for item in pool if item.difficulty is not None]
    for _ in range(60):
        middle = (low + high) / 2
        mean = sum(1 / (1 + math.exp(b - middle)) for b in calibrated) / len(calibrated)
        low, high = (middle, high) if mean < pass_share else (low, middle)
    return low


@settings(max_examples=20, deadline=None)
@given(
    bank_seed=st.integers(0, 2**32),
    pass_share=st.floats(0.5, 0.8),
    tolerance=st.sampled_from([0.25, 0.5, 1.0]),
)
def test_a_thousand_forms_keep_the_same_difficulty_and_every_rule(
    bank_seed: int, pass_share: float, tolerance: float
) -> None:
    pool, enemies = _bank(bank_seed)
    cut = _cut_for(pool, pass_share)
    goal = DifficultyGoal(cut, pass_share * FORM_ITEMS, tolerance, 2, pass_share)
    for seed in range(50):  # 20 banks x 50 forms
        form = assemble(AREAS, pool, seed=bank_seed + seed, enemies=enemies,
                        forms_so_far=500, exposure_cap_percent=30, goal=goal)  # fmt: skip
        expected = _check_rules(form, enemies, goal)
        assert abs(expected - goal.target) <= tolerance


def _drawn_in_turn(
    pool: list[PoolItem], enemies: dict[int, set[int]], goal: DifficultyGoal | None, forms: int
) -> list[Form]:
    """Forms drawn one after another, each counting towards its items' exposure."""
    exposure = {item.item_id: 0 for item in pool}
    drawn = []
    for seed in range(forms):
        current = [replace(item, exposure=exposure[item.item_id]) for item in pool]
        form = assemble(AREAS, current, seed=seed, enemies=enemies, forms_so_far=seed,
                        exposure_cap_percent=30, goal=goal)  # fmt: skip
        exposure.update((i, exposure[i] + 1) for i in form.item_ids)
        drawn.append(form)
    return drawn


def test_without_the_goal_the_same_bank_gives_forms_of_unequal_difficulty() -> None:
    pool, enemies = _bank(7)
    goal = DifficultyGoal(0.3, 0.7 * FORM_ITEMS, 0.5, 2, 0.7)
    before = [
        goal.expected(d.item for d in f.items) for f in _drawn_in_turn(pool, enemies, None, 300)
    ]
    after = [_check_rules(f, enemies, goal) for f in _drawn_in_turn(pool, enemies, goal, 300)]
    assert max(before) - min(before) > 3.0  # several points apart without the goal
    assert statistics.pstdev(before) > 3 * statistics.pstdev(after)
    assert all(abs(e - goal.target) <= goal.tolerance for e in after)


def test_evening_never_brings_in_a_seen_or_over_cap_item_in_place_of_a_fresh_one() -> None:
    pool, enemies = _bank(11)
    goal = DifficultyGoal(-0.5, 0.75 * FORM_ITEMS, 0.25, 2, 0.75)
    plain = assemble(AREAS, pool, seed=3, enemies=enemies, forms_so_far=100,
                     exposure_cap_percent=30)  # fmt: skip
    evened = assemble(AREAS, pool, seed=3, enemies=enemies, forms_so_far=100,
                      exposure_cap_percent=30, goal=goal)  # fmt: skip

    def seen_or_over(form: Form) -> int:
        return sum(
            d.item.last_seen is not None or (d.item.exposure + 1) / 101 > 0.3 for d in form.items
        )

    assert plain.item_ids != evened.item_ids  # the goal changed the form
    assert seen_or_over(evened) <= seen_or_over(plain)


def test_uncalibrated_items_beyond_the_share_give_their_places_to_calibrated_ones() -> None:
    pool, enemies = _bank(5, uncalibrated=0.5)
    goal = DifficultyGoal(0.0, 0.6 * FORM_ITEMS, 1.0, 1, 0.6)
    for seed in range(50):
        form = assemble(AREAS, pool, seed=seed, enemies=enemies, goal=goal)
        _check_rules(form, enemies, goal)


def test_a_bank_that_cannot_reach_the_target_still_gives_the_closest_form() -> None:
    pool, enemies = _bank(3, uncalibrated=0.0)
    impossible = DifficultyGoal(-6.0, 0.99 * FORM_ITEMS, 0.1, 0, 0.99)  # all but certain
    form = assemble(AREAS, pool, seed=1, enemies=enemies, goal=impossible)
    plain = assemble(AREAS, pool, seed=1, enemies=enemies)
    expected = _check_rules(form, enemies, impossible)
    assert expected > impossible.expected(d.item for d in plain.items)
    assert abs(expected - impossible.target) > impossible.tolerance


def test_the_same_seed_draws_the_same_evened_form() -> None:
    pool, enemies = _bank(9)
    goal = DifficultyGoal(0.2, 13.0, 0.5, 2, 0.65)
    first = assemble(AREAS, pool, seed=42, enemies=enemies, goal=goal)
    again = assemble(AREAS, pool, seed=42, enemies=enemies, goal=goal)
    assert [(d.item.item_id, d.option_order) for d in first.items] == [
        (d.item.item_id, d.option_order) for d in again.items
    ]


def _calibrated_bank(app: Flask) -> None:
    with app.app_context(), get_db(app).write_sessions() as session:
        simulated_bank(session, persons=300, seed=5, spread=1.2)


def _even_out(app: Flask, world: ExamWorld, tolerance: float) -> None:
    with app.app_context(), get_db(app).write_sessions() as session:
        admin = session.get(User, world.id("admin"))
        blueprint = require_blueprint(session, "first-level")
        goal = {"tolerance_items": tolerance, "max_uncalibrated_percent": 5}
        revise_blueprint(session, admin, blueprint, {"form_difficulty": goal}, "Equal forms")
        session.commit()


def _at_cut(session: Session) -> tuple[float, dict[int, float]]:
    run = session.scalars(select(CalibrationRun).order_by(CalibrationRun.id.desc())).first()
    assert run is not None
    return run.form_spread["cut_measure"], {r.item_version_id: r.difficulty for r in run.items}


def _expected(versions: list[int], cut: float, difficulty: dict[int, float]) -> tuple[float, int]:
    """A form's expected score at the cut (pass share 0.7 for the uncalibrated), and how
    many of its items are uncalibrated."""
    chances = [
        0.7 if v not in difficulty else 1 / (1 + math.exp(difficulty[v] - cut)) for v in versions
    ]
    return sum(chances), sum(v not in difficulty for v in versions)


def _prepared(app: Flask, candidate_id: int) -> list[int]:
    with get_db(app).read_sessions() as session:
        form = session.scalars(
            select(PreparedForm)
            .join(Registration, Registration.id == PreparedForm.registration_id)
            .where(Registration.candidate_id == candidate_id)
        ).one()
        return [version_id for _, version_id, _ in form.items]


def test_admitted_candidates_get_forms_of_the_same_difficulty_once_the_bank_is_calibrated(
    app: Flask, world: ExamWorld
) -> None:
    _calibrated_bank(app)
    _even_out(app, world, tolerance=0.25)
    sitting = world.schedule()
    world.admitted("ana", sitting)  # no calibration yet: drawn to the counts only
    world.call("POST", "/blueprints/first-level/calibrations", "admin", expect=201)
    world.admitted("ben", sitting)
    with get_db(app).read_sessions() as session:
        cut, difficulty = _at_cut(session)
        expected, uncalibrated = _expected(_prepared(app, world.id("ben")), cut, difficulty)
        assert abs(expected - 42) <= 0.25 and uncalibrated <= 3
        registration = session.scalars(
            select(Registration).where(Registration.candidate_id == world.id("ben"))
        ).one()
        draws = [[v for _, v, _ in draw_form(session, registration).slots] for _ in range(40)]
    assert len({tuple(sorted(d)) for d in draws}) == 40  # forty different forms...
    scores = [_expected(d, cut, difficulty) for d in draws]
    assert all(abs(score - 42) <= 0.25 and left <= 3 for score, left in scores)  # ...one level
    started = world.start("ben", sitting)
    assert len(started["questions"]) == 60


def test_the_statistics_page_shows_the_spread_before_and_after_the_goal(
    app: Flask, world: ExamWorld
) -> None:
    _calibrated_bank(app)
    _even_out(app, world, tolerance=0.3)
    with app.app_context(), get_db(app).write_sessions() as session:
        simulated_bank(session, persons=100, seed=8, spread=1.2, prefix="later")
    run = world.call("POST", "/blueprints/first-level/calibrations", "admin", expect=201)
    with get_db(app).read_sessions() as session:
        stored = session.get(CalibrationRun, run.get_json()["run"])
        assert stored is not None
        by_version = stored.form_spread["by_version"]
    assert [(v["version"], v["goal"], v["forms"]) for v in by_version] == [
        (1, None, 300),
        (2, 0.3, 100),
    ]
    admin = app.test_client()
    sign_in(admin, world.people["admin"]["user"].email)
    page = admin.get("/staff/statistics?blueprint=first-level").get_data(as_text=True)
    assert "before and after the blueprint asked for forms of equal difficulty" in page
    assert "within 0.3 items" in page and ">Version 2<" in page
    assert "not to a difficulty target" not in page
