"""JSON API for sittings, registration, admission, delivery and proctoring."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from pydantic import BaseModel

from core.api import (
    DRY_RUN_PARAMETER,
    NO_CONTENT,
    dry_run_requested,
    json_body,
    make_api_blueprint,
    model_response,
    parse_json,
    problem_responses,
    respond,
    respond_stored,
)
from core.auth import (
    current_actor,
    lightweight_auth,
    load_token_user,
    require_principal,
    roles_required,
)
from core.db import end_request_transaction, get_db, get_session
from core.duties import reads_bank
from core.extensions import limiter, per_account, per_attempt
from exam import handlers, responses
from exam.models import Attempt, ProctorAction, Registration
from exam.schemas import (
    AdmissionRequest,
    EventRequest,
    InvalidateRequest,
    ProctorRequest,
    ResponseRequest,
    SittingRequest,
    StartRequest,
)
from exam.services import (
    admission,
    delivery,
    proctoring,
    registration,
    rescoring,
    results,
    short_start,
    sittings,
    starting,
    statistics,
)

api = make_api_blueprint("exam_api", __name__)


@api.post("/sittings")
@roles_required("exam_admin")
def create_sitting() -> Response:
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
        body.start_spread_minutes,
    )
    sitting = sittings.schedule_sitting(get_session(), current_actor(), data)
    return respond(responses.sitting_out(get_session(), sitting), 201)


@api.get("/sittings")
@roles_required()
def list_sittings() -> Response:
    session = get_session()
    staff = current_actor().has_role("exam_admin", "proctor")
    rows = sittings.all_sittings(session) if staff else sittings.open_sittings(session)
    listed = [responses.sitting_out(session, s) for s in rows]
    return respond(responses.SittingList(sittings=listed))


@api.post("/sittings/<id:sitting_id>/registrations")
@roles_required("candidate")
def register(sitting_id: int) -> Response:
    session = get_session()
    sitting = sittings.require_sitting(session, sitting_id)
    booked = registration.register(session, current_actor(), sitting)
    return respond(responses.registration_out(booked), 201)


def _own_registration(sitting_id: int) -> Registration:
    return registration.require_registration_for_sitting(get_session(), current_actor(), sitting_id)


@api.post("/sittings/<id:sitting_id>/checkin")
@roles_required("candidate")
def check_in(sitting_id: int) -> Response:
    checked_in = registration.check_in(
        get_session(), current_actor(), _own_registration(sitting_id)
    )
    return respond(responses.registration_out(checked_in))


@api.post("/sittings/<id:sitting_id>/admissions")
@roles_required("proctor", "exam_admin")
def admit(sitting_id: int) -> Response:
    session = get_session()
    body = parse_json(AdmissionRequest)
    sitting = sittings.require_sitting(session, sitting_id)
    at_door = admission.require_registration_of(session, sitting, body.candidate_id)
    admission.decide_admission(
        session,
        current_actor(),
        at_door,
        admit_them=body.decision == "admit",
        identity_check=body.identity_check,
        reason=body.reason,
    )
    return respond(responses.registration_out(at_door))


@api.post("/attempts")
@lightweight_auth
@limiter.limit("20 per minute", key_func=per_account)
def start() -> Response:
    """A form drawn at admission starts by the short path, which checks the token's account
    in its own read; anything else takes the full path, under the usual role check."""
    body = parse_json(StartRequest)
    principal = require_principal()
    started = short_start.start_with_token(get_db(), principal, body.sitting_id, _secret_key())
    if started is None:
        load_token_user(principal)
        return _start_in_full(body.sitting_id)
    if started.rendered is not None:
        return respond_stored(responses.started_body(started.attempt, started.rendered), 201)
    return respond(responses.started_out(started, _secret_key()), 201)


@roles_required("candidate")
def _start_in_full(sitting_id: int) -> Response:
    booked = _own_registration(sitting_id)
    end_request_transaction()
    attempt_id = starting.start_attempt(get_db(), current_actor(), booked.id)
    with get_db().read_sessions() as session:
        attempt = delivery.require_own_attempt(session, current_actor().id, attempt_id)
        return respond(responses.attempt_out(session, attempt, _secret_key()), 201)


def _secret_key() -> str:
    key: str = current_app.config["SECRET_KEY"]
    return key


def _own_attempt(attempt_id: int) -> Attempt:
    return delivery.require_own_attempt(get_session(), current_actor().id, attempt_id)


@api.get("/attempts/<id:attempt_id>")
@roles_required("candidate")
def get_attempt(attempt_id: int) -> Response:
    return respond(responses.attempt_out(get_session(), _own_attempt(attempt_id), _secret_key()))


@api.post("/items/<id:item_id>/invalidate")
@roles_required("exam_admin")
def invalidate_item(item_id: int) -> Response:
    """Stop scoring an item version or correct its key; rescores every affected attempt.
    ``dry_run=1`` does it all and rolls it back: the same figures, nothing kept."""
    dry_run = dry_run_requested()
    body = parse_json(InvalidateRequest)
    rescored = rescoring.decide_scoring(
        get_session(),
        current_actor(),
        item_id,
        action=body.action,
        reason=body.reason,
        version_number=body.version,
        keys=list(body.keys or []),
        preview=dry_run,
    )
    return respond(responses.changed_outcomes(rescored, dry_run))


@api.get("/blueprints/<code>/statistics")
@roles_required("exam_admin")
@reads_bank
def blueprint_statistics(code: str) -> Response:
    """Exam and item statistics over every scored attempt on the blueprint."""
    return respond(responses.statistics_out(statistics.exam_statistics(get_session(), code[:60])))


@api.get("/attempts/<id:attempt_id>/result")
@roles_required("candidate", "exam_admin")
def attempt_result(attempt_id: int) -> Response:
    """The candidate's own result once released; staff see any."""
    session = get_session()
    outcome = results.require_result(session, current_actor(), attempt_id)
    return respond(responses.result_out(session, outcome))


@api.get("/attempts/<id:attempt_id>/state")
@roles_required("candidate")
def attempt_state(attempt_id: int) -> Response:
    return respond(responses.attempt_state(_own_attempt(attempt_id)))


@api.put("/attempts/<id:attempt_id>/responses/<id:position>")
@lightweight_auth
@limiter.exempt
def save_response(attempt_id: int, position: int) -> Response:
    return handlers.autosave(attempt_id, position)


@api.post("/attempts/<id:attempt_id>/submit")
@roles_required("candidate")
def submit(attempt_id: int) -> Response:
    return respond(
        responses.attempt_state(delivery.submit(get_session(), current_actor(), attempt_id))
    )


@api.post("/attempts/<id:attempt_id>/events")
@roles_required("candidate")
@limiter.limit("120 per minute", key_func=per_attempt)
def event(attempt_id: int) -> tuple[str, int]:
    body = parse_json(EventRequest)
    delivery.record_client_event(get_session(), current_actor(), attempt_id, body.kind, body.detail)
    return "", 204


@roles_required("proctor", "exam_admin")
def proctor_action(attempt_id: int, action: str) -> Response:
    session, actor = get_session(), current_actor()
    body = parse_json(ProctorRequest)
    attempt = proctoring.require_attempt_for_proctor(session, actor, attempt_id)
    proctoring.act(session, actor, attempt, action, body.reason, body.minutes)
    return respond(responses.attempt_state(attempt))


API_PROCTOR_ACTIONS = (
    ProctorAction.PAUSE,
    ProctorAction.RESUME,
    ProctorAction.EXTEND,
    ProctorAction.TERMINATE,
)
for _action in API_PROCTOR_ACTIONS:
    api.add_url_rule(
        f"/attempts/<id:attempt_id>/{_action}",
        endpoint="proctor_action",
        view_func=proctor_action,
        methods=["POST"],
        defaults={"action": str(_action)},
    )


_sid = [{"name": "sitting_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_aid = [{"name": "attempt_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_auth: list[dict[str, list[str]]] = [{"bearer": []}]


def _op(
    summary: str,
    op_id: str,
    params: list[Any],
    ok: tuple[str, type[BaseModel] | None],
    body: type[BaseModel] | None = None,
    errors: tuple[int, ...] = (),
) -> dict[str, Any]:
    """An operation answering ``ok`` (status, body model or ``None`` for no body); the
    problem statuses every operation of its shape can answer are added from its route, so
    ``errors`` lists only those particular to it (409 when the attempt or registration is
    not in a state that allows it)."""
    status, model = ok
    operation: dict[str, Any] = {
        "summary": summary,
        "operationId": op_id,
        "security": _auth,
        "parameters": params,
        "responses": {
            status: NO_CONTENT if model is None else model_response(summary, model),
            **problem_responses(*errors),
        },
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
    *responses.OPENAPI_MODELS,
)
_registration = ("201", responses.RegistrationOut)
_state = ("200", responses.AttemptState)
OPENAPI_PATHS: dict[str, dict[str, Any]] = {
    "/sittings": {
        "post": _op(
            "Schedule a sitting", "createSitting", [], ("201", responses.SittingOut), SittingRequest
        ),
        "get": _op(
            "Sittings (open ones for candidates, all for staff)",
            "listSittings",
            [],
            ("200", responses.SittingList),
        ),
    },
    "/sittings/{sitting_id}/registrations": {
        "post": _op("Register for a sitting", "register", _sid, _registration, errors=(409,))
    },
    "/sittings/{sitting_id}/checkin": {
        "post": _op(
            "Check in at the sitting",
            "checkIn",
            _sid,
            ("200", responses.RegistrationOut),
            errors=(409,),
        )
    },
    "/sittings/{sitting_id}/admissions": {
        "post": _op(
            "Admit or turn away a candidate",
            "admit",
            _sid,
            ("200", responses.RegistrationOut),
            AdmissionRequest,
            errors=(409,),
        )
    },
    "/attempts": {
        "post": _op(
            "Start the exam (idempotent)",
            "startAttempt",
            [],
            ("201", responses.AttemptOut),
            StartRequest,
            # 403: not a candidate, or one who can read the bank; 404: not registered there
            errors=(403, 404, 409),
        )
    },
    "/attempts/{attempt_id}": {
        "get": _op(
            "The attempt: questions, saved answers, time left (409 while paused)",
            "getAttempt",
            _aid,
            ("200", responses.AttemptOut),
            errors=(409,),
        )
    },
    "/items/{item_id}/invalidate": {
        "post": _op(
            "Stop scoring an item version or correct its key, rescoring every attempt",
            "invalidateItem",
            [
                {"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                DRY_RUN_PARAMETER,
            ],
            ("200", responses.ChangedOutcomes),
            InvalidateRequest,
        )
    },
    "/blueprints/{code}/statistics": {
        "get": _op(
            "Exam and item statistics (difficulty, discrimination, distractors, KR-20)",
            "getStatistics",
            [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
            ("200", responses.StatisticsOut),
        )
    },
    "/attempts/{attempt_id}/result": {
        "get": _op(
            "The scored result (own once released; staff any), with its certificate",
            "getAttemptResult",
            _aid,
            ("200", responses.ResultOut),
        )
    },
    "/attempts/{attempt_id}/state": {
        "get": _op("Status and time left only", "getAttemptState", _aid, _state)
    },
    "/attempts/{attempt_id}/responses/{position}": {
        "put": _op(
            "Save one answer (idempotent)",
            "saveResponse",
            [
                *_aid,
                {"name": "position", "in": "path", "required": True, "schema": {"type": "integer"}},
            ],
            ("200", responses.SavedAnswer),
            ResponseRequest,
            errors=(409,),
        )
    },
    "/attempts/{attempt_id}/submit": {
        "post": _op("Submit (idempotent)", "submitAttempt", _aid, _state, errors=(409,))
    },
    "/attempts/{attempt_id}/events": {
        "post": _op(
            "Report a delivery-page event", "attemptEvent", _aid, ("204", None), EventRequest
        )
    },
    **{
        f"/attempts/{{attempt_id}}/{action}": {
            "post": _op(
                f"Proctor: {action}", f"{action}Attempt", _aid, _state, ProctorRequest, (409,)
            )
        }
        for action in API_PROCTOR_ACTIONS
    },
}
