"""Scores on a reporting scale from the Rasch measure.

A blueprint may report a scaled score (say 100-900, pass point 500) beside the percentage.
The candidate's measure is the maximum-likelihood ability given the calibrated difficulties
of the scored items on their own form, so a harder form gives the same measure for fewer
right answers; the overall pass is then the measure reaching the cut measure. The scale is
linear in the measure, through the pass point at the cut measure, clipped to its ends.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from exam.psychometrics.models import ItemCalibration
from exam.services.pool import latest_bank_calibration

# A form needs this many calibrated scored items for a measure; fewer, and the
# percentage rule decides.
MIN_CALIBRATED = 10
# A score of none or all right has no finite maximum-likelihood measure: it is taken as
# this much short of the end, the usual adjustment.
EXTREME_ADJUST = 0.3


@dataclass(frozen=True)
class Scaled:
    measure: float
    score: int
    cut: int
    passed: bool


@dataclass(frozen=True)
class Scale:
    low: int
    high: int
    cut: int
    points_per_logit: float
    cut_measure: float
    difficulty: dict[int, float]  # item version id -> logits

    def on_scale(self, measure: float) -> int:
        raw = self.cut + self.points_per_logit * (measure - self.cut_measure)
        return int(min(self.high, max(self.low, round(raw))))

    def score(self, answers: Sequence[tuple[int, float]]) -> Scaled | None:
        """``answers``: (item version id, score 0-1) of the scored items on the form."""
        known = [(self.difficulty[v], s) for v, s in answers if v in self.difficulty]
        if len(known) < MIN_CALIBRATED:
            return None
        measure = ml_measure([b for b, _ in known], sum(s for _, s in known))
        return Scaled(measure, self.on_scale(measure), self.cut, measure >= self.cut_measure - 1e-9)


def ml_measure(difficulties: Sequence[float], raw: float) -> float:
    """The measure at which the expected score on these items is ``raw`` (Newton's method
    from a logit start; the expected score is increasing in the measure)."""
    n = len(difficulties)
    raw = min(max(raw, EXTREME_ADJUST), n - EXTREME_ADJUST)
    theta = math.log(raw / (n - raw)) + sum(difficulties) / n
    for _ in range(50):
        chances = [1.0 / (1.0 + math.exp(b - theta)) for b in difficulties]
        expected = sum(chances)
        information = sum(p * (1 - p) for p in chances)
        step = (raw - expected) / information
        theta += max(-2.0, min(2.0, step))
        if abs(step) < 1e-7:
            break
    return theta


def scale_for(session: Session, blueprint_id: int, spec: dict[str, Any]) -> Scale | None:
    """The blueprint's reporting scale on the bank's latest calibration; none while the
    blueprint reports no scale or the bank has no calibration."""
    wanted = spec.get("scaled_score")
    latest = latest_bank_calibration(session, blueprint_id) if wanted else None
    if not wanted or latest is None:
        return None
    run_id, run_cut = latest
    difficulty = dict(
        session.execute(
            select(ItemCalibration.item_version_id, ItemCalibration.difficulty).where(
                ItemCalibration.run_id == run_id
            )
        ).all()
    )
    fixed = wanted.get("cut_measure")
    return Scale(
        low=int(wanted.get("low", 100)),
        high=int(wanted.get("high", 900)),
        cut=int(wanted.get("cut", 500)),
        points_per_logit=float(wanted.get("points_per_logit", 50)),
        cut_measure=float(fixed) if fixed is not None else run_cut,
        difficulty={int(v): float(b) for v, b in difficulty.items()},
    )
