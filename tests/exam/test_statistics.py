"""Item and exam statistics: a hand-computed example, numpy on random data, and the page."""

from __future__ import annotations

import random

import numpy as np
import pytest
from flask import Flask

from exam.services.statistics import Record, compute
from tests.conftest import sign_in
from tests.exam.fixtures import ExamWorld

VERSIONS = {v: (v, f"R-{v}", 1, "CU.KN.TERM.01", ["A"], 4) for v in range(1, 40)}


def _records(matrix: list[list[float]]) -> list[Record]:
    return [
        Record(
            n,
            sum(row),
            sum(row) >= 2,
            {i + 1: s for i, s in enumerate(row)},
            {i + 1: (["A"] if s else ["B"]) for i, s in enumerate(row)},
        )
        for n, row in enumerate(matrix)
    ]


def test_a_hand_computed_example() -> None:
    stats = compute(_records([[1, 1, 1], [1, 1, 0], [1, 0, 0], [0, 1, 0], [0, 0, 0]]), VERSIONS)
    assert (stats.attempts, stats.mean, stats.sd) == (5, 1.4, pytest.approx(1.0198, abs=1e-4))
    assert stats.kr20 == pytest.approx(0.5769, abs=1e-4)  # 3/2 x (1 - 0.64 / 1.04)
    assert stats.sem == pytest.approx(1.0198 * (1 - 0.576923) ** 0.5, abs=1e-3)
    first = stats.items[0]
    assert (first.p_value, first.n, first.exposure) == (0.6, 5, 1.0)
    assert first.point_biserial == pytest.approx(0.3273, abs=1e-4)  # 0.6 / sqrt(1.2 x 2.8)
    assert first.distractors["A"] == {"upper": 1, "lower": 0, "all": 3}
    assert "distractor C, D chosen by nobody" in first.flags
    assert "hard (p < 0.25)" in stats.items[2].flags


def test_agrees_with_numpy_on_random_data() -> None:
    rng = random.Random(3)
    ability = [rng.gauss(0, 1) for _ in range(300)]
    difficulty = [rng.gauss(0, 1) for _ in range(25)]
    matrix = [[1.0 if a - d + rng.gauss(0, 1) > 0 else 0.0 for d in difficulty] for a in ability]
    stats = compute(_records(matrix), VERSIONS)
    data = np.array(matrix)
    totals = data.sum(axis=1)
    p = data.mean(axis=0)
    k = data.shape[1]
    kr20 = k / (k - 1) * (1 - (p * (1 - p)).sum() / totals.var())
    assert stats.kr20 == pytest.approx(kr20, abs=1e-3)
    assert stats.mean == pytest.approx(totals.mean(), abs=1e-3)
    assert stats.sd == pytest.approx(totals.std(), abs=1e-3)
    for item in stats.items:
        column = data[:, item.version_id - 1]
        assert item.p_value == pytest.approx(column.mean(), abs=1e-3)
        expected = np.corrcoef(column, totals - column)[0, 1]
        assert item.point_biserial == pytest.approx(expected, abs=1e-3)


def test_statistics_page_api_and_csv(app: Flask, world: ExamWorld) -> None:
    from tests.exam.fixtures import answer_all, sit

    attempt = sit(world)
    answer_all(world, app, attempt, lambda code: code.startswith("CU"))
    world.call("POST", f"/attempts/{attempt['id']}/submit", "ana", expect=200)
    body = world.call("GET", "/blueprints/first-level/statistics", "admin", expect=200).get_json()
    assert body["attempts"] == 1 and len(body["items"]) == 60
    assert world.call("GET", "/blueprints/first-level/statistics", "ana").status_code == 403
    admin = app.test_client()
    sign_in(admin, world.people["admin"]["user"].email)
    page = admin.get("/staff/statistics?blueprint=first-level&sort=p_value").get_data(as_text=True)
    assert "KR-20" in page and "Point-biserial" in page
    sitting = world.call("GET", "/sittings", "admin").get_json()["sittings"][0]["id"]
    assert "<dt>Scored attempts</dt><dd>1</dd>" in admin.get(
        f"/staff/statistics?sitting={sitting}"
    ).get_data(as_text=True)
    assert "<dt>Scored attempts</dt><dd>0</dd>" in admin.get(
        "/staff/statistics?sitting=999"
    ).get_data(as_text=True)
    csv = admin.get("/staff/statistics.csv?blueprint=first-level").get_data(as_text=True)
    assert (
        csv.splitlines()[0].startswith("ref,version,competency,n,p_value")
        and len(csv.splitlines()) == 61
    )
