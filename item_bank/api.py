"""JSON API: the framework tree, items and their workflow, import, blueprint coverage."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from pydantic import BaseModel, Field

from core.api import (
    DRY_RUN_PARAMETER,
    ApiModel,
    dry_run_requested,
    file_body,
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
from core.errors import FieldError, Problem
from item_bank import blueprints, frameworks, responses, services, transfer
from item_bank.media_api import register_media_api
from item_bank.models import Framework, Item, ItemStatus, ItemVersion, ReviewAction
from item_bank.responses import ItemOut
from item_bank.schemas import ItemContent, ItemRecord

api = make_api_blueprint("item_bank_api", __name__)
register_media_api(api)
STAFF = services.STAFF_ROLES


class TransitionRequest(ApiModel):
    action: ReviewAction
    comment: str = Field(default="", max_length=4000)
    revision: str | None = Field(
        default=None,
        max_length=200,
        description="Approve and return: the item's content_revision you reviewed (required; "
        "409 naming the fields that changed when the content has moved on since).",
    )
    checked: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Approve: the key of every point of the item's review_checks the reviewer "
        "confirmed (422 naming the points left out).",
    )


def item_body(item: Item, version: ItemVersion | None = None) -> ItemOut:
    """The body of every response that carries one item."""
    return responses.item_out(get_session(), current_actor(), item, version)


def _framework(code: str | None = None) -> Framework:
    return frameworks.require_framework(get_session(), code or frameworks.DEFAULT_FRAMEWORK)


@api.get("/framework")
def framework_tree() -> Any:
    tree = frameworks.framework_tree(get_session(), _framework(request.args.get("code")))
    return respond(responses.framework_tree(tree))


@api.get("/items")
@roles_required(*STAFF)
@reads_bank
def list_items() -> Any:
    filters = services.ItemFilters(
        text=request.args.get("q", "")[:200],
        competency=request.args.get("competency", "")[:60],
        status=request.args.get("status", "")[:20],
        type=request.args.get("type", "")[:30],
    )
    page = services.search_items(
        get_session(),
        filters,
        request.args.get("page", 1, type=int) or 1,
        min(100, max(1, request.args.get("per_page", 25, type=int) or 25)),
    )
    return respond(responses.item_page(get_session(), current_actor(), page))


@api.post("/items")
@roles_required("item_writer")
@reads_bank
def create_item() -> Any:
    content = parse_json(ItemContent)
    item = services.create_item(get_session(), current_actor(), _framework(), content)
    response = respond(item_body(item), 201)
    response.headers["Location"] = f"/api/v1/items/{item.id}"
    return response


@api.get("/items/<id:item_id>")
@roles_required(*STAFF)
@reads_bank
def get_item(item_id: int) -> Any:
    return respond(item_body(services.require_item(get_session(), item_id)))


@api.put("/items/<id:item_id>")
@roles_required("item_writer")
@reads_bank
def update_item(item_id: int) -> Any:
    item = services.require_item(get_session(), item_id)
    content = parse_json(ItemContent)
    version = services.update_item(get_session(), current_actor(), item, content)
    return respond(item_body(item, version))


@api.post("/items/<id:item_id>/transitions")
@roles_required(*STAFF)
@reads_bank
def transition_item(item_id: int) -> Any:
    item = services.require_item(get_session(), item_id)
    body = parse_json(TransitionRequest)
    services.take_step(
        get_session(),
        current_actor(),
        item,
        body.action,
        body.comment,
        body.revision,
        body.checked,
    )
    return respond(item_body(item))


def _import_upload() -> transfer.Upload:
    """The records sent: a JSON array, or a file (JSON, CSV, a QTI item or package) sent
    as multipart/form-data field ``file``, read by its name's extension."""
    if request.mimetype == "multipart/form-data":
        sent = request.files.get("file")
        if sent is None:
            raise Problem(
                422,
                "No file",
                "Send the file as multipart/form-data field 'file'.",
                errors=[FieldError("file", "Required.")],
            )
        return transfer.parse_upload(sent.filename or "", sent.read())
    if request.mimetype != "application/json":
        raise Problem(
            415,
            "Unsupported content type",
            "Send a JSON array of item records, or a file as multipart/form-data field 'file'.",
        )
    return transfer.Upload(transfer.parse_json_records(request.get_data()))


@api.post("/items/import")
@roles_required("item_writer", "exam_admin")
@reads_bank
def import_items() -> Any:
    requested = request.args.get("status", ItemStatus.DRAFT)
    status = services.check_import_status(current_actor(), requested)
    upload = _import_upload()
    summary = transfer.import_items(
        get_session(),
        _framework(request.args.get("framework")),
        upload.records,
        status=status,
        actor_id=current_actor().id,
        actor_label=f"user:{current_actor().id}",
        dry_run=dry_run_requested(),
        default_competency=request.args.get("competency") or None,
        skipped=upload.skipped,
    )
    return respond(responses.import_summary(summary), 200 if summary.dry_run else 201)


@api.get("/items/export")
@roles_required(*STAFF)
@reads_bank
def export_items() -> Any:
    """The bank as JSON, CSV or a QTI 2.1 content package (``format=qti``)."""
    fmt = request.args.get("format", "json")
    if fmt not in transfer.FORMATS:
        raise Problem(
            422,
            "Invalid format",
            f"format is one of {', '.join(transfer.FORMATS)}.",
            errors=[FieldError("format", f"Use {', '.join(transfer.FORMATS)}.")],
        )
    body, _count = transfer.export_bytes(
        get_session(),
        _framework(request.args.get("framework")),
        fmt,
        request.args.get("status", "")[:20],
    )
    response = Response(body, mimetype=transfer.FORMATS[fmt])
    name = "items.zip" if fmt == "qti" else f"items.{fmt}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@api.get("/blueprints/<code>")
@roles_required(*STAFF)
@reads_bank
def get_blueprint(code: str) -> Any:
    return respond(responses.blueprint_out(blueprints.require_blueprint(get_session(), code)))


@api.get("/blueprints/<code>/coverage")
@roles_required(*STAFF)
@reads_bank
def blueprint_coverage(code: str) -> Any:
    blueprint = blueprints.require_blueprint(get_session(), code)
    return respond(responses.coverage_out(blueprints.coverage(get_session(), blueprint.current)))


ITEM = model_response("The item", ItemOut)
IMPORTED = responses.ImportSummaryOut
OPENAPI_MODELS: tuple[type[BaseModel], ...] = (
    ItemContent,
    ItemRecord,
    TransitionRequest,
    *responses.OPENAPI_MODELS,
)
_id = [{"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_code = [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}]
OPENAPI_PATHS: dict[str, dict[str, Any]] = {
    "/framework": {
        "get": {
            "summary": "The competency framework as a tree (public)",
            "operationId": "getFramework",
            "parameters": [{"name": "code", "in": "query", "schema": {"type": "string"}}],
            "responses": {
                "200": model_response(
                    "Parts > sections > areas > competencies", responses.FrameworkTree
                ),
                **problem_responses(404),
            },
        }
    },
    "/items": {
        "get": {
            "summary": "Search items (newest version of each)",
            "operationId": "listItems",
            "security": [{"bearer": []}],
            "parameters": [
                {"name": n, "in": "query", "schema": {"type": "string"}}
                for n in ("q", "competency", "status", "type", "page", "per_page")
            ],
            "responses": {
                "200": model_response("A page of items", responses.ItemPage),
                **problem_responses(401, 403),
            },
        },
        "post": {
            "summary": "Write a new item (a draft)",
            "operationId": "createItem",
            "security": [{"bearer": []}],
            "requestBody": json_body(ItemContent),
            "responses": {
                "201": ITEM,
                **problem_responses(400, 401, 403, 404, 409, 415, 422),
            },
        },
    },
    "/items/{item_id}": {
        "get": {
            "summary": "One item, newest version",
            "operationId": "getItem",
            "security": [{"bearer": []}],
            "parameters": _id,
            "responses": {
                "200": ITEM,
                **problem_responses(401, 403, 404),
            },
        },
        "put": {
            "summary": "Edit the draft, or start a new draft version of an approved item",
            "operationId": "updateItem",
            "security": [{"bearer": []}],
            "parameters": _id,
            "requestBody": json_body(ItemContent),
            "responses": {
                "200": ITEM,
                **problem_responses(400, 401, 403, 404, 409, 415, 422),
            },
        },
    },
    "/items/{item_id}/transitions": {
        "post": {
            "summary": "Submit, withdraw, approve, return or retire",
            "operationId": "transitionItem",
            "security": [{"bearer": []}],
            "parameters": _id,
            "requestBody": json_body(TransitionRequest),
            "responses": {
                "200": ITEM,
                **problem_responses(400, 401, 403, 404, 409, 422),
            },
        }
    },
    "/items/import": {
        "post": {
            "summary": "Import item records (JSON) or a QTI 2.1/2.2 package or item",
            "description": (
                "All or nothing: any problem in a record the bank takes (a missing key, "
                "bad media or XML, an unknown competency) refuses the whole import (422, "
                "nothing written, every problem listed). One exception for QTI: an item "
                "whose interaction the bank has no type for (hotspot, order, text entry...) "
                "is left out and listed in `refused` (file, identifier and the interaction "
                "named), and the package's other items are imported: the status is still "
                "201 (200 for a dry run), so a client must check that `refused` is empty "
                "to know that every item was taken. A package's tests and other resources "
                "are listed in `skipped`."
            ),
            "operationId": "importItems",
            "security": [{"bearer": []}],
            "parameters": [
                DRY_RUN_PARAMETER,
                {
                    "name": "status",
                    "in": "query",
                    "schema": {"type": "string", "enum": list(services.IMPORT_STATUSES)},
                },
                {"name": "framework", "in": "query", "schema": {"type": "string"}},
                {
                    "name": "competency",
                    "in": "query",
                    "schema": {"type": "string"},
                    "description": "QTI only: the competency of items whose metadata names none",
                },
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"type": "array", "items": model_ref(ItemRecord)}
                    },
                    **file_body(
                        "A .json, .csv, QTI .xml item or .zip content package; its name's "
                        "extension says which."
                    )["content"],
                },
            },
            "responses": {
                "200": model_response(
                    "Dry run: what would be imported", responses.ImportSummaryOut
                ),
                "201": model_response("Imported", responses.ImportSummaryOut),
                **problem_responses(400, 401, 403, 404, 413, 415, 422),
            },
        }
    },
    "/items/export": {
        "get": {
            "summary": "Export the bank (newest version of each item)",
            "operationId": "exportItems",
            "security": [{"bearer": []}],
            "parameters": [
                {
                    "name": "format",
                    "in": "query",
                    "schema": {"type": "string", "enum": ["json", "csv", "qti"]},
                    "description": "qti: a QTI 2.1 content package (zip)",
                },
                {"name": "status", "in": "query", "schema": {"type": "string"}},
                {"name": "framework", "in": "query", "schema": {"type": "string"}},
            ],
            "responses": {
                "200": {
                    "description": "The items as exchange records, CSV or a QTI package",
                    "content": {
                        "application/json": {
                            "schema": {"type": "array", "items": model_ref(ItemRecord)}
                        },
                        "text/csv": {"schema": {"type": "string"}},
                        "application/zip": {"schema": {"type": "string", "format": "binary"}},
                    },
                },
                **problem_responses(401, 403, 404, 422),
            },
        }
    },
    "/blueprints/{code}": {
        "get": {
            "summary": "A blueprint's current rules and its versions",
            "operationId": "getBlueprint",
            "security": [{"bearer": []}],
            "parameters": _code,
            "responses": {
                "200": model_response("The blueprint", responses.BlueprintOut),
                **problem_responses(401, 403, 404),
            },
        }
    },
    "/blueprints/{code}/coverage": {
        "get": {
            "summary": "How well the approved items cover the blueprint",
            "operationId": "getCoverage",
            "security": [{"bearer": []}],
            "parameters": _code,
            "responses": {
                "200": model_response("Coverage per area and sub-area", responses.CoverageOut),
                **problem_responses(401, 403, 404),
            },
        }
    },
}
