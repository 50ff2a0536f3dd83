"""Rasch calibration of a blueprint's scored responses, stored, audited and mapped.

Items are item versions (a new version is a new item to the model). A response counts
as right only with full credit. An item that everyone answered right (or wrong) has no
finite difficulty: it is left out and listed, as are the persons with nothing left.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock
from core.errors import Problem
from exam.models import Attempt
from exam.psychometrics import rasch
from exam.psychometrics.models import CalibrationRun, ItemCalibration
from exam.psychometrics.rasch import FloatArray
from exam.psychometrics.responses import (
    ItemKey,
    item_keys,
    require_blueprint_code,
    scored_arrays,
)
from exam.psychometrics.schemas import CalibrationOut, ItemCalibrationOut
from item_bank.models import Blueprint, BlueprintVersion

BAND = 0.25  # logits per band of the Wright map


@dataclass(frozen=True)
class Observations:
    """Scored responses indexed for the model: persons are attempts, items versions."""

    data: rasch.Responses
    attempts: list[int]  # attempt id of each person index
    keys: list[ItemKey]  # item version of each item index
    left_out: list[list[str]]  # [column, why] of the items that could not be kept


def observations(
    session: Session, blueprint_code: str, sitting_id: int | None = None
) -> Observations:
    """The scored responses without items that nobody (or everybody) got right."""
    scored = scored_arrays(session, blueprint_code, sitting_id)
    keys = item_keys(session, set(scored.version.tolist()))
    attempt, version, score = scored.attempt, scored.version, scored.score
    left_out: list[list[str]] = []
    while True:
        versions, item = np.unique(version, return_inverse=True)
        n = np.bincount(item, minlength=versions.size)
        right = np.bincount(item, weights=score, minlength=versions.size)
        extreme = (right == 0) | (right == n)
        if not extreme.any():
            break
        for i in np.nonzero(extreme)[0]:
            why = "everyone right" if right[i] == n[i] else "nobody right"
            left_out.append([keys[int(versions[i])].column, why])
        keep = ~extreme[item]
        attempt, version, score = attempt[keep], version[keep], score[keep]
    # Items in the order of their ref and version, for stable indexes and tables.
    ordered = sorted(versions.tolist(), key=lambda v: (keys[v].ref, keys[v].version))
    position = {v: n for n, v in enumerate(ordered)}
    remap = np.array([position[v] for v in versions.tolist()], dtype=np.int64)
    attempts, person = np.unique(attempt, return_inverse=True)
    data = rasch.Responses(
        person.astype(np.int64),
        remap[item] if item.size else item.astype(np.int64),
        score,
        int(attempts.size),
        len(ordered),
    )
    return Observations(data, attempts.tolist(), [keys[v] for v in ordered], left_out)


def _pass_share(session: Session, code: str) -> float:
    blueprint = session.scalars(select(Blueprint).where(Blueprint.code == code)).one()
    return float(blueprint.current.spec.get("pass_overall_percent", 0)) / 100


def spread_by_version(
    session: Session, blueprint_id: int, found: Observations, difficulty: FloatArray, cut: float
) -> list[dict[str, Any]]:
    """The spread of form difficulty at the cut over the forms of each blueprint version,
    with that version's goal for it (a tolerance in items, or None): forms drawn before and
    after the blueprint asked for equal difficulty."""
    versions = session.execute(
        select(BlueprintVersion.id, BlueprintVersion.number, BlueprintVersion.spec).where(
            BlueprintVersion.blueprint_id == blueprint_id
        )
    ).all()
    number_of = {vid: number for vid, number, _ in versions}
    goal_of = {
        number: (spec.get("form_difficulty") or {}).get("tolerance_items")
        for _, number, spec in versions
    }
    attempt_version = dict(
        session.execute(
            select(Attempt.id, Attempt.blueprint_version_id).where(
                Attempt.blueprint_version_id.in_(list(number_of))
            )
        ).all()
    )
    numbers = np.array([number_of.get(attempt_version.get(a, -1), 0) for a in found.attempts])
    scores = rasch.expected_at(found.data, difficulty, cut)
    spreads = []
    for number in sorted({int(n) for n in numbers.tolist()} - {0}):
        spread = rasch.spread_of(scores[numbers == number], cut)
        spreads.append(
            {
                "version": number,
                "goal": goal_of.get(number),
                **{k: round(float(v), 4) for k, v in asdict(spread).items()},
            }
        )
    return spreads


def bands(measures: list[float]) -> list[list[float]]:
    counts = Counter(math.floor(m / BAND) for m in measures)
    return [[round(b * BAND, 2), float(c)] for b, c in sorted(counts.items())]


def run_calibration(
    session: Session,
    actor_id: int | None,
    blueprint_code: str,
    sitting_id: int | None = None,
    actor_label: str | None = None,
) -> CalibrationRun:
    """Calibrate, store the run and its items, and audit who ran it."""
    code = require_blueprint_code(session, blueprint_code)
    started = time.perf_counter()
    found = observations(session, code, sitting_id)
    data, attempts, keys, left_out = found.data, found.attempts, found.keys, found.left_out
    if data.score.size == 0 or len(attempts) < 2:
        raise Problem(
            409,
            "Not enough responses",
            "A calibration needs scored responses from at least two attempts, on items "
            "that some but not all of them answered right.",
        )
    fitted = rasch.calibrate(data)
    spread = rasch.form_spread(data, fitted.difficulty, _pass_share(session, code))
    blueprint_id = session.scalar(select(Blueprint.id).where(Blueprint.code == code))
    assert blueprint_id is not None
    by_version = spread_by_version(
        session, blueprint_id, found, fitted.difficulty, spread.cut_measure
    )
    seconds = time.perf_counter() - started
    run = CalibrationRun(
        blueprint_id=blueprint_id,
        sitting_id=sitting_id,
        run_at=clock.now(),
        run_by=actor_id,
        persons=len(attempts),
        responses=int(data.score.size),
        population_mean=round(fitted.population_mean, 4),
        population_sd=round(fitted.population_sd, 4),
        log_likelihood=round(fitted.log_likelihood, 3),
        converged=fitted.converged,
        seconds=round(seconds, 3),
        person_bands=bands(fitted.measure.tolist()),
        left_out=left_out,
        form_spread={
            **{k: round(float(v), 4) for k, v in asdict(spread).items()},
            "by_version": by_version,
        },
    )
    run.items = [
        ItemCalibration(
            item_version_id=key.version_id,
            n=int(fitted.n[i]),
            p_value=round(float(fitted.p_value[i]), 4),
            difficulty=round(float(fitted.difficulty[i]), 4),
            se=round(float(fitted.difficulty_se[i]), 4),
            infit=round(float(fitted.infit[i]), 4),
            outfit=round(float(fitted.outfit[i]), 4),
            flags=fitted.misfit(i),
        )
        for i, key in enumerate(keys)
    ]
    session.add(run)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        actor_label=actor_label,
        action="calibration.run",
        object_type="blueprint",
        object_id=code,
        after={
            "run": run.id,
            "sitting": sitting_id,
            "persons": run.persons,
            "items": len(keys),
            "left_out": len(left_out),
            "converged": run.converged,
        },
    )
    session.commit()
    return run


@dataclass(frozen=True)
class CalibratedItem:
    ref: str
    version: int
    code: str
    row: ItemCalibration
    item_id: int  # so a page can link the item and its rescoring

    @property
    def label(self) -> str:
        return f"{self.ref} v{self.version}"


@dataclass(frozen=True)
class MapBand:
    """One band of the Wright map: its logit range, persons and items within it."""

    low: float
    persons: int
    items: list[str]

    @property
    def high(self) -> float:
        return round(self.low + BAND, 2)


@dataclass(frozen=True)
class CalibrationView:
    run: CalibrationRun
    items: list[CalibratedItem]
    bands: list[MapBand]  # highest first, as the map reads

    min_fit_n = rasch.MIN_FIT_N
    fit_low, fit_high = rasch.FIT_LOW, rasch.FIT_HIGH

    @property
    def misfitting(self) -> list[CalibratedItem]:
        return [i for i in self.items if i.row.flags]

    @property
    def misfit_labels(self) -> set[str]:
        return {i.label for i in self.misfitting}


def latest_run(session: Session, blueprint_code: str) -> CalibrationRun | None:
    return session.scalars(
        select(CalibrationRun)
        .join(Blueprint, Blueprint.id == CalibrationRun.blueprint_id)
        .where(Blueprint.code == blueprint_code[:60])
        .order_by(CalibrationRun.id.desc())
        .limit(1)
    ).first()


def view(session: Session, run: CalibrationRun) -> CalibrationView:
    keys = item_keys(session, {row.item_version_id for row in run.items})
    items = [
        CalibratedItem(key.ref, key.version, key.code, r, key.item_id)
        for r in run.items
        for key in (keys[r.item_version_id],)
    ]
    persons = {low: int(count) for low, count in run.person_bands}
    by_band: dict[float, list[str]] = {}
    for item in items:
        low = round(math.floor(item.row.difficulty / BAND) * BAND, 2)
        by_band.setdefault(low, []).append(item.label)
    lows = set(persons) | set(by_band)
    if not lows:
        return CalibrationView(run, items, [])
    top, bottom = max(lows), min(lows)
    steps = round((top - bottom) / BAND)
    grid = [round(top - k * BAND, 2) for k in range(steps + 1)]
    return CalibrationView(
        run, items, [MapBand(low, persons.get(low, 0), by_band.get(low, [])) for low in grid]
    )


def latest_view(session: Session, blueprint_code: str) -> CalibrationView | None:
    run = latest_run(session, blueprint_code)
    return None if run is None else view(session, run)


def calibration_out(view: CalibrationView) -> CalibrationOut:
    run = view.run
    return CalibrationOut(
        run=run.id,
        run_at=run.run_at,
        sitting=run.sitting_id,
        persons=run.persons,
        responses=run.responses,
        population_mean=run.population_mean,
        population_sd=run.population_sd,
        converged=run.converged,
        left_out=run.left_out,
        items=[
            ItemCalibrationOut(
                ref=i.ref,
                version=i.version,
                competency=i.code,
                n=i.row.n,
                p_value=i.row.p_value,
                difficulty=i.row.difficulty,
                se=i.row.se,
                infit=i.row.infit,
                outfit=i.row.outfit,
                flags=i.row.flags,
            )
            for i in view.items
        ],
    )
