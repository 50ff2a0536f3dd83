"""JSON API for sittings, registration, admission, delivery and proctoring."""

from __future__ import annotations

from typing import Any, Literal

from flask import current_app, jsonify
from flask_login import current_user
from pydantic import AwareDatetime, Field

from core.api import (
    ApiModel,
    json_body,
    json_response,
    make_api_blueprint,
    parse_json,
    problem_responses,
)
from core.auth import lightweight_auth, require_principal, roles_required
from core.db import end_request_transaction, get_db, get_session
from core.errors import Problem
from core.extensions import limiter
from exam import delivery, grading, proctoring, rescoring, sittings
from exam.models import Attempt, Registration, Sitting

api = make_api_blueprint("exam_api", __name__)


class SittingRequest(ApiModel):
    blueprint: str = Field(min_length=1, max_length=60)
    title: str = Field(min_length=1, max_length=200)
    opens_at: AwareDatetime
    closes_at: AwareDatetime
    capacity: int = Field(ge=1, le=10_000)
    mode: Literal["online", "test_centre"]
    location: str = Field(default="", max_length=300)
    proctor_ids: list[int] = Field(default_factory=list, max_length=50)


class AdmissionRequest(ApiModel):
    candidate_id: int
    decision: Literal["admit", "turn_away"] = "admit"
    identity_check: str = Field(default="", max_length=2000)
    reason: str = Field(default="", max_length=40)


class StartRequest(ApiModel):
    sitting_id: int


class ResponseRequest(ApiModel):
    selected: list[str] = Field(max_length=6)
    flagged: bool = False


class EventRequest(ApiModel):
    kind: str = Field(min_length=1, max_length=30)
    detail: str = Field(default="", max_length=500)


class InvalidateRequest(ApiModel):
    action: Literal["do_not_score", "correct_key"]
    reason: str = Field(min_length=1, max_length=4000)
    version: int | None = Field(default=None, ge=1)
    keys: list[Literal["A", "B", "C", "D", "E", "F"]] | None = Field(default=None, max_length=5)


class ProctorRequest(ApiModel):
    reason: str = Field(default="", max_length=2000)
    minutes: int | None = Field(default=None, ge=1, le=120)


def sitting_json(sitting: Sitting) -> dict[str, Any]:
    session = get_session()
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


def attempt_json(
    attempt: Attempt, with_questions: bool = True, session: Any = None
) -> dict[str, Any]:
    body = delivery.state(attempt)
    if with_questions:
        shown = delivery.questions(
            session or get_session(), attempt, current_app.config["SECRET_KEY"]
        )
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


@api.post("/sittings")
@roles_required("exam_admin")
def create_sitting() -> Any:
    body = parse_json(SittingRequest)
    data = sittings.SittingInput(
        body.blueprint,
        body.title,
        body.opens_at,
        body.closes_at,
        body.capacity,
        body.mode,
        body.location,
        tuple(body.proctor_ids),
    )
    sitting = sittings.schedule_sitting(get_session(), current_user, data)  # type: ignore[arg-type]
    return jsonify(sitting_json(sitting)), 201


@api.get("/sittings")
@roles_required()
def list_sittings() -> Any:
    session = get_session()
    staff = current_user.has_role("exam_admin", "proctor")
    rows = sittings.all_sittings(session) if staff else sittings.open_sittings(session)
    return jsonify({"sittings": [sitting_json(s) for s in rows]})


@api.post("/sittings/<id:sitting_id>/registrations")
@roles_required("candidate")
def register(sitting_id: int) -> Any:
    session = get_session()
    registration = sittings.register(
        session, current_user, sittings.get_sitting(session, sitting_id)
    )  # type: ignore[arg-type]
    return jsonify(registration_json(registration)), 201


def _own_registration(sitting_id: int) -> Registration:
    for registration in sittings.my_registrations(get_session(), current_user.id):
        if registration.sitting_id == sitting_id:
            return registration
    raise Problem(404, "Not registered", "You are not registered for this sitting.")


@api.post("/sittings/<id:sitting_id>/checkin")
@roles_required("candidate")
def check_in(sitting_id: int) -> Any:
    registration = sittings.check_in(get_session(), current_user, _own_registration(sitting_id))  # type: ignore[arg-type]
    return jsonify(registration_json(registration))


@api.post("/sittings/<id:sitting_id>/admissions")
@roles_required("proctor", "exam_admin")
def admit(sitting_id: int) -> Any:
    session = get_session()
    body = parse_json(AdmissionRequest)
    sitting = sittings.get_sitting(session, sitting_id)
    registration = next(
        (r for r in sittings.roster(session, sitting) if r.candidate_id == body.candidate_id), None
    )
    if registration is None:
        raise Problem(404, "Not registered", "That candidate is not registered for this sitting.")
    if body.decision == "admit":
        sittings.admit(session, current_user, registration, body.identity_check)  # type: ignore[arg-type]
    else:
        sittings.turn_away(session, current_user, registration, body.reason)  # type: ignore[arg-type]
    return jsonify(registration_json(registration))


@api.post("/attempts")
@roles_required("candidate")
@limiter.limit("20 per minute")
def start() -> Any:
    body = parse_json(StartRequest)
    registration = _own_registration(body.sitting_id)
    end_request_transaction()
    attempt_id = delivery.start_attempt(get_db(), current_user.id, registration.id)
    with get_db().read_sessions() as session:
        attempt = session.get(Attempt, attempt_id)
        return jsonify(attempt_json(attempt, session=session)), 201


@api.get("/attempts/<id:attempt_id>")
@roles_required("candidate")
def get_attempt(attempt_id: int) -> Any:
    return jsonify(
        attempt_json(delivery.get_own_attempt(get_session(), current_user.id, attempt_id))
    )


def result_json(outcome: Any) -> dict[str, Any]:
    return {
        "attempt_id": outcome.attempt_id,
        "result": outcome.result,
        "percent": outcome.percent,
        "pass_percent": outcome.pass_percent,
        "score": outcome.score,
        "max_score": outcome.max_score,
        "graded_at": outcome.graded_at.isoformat(),
        "areas": [
            {
                key: area[key]
                for key in ("code", "title", "percent", "min_percent", "met", "subareas")
            }
            for area in outcome.areas
        ],
    }


@api.post("/items/<id:item_id>/invalidate")
@roles_required("exam_admin")
def invalidate_item(item_id: int) -> Any:
    """Stop scoring an item version or correct its key; rescores every affected attempt."""
    body = parse_json(InvalidateRequest)
    changed = rescoring.decide_scoring(
        get_session(),
        current_user,
        item_id,
        action=body.action,
        reason=body.reason,  # type: ignore[arg-type]
        version_number=body.version,
        keys=list(body.keys or []),
    )
    return jsonify(
        {
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
    )


def statistics_json(stats: Any) -> dict[str, Any]:
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


@api.get("/blueprints/<code>/statistics")
@roles_required("exam_admin")
def blueprint_statistics(code: str) -> Any:
    """Exam and item statistics over every scored attempt on the blueprint."""
    from exam import statistics

    return jsonify(statistics_json(statistics.exam_statistics(get_session(), code[:60])))


@api.get("/attempts/<id:attempt_id>/result")
@roles_required("candidate", "exam_admin")
def attempt_result(attempt_id: int) -> Any:
    """The candidate's own result once released; staff see any."""
    session = get_session()
    if current_user.has_role("exam_admin"):
        attempt = session.get(Attempt, attempt_id)
        if attempt is None:
            raise Problem(404, "No such attempt", "")
    else:
        attempt = delivery.get_own_attempt(session, current_user.id, attempt_id)
    outcome = grading.get_result(session, attempt.id)
    staff = current_user.has_role("exam_admin")
    if outcome is None or not (outcome.released or staff):
        raise Problem(404, "No result yet", "The result is not available yet.")
    return jsonify(result_json(outcome))


@api.get("/attempts/<id:attempt_id>/state")
@roles_required("candidate")
def attempt_state(attempt_id: int) -> Any:
    return jsonify(
        delivery.state(delivery.get_own_attempt(get_session(), current_user.id, attempt_id))
    )


@api.put("/attempts/<id:attempt_id>/responses/<id:position>")
@lightweight_auth
@limiter.exempt
def save_response(attempt_id: int, position: int) -> Any:
    principal = require_principal()
    body = parse_json(ResponseRequest)
    saved_at = delivery.save_response(
        get_db(),
        current_app.config["SECRET_KEY"],
        principal,
        attempt_id,
        position,
        body.selected,
        body.flagged,
    )
    return jsonify({"position": position, "saved_at": saved_at.isoformat()})


@api.post("/attempts/<id:attempt_id>/submit")
@roles_required("candidate")
def submit(attempt_id: int) -> Any:
    return jsonify(delivery.state(delivery.submit(get_session(), current_user.id, attempt_id)))


@api.post("/attempts/<id:attempt_id>/events")
@roles_required("candidate")
@limiter.limit("120 per minute")
def event(attempt_id: int) -> Any:
    body = parse_json(EventRequest)
    delivery.record_client_event(get_session(), current_user.id, attempt_id, body.kind, body.detail)
    return "", 204


@api.post("/attempts/<id:attempt_id>/pause", defaults={"action": "pause"})
@api.post("/attempts/<id:attempt_id>/resume", defaults={"action": "resume"})
@api.post("/attempts/<id:attempt_id>/extend", defaults={"action": "extend"})
@api.post("/attempts/<id:attempt_id>/terminate", defaults={"action": "terminate"})
@roles_required("proctor", "exam_admin")
def proctor_action(attempt_id: int, action: str) -> Any:
    session = get_session()
    body = parse_json(ProctorRequest)
    attempt = proctoring.get_attempt_for_proctor(session, current_user, attempt_id)  # type: ignore[arg-type]
    if action == "pause":
        proctoring.pause(session, current_user, attempt, body.reason)  # type: ignore[arg-type]
    elif action == "resume":
        proctoring.resume(session, current_user, attempt)  # type: ignore[arg-type]
    elif action == "extend":
        if body.minutes is None:
            raise Problem(422, "Minutes needed", "Say how many minutes to add.")
        proctoring.extend(session, current_user, attempt, body.minutes, body.reason)  # type: ignore[arg-type]
    else:
        proctoring.terminate(session, current_user, attempt, body.reason)  # type: ignore[arg-type]
    return jsonify(delivery.state(attempt))


_sid = [{"name": "sitting_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_aid = [{"name": "attempt_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_obj = {"type": "object"}
_auth = [{"bearer": []}]


def _op(
    summary: str,
    op_id: str,
    params: list[Any],
    ok: str,
    body: Any = None,
    errors: tuple[int, ...] = (401, 403, 404, 409, 422),
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "operationId": op_id,
        "security": _auth,
        "parameters": params,
        "responses": {ok: json_response(summary, _obj), **problem_responses(*errors)},
    }
    if body is not None:
        operation["requestBody"] = json_body(body)
    return operation


OPENAPI_MODELS = (
    InvalidateRequest,
    SittingRequest,
    AdmissionRequest,
    StartRequest,
    ResponseRequest,
    EventRequest,
    ProctorRequest,
)
OPENAPI_PATHS: dict[str, dict[str, Any]] = {
    "/sittings": {
        "post": _op("Schedule a sitting", "createSitting", [], "201", SittingRequest),
        "get": _op(
            "Sittings (open ones for candidates, all for staff)",
            "listSittings",
            [],
            "200",
            errors=(401,),
        ),
    },
    "/sittings/{sitting_id}/registrations": {
        "post": _op("Register for a sitting", "register", _sid, "201")
    },
    "/sittings/{sitting_id}/checkin": {
        "post": _op("Check in at the sitting", "checkIn", _sid, "200")
    },
    "/sittings/{sitting_id}/admissions": {
        "post": _op("Admit or turn away a candidate", "admit", _sid, "200", AdmissionRequest)
    },
    "/attempts": {
        "post": _op("Start the exam (idempotent)", "startAttempt", [], "201", StartRequest)
    },
    "/attempts/{attempt_id}": {
        "get": _op("The attempt: questions, saved answers, time left", "getAttempt", _aid, "200")
    },
    "/items/{item_id}/invalidate": {
        "post": _op(
            "Stop scoring an item version or correct its key, rescoring every attempt",
            "invalidateItem",
            [{"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "200",
            InvalidateRequest,
        )
    },
    "/blueprints/{code}/statistics": {
        "get": _op(
            "Exam and item statistics (difficulty, discrimination, distractors, KR-20)",
            "getStatistics",
            [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
            "200",
            errors=(401, 403),
        )
    },
    "/attempts/{attempt_id}/result": {
        "get": _op(
            "The scored result (own once released; staff any)", "getAttemptResult", _aid, "200"
        )
    },
    "/attempts/{attempt_id}/state": {
        "get": _op("Status and time left only", "getAttemptState", _aid, "200")
    },
    "/attempts/{attempt_id}/responses/{position}": {
        "put": _op(
            "Save one answer (idempotent)",
            "saveResponse",
            [
                *_aid,
                {"name": "position", "in": "path", "required": True, "schema": {"type": "integer"}},
            ],
            "200",
            ResponseRequest,
        )
    },
    "/attempts/{attempt_id}/submit": {
        "post": _op("Submit (idempotent)", "submitAttempt", _aid, "200")
    },
    "/attempts/{attempt_id}/events": {
        "post": _op("Report a delivery-page event", "attemptEvent", _aid, "204", EventRequest)
    },
    **{
        f"/attempts/{{attempt_id}}/{action}": {
            "post": _op(f"Proctor: {action}", f"{action}Attempt", _aid, "200", ProctorRequest)
        }
        for action in ("pause", "resume", "extend", "terminate")
    },
}
