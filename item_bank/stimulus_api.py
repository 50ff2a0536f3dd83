"""JSON API for shared stimuli: list, read, write and edit (a new version per change)."""

from __future__ import annotations

from typing import Any

from flask import Response

from core.api import json_body, model_response, parse_json, problem_responses, respond
from core.auth import current_actor, roles_required
from core.db import get_session
from core.duties import reads_bank
from item_bank import frameworks
from item_bank.api import api
from item_bank.schemas import StimulusContent
from item_bank.services import STAFF_ROLES
from item_bank.services import stimuli as service
from item_bank.stimulus_models import Stimulus
from item_bank.stimulus_responses import StimulusList, StimulusOut, stimulus_out


def _body(stimulus: Stimulus) -> StimulusOut:
    members = service.set_members(get_session(), stimulus)
    return stimulus_out(stimulus, [version.item.ref for version in members])


@api.get("/stimuli")
@roles_required(*STAFF_ROLES)
@reads_bank
def list_stimuli() -> Response:
    framework = frameworks.require_framework(get_session(), frameworks.DEFAULT_FRAMEWORK)
    rows = service.list_stimuli(get_session(), framework.id)
    return respond(StimulusList(stimuli=[_body(row.stimulus) for row in rows]))


@api.post("/stimuli")
@roles_required(*service.EDITOR_ROLES)
@reads_bank
def create_stimulus() -> Response:
    content = parse_json(StimulusContent)
    framework = frameworks.require_framework(get_session(), frameworks.DEFAULT_FRAMEWORK)
    stimulus = service.create_stimulus(get_session(), current_actor(), framework, content)
    response = respond(_body(stimulus), 201)
    response.headers["Location"] = f"/api/v1/stimuli/{stimulus.id}"
    return response


@api.get("/stimuli/<id:stimulus_id>")
@roles_required(*STAFF_ROLES)
@reads_bank
def get_stimulus(stimulus_id: int) -> Response:
    return respond(_body(service.require_stimulus(get_session(), stimulus_id)))


@api.put("/stimuli/<id:stimulus_id>")
@roles_required(*service.EDITOR_ROLES)
@reads_bank
def update_stimulus(stimulus_id: int) -> Response:
    stimulus = service.require_stimulus(get_session(), stimulus_id)
    content = parse_json(StimulusContent)
    service.update_stimulus(get_session(), current_actor(), stimulus, content)
    return respond(_body(stimulus))


STIMULUS = model_response("The stimulus", StimulusOut)
_id = [{"name": "stimulus_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
OPENAPI_PATHS: dict[str, dict[str, Any]] = {
    "/stimuli": {
        "get": {
            "summary": "Shared stimuli (scenarios), with the items of each set",
            "operationId": "listStimuli",
            "security": [{"bearer": []}],
            "responses": {
                "200": model_response("Every stimulus", StimulusList),
                **problem_responses(401, 403),
            },
        },
        "post": {
            "summary": "Write a shared stimulus (version 1)",
            "operationId": "createStimulus",
            "security": [{"bearer": []}],
            "requestBody": json_body(StimulusContent),
            "responses": {
                "201": STIMULUS,
                **problem_responses(400, 401, 403, 409, 415, 422),
            },
        },
    },
    "/stimuli/{stimulus_id}": {
        "get": {
            "summary": "One stimulus, every version of its text",
            "operationId": "getStimulus",
            "security": [{"bearer": []}],
            "parameters": _id,
            "responses": {"200": STIMULUS, **problem_responses(401, 403, 404)},
        },
        "put": {
            "summary": "Edit a stimulus: the next version; drafts on it follow",
            "operationId": "updateStimulus",
            "security": [{"bearer": []}],
            "parameters": _id,
            "requestBody": json_body(StimulusContent),
            "responses": {
                "200": STIMULUS,
                **problem_responses(400, 401, 403, 404, 409, 415, 422),
            },
        },
    },
}
