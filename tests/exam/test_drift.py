"""Exposure and drift: an item answered mostly wrong in November and mostly right in
December is alerted as a possible leak, a stable one is not, too few responses give no
alert; exposure per period against a count made here; the test against statsmodels; the
page, the API and the command (whose alert email is not sent twice)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from flask import Flask
from sqlalchemy import func, select
from statsmodels.stats.proportion import proportions_ztest

from core import mail
from core.audit import AuditEvent
from core.db import get_db
from exam.models import Attempt, AttemptItem, AttemptResult
from exam.psychometrics import drift
from exam.psychometrics.drift_alerts import ALERT_ACTION
from item_bank.models import Item, ItemVersion
from tests.conftest import sign_in
from tests.exam.fixtures import ExamWorld, answer_all, sit
from tests.exam.simulated import approved_versions, seed_attempts

ITEMS, FORM = 40, 20  # forms of 20 from 40 items: each item on about half the forms


def _label(app: Flask, version_id: int) -> str:
    with get_db(app).read_sessions() as session:
        ref, number = session.execute(
            select(Item.ref, ItemVersion.number)
            .join(Item, Item.id == ItemVersion.item_id)
            .where(ItemVersion.id == version_id)
        ).one()
    return f"{ref} v{number}"


def two_months(
    app: Flask, world: ExamWorld, later: int = 80, gap_days: int = 15
) -> tuple[int, int]:
    """80 simulated attempts now (22 November on the test clock) and ``later`` attempts
    ``gap_days`` on (7 December), plus Ana's, sat through the API; the first item is very hard in November (b = +3) and very easy in
    December (b = -3), the others are as hard in both. (leaked, stable) version ids."""
    rng = np.random.default_rng(11)
    with app.app_context(), get_db(app).write_sessions() as session:
        versions = [v[0] for v in approved_versions(session)][:ITEMS]
        leaked, stable = versions[0], versions[1]
        truth = dict.fromkeys(versions, 0.0)
        seed_attempts(
            session,
            abilities=rng.normal(0, 0.5, 80).tolist(),
            difficulty={**truth, leaked: 3.0},
            form_length=FORM,
            rng=rng,
            prefix="nov",
        )
    world.clock.advance(days=gap_days)
    world.refresh_tokens()
    with app.app_context(), get_db(app).write_sessions() as session:
        seed_attempts(
            session,
            abilities=rng.normal(0, 0.5, later).tolist(),
            difficulty={**truth, leaked: -3.0},
            form_length=FORM,
            rng=rng,
            prefix="dec",
        )
    attempt = sit(world)
    answer_all(world, app, attempt, lambda code: True)
    world.call("POST", f"/attempts/{attempt['id']}/submit", "ana", expect=200)
    return leaked, stable


def _counted(app: Flask, version_id: int, month: int) -> tuple[int, int, int, int]:
    """Graded forms of the month, those carrying the item, its scored n and rights."""
    starts = datetime(2026, month, 1, tzinfo=UTC)
    ends = datetime(2026 + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    with get_db(app).read_sessions() as session:
        graded = list(
            session.execute(
                select(Attempt.id, AttemptResult.item_scores)
                .join(AttemptResult, AttemptResult.attempt_id == Attempt.id)
                .where(
                    AttemptResult.result.in_(("pass", "fail")),
                    Attempt.started_at >= starts,
                    Attempt.started_at < ends,
                )
            ).all()
        )
        scores = dict(graded)
        carrying = session.execute(
            select(AttemptItem.attempt_id, AttemptItem.position).where(
                AttemptItem.item_version_id == version_id,
                AttemptItem.attempt_id.in_(list(scores)),
            )
        ).all()
    scored = [scores[a].get(str(p)) for a, p in carrying if scores[a].get(str(p)) is not None]
    return len(graded), len(carrying), len(scored), sum(1 for s in scored if s >= 1.0)


def test_a_leaked_item_is_alerted_and_a_stable_one_is_not(app: Flask, world: ExamWorld) -> None:
    leaked, stable = two_months(app, world)
    with app.app_context(), get_db(app).read_sessions() as session:
        report = drift.drift_report(session, drift.parse_request("first-level"))
    assert [p.label for p in report.periods] == ["2026-11", "2026-12"]
    by_version = {item.version_id: item for item in report.items}
    assert [item.version_id for item in report.alerts] == [leaked]
    alert = by_version[leaked]
    assert alert.signal == drift.Signal.EASIER and alert.drift is not None
    assert alert.drift.baseline_p is not None and alert.drift.baseline_p < 0.3
    assert alert.drift.latest_p is not None and alert.drift.latest_p > 0.7
    assert by_version[stable].signal is None
    for version_id in (leaked, stable):
        for index, month in enumerate((11, 12)):
            forms, carrying, n, right = _counted(app, version_id, month)
            cell = by_version[version_id].periods[index]
            assert report.periods[index].forms == forms
            assert (cell.forms, cell.n, cell.right) == (carrying, n, right)
            assert cell.exposure == pytest.approx(carrying / forms)
    # The test's p-value, against statsmodels' two-proportion z-test.
    test = alert.drift
    z, p = proportions_ztest(
        [round(test.latest_p * test.latest_n), round(test.baseline_p * test.baseline_n)],
        [test.latest_n, test.baseline_n],
    )
    assert test.p_value == pytest.approx(p, rel=1e-9) and test.z == pytest.approx(z, rel=1e-9)


def test_too_few_responses_in_the_latest_period_give_no_alert(app: Flask, world: ExamWorld) -> None:
    leaked, _stable = two_months(app, world, later=12)
    with app.app_context(), get_db(app).read_sessions() as session:
        report = drift.drift_report(session, drift.parse_request("first-level"))
    item = next(i for i in report.items if i.version_id == leaked)
    assert item.drift is not None and not item.drift.enough and item.drift.latest_n < 30
    assert item.drift.change is not None and item.drift.change > 0.15
    assert item.signal is None and report.alerts == []


@pytest.mark.parametrize("seed", range(4))
def test_the_test_agrees_with_statsmodels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n0, n1 = (int(x) for x in rng.integers(20, 400, 2))
    r0, r1 = int(rng.integers(1, n0)), int(rng.integers(1, n1))
    test = drift.compare((n0, r0), (n1, r1), 30)
    z, p = proportions_ztest([r1, r0], [n1, n0])
    assert test.p_value == pytest.approx(p, rel=1e-9) and test.z == pytest.approx(z, rel=1e-9)
    assert test.chi_square == pytest.approx(z**2, rel=1e-9)
    assert test.cohens_h == pytest.approx(
        2 * np.arcsin(np.sqrt(r1 / n1)) - 2 * np.arcsin(np.sqrt(r0 / n0))
    )


def test_everyone_right_in_both_periods_is_no_drift() -> None:
    test = drift.compare((50, 50), (40, 40), 30)
    assert (test.change, test.p_value, test.enough) == (0.0, 1.0, True)
    assert drift.signal_of(test, drift.DriftRequest("first-level")) is None
    assert drift.compare((0, 0), (40, 40), 30).p_value is None


def test_the_rule_alerts_marked_significant_moves_either_way() -> None:
    rule = drift.DriftRequest("first-level")
    harder = drift.compare((100, 80), (100, 40), 30)
    assert drift.signal_of(harder, rule) == drift.Signal.HARDER and harder.z < 0
    easier = drift.compare((100, 40), (100, 80), 30)
    assert drift.signal_of(easier, rule) == drift.Signal.EASIER
    small = drift.compare((4000, 2000), (4000, 2400), 30)  # significant, but only +0.10
    assert small.p_value is not None and small.p_value < 1e-6
    assert drift.signal_of(small, rule) is None
    noisy = drift.compare((30, 12), (30, 18), 30)  # +0.20, not significant at 0.01
    assert drift.signal_of(noisy, rule) is None
    assert drift.signal_of(noisy, drift.parse_request("first-level", alpha="0.5")) is not None


def test_the_last_days_against_before(app: Flask, world: ExamWorld) -> None:
    leaked, _stable = two_months(app, world)
    with app.app_context(), get_db(app).read_sessions() as session:
        report = drift.drift_report(session, drift.parse_request("first-level", "recent", "10"))
    assert [p.label for p in report.periods] == ["before 27 November 2026", "last 10 days"]
    assert [p.forms for p in report.periods] == [80, 81]
    assert [i.version_id for i in report.alerts] == [leaked]


def test_the_api_and_its_problems(app: Flask, world: ExamWorld) -> None:
    leaked, _stable = two_months(app, world)
    body = world.call("GET", "/blueprints/first-level/drift", "admin", expect=200).get_json()
    label = _label(app, leaked)
    assert body["alerts"] == [label] and body["mode"] == "monthly"
    assert [p["forms"] for p in body["periods"]] == [80, 81]
    item = next(i for i in body["items"] if f"{i['ref']} v{i['version']}" == label)
    assert item["signal"] == "easier" and [p["period"] for p in item["periods"]] == [
        "2026-11",
        "2026-12",
    ]
    strict = world.call(
        "GET", "/blueprints/first-level/drift?min_n=500", "admin", expect=200
    ).get_json()
    assert strict["alerts"] == []
    for query, name in (
        ("threshold=2", "threshold"),
        ("mode=weekly", "mode"),
        ("days=zero", "days"),
        ("alpha=nan", "alpha"),
        ("min_n=0", "min_n"),
    ):
        bad = world.call("GET", f"/blueprints/first-level/drift?{query}", "admin", expect=422)
        assert bad.mimetype == "application/problem+json"
        assert [e["field"] for e in bad.get_json()["errors"]] == [name]
    assert world.call("GET", "/blueprints/none/drift", "admin").status_code == 404
    assert world.call("GET", "/blueprints/first-level/drift", "ana").status_code == 403


def test_the_command_emails_new_alerts_once(app: Flask, world: ExamWorld) -> None:
    leaked, _stable = two_months(app, world)
    runner = app.test_cli_runner()
    quiet = runner.invoke(args=["psychometrics", "drift", "first-level"])
    assert quiet.exit_code == 0, quiet.output
    assert "Alerts: 1." in quiet.output and _label(app, leaked) in quiet.output
    with get_db(app).read_sessions() as session:
        assert session.scalar(select(func.count()).select_from(mail.OutboxMessage)) == 0
    first = runner.invoke(args=["psychometrics", "drift", "first-level", "--alert"])
    assert first.exit_code == 0, first.output
    assert "1 new alerts emailed to 1 exam administrators; 0 sent before." in first.output
    again = runner.invoke(args=["psychometrics", "drift", "first-level", "--alert"])
    assert "0 new alerts emailed to 0 exam administrators; 1 sent before." in again.output
    with get_db(app).read_sessions() as session:
        [message] = session.scalars(select(mail.OutboxMessage)).all()
        audits = session.scalars(select(AuditEvent).where(AuditEvent.action == ALERT_ACTION)).all()
    assert message.recipient == world.people["admin"]["user"].email
    assert _label(app, leaked) in message.body and "possible leak" in message.body
    assert [(a.object_id, a.after["signal"]) for a in audits] == [(str(leaked), "easier")]
    bad = runner.invoke(args=["psychometrics", "drift", "first-level", "--min-n", "0"])
    assert bad.exit_code != 0 and "min_n is a whole number" in bad.output


def test_the_page_lists_the_alert_first(app: Flask, world: ExamWorld) -> None:
    leaked, _stable = two_months(app, world)
    admin = app.test_client()
    sign_in(admin, world.people["admin"]["user"].email)
    statistics = admin.get("/staff/statistics").get_data(as_text=True)
    assert "/staff/statistics/drift?blueprint=first-level" in statistics
    page = admin.get("/staff/statistics/drift").get_data(as_text=True)
    label = _label(app, leaked)
    alerts = page[page.index('id="alerts-title"') : page.index('id="drift-items-title"')]
    assert label.split(" v")[0] in alerts and "markedly easier: possible leak" in alerts
    assert "2 periods (2026-11: 80 forms; 2026-12: 81 forms); 1 alert." in page
    assert 'aria-label="Exposure per period: 2026-11' in page
    bad = admin.get("/staff/statistics/drift?threshold=7")
    assert bad.status_code == 422
    assert "threshold is a number above 0 and below 1." in bad.get_data(as_text=True)
    ana = app.test_client()
    sign_in(ana, world.people["ana"]["user"].email)
    assert ana.get("/staff/statistics/drift").status_code == 403
