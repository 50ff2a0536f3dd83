"""Fairness: the background candidates choose to give, and DIF between its groups.

DIF matches persons on their Rasch measure, computed from the latest calibration's
difficulties (forms differ, so raw scores are not comparable); the largest group of an
attribute is the reference group, each other group with enough persons a focal group.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.errors import Problem
from exam.psychometrics import dif, rasch
from exam.psychometrics.calibration import CalibratedItem, latest_view
from exam.psychometrics.forms import FIRST_LANGUAGES, REGIONS
from exam.psychometrics.models import CandidateBackground, FirstLanguage, Region
from exam.psychometrics.responses import scored_arrays
from exam.services.problems import invalid

ATTRIBUTES = {
    "first_language": ("First language", dict(FIRST_LANGUAGES)),
    "region": ("Region", dict(REGIONS)),
}
MIN_GROUP = 100  # persons each group needs on an item for its analysis (smaller: too noisy)


def background_of(session: Session, user_id: int) -> CandidateBackground | None:
    return session.get(CandidateBackground, user_id)


def save_background(
    session: Session, user_id: int, first_language: str, region: str, consent: bool
) -> CandidateBackground | None:
    """Keep the answers given, with consent; with no answer at all keep nothing."""
    if not consent:
        raise invalid("consent", "Tick the box to agree, or leave the page without saving.")
    if first_language not in ("", *FirstLanguage):
        raise invalid("first_language", "Choose one of the answers listed.")
    if region not in ("", *Region):
        raise invalid("region", "Choose one of the answers listed.")
    row = session.get(CandidateBackground, user_id)
    if not first_language and not region:
        if row is not None:
            session.delete(row)
        session.commit()
        return None
    if row is None:
        row = CandidateBackground(user_id=user_id, consented_at=clock.now())
        session.add(row)
    row.first_language, row.region = first_language, region
    row.consented_at = clock.now()
    session.commit()
    return row


def delete_background(session: Session, user_id: int) -> bool:
    row = session.get(CandidateBackground, user_id)
    if row is not None:
        session.delete(row)
    session.commit()
    return row is not None


@dataclass(frozen=True)
class DifRow:
    item: CalibratedItem
    result: dif.MantelHaenszel

    @property
    def label(self) -> str:  # item ref and version
        return self.item.label

    @property
    def code(self) -> str:
        return self.item.code


@dataclass(frozen=True)
class DifComparison:
    focal: str
    rows: list[DifRow]

    @property
    def flagged(self) -> list[DifRow]:
        return sorted(
            (r for r in self.rows if r.result.ets != dif.EtsClass.A),
            key=lambda r: (r.result.ets != dif.EtsClass.C, -abs(r.result.d_dif)),
        )


@dataclass(frozen=True)
class DifReport:
    attribute: str
    title: str
    reference: str
    groups: dict[str, int]  # label -> persons who said it
    comparisons: list[DifComparison]


def require_attribute(attribute: str) -> str:
    if attribute not in ATTRIBUTES:
        raise invalid("dif", f"dif is one of {', '.join(ATTRIBUTES)}.")
    return attribute


def dif_report(session: Session, blueprint_code: str, attribute: str) -> DifReport:
    """Mantel-Haenszel DIF by ``attribute`` over the calibrated items."""
    title, labels = ATTRIBUTES[require_attribute(attribute)]
    calibrated = latest_view(session, blueprint_code)
    if calibrated is None:
        raise Problem(409, "Calibrate first", "DIF matches persons on their Rasch measure.")
    scored = scored_arrays(session, blueprint_code)
    column = getattr(CandidateBackground, attribute)
    said: dict[int, str] = dict(
        session.execute(select(CandidateBackground.user_id, column).where(column != "")).all()
    )
    index = {item.row.item_version_id: n for n, item in enumerate(calibrated.items)}
    difficulty = np.array([item.row.difficulty for item in calibrated.items])
    lookup = np.full(int(scored.version.max(initial=0)) + 1, -1, dtype=np.int64)
    for version_id, n in index.items():
        if version_id < lookup.size:
            lookup[version_id] = n
    item = lookup[scored.version]
    keep = item >= 0
    attempt_ids, person = np.unique(scored.attempt[keep], return_inverse=True)
    attempts = attempt_ids.tolist()
    candidate_of = scored.candidate_of
    observations = rasch.Responses(
        person.astype(np.int64), item[keep], scored.score[keep], len(attempts), len(index)
    )
    measure, _se = rasch.person_measures(observations, difficulty)
    values = [said.get(candidate_of[a], "") for a in attempts]
    counts = {v: values.count(v) for v in sorted(set(values) - {""})}
    groups = {labels[v]: n for v, n in counts.items()}
    if len(counts) < 2:
        return DifReport(attribute, title, "", groups, [])
    reference = max(counts, key=lambda v: counts[v])
    comparisons = []
    for focal in (v for v in counts if v != reference):
        group = np.array(
            [0 if v == reference else 1 if v == focal else -1 for v in values], dtype=np.int64
        )
        results = dif.analyse(
            observations.person,
            observations.item,
            observations.score,
            group,
            measure,
            len(index),
        )
        comparisons.append(
            DifComparison(
                labels[focal],
                [
                    DifRow(item, result)
                    for item, result in zip(calibrated.items, results, strict=True)
                    if result is not None
                    and result.reference >= MIN_GROUP
                    and result.focal >= MIN_GROUP
                ],
            )
        )
    return DifReport(attribute, title, labels[reference], groups, comparisons)
