"""Item exposure and p-value drift over time: the sign that an item has leaked.

A blueprint's graded attempts are split into periods by when their form was drawn (the
attempt's start): calendar months (UTC), or the last ``days`` days against everything
before. Per item version and period: the exposure rate (the share of the period's forms
that carried the item, scored or not), and n and p-value of its scored responses.

Drift compares the latest period with every earlier period pooled: the change in
p-value, Pearson's chi-square on the 2 x 2 table of period by right/wrong (the
two-proportion z-test, z squared), and Cohen's h as effect size. An item that became
markedly easier (p up by more than ``threshold``, significant at ``alpha``, both sides
at least ``min_n`` responses) is the leak signal; one markedly harder is flagged too.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import numpy as np
from scipy import stats
from sqlalchemy.orm import Session

from core import clock
from core.db import raw_rows, stored_json, stored_moment
from exam.psychometrics.responses import item_keys, require_blueprint_code
from exam.psychometrics.schemas import (
    DriftOut,
    DriftPeriodOut,
    DriftTestOut,
    ItemDriftOut,
    ItemPeriodOut,
)
from exam.services.problems import invalid
from exam.services.statistics import SCORED

DEFAULT_DAYS = 30
DEFAULT_THRESHOLD = 0.15
DEFAULT_ALPHA = 0.01
DEFAULT_MIN_N = 30


class Mode(StrEnum):
    MONTHLY = "monthly"  # calendar months
    RECENT = "recent"  # the last ``days`` days against everything before


class Signal(StrEnum):
    EASIER = "easier"  # the leak signal
    HARDER = "harder"


SIGNAL_TEXT = {
    Signal.EASIER: "markedly easier: possible leak",
    Signal.HARDER: "markedly harder",
}


@dataclass(frozen=True)
class DriftRequest:
    blueprint: str
    mode: Mode = Mode.MONTHLY
    days: int = DEFAULT_DAYS
    threshold: float = DEFAULT_THRESHOLD
    alpha: float = DEFAULT_ALPHA
    min_n: int = DEFAULT_MIN_N


def _number(value: str | float | int | None, name: str, kind: type, message: str) -> Any:
    if value is None or value == "":
        return None
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise invalid(name, message) from None
    if isinstance(number, float) and not math.isfinite(number):
        raise invalid(name, message)
    return number


def parse_request(
    blueprint: str,
    mode: str | None = None,
    days: str | int | None = None,
    threshold: str | float | None = None,
    alpha: str | float | None = None,
    min_n: str | int | None = None,
) -> DriftRequest:
    """A drift request from query or command-line values; a 422 names a bad one."""
    mode = mode or Mode.MONTHLY
    if mode not in tuple(Mode):
        raise invalid("mode", "mode is monthly or recent.")
    wanted_days = _number(days, "days", int, "days is a whole number from 1 to 3650.")
    if wanted_days is not None and not 1 <= wanted_days <= 3650:
        raise invalid("days", "days is a whole number from 1 to 3650.")
    cut = _number(threshold, "threshold", float, "threshold is a number above 0 and below 1.")
    if cut is not None and not 0 < cut < 1:
        raise invalid("threshold", "threshold is a number above 0 and below 1.")
    level = _number(alpha, "alpha", float, "alpha is a number above 0 and at most 0.5.")
    if level is not None and not 0 < level <= 0.5:
        raise invalid("alpha", "alpha is a number above 0 and at most 0.5.")
    least = _number(min_n, "min_n", int, "min_n is a whole number from 1 to 100000.")
    if least is not None and not 1 <= least <= 100000:
        raise invalid("min_n", "min_n is a whole number from 1 to 100000.")
    return DriftRequest(
        blueprint[:60],
        Mode(mode),
        DEFAULT_DAYS if wanted_days is None else wanted_days,
        DEFAULT_THRESHOLD if cut is None else cut,
        DEFAULT_ALPHA if level is None else level,
        DEFAULT_MIN_N if least is None else least,
    )


@dataclass(frozen=True)
class Period:
    label: str
    starts: datetime  # inclusive
    ends: datetime  # exclusive
    forms: int  # graded attempts whose form was drawn in the period


@dataclass(frozen=True)
class ItemPeriod:
    forms: int  # of the period's forms, those that carried the item
    exposure: float  # forms / the period's forms
    n: int  # scored responses
    right: int

    @property
    def p_value(self) -> float | None:
        return self.right / self.n if self.n else None


@dataclass(frozen=True)
class DriftTest:
    baseline_n: int
    baseline_p: float | None
    latest_n: int
    latest_p: float | None
    change: float | None  # latest p minus baseline p
    chi_square: float | None
    z: float | None  # signed: positive when the item got easier
    p_value: float | None  # of the test; None when it cannot be run
    cohens_h: float | None
    enough: bool  # both sides have at least min_n responses


@dataclass
class ItemDrift:
    version_id: int
    item_id: int
    ref: str
    version: int
    code: str
    periods: list[ItemPeriod]  # one per report period, in order
    drift: DriftTest | None  # None with a single period
    signal: Signal | None = None

    @property
    def label(self) -> str:
        return f"{self.ref} v{self.version}"


@dataclass
class DriftReport:
    request: DriftRequest
    periods: list[Period]
    items: list[ItemDrift] = field(default_factory=list)

    @property
    def alerts(self) -> list[ItemDrift]:
        """Alerted items, the leak signal first, the largest change first."""
        flagged = [i for i in self.items if i.signal is not None]
        return sorted(
            flagged,
            key=lambda i: (i.signal != Signal.EASIER, -abs((i.drift and i.drift.change) or 0)),
        )

    @property
    def latest(self) -> Period | None:
        return self.periods[-1] if self.periods else None


def _month_start(moment: datetime) -> datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _next_month(start: datetime) -> datetime:
    return start.replace(year=start.year + 1, month=1) if start.month == 12 else (
        start.replace(month=start.month + 1)
    )  # fmt: skip


def period_bounds(
    request: DriftRequest, starts: list[datetime]
) -> list[tuple[str, datetime, datetime]]:
    """(label, start, end) of each period holding at least one of ``starts``, in order."""
    if not starts:
        return []
    if request.mode == Mode.RECENT:
        cutoff = clock.now() - timedelta(days=request.days)
        early, late = min(starts), max(max(starts), clock.now())
        bounds = []
        if early < cutoff:
            bounds.append((f"before {clock.format_day(cutoff.date())}", early, cutoff))
        bounds.append((f"last {request.days} days", cutoff, late + timedelta(microseconds=1)))
        return bounds
    months = sorted({_month_start(moment) for moment in starts})
    return [(m.strftime("%Y-%m"), m, _next_month(m)) for m in months]


def _index(bounds: list[tuple[str, datetime, datetime]], moment: datetime) -> int | None:
    for index, (_label, start, end) in enumerate(bounds):
        if start <= moment < end:
            return index
    return None


def compare(baseline: tuple[int, int], latest: tuple[int, int], min_n: int) -> DriftTest:
    """Drift between (n, right) pooled over the earlier periods and in the latest one."""
    (n0, r0), (n1, r1) = baseline, latest
    p0, p1 = (r0 / n0 if n0 else None), (r1 / n1 if n1 else None)
    enough = n0 >= min_n and n1 >= min_n
    if p0 is None or p1 is None:
        return DriftTest(n0, p0, n1, p1, None, None, None, None, None, enough)
    change = p1 - p0
    cohens_h = 2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p0))
    right, wrong = r0 + r1, n0 + n1 - r0 - r1
    if right == 0 or wrong == 0:  # everyone right (or wrong) in both: nothing moved
        return DriftTest(n0, p0, n1, p1, change, 0.0, 0.0, 1.0, cohens_h, enough)
    table = np.array([[r0, n0 - r0], [r1, n1 - r1]], dtype=np.float64)
    result = stats.chi2_contingency(table, correction=False)
    chi = float(result.statistic)
    z = math.copysign(math.sqrt(chi), change)
    return DriftTest(n0, p0, n1, p1, change, chi, z, float(result.pvalue), cohens_h, enough)


def signal_of(test: DriftTest | None, request: DriftRequest) -> Signal | None:
    if test is None or not test.enough or test.change is None or test.p_value is None:
        return None
    if test.p_value >= request.alpha or abs(test.change) <= request.threshold:
        return None
    return Signal.EASIER if test.change > 0 else Signal.HARDER


def _read(
    session: Session, code: str
) -> tuple[dict[int, datetime], list[tuple[int, int, float | None]]]:
    """Each graded attempt's start, and (attempt, item version, score) of its items."""
    params = {"code": code, "sitting": None}
    started: dict[int, datetime] = {}
    scores: dict[int, dict[str, float]] = {}
    for attempt_id, started_at, item_scores in raw_rows(
        session, "SELECT a.id, a.started_at, r.item_scores" + SCORED, params
    ):
        moment = stored_moment(started_at)
        if moment is not None:
            started[attempt_id] = clock.as_utc(moment)
            scores[attempt_id] = stored_json(item_scores)
    administered = [
        (attempt_id, version_id, scores[attempt_id].get(str(position)))
        for attempt_id, position, version_id in raw_rows(
            session,
            "SELECT ai.attempt_id, ai.position, ai.item_version_id FROM attempt_item ai "  # noqa: S608
            "WHERE ai.attempt_id IN (SELECT a.id" + SCORED + ")",
            params,
        )
        if attempt_id in scores
    ]
    return started, administered


def drift_report(session: Session, request: DriftRequest) -> DriftReport:
    """Exposure and p-value per period of every item version the blueprint's graded
    attempts carried, the drift of the latest period, and the alerts."""
    code = require_blueprint_code(session, request.blueprint)
    started, administered = _read(session, code)
    bounds = period_bounds(request, list(started.values()))
    period_of = {a: _index(bounds, moment) for a, moment in started.items()}
    forms = [0] * len(bounds)
    for index in period_of.values():
        if index is not None:
            forms[index] += 1
    # version -> period -> [forms carrying it, scored responses, right]
    counts: dict[int, list[list[int]]] = defaultdict(lambda: [[0, 0, 0] for _ in bounds])
    for attempt_id, version_id, score in administered:
        index = period_of[attempt_id]
        if index is None:
            continue
        cell = counts[version_id][index]
        cell[0] += 1
        if score is not None:
            cell[1] += 1
            cell[2] += 1 if score >= 1.0 else 0
    periods = [Period(label, start, end, forms[i]) for i, (label, start, end) in enumerate(bounds)]
    report = DriftReport(request, periods)
    keys = item_keys(session, set(counts))
    for version_id, cells in counts.items():
        key = keys[version_id]
        item_periods = [
            ItemPeriod(c[0], c[0] / forms[i] if forms[i] else 0.0, c[1], c[2])
            for i, c in enumerate(cells)
        ]
        test = None
        if len(cells) > 1:
            baseline = (sum(c[1] for c in cells[:-1]), sum(c[2] for c in cells[:-1]))
            test = compare(baseline, (cells[-1][1], cells[-1][2]), request.min_n)
        item = ItemDrift(
            version_id, key.item_id, key.ref, key.version, key.code, item_periods, test
        )
        item.signal = signal_of(test, request)
        report.items.append(item)
    report.items.sort(key=lambda i: (i.ref, i.version))
    return report


def drift_out(report: DriftReport) -> DriftOut:
    wanted = report.request
    labels = [p.label for p in report.periods]
    return DriftOut(
        blueprint=wanted.blueprint,
        mode=wanted.mode.value,
        days=wanted.days,
        threshold=wanted.threshold,
        alpha=wanted.alpha,
        min_n=wanted.min_n,
        periods=[
            DriftPeriodOut(label=p.label, starts=p.starts, ends=p.ends, forms=p.forms)
            for p in report.periods
        ],
        alerts=[item.label for item in report.alerts],
        items=[
            ItemDriftOut(
                ref=item.ref,
                version=item.version,
                competency=item.code,
                periods=[
                    ItemPeriodOut(
                        period=label,
                        forms=cell.forms,
                        exposure=round(cell.exposure, 4),
                        n=cell.n,
                        p_value=None if cell.p_value is None else round(cell.p_value, 4),
                    )
                    for label, cell in zip(labels, item.periods, strict=True)
                ],
                drift=None if item.drift is None else _test_out(item.drift),
                signal=None if item.signal is None else item.signal.value,
            )
            for item in report.items
        ],
    )


def _test_out(test: DriftTest) -> DriftTestOut:
    return DriftTestOut(
        baseline_n=test.baseline_n,
        baseline_p=test.baseline_p,
        latest_n=test.latest_n,
        latest_p=test.latest_p,
        change=test.change,
        chi_square=test.chi_square,
        z=test.z,
        test_p=test.p_value,
        cohens_h=test.cohens_h,
        enough=test.enough,
    )
