"""The candidate pages' own JSON (cookie session and CSRF header): autosave, the attempt's
state, events, and the state of a registration the waiting page follows."""

from __future__ import annotations

from flask import current_app, send_from_directory
from werkzeug.wrappers import Response

from core.api import parse_json, respond
from core.auth import current_actor, lightweight_auth, roles_required
from core.db import get_session
from core.extensions import limiter, per_attempt
from exam import handlers, responses
from exam.schemas import EventRequest
from exam.services import delivery, registration
from exam.views._blueprint import bp, json_errors


@bp.put("/exams/attempts/<id:attempt_id>/responses/<id:position>")
@lightweight_auth
@limiter.exempt
def autosave(attempt_id: int, position: int) -> Response:
    json_errors()
    return handlers.autosave(attempt_id, position)


@bp.get("/exams/attempts/<id:attempt_id>/state")
@roles_required("candidate")
def attempt_state(attempt_id: int) -> Response:
    json_errors()
    attempt = delivery.require_own_attempt(get_session(), current_actor().id, attempt_id)
    return respond(responses.attempt_state(attempt))


@bp.get("/exams/<id:registration_id>/state")
@roles_required("candidate")
def registration_state(registration_id: int) -> Response:
    """Polled by the waiting page until the proctor admits or turns the candidate away."""
    json_errors()
    booked = registration.require_own_registration(get_session(), current_actor(), registration_id)
    return respond(responses.registration_out(booked))


@bp.post("/exams/attempts/<id:attempt_id>/events")
@roles_required("candidate")
@limiter.limit("120 per minute", key_func=per_attempt)
def attempt_event(attempt_id: int) -> tuple[str, int]:
    json_errors()
    body = parse_json(EventRequest)
    delivery.record_client_event(get_session(), current_actor(), attempt_id, body.kind, body.detail)
    return "", 204


@bp.get("/exams/attempts/exam-worker.js")
@roles_required("candidate")
def exam_worker() -> Response:
    """The service worker that shows the exam page again on a reload without a network.
    Served here, not from /static/, so its scope covers the attempt pages."""
    static = current_app.static_folder
    assert static is not None
    response = send_from_directory(static, "js/exam-sw.js", mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response
