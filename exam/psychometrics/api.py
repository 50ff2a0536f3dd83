"""JSON API for the psychometric work: response export and Rasch calibration."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request

from core.api import (
    ID_SCHEMA,
    json_body,
    make_api_blueprint,
    model_ref,
    model_response,
    parse_json,
    problem_responses,
    respond,
)
from core.auth import current_actor, roles_required
from core.db import get_session
from core.duties import reads_bank
from core.errors import Problem
from core.web import valid_id
from exam.psychometrics import calibration, drift, export, pretesting, responses
from exam.psychometrics.schemas import (
    CalibrationOut,
    DriftOut,
    PretestDecisionRequest,
    PretestItemOut,
    PretestListOut,
    ResponseExportOut,
)
from exam.services.problems import invalid

api = make_api_blueprint("psychometrics_api", __name__)


def secret_key() -> bytes:
    return str(current_app.config["SECRET_KEY"]).encode()


def _sitting() -> int | None:
    raw = request.args.get("sitting")
    if raw in (None, ""):
        return None
    sitting = valid_id(int(raw)) if raw.isdigit() else None
    if sitting is None:
        raise invalid("sitting", "sitting is a sitting's id.")
    return sitting


def export_request(code: str) -> export.ExportRequest:
    return export.parse_request(
        code[:60],
        _sitting(),
        request.args.get("layout"),
        request.args.get("format"),
        request.args.get("identified"),
        request.args.get("export"),
    )


def export_response(done: export.Export) -> Response:
    response = Response(done.body, mimetype=done.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{done.filename}"'
    response.headers["Export-Id"] = done.export_id
    return response


@api.get("/blueprints/<code>/responses")
@roles_required("exam_admin")
@reads_bank
def blueprint_responses(code: str) -> Response:
    """Scored responses, long or wide, pseudonymised unless ``identified=true`` (audited)."""
    wanted = export_request(code)
    actor = current_actor()
    done = export.export_responses(get_session(), actor.id, wanted, secret_key())
    return export_response(done)


@api.post("/blueprints/<code>/calibrations")
@roles_required("exam_admin")
@reads_bank
def calibrate(code: str) -> Response:
    """Calibrate the bank from every scored attempt on the blueprint (audited)."""
    session = get_session()
    found = responses.require_blueprint_code(session, code)
    run = calibration.run_calibration(session, current_actor().id, found)
    return respond(calibration.calibration_out(calibration.view(session, run)), 201)


@api.get("/blueprints/<code>/calibration")
@roles_required("exam_admin")
@reads_bank
def latest_calibration(code: str) -> Response:
    """The latest calibration of the blueprint's responses."""
    session = get_session()
    found = calibration.latest_view(session, responses.require_blueprint_code(session, code))
    if found is None:
        raise Problem(404, "No calibration yet", "Run one: POST .../calibrations.")
    return respond(calibration.calibration_out(found))


@api.get("/blueprints/<code>/drift")
@roles_required("exam_admin")
@reads_bank
def blueprint_drift(code: str) -> Response:
    """Exposure and p-value per period of every item version, drift and alerts."""
    wanted = drift.parse_request(
        code,
        request.args.get("mode"),
        request.args.get("days"),
        request.args.get("threshold"),
        request.args.get("alpha"),
        request.args.get("min_n"),
    )
    return respond(drift.drift_out(drift.drift_report(get_session(), wanted)))


def pretest_item_out(row: pretesting.PretestRow) -> PretestItemOut:
    stats = row.stats
    return PretestItemOut(
        item_id=row.item_id,
        ref=row.ref,
        competency=row.code,
        status=row.status,
        added_at=row.added_at,
        n=stats.n if stats else 0,
        p_value=stats.p_value if stats else None,
        point_biserial=stats.point_biserial if stats else None,
        difficulty=row.difficulty,
        note=row.note,
    )


@api.get("/blueprints/<code>/pretest")
@roles_required("exam_admin")
@reads_bank
def pretest_items(code: str) -> Response:
    """The blueprint's pretest items with their statistics and Rasch difficulty."""
    session = get_session()
    rows = pretesting.pretest_rows(session, code)
    wanted = pretesting.pretest_items_wanted(session, code)
    items = [pretest_item_out(row) for row in rows]
    return respond(PretestListOut(blueprint=code[:60], per_form=wanted, items=items))


@api.post("/blueprints/<code>/pretest/<id:item_id>/<any(promote, drop):decision>")
@roles_required("exam_admin")
def decide_pretest(code: str, item_id: int, decision: str) -> Response:
    """Promote a pretest item to scored or drop it (audited)."""
    body = parse_json(PretestDecisionRequest)
    session = get_session()
    if not any(row.item_id == item_id for row in pretesting.pretest_rows(session, code)):
        raise Problem(404, "Not on pretest", "This item is not on pretest for this blueprint.")
    pretesting.decide(session, current_actor(), item_id, decision, body.note)
    found = next(row for row in pretesting.pretest_rows(session, code) if row.item_id == item_id)
    return respond(pretest_item_out(found))


_CODE = [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}]
_QUERY: list[dict[str, Any]] = [
    *_CODE,
    {
        "name": "sitting",
        "in": "query",
        "schema": ID_SCHEMA,
        "description": "Only this sitting's attempts",
    },
    {
        "name": "layout",
        "in": "query",
        "schema": {"type": "string", "enum": ["long", "wide"]},
        "description": "long: one row per administered item; wide: one row per attempt, "
        "one column per item version, NA for an item not on the form",
    },
    {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["csv", "json"]}},
    {
        "name": "identified",
        "in": "query",
        "schema": {"type": "string", "enum": ["true", "false"]},
        "description": "Add candidates' names and emails (the audit row records it)",
    },
    {
        "name": "export",
        "in": "query",
        "schema": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
        "description": "An earlier export's id, to get the same pseudonyms again",
    },
]

_DRIFT_QUERY: list[dict[str, Any]] = [
    *_CODE,
    {
        "name": "mode",
        "in": "query",
        "schema": {"type": "string", "enum": ["monthly", "recent"]},
        "description": "monthly: calendar months (UTC); recent: the last `days` days "
        "against everything before",
    },
    {"name": "days", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 3650}},
    {
        "name": "threshold",
        "in": "query",
        "schema": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "description": "The change in p-value that alerts (default 0.15)",
    },
    {
        "name": "alpha",
        "in": "query",
        "schema": {"type": "number", "exclusiveMinimum": 0, "maximum": 0.5},
        "description": "The significance level of the test (default 0.01)",
    },
    {
        "name": "min_n",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 100000},
        "description": "Responses needed on each side before an alert (default 30)",
    },
]

_DECISION = [
    *_CODE,
    {"name": "item_id", "in": "path", "required": True, "schema": ID_SCHEMA},
    {
        "name": "decision",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": ["promote", "drop"]},
    },
]

OPENAPI_PATHS: dict[str, dict[str, Any]] = {
    "/blueprints/{code}/pretest": {
        "get": {
            "summary": "The blueprint's pretest items and how each has done",
            "operationId": "listPretestItems",
            "security": [{"bearer": []}],
            "parameters": _CODE,
            "responses": {
                "200": model_response("The pretest items", PretestListOut),
                **problem_responses(404),
            },
        }
    },
    "/blueprints/{code}/pretest/{item_id}/{decision}": {
        "post": {
            "summary": "Promote a pretest item to scored, or drop it (audited)",
            "operationId": "decidePretestItem",
            "security": [{"bearer": []}],
            "parameters": _DECISION,
            "requestBody": json_body(PretestDecisionRequest),
            "responses": {
                "200": model_response("The decided item", PretestItemOut),
                **problem_responses(404, 409, 422),
            },
        }
    },
    "/blueprints/{code}/drift": {
        "get": {
            "summary": "Item exposure and p-value drift per period, with alerts",
            "operationId": "getDrift",
            "security": [{"bearer": []}],
            "parameters": _DRIFT_QUERY,
            "responses": {
                "200": model_response("Drift per item version", DriftOut),
                **problem_responses(404, 422),
            },
        }
    },
    "/blueprints/{code}/responses": {
        "get": {
            "summary": "Export the scored responses (audited)",
            "operationId": "exportResponses",
            "security": [{"bearer": []}],
            "parameters": _QUERY,
            "responses": {
                "200": {
                    "description": "The responses; the Export-Id header names the export",
                    "headers": {"Export-Id": {"schema": {"type": "string"}}},
                    "content": {
                        "text/csv": {"schema": {"type": "string"}},
                        "application/json": {"schema": model_ref(ResponseExportOut)},
                    },
                },
                **problem_responses(404, 422),
            },
        }
    },
    "/blueprints/{code}/calibrations": {
        "post": {
            "summary": "Calibrate the bank (Rasch, marginal maximum likelihood; audited)",
            "operationId": "calibrate",
            "security": [{"bearer": []}],
            "parameters": _CODE,
            "responses": {
                "201": model_response("The calibration", CalibrationOut),
                **problem_responses(404, 409),
            },
        }
    },
    "/blueprints/{code}/calibration": {
        "get": {
            "summary": "The latest calibration",
            "operationId": "getCalibration",
            "security": [{"bearer": []}],
            "parameters": _CODE,
            "responses": {
                "200": model_response("The calibration", CalibrationOut),
                **problem_responses(404),
            },
        }
    },
}
