"""Exam and item statistics from scored attempts (classical test theory).

Forms are drawn per candidate, so each item is analysed over the examinees who saw it.
Exam reliability is KR-20 for a form of ``k`` items, with the item variance term taken
as ``k`` times the mean p·q of the items as administered (each administration weighted),
which reduces to the textbook formula when everyone sits the same form.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, select, type_coerce
from sqlalchemy.orm import Session

from exam.grading import parse_letters
from exam.models import Attempt, AttemptItem, AttemptResult, Response
from item_bank.models import Blueprint, BlueprintVersion, Item, ItemVersion

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


def compute(
    records: list[Record], versions: dict[int, tuple[int, str, int, str, list[str], int]]
) -> ExamStats:
    """Statistics from scored records; ``versions`` maps a version id to
    (item id, ref, version number, primary code, keys, option count)."""
    totals = [r.total for r in records]
    k = round(mean([len(r.scores) for r in records])) if records else 0
    by_version: dict[int, list[Record]] = defaultdict(list)
    for record in records:
        for version_id in record.scores:
            by_version[version_id].append(record)
    items, pq_weighted = [], []
    for version_id, seen in by_version.items():
        item_id, ref, number, code, keys, options = versions[version_id]
        scores = [r.scores[version_id] for r in seen]
        p = mean(scores)
        pq_weighted += [p * (1 - p)] * len(seen)
        rest = [r.total - r.scores[version_id] for r in seen]
        r_pb = correlation(scores, rest)
        stats = ItemStats(
            item_id,
            ref,
            number,
            version_id,
            code,
            len(seen),
            round(p, 4),
            None if r_pb is None else round(r_pb, 4),
            round(len(seen) / len(records), 4),
            _distractors(seen, version_id, options),
            list(keys),
        )
        stats.flags = _flags(stats)
        items.append(stats)
    overall_sd = sd(totals)
    reliability = kr20(k, pq_weighted, overall_sd)
    return ExamStats(
        attempts=len(records),
        pass_rate=round(mean([1.0 if r.passed else 0.0 for r in records]), 4),
        mean=round(mean(totals), 4),
        sd=round(overall_sd, 4),
        kr20=None if reliability is None else round(reliability, 4),
        sem=None
        if reliability is None
        else round(overall_sd * math.sqrt(max(0.0, 1 - reliability)), 4),
        histogram=_histogram(records, k),
        items=sorted(items, key=lambda i: i.ref),
    )


def _distractors(seen: list[Record], version_id: int, options: int) -> dict[str, dict[str, int]]:
    ranked = sorted(seen, key=lambda r: r.total)  # groups by total score, as is usual
    size = max(1, round(len(ranked) * GROUP_SHARE))
    letters = [*LETTERS[:options], "omit"]
    table = {letter: {"upper": 0, "lower": 0, "all": 0} for letter in letters}

    def count(group: list[Record], column: str) -> None:
        for record in group:
            for letter in record.choices.get(version_id) or ("omit",):
                if letter in table:
                    table[letter][column] += 1

    count(ranked[-size:], "upper")
    count(ranked[:size], "lower")
    count(seen, "all")
    return table


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


def _histogram(records: list[Record], k: int) -> list[tuple[int, int]]:
    bands = [0] * 10
    for record in records:
        percent = 100 * record.total / k if k else 0
        bands[min(9, int(percent // 10))] += 1
    return [(10 * i, count) for i, count in enumerate(bands)]


def load_records(
    session: Session, blueprint_code: str, sitting_id: int | None = None
) -> tuple[list[Record], dict[int, Any]]:
    """Scored, non-void attempts on the blueprint (all its versions), as records."""
    query = (
        select(Attempt, AttemptResult)
        .join(AttemptResult, AttemptResult.attempt_id == Attempt.id)
        .join(BlueprintVersion, BlueprintVersion.id == Attempt.blueprint_version_id)
        .join(Blueprint, Blueprint.id == BlueprintVersion.blueprint_id)
        .where(Blueprint.code == blueprint_code, AttemptResult.result.in_(("pass", "fail")))
    )
    if sitting_id is not None:
        query = query.where(Attempt.sitting_id == sitting_id)
    rows = session.execute(query).all()
    ids = [attempt.id for attempt, _ in rows]
    slots: dict[int, dict[int, int]] = defaultdict(dict)
    for attempt_id, position, version_id in session.execute(
        select(AttemptItem.attempt_id, AttemptItem.position, AttemptItem.item_version_id).where(
            AttemptItem.attempt_id.in_(ids)
        )
    ).all():
        slots[attempt_id][position] = version_id
    choices: dict[int, dict[int, list[str]]] = defaultdict(dict)
    raw = type_coerce(Response.selected, String)
    for attempt_id, position, selected in session.execute(
        select(Response.attempt_id, Response.position, raw).where(Response.attempt_id.in_(ids))
    ).all():
        choices[attempt_id][position] = list(parse_letters(selected))
    records = []
    for attempt, result in rows:
        scores = {slots[attempt.id][int(pos)]: score for pos, score in result.item_scores.items()}
        picked = {slots[attempt.id][pos]: letters for pos, letters in choices[attempt.id].items()}
        records.append(Record(attempt.id, result.score, result.result == "pass", scores, picked))
    version_ids = {v for r in records for v in r.scores}
    versions = {
        v.id: (v.item_id, ref, v.number, v.primary_code, list(v.keys), len(v.options))
        for v, ref in session.execute(
            select(ItemVersion, Item.ref)
            .join(Item, Item.id == ItemVersion.item_id)
            .where(ItemVersion.id.in_(version_ids))
        ).all()
    }
    return records, versions


def exam_statistics(
    session: Session, blueprint_code: str, sitting_id: int | None = None
) -> ExamStats:
    records, versions = load_records(session, blueprint_code, sitting_id)
    return compute(records, versions)
