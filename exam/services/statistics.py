"""Exam and item statistics from scored attempts (classical test theory).

Forms are drawn per candidate, so each item is analysed over the examinees who saw it.
Exam reliability is KR-20 for a form of ``k`` items, with the item variance term taken
as ``k`` times the mean p·q of the items as administered (each administration weighted),
which reduces to the textbook formula when everyone sits the same form.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import raw_rows
from exam.models import Outcome
from exam.services.grading import parse_letters
from item_bank.models import Item, ItemVersion

LETTERS = "ABCDEF"
GROUP_SHARE = 0.27


@dataclass
class ItemStats:
    item_id: int
    ref: str
    version: int
    version_id: int
    code: str
    n: int
    p_value: float
    point_biserial: float | None
    exposure: float
    distractors: dict[str, dict[str, int]]  # letter -> {"upper": n, "lower": n, "all": n}
    keys: list[str]
    flags: list[str] = field(default_factory=list)
    pretest: bool = False  # on trial: answered and analysed, not counted


@dataclass
class ExamStats:
    attempts: int
    pass_rate: float
    mean: float
    sd: float
    kr20: float | None
    sem: float | None
    histogram: list[tuple[int, int]]  # (lower bound of a 10-point band, count)
    items: list[ItemStats]


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def sd(values: list[float]) -> float:
    """Population standard deviation."""
    if not values:
        return 0.0
    m = mean(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / len(values))


def correlation(xs: list[float], ys: list[float]) -> float | None:
    if len(xs) < 2:
        return None
    mx, my = mean(xs), mean(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sx = math.sqrt(sum((x - mx) ** 2 for x in xs))
    sy = math.sqrt(sum((y - my) ** 2 for y in ys))
    return None if sx == 0 or sy == 0 else sxy / (sx * sy)


def kr20(k: int, item_pq: list[float], total_sd: float) -> float | None:
    """KR-20 for a ``k``-item form; ``item_pq`` holds p·q of every item administration."""
    if k < 2 or total_sd == 0 or not item_pq:
        return None
    return (k / (k - 1)) * (1 - k * mean(item_pq) / total_sd**2)


@dataclass(frozen=True)
class Record:
    """One scored attempt: its total (raw score) and, per item, the score and choice."""

    attempt_id: int
    total: float
    passed: bool
    scores: dict[int, float]  # item version id -> score
    choices: dict[int, list[str]]  # item version id -> letters chosen


# (item score, examinee's total, letters chosen, seen as a pretest item: not in the total)
Row = tuple[float, float, tuple[str, ...], bool]


def compute(
    records: list[Record], versions: dict[int, tuple[int, str, int, str, list[str], int]]
) -> ExamStats:
    """Statistics from scored records; ``versions`` maps a version id to
    (item id, ref, version number, primary code, keys, option count)."""
    seen: dict[int, list[Row]] = defaultdict(list)
    for record in records:
        for version_id, score in record.scores.items():
            seen[version_id].append(
                (score, record.total, tuple(record.choices.get(version_id) or ()), False)
            )
    k = round(mean([len(r.scores) for r in records])) if records else 0
    return _summarise(seen, [r.total for r in records], [r.passed for r in records], k, versions)


def _summarise(
    seen: dict[int, list[Row]],
    totals: list[float],
    passes: list[bool],
    k: int,
    versions: dict[int, tuple[int, str, int, str, list[str], int]],
) -> ExamStats:
    """Everything from each item version's rows of (score, total, choice)."""
    items, pq_weighted = [], []
    for version_id, rows in seen.items():
        item_id, ref, number, code, keys, options = versions[version_id]
        scores = [row[0] for row in rows]
        p = sum(scores) / len(scores)
        counted = [row[0] for row in rows if not row[3]]
        if counted:  # a pretest item's answers are no part of the score's reliability
            p_counted = sum(counted) / len(counted)
            pq_weighted.append((p_counted * (1 - p_counted), len(counted)))
        # Corrected: against the total without the item's own score (a pretest item's
        # was never in it).
        r_pb = correlation(scores, [row[1] - (0.0 if row[3] else row[0]) for row in rows])
        stats = ItemStats(
            item_id,
            ref,
            number,
            version_id,
            code,
            len(rows),
            round(p, 4),
            None if r_pb is None else round(r_pb, 4),
            round(len(rows) / len(totals), 4),
            _distractors(rows, options),
            list(keys),
            pretest=any(row[3] for row in rows),
        )
        stats.flags = _flags(stats)
        items.append(stats)
    overall_sd = sd(totals)
    administrations = sum(n for _, n in pq_weighted)
    mean_pq = sum(pq * n for pq, n in pq_weighted) / administrations if administrations else 0.0
    reliability = kr20(k, [mean_pq] if administrations else [], overall_sd)
    return ExamStats(
        attempts=len(totals),
        pass_rate=round(mean([1.0 if p else 0.0 for p in passes]), 4),
        mean=round(mean(totals), 4),
        sd=round(overall_sd, 4),
        kr20=None if reliability is None else round(reliability, 4),
        sem=None
        if reliability is None
        else round(overall_sd * math.sqrt(max(0.0, 1 - reliability)), 4),
        histogram=_histogram(totals, k),
        items=sorted(items, key=lambda i: i.ref),
    )


def _distractors(rows: list[Row], options: int) -> dict[str, dict[str, int]]:
    """How often each option (and omission) was chosen, overall and by the upper and lower
    27 % of examinees by total score."""
    ranked = sorted(rows, key=lambda row: row[1])
    size = max(1, round(len(ranked) * GROUP_SHARE))

    def tally(group: list[Row]) -> Counter[str]:
        return Counter(chain.from_iterable(row[2] or ("omit",) for row in group))

    upper, lower, every = tally(ranked[-size:]), tally(ranked[:size]), tally(rows)
    return {
        letter: {"upper": upper[letter], "lower": lower[letter], "all": every[letter]}
        for letter in [*LETTERS[:options], "omit"]
    }


def _flags(item: ItemStats) -> list[str]:
    flags = []
    if item.p_value < 0.25:
        flags.append("hard (p < 0.25)")
    if item.p_value > 0.95:
        flags.append("easy (p > 0.95)")
    if item.point_biserial is not None and item.point_biserial < 0.10:
        flags.append("weak discrimination (r < 0.10)")
    unused = [
        letter
        for letter, row in item.distractors.items()
        if letter != "omit" and letter not in item.keys and row["all"] == 0
    ]
    if unused:
        flags.append(f"distractor {', '.join(unused)} chosen by nobody")
    return flags


def _histogram(totals: list[float], k: int) -> list[tuple[int, int]]:
    bands = [0] * 10
    for total in totals:
        percent = 100 * total / k if k else 0
        bands[min(9, int(percent // 10))] += 1
    return [(10 * i, count) for i, count in enumerate(bands)]


SCORED = """
    FROM attempt a
    JOIN attempt_result r ON r.attempt_id = a.id AND r.result IN ('pass', 'fail')
    JOIN blueprint_version bv ON bv.id = a.blueprint_version_id
    JOIN blueprint b ON b.id = bv.blueprint_id
    WHERE b.code = :code
      AND (CAST(:sitting AS INTEGER) IS NULL OR a.sitting_id = CAST(:sitting AS INTEGER))
"""


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _load_rows(
    session: Session, blueprint_code: str, sitting_id: int | None
) -> tuple[dict[int, list[Row]], list[float], list[bool], int, dict[int, Any]]:
    """Per item version, the rows of everyone who saw it, read as plain driver tuples."""
    params = {"code": blueprint_code, "sitting": sitting_id}
    totals: dict[int, float] = {}
    scores: dict[int, dict[str, float]] = {}
    passes: list[bool] = []
    for attempt_id, score, result, item_scores in raw_rows(
        session, "SELECT a.id, r.score, r.result, r.item_scores" + SCORED, params
    ):
        totals[attempt_id], scores[attempt_id] = score, _json(item_scores)
        passes.append(result == Outcome.PASS)
    seen: dict[int, list[Row]] = defaultdict(list)
    # One pass over each attempt's items with its answer beside it (a missing answer is
    # an empty choice), rather than two passes and a dictionary of every answer.
    counted: dict[int, int] = defaultdict(int)
    for attempt_id, position, version_id, selected, pretest in raw_rows(
        session,
        "SELECT ai.attempt_id, ai.position, ai.item_version_id, re.selected, ai.pretest "
        "FROM attempt_item ai LEFT JOIN response re "
        "ON re.attempt_id = ai.attempt_id AND re.position = ai.position "
        "WHERE ai.attempt_id IN (SELECT a.id" + SCORED + ")",
        params,
    ):
        score = scores[attempt_id].get(str(position))
        if score is not None:  # not scored (removed from scoring): not analysed
            choice = parse_letters(selected) if isinstance(selected, str) else tuple(selected or ())
            seen[version_id].append((score, totals[attempt_id], choice, bool(pretest)))
            counted[attempt_id] += not pretest
    k = round(mean(list(counted.values()))) if counted else 0
    return seen, list(totals.values()), passes, k, _versions(session, sorted(seen))


def _versions(session: Session, version_ids: list[int]) -> dict[int, Any]:
    return {
        v.id: (v.item_id, ref, v.number, v.primary_code, list(v.keys), len(v.options))
        for start in range(0, len(version_ids), 2000)
        for v, ref in session.execute(
            select(ItemVersion, Item.ref)
            .join(Item, Item.id == ItemVersion.item_id)
            .where(ItemVersion.id.in_(version_ids[start : start + 2000]))
        ).all()
    }


def exam_statistics(
    session: Session, blueprint_code: str, sitting_id: int | None = None
) -> ExamStats:
    return _summarise(*_load_rows(session, blueprint_code, sitting_id))


# ---- the staff page's table and its CSV ----------------------------------------------------

SORTS = ("ref", "p_value", "point_biserial", "n", "exposure", "flags")
DESCENDING_SORTS = ("flags", "n", "exposure")
CSV_COLUMNS = (
    "ref",
    "version",
    "competency",
    "n",
    "p_value",
    "point_biserial",
    "exposure",
    "flags",
)


def sort_name(requested: str | None) -> str:
    return requested if requested in SORTS else "ref"


def sorted_items(stats: ExamStats, sort: str) -> list[ItemStats]:
    """Items by one column; items without a value (no discrimination yet) go last."""

    def key(item: ItemStats) -> tuple[bool, Any]:
        value = len(item.flags) if sort == "flags" else getattr(item, sort)
        return (value is None, value)

    return sorted(stats.items, key=key, reverse=sort in DESCENDING_SORTS)


def items_csv(stats: ExamStats) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for item in stats.items:
        writer.writerow(
            [
                item.ref,
                item.version,
                item.code,
                item.n,
                item.p_value,
                item.point_biserial,
                item.exposure,
                "; ".join(item.flags),
            ]
        )
    return out.getvalue()
