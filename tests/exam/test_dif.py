"""DIF: Mantel-Haenszel against statsmodels' StratifiedTable, recovery of an item made
harder for one group, the ETS classes, the statistics page, and the "about you" form."""

from __future__ import annotations

import numpy as np
import pytest
from flask import Flask
from sqlalchemy import select
from statsmodels.stats.contingency_tables import StratifiedTable

from core.db import get_db
from exam.models import Attempt
from exam.psychometrics import calibration, dif, rasch
from exam.psychometrics.models import CandidateBackground
from tests.conftest import csrf_from, sign_in
from tests.exam.fixtures import ExamWorld
from tests.exam.simulated import approved_versions, seed_attempts


@pytest.mark.parametrize("seed", range(5))
def test_agrees_with_statsmodels_stratified_table(seed: int) -> None:
    rng = np.random.default_rng(seed)
    tables = rng.integers(0, 60, (int(rng.integers(2, 12)), 2, 2)).astype(float)
    tables[:, 0, 0] += 1  # every stratum has someone right in the reference group
    ours = dif.mantel_haenszel(tables)
    theirs = StratifiedTable([t for t in tables])
    test = theirs.test_null_odds(correction=True)
    assert ours is not None
    assert ours.alpha == pytest.approx(theirs.oddsratio_pooled, rel=1e-9)
    assert ours.log_alpha_se == pytest.approx(theirs.logodds_pooled_se, rel=1e-9)
    assert ours.chi_square == pytest.approx(test.statistic, rel=1e-9, abs=1e-12)
    assert ours.p_value == pytest.approx(test.pvalue, rel=1e-7, abs=1e-12)
    assert ours.d_dif == pytest.approx(-2.35 * np.log(theirs.oddsratio_pooled))


def test_ets_classes() -> None:
    assert dif.ets_class(-0.9, 0.1, 0.001) == dif.EtsClass.A  # small
    assert dif.ets_class(-1.8, 0.5, 0.2) == dif.EtsClass.A  # not significant
    assert dif.ets_class(-1.2, 0.1, 0.001) == dif.EtsClass.B
    assert dif.ets_class(1.6, 0.5, 0.001) == dif.EtsClass.B  # not significantly above 1
    assert dif.ets_class(-2.0, 0.2, 0.0001) == dif.EtsClass.C
    assert dif.mantel_haenszel(np.zeros((3, 2, 2))) is None


def test_an_item_made_harder_for_one_group_is_class_c_and_the_rest_mostly_a() -> None:
    """4,000 persons, half focal of the same ability distribution; item 0 is 1 logit
    harder for the focal group (D-DIF about -2.35), item 1 0.5 logit easier."""
    rng = np.random.default_rng(9)
    items, persons = 40, 4000
    truth = rng.uniform(-1.5, 1.5, items)
    ability = rng.normal(0, 1, persons)
    group = (np.arange(persons) % 2).astype(np.int64)
    data = rasch.simulate(rng, truth, ability, 30)
    shift = np.zeros(items)
    shift[0], shift[1] = 1.0, -0.5
    p = 1 / (
        1
        + np.exp(-(ability[data.person] - truth[data.item] - shift[data.item] * group[data.person]))
    )
    score = (rng.random(p.size) < p).astype(float)
    observed = rasch.Responses(data.person, data.item, score, persons, items)
    fitted = rasch.calibrate(observed)
    results = dif.analyse(data.person, data.item, score, group, fitted.measure, items)
    assert results[0] is not None and results[0].ets == dif.EtsClass.C
    assert results[0].d_dif == pytest.approx(-2.35, abs=0.6) and results[0].favours == "reference"
    assert results[1] is not None and results[1].d_dif > 0.5
    others = [r for r in results[2:] if r is not None]
    assert sum(r.ets == dif.EtsClass.A for r in others) >= len(others) - 2


def _with_groups(app: Flask, persons: int = 600) -> str:
    """Graded attempts where half the candidates said English is not their first
    language, and one item is 1.5 logits harder for them; that item's label."""
    rng = np.random.default_rng(4)
    with app.app_context(), get_db(app).write_sessions() as session:
        versions = [v[0] for v in approved_versions(session)][:80]
        truth = dict(zip(versions, rng.normal(0, 0.8, len(versions)).tolist(), strict=True))
        groups = [n % 2 for n in range(persons)]
        attempts = seed_attempts(
            session,
            abilities=rng.normal(0, 1, persons).tolist(),
            difficulty=truth,
            form_length=60,
            rng=rng,
            shift={versions[0]: (1, 1.5)},
            groups=groups,
        )
        candidates = dict(
            session.execute(
                select(Attempt.id, Attempt.candidate_id).where(Attempt.id.in_(attempts))
            ).all()
        )
        for attempt, group in zip(attempts, groups, strict=True):
            session.add(
                CandidateBackground(
                    user_id=candidates[attempt],
                    first_language="other" if group else "english",
                    region="",
                    consented_at=world_now(),
                )
            )
        session.commit()
        calibration.run_calibration(session, None, "first-level", actor_label="test")
        view = calibration.latest_view(session, "first-level")
        assert view is not None
        return next(i.label for i in view.items if i.row.item_version_id == versions[0])


def world_now():
    from core import clock

    return clock.now()


def test_the_statistics_page_lists_the_item_that_functions_differently(
    app: Flask, world: ExamWorld
) -> None:
    label = _with_groups(app)
    admin = app.test_client()
    sign_in(admin, world.people["admin"]["user"].email)
    page = admin.get("/staff/statistics?blueprint=first-level&dif=first_language").get_data(
        as_text=True
    )
    assert "Another language against English" in page
    assert "reference group English" in page and "English 300" in page
    row = page[page.index("Another language against English") :]
    body = row[row.index("<tbody>") :]
    first = body[: body.index("</tr>")]
    assert label in first and "<strong>C</strong>" in first and "reference group" in first
    bad = admin.get("/staff/statistics?dif=shoe_size").get_data(as_text=True)
    assert "dif is one of first_language, region." in bad


def test_about_you_keeps_only_what_is_given_with_consent(app: Flask, world: ExamWorld) -> None:
    ana = app.test_client()
    sign_in(ana, world.people["ana"]["user"].email)
    page = ana.get("/exams/about-you")
    assert page.status_code == 200 and "Prefer not to say" in page.get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    refused = ana.post(
        "/exams/about-you", data={"csrf_token": token, "first_language": "other", "region": ""}
    )
    assert refused.status_code == 422 and "Tick the box to agree" in refused.get_data(as_text=True)
    odd = ana.post(
        "/exams/about-you",
        data={"csrf_token": token, "first_language": "klingon", "region": "", "consent": "y"},
    )
    assert odd.status_code == 422
    with get_db(app).read_sessions() as session:
        assert session.get(CandidateBackground, world.id("ana")) is None
    saved = ana.post(
        "/exams/about-you",
        data={"csrf_token": token, "first_language": "other", "region": "europe", "consent": "y"},
        follow_redirects=True,
    )
    assert "your answers are saved" in saved.get_data(as_text=True)
    with get_db(app).read_sessions() as session:
        row = session.get(CandidateBackground, world.id("ana"))
        assert row is not None and (row.first_language, row.region) == ("other", "europe")
    deleted = ana.post(
        "/exams/about-you", data={"csrf_token": token, "action": "delete"}, follow_redirects=True
    )
    assert "Your answers are deleted." in deleted.get_data(as_text=True)
    with get_db(app).read_sessions() as session:
        assert session.get(CandidateBackground, world.id("ana")) is None
    admin = app.test_client()
    sign_in(admin, world.people["admin"]["user"].email)
    assert admin.get("/exams/about-you").status_code == 403
