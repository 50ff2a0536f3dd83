"""Scoring an attempt against the blueprint version it was drawn with.

Each item is right or wrong (multiple response all or nothing, unless the blueprint
gives partial credit); percentages per area and sub-area; a pass needs the overall cut
and every area's minimum. A terminated attempt is void: not a fail, but it counts toward
the attempts cap. The outcome is published as ``attempt.result_changed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
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


def _area_reports(
    rules: list[AreaRule], spec: dict[str, Any], scored: list[Scored]
) -> list[dict[str, Any]]:
    minimums = {area["code"]: area["min_percent"] for area in spec["areas"]}
    reports = []
    for rule in rules:
        mine = [s for s in scored if _under(s.code, rule.code)]
        subareas = []
        for code, title in zip(rule.subareas, rule.subarea_titles or rule.subareas, strict=False):
            inside = [s for s in mine if _under(s.code, code)]
            total = sum(s.score for s in inside)
            subareas.append(
                {
                    "code": code,
                    "title": title,
                    "score": total,
                    "max": len(inside),
                    "percent": _percent(total, len(inside)),
                }
            )
        total = sum(s.score for s in mine)
        percent = _percent(total, len(mine))
        reports.append(
            {
                "code": rule.code,
                "title": rule.title,
                "score": total,
                "max": len(mine),
                "percent": percent,
                "min_percent": minimums[rule.code],
                "met": percent >= minimums[rule.code],
                "subareas": subareas,
            }
        )
    return reports


def grade(
    session: Session, attempt: Attempt, extra_notes: Sequence[str] = (), void: bool = False
) -> AttemptResult:
    """Score ``attempt`` (finished) and store the outcome; publish it when it changed."""
    version = session.get(BlueprintVersion, attempt.blueprint_version_id)
    assert version is not None
    spec = version.spec
    rules = area_rules(session, spec, version.blueprint.framework_id)
    rows = session.execute(
        select(AttemptItem.position, ItemVersion.id, ItemVersion.keys, ItemVersion.primary_code)
        .join(ItemVersion, ItemVersion.id == AttemptItem.item_version_id)
        .where(AttemptItem.attempt_id == attempt.id)
        .order_by(AttemptItem.position)
    ).all()
    decisions = {
        d.item_version_id: d
        for d in session.scalars(
            select(ScoringDecision).where(ScoringDecision.item_version_id.in_([r[1] for r in rows]))
        )
    }
    answers = dict(
        session.execute(
            select(Response.position, Response.selected).where(Response.attempt_id == attempt.id)
        ).all()
    )
    partial = bool(spec.get("partial_credit"))
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
    areas = _area_reports(rules, spec, scored)
    total = sum(s.score for s in scored)
    percent = _percent(total, len(scored))
    passed = percent >= spec["pass_overall_percent"] and all(area["met"] for area in areas)
    outcome = "void" if void or attempt.status == "terminated" else ("pass" if passed else "fail")
    result = session.get(AttemptResult, attempt.id) or AttemptResult(attempt_id=attempt.id)
    before = result.result if result.graded_at else None
    result.graded_at, result.result, result.score, result.max_score = (
        clock.now(),
        outcome,
        total,
        len(scored),
    )
    result.percent, result.pass_percent, result.areas = percent, spec["pass_overall_percent"], areas
    result.item_scores = {str(s.position): s.score for s in scored}
    result.notes = notes + list(extra_notes)
    result.released = not spec.get("hold_results_for_review", False)
    session.add(result)
    attempt.result = outcome
    session.flush()
    if before != outcome:
        events.publish(session, RESULT_CHANGED, attempt_id=attempt.id, before=before, after=outcome)
    return result


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
