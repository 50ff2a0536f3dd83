"""The item pool a form is drawn from: approved items, their exposure and enemies."""

from __future__ import annotations

import json
import math
import random
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import clock
from core.db import raw_rows
from exam.models import (
    Attempt,
    AttemptItem,
    ItemExposure,
    PreparedForm,
)
from exam.psychometrics.models import CalibrationRun, PretestItem, PretestStatus
from exam.services.assembly import AreaRule, PoolItem
from exam.services.form_difficulty import DifficultyGoal
from item_bank.models import (
    BlueprintVersion,
    ItemVersion,
)

# Banks up to this size are read whole, so every rule holds exactly; larger banks are
# sampled per competency at a random point of ``draw_key`` (an index seek each), which
# keeps a start fast however large the bank grows.
FULL_POOL_LIMIT = 4000
SAMPLE_FACTOR = 6


def _item_columns() -> tuple[Any, ...]:
    """What a pool item is read from: id, version, code, option count, type, exposure,
    shuffle and fixed letters."""
    return (
        ItemVersion.item_id,
        ItemVersion.id,
        ItemVersion.primary_code,
        func.json_array_length(ItemVersion.options),
        ItemVersion.type,
        func.coalesce(ItemExposure.forms, 0),
        ItemVersion.shuffle,
        ItemVersion.fixed,
    )


# The pool's columns, read straight from the driver: for a few thousand rows, building
# result rows and binding parameters cost more than the queries themselves. The last
# column says whether the item has an enemy, so a sample asks only for those pairs.
POOL_SQL = """
    SELECT iv.item_id, iv.id, iv.primary_code, json_array_length(iv.options), iv.type,
           COALESCE(e.forms, 0), iv.shuffle, iv.fixed, sv.stimulus_id, iv.stimulus_position,
           ic.difficulty,
           EXISTS (SELECT 1 FROM item_enemy x
                   WHERE x.item_id = iv.item_id OR x.enemy_id = iv.item_id)
    FROM item_version iv
    JOIN item i ON i.id = iv.item_id
    LEFT JOIN item_exposure e ON e.item_id = iv.item_id
    LEFT JOIN stimulus_version sv ON sv.id = iv.stimulus_version_id
    LEFT JOIN item_calibration ic ON ic.run_id = :run AND ic.item_version_id = iv.id
    WHERE iv.status = 'approved' AND i.framework_id = :framework
      AND NOT EXISTS (SELECT 1 FROM pretest_item p
                      WHERE p.item_id = iv.item_id AND p.status <> 'promoted')
      {only}
"""
WHOLE_POOL = POOL_SQL.format(only="")
SET_MEMBERS = POOL_SQL.format(only="AND sv.stimulus_id = :stimulus")
SAMPLE_FROM = POOL_SQL.format(
    only="AND iv.primary_code = :code AND iv.draw_key >= :start ORDER BY iv.draw_key LIMIT :n"
)
SAMPLE_BEFORE = POOL_SQL.format(
    only="AND iv.primary_code = :code AND iv.draw_key < :start ORDER BY iv.draw_key LIMIT :n"
)
ALL_ENEMY_PAIRS = "SELECT item_id, enemy_id FROM item_enemy"
ENEMY_PAIRS_OF = (
    "SELECT item_id, enemy_id FROM item_enemy WHERE item_id = :item OR enemy_id = :item"
)
BEYOND_FULL_POOL = "SELECT 1 FROM item_version WHERE status = 'approved' LIMIT 1 OFFSET :offset"


def _sampled_rows(
    session: Session,
    framework_id: int,
    areas: list[AreaRule],
    leaves: dict[str, list[str]],
    rng: random.Random,
    run_id: int,
) -> list[Any]:
    """A few times each sub-area's share, taken per competency from a random point of the
    draw keys (each read is one index seek; past the last key it wraps to the first)."""
    rows: list[Any] = []
    for area in areas:
        subareas = area.subareas or (area.code,)
        share = -(-area.items // len(subareas))
        for sub in subareas:
            codes = leaves.get(sub, [sub])
            per_leaf = -(-share * SAMPLE_FACTOR // len(codes)) + 2
            for code in codes:
                params = {
                    "code": code,
                    "framework": framework_id,
                    "start": rng.random(),
                    "n": per_leaf,
                    "run": run_id,
                }
                found = raw_rows(session, SAMPLE_FROM, params)
                if len(found) < per_leaf:
                    found += raw_rows(
                        session, SAMPLE_BEFORE, {**params, "n": per_leaf - len(found)}
                    )
                rows += found
    return rows


def load_pool(
    session: Session,
    framework_id: int,
    candidate_id: int,
    areas: list[AreaRule] | None = None,
    rng: random.Random | None = None,
    calibration_run: int | None = None,
) -> tuple[list[PoolItem], dict[int, set[int]]]:
    """Approved items with their exposure, when this candidate last saw them and their
    difficulty in ``calibration_run`` (if given and calibrated there).

    A large bank gives a random sample of several times what each sub-area needs.
    """
    run_id = calibration_run if calibration_run is not None else -1
    last_seen = dict(
        session.execute(
            select(AttemptItem.item_id, func.max(Attempt.started_at))
            .join(Attempt, Attempt.id == AttemptItem.attempt_id)
            .where(Attempt.candidate_id == candidate_id)
            .group_by(AttemptItem.item_id)
        ).all()
    )
    large = bool(raw_rows(session, BEYOND_FULL_POOL, {"offset": FULL_POOL_LIMIT}))
    if areas is None or not large:
        rows = raw_rows(session, WHOLE_POOL, {"framework": framework_id, "run": run_id})
    else:
        leaves = _leaves_by_subarea(session, framework_id)
        rows = _sampled_rows(session, framework_id, areas, leaves, rng or random.Random(), run_id)  # noqa: S311
        rows += _missing_set_members(session, framework_id, rows, run_id)
    unique = {row[0]: row for row in rows}
    pool = [
        _pool_item(
            row[:8],
            clock.as_utc(last_seen[row[0]]) if row[0] in last_seen else None,
            set_id=row[8],
            set_position=row[9] or 0,
            difficulty=row[10],
        )
        for row in unique.values()
    ]
    with_enemies = {item_id for item_id, row in unique.items() if row[11]}
    return pool, _enemies(session, with_enemies if large else None)


def _pool_item(
    columns: Any,
    last_seen: datetime | None = None,
    *,
    set_id: int | None = None,
    set_position: int = 0,
    difficulty: float | None = None,
) -> PoolItem:
    """A pool item from the row of :func:`_item_columns` and what is known beside it."""
    item_id, version_id, code, count, kind, exposure, shuffle, fixed = columns
    return PoolItem(item_id, version_id, code, count, kind, exposure, last_seen, bool(shuffle),
                    tuple(_letters(fixed)), set_id, set_position, difficulty)  # fmt: skip


def _enemies(session: Session, ids: set[int] | None) -> dict[int, set[int]]:
    """Enemy pairs both ways: of ``ids`` (a draw's few items that have one), or of the
    whole bank when None."""
    if ids is None:
        pairs = raw_rows(session, ALL_ENEMY_PAIRS, {})
    else:
        pairs = [
            pair
            for item in sorted(ids)
            for pair in raw_rows(session, ENEMY_PAIRS_OF, {"item": item})
        ]
    enemies: dict[int, set[int]] = {}
    for low, high in pairs:
        enemies.setdefault(low, set()).add(high)
        enemies.setdefault(high, set()).add(low)
    return enemies


def _missing_set_members(
    session: Session, framework_id: int, rows: list[Any], run_id: int
) -> list[Any]:
    """A sample holds sets whole: the members of every sampled set that the sample missed."""
    sets = {row[8] for row in rows if row[8] is not None}
    if not sets:
        return []
    members: list[Any] = []
    for stimulus in sorted(sets):
        params = {"framework": framework_id, "run": run_id, "stimulus": stimulus}
        members += raw_rows(session, SET_MEMBERS, params)
    return members


def _letters(value: Any) -> list[str]:
    """A JSON list of letters, as the ORM reads it or as plain SQL returns it (text)."""
    if value == "[]" or not value:
        return []
    if isinstance(value, str):
        value = json.loads(value)
    return [letter for letter in value or [] if isinstance(letter, str)]


def _leaves_by_subarea(session: Session, framework_id: int) -> dict[str, list[str]]:
    """Leaf competency codes under every node, by the node's code."""
    codes = [
        code
        for (code,) in raw_rows(
            session,
            "SELECT code FROM framework_node WHERE framework_id = :framework AND kind = :kind",
            {"framework": framework_id, "kind": "competency"},
        )
    ]
    under: dict[str, list[str]] = {}
    for code in codes:
        parts = code.split(".")
        for depth in range(1, len(parts)):
            under.setdefault(".".join(parts[:depth]), []).append(code)
    return under


def forms_so_far(session: Session, blueprint_id: int) -> int:
    """Forms given for a blueprint: its attempts, and the forms drawn ahead at admission
    and not started yet (their items' exposure is counted already)."""
    attempts = (
        select(func.count())
        .select_from(Attempt)
        .join(BlueprintVersion, BlueprintVersion.id == Attempt.blueprint_version_id)
        .where(BlueprintVersion.blueprint_id == blueprint_id)
    )
    waiting = (
        select(func.count())
        .select_from(PreparedForm)
        .join(BlueprintVersion, BlueprintVersion.id == PreparedForm.blueprint_version_id)
        .where(BlueprintVersion.blueprint_id == blueprint_id, PreparedForm.problem == "")
    )
    return (session.scalar(attempts) or 0) + (session.scalar(waiting) or 0)


def latest_bank_calibration(session: Session, blueprint_id: int) -> tuple[int, float] | None:
    """The blueprint's latest calibration of the whole bank (not of one sitting): its id
    and cut measure (read alone: a run's items are many)."""
    row = session.execute(
        select(CalibrationRun.id, CalibrationRun.form_spread)
        .where(CalibrationRun.blueprint_id == blueprint_id, CalibrationRun.sitting_id.is_(None))
        .order_by(CalibrationRun.id.desc())
        .limit(1)
    ).first()
    if row is None or "cut_measure" not in (row[1] or {}):
        return None
    return int(row[0]), float(row[1]["cut_measure"])


def difficulty_goal(
    session: Session, blueprint_id: int, spec: dict[str, Any]
) -> tuple[int, DifficultyGoal] | None:
    """The calibration run to read difficulties from and the blueprint's goal for a form's
    difficulty; none while the blueprint sets no goal or the bank has no calibration."""
    wanted = spec.get("form_difficulty")
    latest = latest_bank_calibration(session, blueprint_id) if wanted else None
    if not wanted or latest is None:
        return None
    run_id, cut_measure = latest
    share = float(spec["pass_overall_percent"]) / 100
    items = int(spec["item_count"])
    uncalibrated = float(wanted.get("max_uncalibrated_percent", 10))
    return run_id, DifficultyGoal(
        cut_measure=cut_measure,
        target=share * items,
        tolerance=float(wanted.get("tolerance_items", 1.0)),
        max_uncalibrated=math.floor(uncalibrated * items / 100),
        neutral=share,
    )


def load_pretest_pool(
    session: Session, blueprint_id: int
) -> tuple[list[PoolItem], dict[int, set[int]]]:
    """The blueprint's items on trial (approved, not in a stimulus's set), with their
    exposure, and their enemies."""
    rows = session.execute(
        select(*_item_columns())
        .join(PretestItem, PretestItem.item_id == ItemVersion.item_id)
        .outerjoin(ItemExposure, ItemExposure.item_id == ItemVersion.item_id)
        .where(
            PretestItem.blueprint_id == blueprint_id,
            PretestItem.status == PretestStatus.PRETEST,
            ItemVersion.status == "approved",
            ItemVersion.stimulus_version_id.is_(None),
        )
    ).all()
    pool = [_pool_item(row) for row in rows]
    ids = {item.item_id for item in pool}
    return pool, _enemies(session, ids)
