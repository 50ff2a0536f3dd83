"""Modified-Angoff standard setting: experts rate each item of a form; the mean of their
expected scores is the recommended cut, which an exam administrator may adopt."""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core import audit, clock
from core.auth import Actor
from core.errors import FieldError, Problem
from exam.psychometrics.models import ItemCalibration
from exam.services.assembly import assemble
from exam.services.pool import latest_bank_calibration, load_pool
from exam.services.rules import area_rules
from exam.services.scaling import MIN_CALIBRATED, ml_measure
from exam.standard_setting_models import AngoffRating, AngoffStudy
from item_bank import blueprints
from item_bank.models import BlueprintVersion, ItemVersion
from item_bank.schemas import BlueprintSpec

RATERS = ("item_reviewer", "exam_admin")


@dataclass(frozen=True)
class Recommendation:
    raters: int
    rater_cuts: list[
        float
    ]  # each rater's expected percent score for a minimally competent candidate
    cut: float | None
    spread: float | None  # standard deviation across raters
    low: float | None
    high: float | None


def create_study(session: Session, actor: Actor, blueprint_code: str, title: str) -> AngoffStudy:
    """A study on a form drawn from the approved bank to the blueprint's current rules."""
    if not actor.has_role("exam_admin"):
        raise Problem(403, "Exam administrators only", "Only an exam administrator opens a study.")
    blueprint = blueprints.require_blueprint(session, blueprint_code)
    version = blueprint.current
    rules = area_rules(session, version.spec, blueprint.framework_id)
    seed = secrets.randbits(62)
    pool, enemies = load_pool(session, blueprint.framework_id, 0)
    form = assemble(rules, pool, seed=seed, enemies=enemies)
    if not title.strip():
        raise Problem(
            422, "Title needed", "Name the study.", errors=[FieldError("title", "Required.")]
        )
    study = AngoffStudy(
        blueprint_version_id=version.id,
        title=title.strip()[:200],
        item_version_ids=[drawn.item.version_id for drawn in form.items],
        created_by=actor.id,
        created_at=clock.now(),
    )
    session.add(study)
    session.flush()
    audit.record(
        session,
        actor_id=actor.id,
        action="angoff.created",
        object_type="angoff_study",
        object_id=study.id,
        after={"blueprint": blueprint_code, "items": len(study.item_version_ids)},
    )
    session.commit()
    return study


def require_study(session: Session, study_id: int) -> AngoffStudy:
    study = session.get(AngoffStudy, study_id)
    if study is None:
        raise Problem(404, "No such study", "")
    return study


def study_items(session: Session, study: AngoffStudy) -> list[ItemVersion]:
    versions = {
        v.id: v
        for v in session.scalars(
            select(ItemVersion).where(ItemVersion.id.in_(study.item_version_ids))
        )
    }
    return [versions[i] for i in study.item_version_ids if i in versions]


def parse_ratings(fields: Iterable[tuple[str, str]]) -> dict[int, int]:
    """Ratings from form fields named ``rating-<item version id>``; others are ignored."""
    return {
        int(key.removeprefix("rating-")): int(value)
        for key, value in fields
        if key.startswith("rating-")
        and key.removeprefix("rating-").isdigit()
        and value.strip().lstrip("-").isdigit()
    }


def save_ratings(
    session: Session, actor: Actor, study: AngoffStudy, ratings: dict[int, int]
) -> None:
    """Replace the rater's ratings (0-100 per item of the study); audited."""
    if not actor.has_role(*RATERS):
        raise Problem(
            403,
            "Not a rater",
            "Subject-matter experts rate (item reviewers or exam administrators).",
        )
    if study.adopted_version_id:
        raise Problem(409, "Closed", "This study's cut has been adopted; ratings are closed.")
    unknown = set(ratings) - set(study.item_version_ids)
    bad = [i for i, r in ratings.items() if not 0 <= r <= 100]
    if unknown or bad:
        raise Problem(
            422,
            "Invalid ratings",
            "Rate each item of the study from 0 to 100.",
            errors=[FieldError("ratings", "Out of range or not in the study.")],
        )
    session.execute(
        delete(AngoffRating).where(
            AngoffRating.study_id == study.id, AngoffRating.rater_id == actor.id
        )
    )
    now = clock.now()
    session.add_all(
        AngoffRating(
            study_id=study.id, rater_id=actor.id, item_version_id=i, rating=r, rated_at=now
        )
        for i, r in ratings.items()
    )
    audit.record(
        session,
        actor_id=actor.id,
        action="angoff.rated",
        object_type="angoff_study",
        object_id=study.id,
        after={"items_rated": len(ratings)},
    )
    session.commit()


def my_ratings(session: Session, study: AngoffStudy, rater_id: int) -> dict[int, int]:
    return dict(
        session.execute(
            select(AngoffRating.item_version_id, AngoffRating.rating).where(
                AngoffRating.study_id == study.id, AngoffRating.rater_id == rater_id
            )
        ).all()
    )


def recommend(session: Session, study: AngoffStudy) -> Recommendation:
    """Each rater's cut is the mean of their ratings over the whole form (unrated = not
    counted); the recommendation is the mean of the raters' cuts, with their spread."""
    by_rater: dict[int, list[int]] = {}
    for rater, rating in session.execute(
        select(AngoffRating.rater_id, AngoffRating.rating).where(AngoffRating.study_id == study.id)
    ).all():
        by_rater.setdefault(rater, []).append(rating)
    cuts = sorted(sum(r) / len(r) for r in by_rater.values())
    if not cuts:
        return Recommendation(0, [], None, None, None, None)
    mean = sum(cuts) / len(cuts)
    spread = math.sqrt(sum((c - mean) ** 2 for c in cuts) / len(cuts))
    return Recommendation(
        len(cuts),
        [round(c, 1) for c in cuts],
        round(mean, 1),
        round(spread, 1),
        round(cuts[0], 1),
        round(cuts[-1], 1),
    )


def cut_measure_of(session: Session, study: AngoffStudy, cut_percent: float) -> float | None:
    """The recommended cut as a Rasch measure: where a candidate's expected score on the
    study's calibrated items is the cut. None without a calibration of enough of them."""
    version = session.get(BlueprintVersion, study.blueprint_version_id)
    assert version is not None  # study.blueprint_version_id is a foreign key
    latest = latest_bank_calibration(session, version.blueprint_id)
    if latest is None:
        return None
    difficulties = list(
        session.scalars(
            select(ItemCalibration.difficulty).where(
                ItemCalibration.run_id == latest[0],
                ItemCalibration.item_version_id.in_(study.item_version_ids),
            )
        )
    )
    if len(difficulties) < MIN_CALIBRATED:
        return None
    return round(ml_measure(difficulties, cut_percent / 100 * len(difficulties)), 4)


def scale_pass_point(session: Session, study: AngoffStudy) -> int | None:
    """The pass point of the reporting scale the study's blueprint reports now, if any."""
    version = session.get(BlueprintVersion, study.blueprint_version_id)
    assert version is not None
    scale = version.blueprint.current.spec.get("scaled_score")
    return int(scale.get("cut", 500)) if scale else None


def adopt(session: Session, actor: Actor, study: AngoffStudy, note: str) -> int:
    """Make the recommended cut the blueprint's overall pass mark, as a new version; on a
    blueprint that reports a scale, the cut's measure becomes the scale's pass point."""
    if not actor.has_role("exam_admin"):
        raise Problem(403, "Not allowed", "Only an exam administrator adopts a cut.")
    recommendation = recommend(session, study)
    if recommendation.cut is None:
        raise Problem(409, "No ratings", "Nobody has rated this study yet.")
    version = session.get(BlueprintVersion, study.blueprint_version_id)
    assert version is not None  # study.blueprint_version_id is a foreign key
    current = version.blueprint.current
    spec = BlueprintSpec.model_validate(current.spec).model_copy(
        update={"pass_overall_percent": recommendation.cut}
    )
    measure = cut_measure_of(session, study, recommendation.cut)
    if spec.scaled_score is not None and measure is not None:
        scale = spec.scaled_score.model_copy(update={"cut_measure": measure})
        spec = spec.model_copy(update={"scaled_score": scale})
    new = blueprints.save_blueprint(
        session,
        version.blueprint.code,
        spec,
        actor_id=actor.id,
        note=note
        or f"Cut adopted from Angoff study {study.id}: {recommendation.cut} % "
        f"({recommendation.raters} raters, spread {recommendation.spread})",
    )
    study.adopted_version_id = new.id
    audit.record(
        session,
        actor_id=actor.id,
        action="angoff.adopted",
        object_type="angoff_study",
        object_id=study.id,
        after={
            "cut": recommendation.cut,
            "cut_measure": measure,
            "blueprint_version": new.number,
        },
    )
    session.commit()
    return new.number


def studies(session: Session) -> list[AngoffStudy]:
    return list(session.scalars(select(AngoffStudy).order_by(AngoffStudy.id.desc())))
