"""The scored responses of a blueprint (or one sitting), read once for export and analysis.

Only graded attempts (pass or fail) count; a void attempt is left out. A position the
grading did not score (an item taken out of scoring) keeps its response with no score.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import raw_rows, stored_json, stored_moment
from core.errors import Problem
from exam.services.grading import parse_letters
from exam.services.statistics import SCORED
from item_bank.models import Blueprint, Item, ItemVersion


@dataclass(frozen=True)
class ItemKey:
    """One item version as a column of the response matrix."""

    version_id: int
    item_id: int
    ref: str
    version: int
    code: str

    @property
    def column(self) -> str:
        return f"{self.ref}_v{self.version}"


@dataclass(frozen=True)
class ResponseRow:
    attempt_id: int
    candidate_id: int
    sitting_id: int
    position: int
    version_id: int
    selected: tuple[str, ...]
    score: float | None  # None: not scored
    answered_after_s: int | None  # seconds from the start to the answer's last save
    pretest: bool = False  # on trial: scored for analysis, never counted in the result


@dataclass(frozen=True)
class ResponseSet:
    blueprint: str
    sitting_id: int | None
    rows: list[ResponseRow]
    items: dict[int, ItemKey]  # version id -> its column

    @property
    def attempt_ids(self) -> list[int]:
        return sorted({row.attempt_id for row in self.rows})


def require_blueprint_code(session: Session, code: str) -> str:
    code = code[:60]
    if session.scalar(select(Blueprint.id).where(Blueprint.code == code)) is None:
        raise Problem(404, "No such blueprint", f"There is no blueprint {code!r}.")
    return code


def load(session: Session, blueprint_code: str, sitting_id: int | None = None) -> ResponseSet:
    """Every administered item of every graded attempt, with its response and score."""
    code = require_blueprint_code(session, blueprint_code)
    params = {"code": code, "sitting": sitting_id}
    attempts: dict[int, tuple[int, int, datetime | None, dict[str, float]]] = {}
    for attempt_id, candidate_id, sitting, started_at, item_scores in raw_rows(
        session,
        "SELECT a.id, a.candidate_id, a.sitting_id, a.started_at, r.item_scores" + SCORED,
        params,
    ):
        attempts[attempt_id] = (
            candidate_id,
            sitting,
            stored_moment(started_at),
            stored_json(item_scores),
        )
    rows: list[ResponseRow] = []
    for attempt_id, position, version_id, selected, saved_at, pretest in raw_rows(
        session,
        "SELECT ai.attempt_id, ai.position, ai.item_version_id, re.selected, re.saved_at, "
        "ai.pretest "
        "FROM attempt_item ai LEFT JOIN response re "
        "ON re.attempt_id = ai.attempt_id AND re.position = ai.position "
        "WHERE ai.attempt_id IN (SELECT a.id" + SCORED + ") "
        "ORDER BY ai.attempt_id, ai.position",
        params,
    ):
        candidate_id, sitting, started, scores = attempts[attempt_id]
        saved = stored_moment(saved_at)
        after = None
        if saved is not None and started is not None:
            after = max(0, round((saved - started).total_seconds()))
        choice = parse_letters(selected) if isinstance(selected, str) else tuple(selected or ())
        rows.append(
            ResponseRow(
                attempt_id,
                candidate_id,
                sitting,
                position,
                version_id,
                choice,
                scores.get(str(position)),
                after,
                bool(pretest),
            )
        )
    return ResponseSet(code, sitting_id, rows, item_keys(session, {r.version_id for r in rows}))


def item_keys(session: Session, version_ids: set[int]) -> dict[int, ItemKey]:
    ids = sorted(version_ids)
    return {
        v_id: ItemKey(v_id, item_id, ref, number, code)
        for start in range(0, len(ids), 2000)
        for v_id, item_id, ref, number, code in session.execute(
            select(
                ItemVersion.id,
                ItemVersion.item_id,
                Item.ref,
                ItemVersion.number,
                ItemVersion.primary_code,
            )
            .join(Item, Item.id == ItemVersion.item_id)
            .where(ItemVersion.id.in_(ids[start : start + 2000]))
        ).all()
    }


@dataclass(frozen=True)
class ScoredArrays:
    """Every scored response as parallel arrays (attempt, item version, 0/1), for the
    models: read without the answers or times the export needs."""

    attempt: NDArray[np.int64]
    version: NDArray[np.int64]
    score: NDArray[np.float64]
    candidate_of: dict[int, int]  # attempt id -> candidate id


def scored_arrays(
    session: Session, blueprint_code: str, sitting_id: int | None = None
) -> ScoredArrays:
    code = require_blueprint_code(session, blueprint_code)
    params = {"code": code, "sitting": sitting_id}
    scores: dict[int, dict[str, float]] = {}
    candidate_of: dict[int, int] = {}
    for attempt_id, candidate_id, item_scores in raw_rows(
        session, "SELECT a.id, a.candidate_id, r.item_scores" + SCORED, params
    ):
        scores[attempt_id], candidate_of[attempt_id] = stored_json(item_scores), candidate_id
    attempts: list[int] = []
    versions: list[int] = []
    values: list[float] = []
    for attempt_id, position, version_id in raw_rows(
        session,
        "SELECT ai.attempt_id, ai.position, ai.item_version_id FROM attempt_item ai "  # noqa: S608
        "WHERE ai.attempt_id IN (SELECT a.id" + SCORED + ")",
        params,
    ):
        score = scores[attempt_id].get(str(position))
        if score is not None:
            attempts.append(attempt_id)
            versions.append(version_id)
            values.append(1.0 if score >= 1.0 else 0.0)
    return ScoredArrays(
        np.array(attempts, dtype=np.int64),
        np.array(versions, dtype=np.int64),
        np.array(values, dtype=np.float64),
        candidate_of,
    )
