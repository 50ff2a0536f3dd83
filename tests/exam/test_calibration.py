"""Rasch calibration: recovery of known parameters from data simulated under the model,
agreement with an independent implementation (girth), and the statistics page's map."""

from __future__ import annotations

import girth
import numpy as np
import pytest
from flask import Flask
from sqlalchemy import select

from core.audit import AuditEvent
from core.db import get_db
from exam.psychometrics import calibration, rasch
from exam.psychometrics.models import CalibrationRun
from tests.conftest import csrf_from, sign_in
from tests.exam.fixtures import ExamWorld
from tests.exam.simulated import approved_versions, seed_attempts


def test_recovers_known_difficulties_and_spread_from_a_sparse_design() -> None:
    """2,000 persons, 150 items, forms of 40 drawn at random (each item seen by ~530).
    Tolerances: RMSE of the difficulties within 1.3 x their mean SE (and below 0.15),
    95 % intervals covering 88-99 % of the true values, the population's mean and SD
    within 0.1, every item's infit within 0.85-1.15 and at most 2 % flagged (the data
    fit by construction)."""
    rng = np.random.default_rng(20261202)
    truth = rng.uniform(-2.0, 2.0, 150)
    truth -= truth.mean()
    ability = rng.normal(0.5, 1.2, 2000)
    fitted = rasch.calibrate(rasch.simulate(rng, truth, ability, 40))
    error = fitted.difficulty - truth
    rmse = float(np.sqrt((error**2).mean()))
    assert rmse < 0.15 and rmse < 1.3 * fitted.difficulty_se.mean()
    coverage = float((np.abs(error) < 1.96 * fitted.difficulty_se).mean())
    assert 0.88 <= coverage <= 0.99
    assert fitted.population_mean == pytest.approx(0.5, abs=0.1)
    assert fitted.population_sd == pytest.approx(1.2, abs=0.1)
    assert fitted.converged
    assert fitted.infit.min() > 0.85 and fitted.infit.max() < 1.15
    assert np.corrcoef(fitted.measure, ability)[0, 1] > 0.85
    # The standardised infit is about N(0, 1) when the data fit; few items, if any, flagged.
    assert abs(fitted.infit_t.mean()) < 0.4 and 0.6 < fitted.infit_t.std() < 1.5
    assert sum(bool(fitted.misfit(i)) for i in range(150)) <= 3


def test_a_noisy_item_is_flagged() -> None:
    """An item answered at random (a miskey, say) misfits; the others do not."""
    rng = np.random.default_rng(7)
    truth = rng.uniform(-1.5, 1.5, 40)
    data = rasch.simulate(rng, truth, rng.normal(0, 1.3, 1500), 30)
    score = data.score.copy()
    noisy = data.item == 0
    score[noisy] = (rng.random(int(noisy.sum())) < 0.5).astype(float)
    fitted = rasch.calibrate(rasch.Responses(data.person, data.item, score, 1500, 40))
    assert fitted.infit[0] > rasch.FIT_HIGH and fitted.misfit(0)
    assert sum(bool(fitted.misfit(i)) for i in range(1, 40)) <= 1


def _dense_for_girth(data: rasch.Responses) -> np.ndarray:
    dense = np.full((data.items, data.persons), girth.INVALID_RESPONSE, dtype=int)
    dense[data.item, data.person] = data.score.astype(int)
    return dense


def test_agrees_with_girth_on_the_same_sparse_data() -> None:
    """girth 0.8's marginal estimates (items x persons, missing tagged) on the same data:
    with the ability SD held at 1 (``rasch_mml``) and estimated (``onepl_mml``: girth's
    common discrimination is the Rasch SD, its difficulty times it the Rasch difficulty).
    Tolerances: at most 0.10 logits apart on any item, 0.04 root mean square."""
    rng = np.random.default_rng(5)
    truth = rng.uniform(-2.0, 2.0, 40)
    data = rasch.simulate(rng, truth, rng.normal(0.0, 1.0, 1500), 20)
    dense = _dense_for_girth(data)

    held = rasch.calibrate(data, fixed_sd=1.0)
    ours = held.difficulty - held.population_mean  # back to girth's origin (persons at 0)
    theirs = girth.rasch_mml(dense)["Difficulty"]
    assert np.abs(ours - theirs).max() < 0.10
    assert np.sqrt(((ours - theirs) ** 2).mean()) < 0.04

    free = rasch.calibrate(data)
    onepl = girth.onepl_mml(dense)
    assert free.population_sd == pytest.approx(onepl["Discrimination"], abs=0.03)
    ours = free.difficulty - free.population_mean
    theirs = onepl["Difficulty"] * onepl["Discrimination"]
    assert np.abs(ours - theirs).max() < 0.10
    assert np.sqrt(((ours - theirs) ** 2).mean()) < 0.04


def test_bad_data_is_refused_clearly() -> None:
    with pytest.raises(rasch.CalibrationError, match="no scored responses"):
        rasch.calibrate(rasch.Responses.of([], [], []))
    with pytest.raises(rasch.CalibrationError, match="no finite difficulty"):
        rasch.calibrate(rasch.Responses.of([0, 1, 0, 1], [0, 0, 1, 1], [1, 1, 1, 0]))


def _simulated_bank(app: Flask, persons: int = 400) -> dict[int, float]:
    """``persons`` graded attempts on forms of 60 from the sample bank; the difficulties."""
    rng = np.random.default_rng(11)
    with app.app_context(), get_db(app).write_sessions() as session:
        versions = [v[0] for v in approved_versions(session)]
        truth = dict(zip(versions, rng.normal(0, 1, len(versions)).tolist(), strict=True))
        seed_attempts(
            session,
            abilities=rng.normal(0.3, 1.0, persons).tolist(),
            difficulty=truth,
            form_length=60,
            rng=rng,
        )
    return truth


def test_the_statistics_page_calibrates_and_shows_the_wright_map(
    app: Flask, world: ExamWorld
) -> None:
    truth = _simulated_bank(app)
    admin = app.test_client()
    sign_in(admin, world.people["admin"]["user"].email)
    page = admin.get("/staff/statistics?blueprint=first-level").get_data(as_text=True)
    assert "No calibration yet." in page and "Calibrate now" in page
    assert (
        admin.post("/staff/statistics/calibrate", data={"blueprint": "first-level"}).status_code
        == 400
    )
    done = admin.post(
        "/staff/statistics/calibrate",
        data={"blueprint": "first-level", "csrf_token": csrf_from(page)},
    )
    assert done.status_code == 303
    page = admin.get(done.headers["Location"]).get_data(as_text=True)
    assert "Calibrated 226 items from 400 attempts" in page
    assert "How hard the drawn forms were" in page and "Middle 90 % of forms" in page
    assert 'class="wright-map" role="img"' in page and "The map as a table" in page
    with get_db(app).read_sessions() as session:
        run = session.scalars(select(CalibrationRun)).one()
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "calibration.run")
        ).all()
        view = calibration.view(session, run)
    assert [e.after["run"] for e in events] == [run.id] and events[0].actor_id == world.id("admin")
    estimates = {row.item_version_id: row.difficulty for row in run.items}
    shared = sorted(estimates)
    centred = np.array([truth[v] for v in shared])
    centred -= centred.mean()
    assert np.corrcoef([estimates[v] for v in shared], centred)[0, 1] > 0.85
    assert sum(band.persons for band in view.bands) == 400
    assert sum(len(band.items) for band in view.bands) == 226
    for item in view.items[:3]:
        assert item.label in page
    # Candidates and proctors cannot run it.
    ana = app.test_client()
    sign_in(ana, world.people["ana"]["user"].email)
    token = csrf_from(ana.get("/exams").get_data(as_text=True))
    refused = ana.post(
        "/staff/statistics/calibrate", data={"blueprint": "first-level", "csrf_token": token}
    )
    assert refused.status_code == 403


def test_too_few_attempts_is_said_on_the_page(app: Flask, world: ExamWorld) -> None:
    admin = app.test_client()
    sign_in(admin, world.people["admin"]["user"].email)
    page = admin.get("/staff/statistics").get_data(as_text=True)
    done = admin.post(
        "/staff/statistics/calibrate",
        data={"blueprint": "first-level", "csrf_token": csrf_from(page)},
        follow_redirects=True,
    )
    assert "A calibration needs scored responses from at least two attempts" in done.get_data(
        as_text=True
    )
    with get_db(app).read_sessions() as session:
        assert session.scalars(select(CalibrationRun)).first() is None


def test_the_api_and_the_command_line_calibrate(app: Flask, world: ExamWorld) -> None:
    assert world.call("GET", "/blueprints/first-level/calibration", "admin").status_code == 404
    assert world.call("POST", "/blueprints/first-level/calibrations", "admin").status_code == 409
    _simulated_bank(app, persons=150)
    made = world.call("POST", "/blueprints/first-level/calibrations", "admin", expect=201)
    body = made.get_json()
    assert body["persons"] == 150 and len(body["items"]) + len(body["left_out"]) == 226
    assert abs(sum(i["difficulty"] for i in body["items"])) < 0.05  # items average 0
    latest = world.call("GET", "/blueprints/first-level/calibration", "admin", expect=200)
    assert latest.get_json()["run"] == body["run"]
    assert world.call("POST", "/blueprints/first-level/calibrations", "ana").status_code == 403
    assert world.call("POST", "/blueprints/nothing/calibrations", "admin").status_code == 404
    result = app.test_cli_runner().invoke(args=["responses", "calibrate"])
    assert result.exit_code == 0, result.output
    assert "from 150 attempts" in result.output
    with get_db(app).read_sessions() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "calibration.run")
        ).all()
    assert [e.actor_label for e in events] == [f"user:{world.id('admin')}", "command line"]


def test_the_spread_of_form_difficulty_at_the_cut() -> None:
    """Forms of the same items have no spread; forms drawn from a wide range of
    difficulties do, and the cut lands where the average form gives the pass share."""
    rng = np.random.default_rng(2)
    truth = rng.uniform(-2.5, 2.5, 120)
    truth -= truth.mean()
    data = rasch.simulate(rng, truth, rng.normal(0, 1, 1000), 30)
    spread = rasch.form_spread(data, truth, 0.65)
    at_cut = 1 / (1 + np.exp(-(spread.cut_measure - truth[data.item])))
    taken = np.bincount(data.person)
    shares = np.bincount(data.person, weights=at_cut) / taken
    assert shares.mean() == pytest.approx(0.65, abs=1e-6)
    assert spread.mean == pytest.approx(0.65 * 30, abs=1e-3)
    assert spread.sd > 0.5 and spread.low < spread.p5 < spread.p95 < spread.high
    same = rasch.simulate(rng, truth[:30], rng.normal(0, 1, 200), 30)  # everyone: all 30
    assert rasch.form_spread(same, truth[:30], 0.65).sd == pytest.approx(0, abs=1e-9)
