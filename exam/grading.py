"""Scoring an attempt against the blueprint version it was drawn with.

Each item is right or wrong (multiple response all or nothing, unless the blueprint
gives partial credit); percentages per area and sub-area; a pass needs the overall cut
and every area's minimum. A terminated attempt is void: not a fail, but it counts toward
the attempts cap. The outcome is published as ``attempt.result_changed``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import String, select, type_coerce
from sqlalchemy.orm import Session

from core import clock, events
from exam.assembly import AreaRule
from exam.models import Attempt, AttemptItem, AttemptResult, Response, ScoringDecision
from exam.rules import area_rules
from item_bank.models import BlueprintVersion, FrameworkNode, ItemVersion

RESULT_CHANGED = "attempt.result_changed"


def score_item(keys: Sequence[str], selected: Sequence[str], partial_credit: bool) -> float:
    """1 for the exact key set; with partial credit, right picks less wrong ones, per key."""
    keys, chosen = set(keys), set(selected)
    if chosen == keys:
        return 1.0
    if not partial_credit or len(keys) < 2:
        return 0.0
    return max(0.0, (len(chosen & keys) - len(chosen - keys)) / len(keys))


def _under(code: str, prefix: str) -> bool:
    return code == prefix or code.startswith(prefix + ".")


@dataclass(frozen=True)
class Scored:
    position: int
    code: str
    score: float


def _percent(score: float, maximum: float) -> float:
    return round(100 * score / maximum, 2) if maximum else 0.0


def _placement(rules: list[AreaRule], code: str) -> tuple[str | None, str | None]:
    for rule in rules:
        if _under(code, rule.code):
            sub = next((s for s in (rule.subareas or ()) if _under(code, s)), None)
            return rule.code, sub
    return None, None


def _area_reports(
    rules: list[AreaRule], spec: dict[str, Any], scored: list[Scored]
) -> list[dict[str, Any]]:
    minimums = {area["code"]: area["min_percent"] for area in spec["areas"]}
    sums: dict[str | None, list[float]] = defaultdict(lambda: [0.0, 0])
    for item in scored:
        area, sub = _placement_cached(tuple(rules), item.code)
        for key in (area, sub):
            sums[key][0] += item.score
            sums[key][1] += 1
    reports = []
    for rule in rules:
        subareas = [
            {
                "code": code,
                "title": title,
                "score": sums[code][0],
                "max": sums[code][1],
                "percent": _percent(sums[code][0], sums[code][1]),
            }
            for code, title in zip(
                rule.subareas, rule.subarea_titles or rule.subareas, strict=False
            )
        ]
        total, count = sums[rule.code]
        percent = _percent(total, count)
        reports.append(
            {
                "code": rule.code,
                "title": rule.title,
                "score": total,
                "max": count,
                "percent": percent,
                "min_percent": minimums[rule.code],
                "met": percent >= minimums[rule.code],
                "subareas": subareas,
            }
        )
    return reports


@lru_cache(maxsize=8192)
def _placement_cached(rules: tuple[AreaRule, ...], code: str) -> tuple[str | None, str | None]:
    return _placement(list(rules), code)


def grade(
    session: Session, attempt: Attempt, extra_notes: Sequence[str] = (), void: bool = False
) -> AttemptResult:
    """Score ``attempt`` (finished) and store the outcome; publish it when it changed."""
    return grade_many(session, [attempt], extra_notes, void)[attempt.id]


def _chunks(values: list[int], size: int = 2000) -> list[list[int]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


@lru_cache(maxsize=4096)
def parse_letters(raw: str | None) -> tuple[str, ...]:
    """A stored selection, parsed once per distinct value (there are only a few dozen)."""
    return tuple(json.loads(raw)) if raw else ()


def _form_rows(session: Session, ids: list[int]) -> dict[int, list[Any]]:
    """Per attempt: (position, version id, keys, primary code), reading each version once."""
    slots: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for chunk in _chunks(ids):
        for attempt_id, position, version_id in session.execute(
            select(AttemptItem.attempt_id, AttemptItem.position, AttemptItem.item_version_id)
            .where(AttemptItem.attempt_id.in_(chunk))
            .order_by(AttemptItem.attempt_id, AttemptItem.position)
        ).all():
            slots[attempt_id].append((position, version_id))
    version_ids = sorted({v for rows in slots.values() for _, v in rows})
    versions = {
        vid: (keys, code)
        for chunk in _chunks(version_ids)
        for vid, keys, code in session.execute(
            select(ItemVersion.id, ItemVersion.keys, ItemVersion.primary_code).where(
                ItemVersion.id.in_(chunk)
            )
        ).all()
    }
    return {
        attempt_id: [(pos, vid, *versions[vid]) for pos, vid in rows]
        for attempt_id, rows in slots.items()
    }


def _answers(session: Session, ids: list[int]) -> dict[int, dict[int, tuple[str, ...]]]:
    answers: dict[int, dict[int, tuple[str, ...]]] = defaultdict(dict)
    raw = type_coerce(Response.selected, String)
    for chunk in _chunks(ids):
        for attempt_id, position, selected in session.execute(
            select(Response.attempt_id, Response.position, raw).where(
                Response.attempt_id.in_(chunk)
            )
        ).all():
            answers[attempt_id][position] = parse_letters(selected)
    return answers


def grade_many(
    session: Session,
    attempts: Sequence[Attempt],
    extra_notes: Sequence[str] = (),
    void: bool = False,
) -> dict[int, AttemptResult]:
    """Score many finished attempts with a few bulk reads; publish each changed outcome."""
    ids = [attempt.id for attempt in attempts]
    forms, answers = _form_rows(session, ids), _answers(session, ids)
    version_ids = {row[1] for rows in forms.values() for row in rows}
    decisions = {
        d.item_version_id: d
        for chunk in _chunks(sorted(version_ids))
        for d in session.scalars(
            select(ScoringDecision).where(ScoringDecision.item_version_id.in_(chunk))
        )
    }
    existing = {
        r.attempt_id: r
        for chunk in _chunks(ids)
        for r in session.scalars(select(AttemptResult).where(AttemptResult.attempt_id.in_(chunk)))
    }
    rules_by_version: dict[int, tuple[dict[str, Any], list[AreaRule]]] = {}
    results, changed = {}, []
    now = clock.now()
    for attempt in attempts:
        if attempt.blueprint_version_id not in rules_by_version:
            version = session.get(BlueprintVersion, attempt.blueprint_version_id)
            assert version is not None
            rules_by_version[version.id] = (
                version.spec,
                area_rules(session, version.spec, version.blueprint.framework_id),
            )
        spec, rules = rules_by_version[attempt.blueprint_version_id]
        scored, notes = _score_form(
            forms[attempt.id], answers[attempt.id], decisions, bool(spec.get("partial_credit"))
        )
        areas = _area_reports(rules, spec, scored)
        total = sum(s.score for s in scored)
        percent = _percent(total, len(scored))
        passed = percent >= spec["pass_overall_percent"] and all(area["met"] for area in areas)
        outcome = (
            "void" if void or attempt.status == "terminated" else ("pass" if passed else "fail")
        )
        result = existing.get(attempt.id) or AttemptResult(attempt_id=attempt.id)
        before = result.result if result.graded_at else None
        result.graded_at, result.result, result.score, result.max_score = (
            now,
            outcome,
            total,
            len(scored),
        )
        result.percent, result.pass_percent, result.areas = (
            percent,
            spec["pass_overall_percent"],
            areas,
        )
        result.item_scores = {str(s.position): s.score for s in scored}
        result.notes = notes + list(extra_notes)
        result.released = not spec.get("hold_results_for_review", False)
        session.add(result)
        attempt.result = outcome
        results[attempt.id] = result
        if before != outcome:
            changed.append((attempt.id, before, outcome))
    session.flush()
    for attempt_id, before, after in changed:
        events.publish(session, RESULT_CHANGED, attempt_id=attempt_id, before=before, after=after)
    return results


def _score_form(
    rows: list[Any],
    answers: dict[int, list[str]],
    decisions: dict[int, ScoringDecision],
    partial: bool,
) -> tuple[list[Scored], list[str]]:
    scored, notes = [], []
    for pos, version_id, keys, code in rows:
        decision = decisions.get(version_id)
        if decision is not None and decision.action == "do_not_score":
            notes.append(f"Question {pos} is not scored: {decision.reason}")
            continue
        if decision is not None and decision.action == "correct_key":
            notes.append(f"Question {pos} is scored with a corrected key: {decision.reason}")
            keys = decision.keys or keys
        scored.append(Scored(pos, code, score_item(keys, answers.get(pos, []), partial)))
    return scored, notes


def get_result(session: Session, attempt_id: int) -> AttemptResult | None:
    return session.get(AttemptResult, attempt_id)


def study_list(
    session: Session, result: AttemptResult, framework_id: int, limit: int = 3
) -> list[dict[str, Any]]:
    """The standard's competencies in the weakest sub-areas: what to study next."""
    subareas = [
        {**sub, "area": area["title"]}
        for area in result.areas
        for sub in area["subareas"]
        if sub["max"]
    ]
    weakest = sorted(subareas, key=lambda sub: sub["percent"])[:limit]
    leaves = session.scalars(
        select(FrameworkNode)
        .where(
            FrameworkNode.framework_id == framework_id,
            FrameworkNode.kind == "competency",
            FrameworkNode.retired.is_(False),
        )
        .order_by(FrameworkNode.position)
    ).all()
    return [
        {
            **sub,
            "competencies": [
                {"code": n.code, "text": n.text} for n in leaves if _under(n.code, sub["code"])
            ],
        }
        for sub in weakest
        if sub["percent"] < 100
    ]
