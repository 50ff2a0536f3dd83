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

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from core import clock, events
from core.db import raw_rows
from exam.models import (
    Attempt,
    AttemptResult,
    AttemptStatus,
    Outcome,
    ScoringAction,
    ScoringDecision,
)
from exam.services.assembly import AreaRule
from exam.services.rules import area_rules
from exam.services.scaling import Scale, scale_for
from item_bank.models import BlueprintVersion, FrameworkNode, ItemVersion

RESULT_CHANGED = "attempt.result_changed"


def score_item(keys: Sequence[str], selected: Sequence[str], partial_credit: bool) -> float:
    """1 for the exact key set; with partial credit, right picks less wrong ones, per key."""
    key_set, chosen = set(keys), set(selected)
    if chosen == key_set:
        return 1.0
    if not partial_credit or len(key_set) < 2:
        return 0.0
    return max(0.0, (len(chosen & key_set) - len(chosen - key_set)) / len(key_set))


def _under(code: str, prefix: str) -> bool:
    return code == prefix or code.startswith(prefix + ".")


@dataclass(frozen=True)
class Scored:
    position: int
    code: str
    score: float
    version_id: int = 0


def _percent(score: float, maximum: float) -> float:
    return round(100 * score / maximum, 2) if maximum else 0.0


def _placement(rules: list[AreaRule], code: str) -> tuple[str | None, str | None]:
    for rule in rules:
        if _under(code, rule.code):
            sub = next((s for s in (rule.subareas or ()) if _under(code, s)), None)
            return rule.code, sub
    return None, None


def _area_reports(
    rules: list[AreaRule],
    spec: dict[str, Any],
    scored: list[Scored],
    placements: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    minimums = {area["code"]: area["min_percent"] for area in spec["areas"]}
    sums: dict[str | None, list[float]] = defaultdict(lambda: [0.0, 0])
    for item in scored:
        if placements is None:
            area, sub = _placement(rules, item.code)
        else:
            if item.code not in placements:
                placements[item.code] = _placement(rules, item.code)
            area, sub = placements[item.code]
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


NO_SCALE_NOTE = (
    "No scaled score: the bank has no calibration yet, or too few of this form's questions "
    "are calibrated; the pass went by the percentage."
)


def grade(
    session: Session, attempt: Attempt, extra_notes: Sequence[str] = (), void: bool = False
) -> AttemptResult:
    """Score ``attempt`` (finished) and store the outcome; publish it when it changed."""
    grade_many(session, [attempt], extra_notes, void)
    result = session.get(AttemptResult, attempt.id)
    assert result is not None
    return result


def _chunks(values: list[int], size: int = 2000) -> list[list[int]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


@lru_cache(maxsize=4096)
def parse_letters(raw: str | None) -> tuple[str, ...]:
    """A stored selection, parsed once per distinct value (there are only a few dozen)."""
    return tuple(json.loads(raw)) if raw else ()


def _in(ids: list[int]) -> tuple[str, dict[str, int]]:
    """An ``IN (...)`` list of bound parameters for raw SQL."""
    names = {f"id{n}": value for n, value in enumerate(ids)}
    return "(" + ", ".join(f":{name}" for name in names) + ")", names


def _form_rows(session: Session, ids: list[int]) -> dict[int, list[Any]]:
    """Per attempt: (position, version id, keys, primary code, pretest), reading each
    version once."""
    slots: dict[int, list[tuple[int, int, bool]]] = defaultdict(list)
    for chunk in _chunks(ids):
        placeholders, params = _in(chunk)
        for attempt_id, position, version_id, pretest in raw_rows(
            session,
            "SELECT attempt_id, position, item_version_id, pretest FROM attempt_item "  # noqa: S608
            f"WHERE attempt_id IN {placeholders} ORDER BY attempt_id, position",
            params,
        ):
            slots[attempt_id].append((position, version_id, bool(pretest)))
    version_ids = sorted({v for rows in slots.values() for _, v, _ in rows})
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
        attempt_id: [(pos, vid, *versions[vid], pretest) for pos, vid, pretest in rows]
        for attempt_id, rows in slots.items()
    }


def _answers(session: Session, ids: list[int]) -> dict[int, dict[int, tuple[str, ...]]]:
    answers: dict[int, dict[int, tuple[str, ...]]] = defaultdict(dict)
    for chunk in _chunks(ids):
        placeholders, params = _in(chunk)
        for attempt_id, position, selected in raw_rows(
            session,
            "SELECT attempt_id, position, selected FROM response "  # noqa: S608
            f"WHERE attempt_id IN {placeholders}",
            params,
        ):
            letters = (
                parse_letters(selected) if isinstance(selected, str) else tuple(selected or ())
            )
            answers[attempt_id][position] = letters
    return answers


def grade_many(
    session: Session,
    attempts: Sequence[Attempt],
    extra_notes: Sequence[str] = (),
    void: bool = False,
) -> dict[int, str]:
    """Score many finished attempts with a few bulk reads and writes; publish each changed
    outcome. Returns each attempt's outcome."""
    session.flush()
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
    previous = {
        attempt_id: outcome
        for chunk in _chunks(ids)
        for attempt_id, outcome in session.execute(
            select(AttemptResult.attempt_id, AttemptResult.result).where(
                AttemptResult.attempt_id.in_(chunk)
            )
        ).all()
    }
    rules_by_version: dict[int, tuple[dict[str, Any], list[AreaRule], dict[str, Any]]] = {}
    scales: dict[int, Scale | None] = {}
    rows: list[dict[str, Any]] = []
    outcomes: dict[int, str] = {}
    changed: list[tuple[int, str | None, str]] = []
    now = clock.now()
    for attempt in attempts:
        if attempt.blueprint_version_id not in rules_by_version:
            version = session.get(BlueprintVersion, attempt.blueprint_version_id)
            assert version is not None
            rules = area_rules(session, version.spec, version.blueprint.framework_id)
            rules_by_version[version.id] = (version.spec, rules, {})
            scales[version.id] = scale_for(session, version.blueprint_id, version.spec)
        spec, rules, placements = rules_by_version[attempt.blueprint_version_id]
        scored, trial, notes = _score_form(
            forms[attempt.id], answers[attempt.id], decisions, bool(spec.get("partial_credit"))
        )
        areas = _area_reports(rules, spec, scored, placements)
        total = sum(s.score for s in scored)
        percent = _percent(total, len(scored))
        scale = scales[attempt.blueprint_version_id]
        scaled = scale.score([(s.version_id, s.score) for s in scored]) if scale else None
        if spec.get("scaled_score") and scaled is None:
            notes.append(NO_SCALE_NOTE)
        overall = scaled.passed if scaled else percent >= spec["pass_overall_percent"]
        passed = overall and all(area["met"] for area in areas)
        outcome = (
            Outcome.VOID
            if void or attempt.status == AttemptStatus.TERMINATED
            else (Outcome.PASS if passed else Outcome.FAIL)
        )
        rows.append(
            {
                "attempt_id": attempt.id,
                "graded_at": now,
                "result": outcome,
                "score": total,
                "max_score": len(scored),
                "percent": percent,
                "pass_percent": spec["pass_overall_percent"],
                "areas": areas,
                # Pretest items' scores too: kept for their statistics, never counted.
                "item_scores": {str(s.position): s.score for s in [*scored, *trial]},
                "notes": notes + list(extra_notes),
                "released": not spec.get("hold_results_for_review", False),
                "measure": round(scaled.measure, 4) if scaled else None,
                "scaled_score": scaled.score if scaled else None,
                "scale_cut": scaled.cut if scaled else None,
            }
        )
        outcomes[attempt.id] = outcome
        if previous.get(attempt.id) != outcome:
            changed.append((attempt.id, previous.get(attempt.id), outcome))
    _write_results(session, rows, previous)
    for attempt in attempts:
        attempt.result = outcomes[attempt.id]
    session.flush()
    for attempt_id, before, after in changed:
        events.publish(session, RESULT_CHANGED, attempt_id=attempt_id, before=before, after=after)
    return outcomes


def _write_results(session: Session, rows: list[dict[str, Any]], previous: dict[int, str]) -> None:
    """Insert new results and overwrite old ones with executemany, not one flush each."""
    table = AttemptResult.metadata.tables[AttemptResult.__tablename__]
    fresh = [row for row in rows if row["attempt_id"] not in previous]
    known = [{**row, "key": row["attempt_id"]} for row in rows if row["attempt_id"] in previous]
    for chunk in (fresh[i : i + 2000] for i in range(0, len(fresh), 2000)):
        session.execute(table.insert(), chunk)
    if known:
        statement = table.update().where(table.c.attempt_id == bindparam("key"))
        for start in range(0, len(known), 2000):
            session.execute(
                statement,
                [
                    {k: v for k, v in row.items() if k != "attempt_id"}
                    for row in known[start : start + 2000]
                ],
            )
    for row in rows:  # results already in this session are read again when next used
        loaded = session.identity_map.get(session.identity_key(AttemptResult, row["attempt_id"]))
        if loaded is not None:
            session.expire(loaded)


def _score_form(
    rows: list[Any],
    answers: dict[int, tuple[str, ...]],
    decisions: dict[int, ScoringDecision],
    partial: bool,
) -> tuple[list[Scored], list[Scored], list[str]]:
    """The counted items' scores, the pretest items' (never counted), and the notes."""
    scored, trial, notes = [], [], []
    for pos, version_id, keys, code, pretest in rows:
        if pretest:
            trial.append(
                Scored(pos, code, score_item(keys, answers.get(pos, []), False), version_id)
            )
            continue
        decision = decisions.get(version_id)
        if decision is not None and decision.action == ScoringAction.DO_NOT_SCORE:
            notes.append(f"Question {pos} is not scored: {decision.reason}")
            continue
        if decision is not None and decision.action == ScoringAction.CORRECT_KEY:
            notes.append(f"Question {pos} is scored with a corrected key: {decision.reason}")
            keys = decision.keys or keys
        scored.append(
            Scored(pos, code, score_item(keys, answers.get(pos, []), partial), version_id)
        )
    return scored, trial, notes


def get_result(session: Session, attempt_id: int) -> AttemptResult | None:
    return session.get(AttemptResult, attempt_id)


def study_list(
    session: Session, attempt: Attempt, result: AttemptResult | None, limit: int = 3
) -> list[dict[str, Any]]:
    """The standard's competencies in the weakest sub-areas: what to study next.

    Only a released fail gets one; a pass or a result not yet released gets none.
    """
    if result is None or not result.released or result.result != Outcome.FAIL:
        return []
    version = session.get(BlueprintVersion, attempt.blueprint_version_id)
    assert version is not None  # attempt.blueprint_version_id is a foreign key
    framework_id = version.blueprint.framework_id
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
