"""Scores on a reporting scale from the Rasch measure: a harder form needs fewer right
answers for the same measure, and the overall pass goes by the measure."""

from __future__ import annotations

import math
import re

import numpy as np
from flask import Flask
from scipy.optimize import brentq
from sqlalchemy import select

from accounts.models import User
from core.db import get_db
from exam.models import AttemptItem, AttemptResult
from exam.psychometrics.models import CalibrationRun
from exam.services.grading import NO_SCALE_NOTE
from exam.services.option_ids import option_id
from exam.services.scaling import Scale, ml_measure
from item_bank.blueprints import require_blueprint, revise_blueprint
from tests.conftest import post_form, sign_in
from tests.exam.fixtures import ExamWorld, form_slots, sit
from tests.exam.fixtures import world as world  # the fixture
from tests.exam.simulated import simulated_bank

SCALE = {"low": 100, "high": 900, "cut": 500, "points_per_logit": 50}


def _expected(difficulties: list[float], theta: float) -> float:
    return sum(1 / (1 + math.exp(b - theta)) for b in difficulties)


def _root(difficulties: list[float], raw: float) -> float:
    """The measure found independently, by bracketing (scipy's brentq)."""
    return float(brentq(lambda t: _expected(difficulties, t) - raw, -15, 15))


def test_the_measure_is_where_the_expected_score_meets_the_raw_score() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        difficulties = rng.normal(0, 1.3, 40).tolist()
        raw = float(rng.integers(1, 40))
        assert math.isclose(ml_measure(difficulties, raw), _root(difficulties, raw), abs_tol=1e-6)
    # None right and all right have no finite measure: they stay finite and in order.
    assert ml_measure([0.0] * 20, 0) < ml_measure([0.0] * 20, 1) < ml_measure([0.0] * 20, 19)
    assert ml_measure([0.0] * 20, 20) > ml_measure([0.0] * 20, 19)


def test_a_harder_form_does_not_count_against_its_candidate() -> None:
    easy = [-0.8 + 0.04 * i for i in range(40)]
    hard = [b + 1.6 for b in easy]
    difficulty = {i: b for i, b in enumerate(easy + hard)}
    # The cut where the average of the two forms gives 70 %.
    cut = brentq(lambda t: (_expected(easy, t) + _expected(hard, t)) / 80 - 0.7, -5, 5)
    scale = Scale(100, 900, 500, 50, cut, difficulty)
    ability = cut + 0.25  # a candidate a little above the standard
    raw_easy = round(_expected(easy, ability))
    raw_hard = round(_expected(hard, ability))
    on_easy = scale.score([(i, 1.0 if i < raw_easy else 0.0) for i in range(40)])
    on_hard = scale.score([(40 + i, 1.0 if i < raw_hard else 0.0) for i in range(40)])
    assert on_easy is not None and on_hard is not None
    assert raw_hard / 40 < 0.7 <= raw_easy / 40  # by percentage the hard form would fail...
    assert on_easy.passed and on_hard.passed  # ...by the measure both pass
    assert abs(on_easy.score - on_hard.score) <= 4 and on_hard.score > 500
    # A candidate below the standard fails on either form, whatever its difficulty.
    below = round(_expected(easy, cut - 0.5))
    failed = scale.score([(i, 1.0 if i < below else 0.0) for i in range(40)])
    assert failed is not None and not failed.passed and failed.score < 500
    assert scale.on_scale(cut + 100) == 900 and scale.on_scale(cut - 100) == 100


def _calibrated(app: Flask, world: ExamWorld) -> None:
    with app.app_context(), get_db(app).write_sessions() as session:
        simulated_bank(session, persons=300, seed=21)
    world.call("POST", "/blueprints/first-level/calibrations", "admin", expect=201)


def _report_on_a_scale(app: Flask, world: ExamWorld) -> None:
    with app.app_context(), get_db(app).write_sessions() as session:
        admin = session.get(User, world.id("admin"))
        blueprint = require_blueprint(session, "first-level")
        revise_blueprint(session, admin, blueprint, {"scaled_score": SCALE}, "Scaled scores")
        session.commit()


def _answer(app: Flask, world: ExamWorld, attempt: dict, right: set[int]) -> None:
    secret = app.config["SECRET_KEY"]
    for slot in form_slots(app, attempt["id"]):
        letters = slot.keys if slot.position in right else [
            next(letter for letter in slot.order if letter not in slot.keys)
        ]  # fmt: skip
        ids = [option_id(secret, attempt["id"], slot.position, letter) for letter in letters]
        world.call("PUT", f"/attempts/{attempt['id']}/responses/{slot.position}", "ana",
                   {"selected": ids}, 200)  # fmt: skip


def test_the_result_reports_the_scaled_score_and_passes_by_the_measure(
    app: Flask, world: ExamWorld
) -> None:
    _calibrated(app, world)
    _report_on_a_scale(app, world)
    attempt = sit(world)
    _answer(app, world, attempt, right={p for p in range(1, 61) if p % 10 < 7})
    client = app.test_client()
    sign_in(client, world.people["ana"]["user"].email)
    exams = client.get("/exams").get_data(as_text=True)
    assert "a scaled score of 500 on a scale of 100 to 900" in exams
    world.call("POST", f"/attempts/{attempt['id']}/submit", "ana", expect=200)
    result = world.call("GET", f"/attempts/{attempt['id']}/result", "ana", expect=200).get_json()

    with get_db(app).read_sessions() as session:
        run = session.scalars(select(CalibrationRun)).one()
        difficulty = {row.item_version_id: row.difficulty for row in run.items}
        cut = run.form_spread["cut_measure"]
        form = session.execute(
            select(AttemptItem.position, AttemptItem.item_version_id).where(
                AttemptItem.attempt_id == attempt["id"]
            )
        ).all()
    answered = [(difficulty[v], p % 10 < 7) for p, v in form if v in difficulty]
    raw = sum(right for _, right in answered)
    measure = _root([b for b, _ in answered], raw)
    assert math.isclose(result["measure"], measure, abs_tol=1e-3)
    assert result["scaled_score"] == max(100, min(900, round(500 + 50 * (measure - cut))))
    assert result["scale_cut"] == 500
    areas_met = all(a["met"] for a in result["areas"])
    assert result["result"] == ("pass" if measure >= cut and areas_met else "fail")

    page = client.get(f"/exams/attempts/{attempt['id']}/result").get_data(as_text=True)
    assert f"Scaled score <strong>{result['scaled_score']}</strong>" in page
    assert "the pass mark is 500" in page


def test_without_a_calibration_the_percentage_decides_and_says_so(
    app: Flask, world: ExamWorld
) -> None:
    _report_on_a_scale(app, world)
    attempt = sit(world)
    _answer(app, world, attempt, right=set(range(1, 61)))
    world.call("POST", f"/attempts/{attempt['id']}/submit", "ana", expect=200)
    result = world.call("GET", f"/attempts/{attempt['id']}/result", "ana", expect=200).get_json()
    assert result["result"] == "pass" and result["scaled_score"] is None
    with get_db(app).read_sessions() as session:
        stored = session.get(AttemptResult, attempt["id"])
        assert stored is not None and NO_SCALE_NOTE in stored.notes


def test_the_angoff_cut_maps_onto_the_scale_and_is_adopted_as_its_pass_point(
    app: Flask, world: ExamWorld
) -> None:
    _calibrated(app, world)
    _report_on_a_scale(app, world)
    boss = app.test_client()
    sign_in(boss, world.people["admin"]["user"].email)
    created = post_form(boss, "/staff/angoff", "/staff/angoff", {"title": "Scale panel"})
    url = created.headers["Location"]
    ids = re.findall(r'name="rating-(\d+)"', boss.get(url).get_data(as_text=True))
    post_form(boss, url, url, {f"rating-{i}": "65" for i in ids})
    with get_db(app).read_sessions() as session:
        run = session.scalars(select(CalibrationRun)).one()
        difficulty = {row.item_version_id: row.difficulty for row in run.items}
    rated = [difficulty[int(i)] for i in ids if int(i) in difficulty]
    expected_measure = _root(rated, 0.65 * len(rated))
    page = boss.get(url).get_data(as_text=True)
    assert f"a measure of <strong>{expected_measure:.2f} logits</strong>" in page
    assert "the pass point of the reporting scale (500)" in page
    post_form(boss, url, url, {"adopt": "1", "note": "Panel, scale"})
    with get_db(app).read_sessions() as session:
        spec = require_blueprint(session, "first-level").current.spec
    assert spec["pass_overall_percent"] == 65.0
    assert math.isclose(spec["scaled_score"]["cut_measure"], expected_measure, abs_tol=1e-3)
    assert spec["scaled_score"]["cut"] == 500
