"""JSON API of the accreditation room: providers, applications, documents, steps, the
staff queue and the public register."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from pydantic import Field

from accreditation import queue, responses, services, workflow
from accreditation.models import PROVIDER_ROLE, STAFF_ROLES, STATE_LABELS, Application
from accreditation.schemas import (
    DraftUpdate,
    NewApplication,
    OrganisationInput,
    TransitionInput,
)
from core.api import (
    ApiModel,
    file_body,
    json_body,
    make_api_blueprint,
    model_response,
    parse_json,
    problem_responses,
    respond,
)
from core.auth import current_actor, roles_required
from core.db import get_session
from core.errors import Problem

api = make_api_blueprint("accreditation_api", __name__)


class MessageInput(ApiModel):
    body: str = Field(min_length=1, max_length=8000)


def application_out(application: Application) -> responses.ApplicationOut:
    return responses.application_out(get_session(), current_actor(), application)


@api.post("/providers")
@roles_required(PROVIDER_ROLE)
def save_provider() -> Any:
    data = parse_json(OrganisationInput)
    session = get_session()
    organisation = services.save_organisation(session, current_actor(), data)
    return respond(responses.organisation_out(organisation), 201)


@api.post("/applications")
@roles_required(PROVIDER_ROLE)
def create_application() -> Any:
    data = parse_json(NewApplication)
    session = get_session()
    renews = (
        services.require_application(session, current_actor(), data.renews) if data.renews else None
    )
    application = services.create_draft(
        session, current_actor(), data.content, renews, data.programme
    )
    return respond(application_out(application), 201)


@api.get("/applications/<id:application_id>")
@roles_required(PROVIDER_ROLE, *STAFF_ROLES)
def get_application(application_id: int) -> Any:
    session = get_session()
    return respond(
        application_out(services.require_application(session, current_actor(), application_id))
    )


@api.put("/applications/<id:application_id>")
@roles_required(PROVIDER_ROLE)
def put_application(application_id: int) -> Any:
    data = parse_json(DraftUpdate)
    session = get_session()
    application = services.require_own_application(session, current_actor(), application_id)
    services.save_draft(session, current_actor(), application, data.content, data.version)
    return respond(application_out(application))


@api.post("/applications/<id:application_id>/documents")
@roles_required(PROVIDER_ROLE)
def upload_document(application_id: int) -> Any:
    session = get_session()
    application = services.require_own_application(session, current_actor(), application_id)
    upload = request.files.get("file")
    if upload is None:
        raise Problem(422, "No file", "Send the PDF as multipart/form-data field 'file'.")
    document = services.store_document(
        current_app, session, current_actor(), application, upload.filename or "", upload.read()
    )
    return respond(responses.stored_document(document), 201)


@api.post("/applications/<id:application_id>/transitions")
@roles_required(PROVIDER_ROLE, *STAFF_ROLES)
def transition(application_id: int) -> Any:
    data = parse_json(TransitionInput)
    session = get_session()
    application = services.require_application(
        session, current_actor(), application_id, for_update=True
    )
    workflow.take_step(session, current_actor(), application, data)
    return respond(application_out(application))


@api.post("/applications/<id:application_id>/messages")
@roles_required(PROVIDER_ROLE, *STAFF_ROLES)
def message(application_id: int) -> Any:
    data = parse_json(MessageInput)
    session = get_session()
    application = services.require_application(
        session, current_actor(), application_id, for_update=True
    )
    workflow.post_message(session, current_actor(), application, data.body)
    return respond(responses.Posted(posted=True), 201)


@api.get("/accreditation/queue")
@roles_required(*STAFF_ROLES)
def staff_queue() -> Any:
    page = queue.queue(get_session(), current_actor(), _queue_filter(), _int_arg("page", 1))
    return respond(responses.queue_page(get_session(), current_actor(), page))


def _int_arg(name: str, default: int | None) -> Any:
    value = request.args.get(name, "")
    if not value:
        return default
    if not (value.isascii() and value.isdigit()) or len(value) > 4:
        raise Problem(400, "Bad parameter", f"'{name}' must be a whole number below 10000.")
    return int(value)


def _queue_filter() -> queue.QueueFilter:
    state = request.args.get("state", "")
    if state and state not in STATE_LABELS:
        raise Problem(400, "Bad parameter", f"Unknown state '{state[:40]}'.")
    return queue.QueueFilter(
        state=state,
        assessor_id=_int_arg("assessor", None),
        older_than_days=_int_arg("older_than_days", None),
        newest_first=request.args.get("order") == "newest",
    )


@api.get("/register")
def public_register() -> Any:
    chosen = queue.RegisterFilter(
        text=request.args.get("q", "")[:100],
        country=request.args.get("country", "")[:2],
        delivery_mode=request.args.get("delivery_mode", "")[:20],
        programme=request.args.get("programme", "")[:60],
    )
    page = queue.register(get_session(), chosen, _int_arg("page", 1))
    return respond(responses.register_page(page, queue.certifications(get_session())))


OPENAPI_MODELS = (
    OrganisationInput,
    NewApplication,
    DraftUpdate,
    TransitionInput,
    MessageInput,
    *responses.OPENAPI_MODELS,
)
APPLICATION = model_response("The application", responses.ApplicationOut)
_ID = [{"name": "application_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
OPENAPI_PATHS: dict[str, dict[str, Any]] = {
    "/providers": {
        "post": {
            "summary": "Create or update your organisation's profile (provider)",
            "operationId": "saveProvider",
            "requestBody": json_body(OrganisationInput),
            "responses": {
                "201": model_response("The organisation", responses.OrganisationOut),
                **problem_responses(400, 401, 403, 415, 422),
            },
        }
    },
    "/applications": {
        "post": {
            "summary": "Start an application (a draft) for a programme",
            "operationId": "createApplication",
            "requestBody": json_body(NewApplication),
            "responses": {
                "201": model_response("The draft", responses.ApplicationOut),
                **problem_responses(400, 401, 403, 404, 409, 415, 422),
            },
        }
    },
    "/applications/{application_id}": {
        "get": {
            "summary": "An application (its provider, leads, its assessor)",
            "operationId": "getApplication",
            "parameters": _ID,
            "responses": {
                "200": APPLICATION,
                **problem_responses(401, 403, 404),
            },
        },
        "put": {
            "summary": "Save a draft (any time; a stale version is a 409)",
            "operationId": "saveApplication",
            "parameters": _ID,
            "requestBody": json_body(DraftUpdate),
            "responses": {
                "200": APPLICATION,
                **problem_responses(400, 401, 403, 404, 409, 415, 422),
            },
        },
    },
    "/applications/{application_id}/documents": {
        "post": {
            "summary": "Attach an evidence PDF (multipart field 'file', at most 10 MB)",
            "operationId": "uploadDocument",
            "parameters": _ID,
            "requestBody": file_body("A PDF"),
            "responses": {
                "201": model_response("The document", responses.StoredDocument),
                **problem_responses(401, 403, 404, 409, 413, 415, 422),
            },
        }
    },
    "/applications/{application_id}/transitions": {
        "post": {
            "summary": "Take a workflow step (409 lists the steps allowed)",
            "operationId": "applicationTransition",
            "parameters": _ID,
            "requestBody": json_body(TransitionInput),
            "responses": {
                "200": APPLICATION,
                **problem_responses(400, 401, 403, 404, 409, 415, 422),
            },
        }
    },
    "/applications/{application_id}/messages": {
        "post": {
            "summary": "Post to the application's message thread",
            "operationId": "applicationMessage",
            "parameters": _ID,
            "requestBody": json_body(MessageInput),
            "responses": {
                "201": model_response("Posted", responses.Posted),
                **problem_responses(400, 401, 403, 404, 415, 422),
            },
        }
    },
    "/accreditation/queue": {
        "get": {
            "summary": "The staff queue: filters state, assessor, older_than_days, order",
            "operationId": "accreditationQueue",
            "responses": {
                "200": model_response("A page of the queue", responses.QueuePage),
                **problem_responses(400, 401, 403),
            },
        }
    },
    "/register": {
        "get": {
            "summary": "The public register of accredited programmes",
            "operationId": "publicRegister",
            "responses": {
                "200": model_response("A page of the register", responses.RegisterPage),
                **problem_responses(400),
            },
        }
    },
}
