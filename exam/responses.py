"""The exam's JSON response bodies, built from stored objects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from exam.models import Attempt, AttemptResult, Outcome, Registration, Sitting
from exam.services import delivery, sittings, statistics, timing
from exam.services.rescoring import ChangedOutcome


def sitting_json(session: Session, sitting: Sitting) -> dict[str, Any]:
    return {
        "id": sitting.id,
        "title": sitting.title,
        "opens_at": sitting.opens_at.isoformat(),
        "closes_at": sitting.closes_at.isoformat(),
        "capacity": sitting.capacity,
        "places_taken": sittings.count_places_taken(session, sitting.id),
        "mode": sitting.mode,
        "location": sitting.location,
        "cancelled": sitting.cancelled,
        "revision": sitting.revision,
    }


def registration_json(registration: Registration) -> dict[str, Any]:
    accommodation = registration.accommodation
    return {
        "id": registration.id,
        "sitting_id": registration.sitting_id,
        "candidate_id": registration.candidate_id,
        "status": registration.status,
        "accommodation": {"time_factor": accommodation.time_factor, "status": accommodation.status}
        if accommodation
        else None,
    }


def attempt_json(session: Session, attempt: Attempt, secret_key: str) -> dict[str, Any]:
    """The attempt with its questions (opaque option ids) and saved answers."""
    body = timing.state(attempt)
    shown = delivery.questions(session, attempt, secret_key)
    body["questions"] = [
        {
            "position": q.position,
            "type": q.type,
            "stem": q.stem,
            "choose": q.choose,
            "options": [{"id": o.id, "text": o.text} for o in q.options],
            "selected": q.selected,
            "flagged": q.flagged,
        }
        for q in shown
    ]
    body["answered"] = sum(1 for q in shown if q.selected)
    return body


class ResultCertificate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    url: str = Field(description="The certificate's page: share link, PDF, signed credential")
    status: str = Field(description="valid, expired, suspended or revoked")


class AreaResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    title: str
    percent: float
    min_percent: float
    met: bool
    subareas: list[dict[str, Any]]


class AttemptResultOut(BaseModel):
    """A scored attempt, and the certificate it produced."""

    model_config = ConfigDict(extra="forbid")

    attempt_id: int
    result: Outcome
    percent: float
    pass_percent: float
    score: float
    max_score: float
    graded_at: str = Field(json_schema_extra={"format": "date-time"})  # as isoformat() writes
    areas: list[AreaResult]
    certificate: ResultCertificate | None = Field(
        description="The certificate the attempt produced, whatever its status; null if none"
    )


# The exam room never imports certificates: the room that issues them says which one an
# attempt produced by registering a finder when the app is wired.
CertificateFinder = Callable[[Session, int], ResultCertificate | None]
_CERTIFICATE_FINDER = "csm_exam_certificate_finder"


def register_certificate_finder(app: Flask, finder: CertificateFinder) -> None:
    app.extensions[_CERTIFICATE_FINDER] = finder


def _certificate_of(session: Session, attempt_id: int) -> ResultCertificate | None:
    finder: CertificateFinder | None = current_app.extensions.get(_CERTIFICATE_FINDER)
    return finder(session, attempt_id) if finder is not None else None


def result_json(session: Session, outcome: AttemptResult) -> dict[str, Any]:
    body = AttemptResultOut(
        attempt_id=outcome.attempt_id,
        result=Outcome(outcome.result),
        percent=outcome.percent,
        pass_percent=outcome.pass_percent,
        score=outcome.score,
        max_score=outcome.max_score,
        graded_at=outcome.graded_at.isoformat(),
        areas=[
            AreaResult.model_validate({key: area[key] for key in AreaResult.model_fields})
            for area in outcome.areas
        ],
        certificate=_certificate_of(session, outcome.attempt_id),
    )
    return body.model_dump(mode="json")


def statistics_json(stats: statistics.ExamStats) -> dict[str, Any]:
    return {
        "attempts": stats.attempts,
        "pass_rate": stats.pass_rate,
        "mean": stats.mean,
        "sd": stats.sd,
        "kr20": stats.kr20,
        "sem": stats.sem,
        "histogram": [{"from_percent": low, "count": count} for low, count in stats.histogram],
        "items": [
            {
                "ref": i.ref,
                "version": i.version,
                "competency": i.code,
                "n": i.n,
                "p_value": i.p_value,
                "point_biserial": i.point_biserial,
                "exposure": i.exposure,
                "keys": i.keys,
                "distractors": i.distractors,
                "flags": i.flags,
            }
            for i in stats.items
        ],
    }


def changed_json(changed: list[ChangedOutcome]) -> dict[str, Any]:
    return {
        "changed": [
            {
                "attempt_id": c.attempt_id,
                "candidate_id": c.candidate_id,
                "before": c.before,
                "after": c.after,
            }
            for c in changed
        ]
    }
