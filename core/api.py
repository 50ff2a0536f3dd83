"""The JSON API under ``/api/v1``: blueprints, body parsing and the OpenAPI document."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Annotated, Any, Self, TypeVar

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from pydantic import BaseModel, ConfigDict, PlainSerializer, ValidationError
from pydantic_core import ErrorDetails

from core.auth import authenticate_api_request
from core.errors import FieldError, Problem
from core.extensions import csrf, is_rate_limited
from core.web import MAX_ID

API_PREFIX = "/api/v1"

ModelT = TypeVar("ModelT", bound=BaseModel)


class ApiModel(BaseModel):
    """Base of every request body: unknown fields are an error, never silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ResponseModel(BaseModel):
    """Base of every JSON response body. A handler builds one and sends it with
    :func:`respond`; the OpenAPI document shows the same model (:func:`model_response`), so
    what is sent and what is documented are one definition and cannot drift apart.

    A field left unset is left out of the body: that is how a body's optional parts (an
    application's content, say, for those who may read it) are sent only when present.
    """

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def of(cls, source: object, **given: Any) -> Self:
        """This body with each field read from ``source`` (its attribute, or for a mapping
        its key, of the same name), except the fields ``given``."""

        def read(name: str) -> Any:
            return source[name] if isinstance(source, Mapping) else getattr(source, name)

        fields = {name: read(name) for name in cls.model_fields if name not in given}
        return cls.model_validate({**fields, **given}, from_attributes=True)


# Times and days as the bodies have always spelt them: ``isoformat()``, offset included.
Moment = Annotated[datetime, PlainSerializer(datetime.isoformat, return_type=str)]
Day = Annotated[date, PlainSerializer(date.isoformat, return_type=str)]


def respond(body: ResponseModel, status: int = 200) -> Response:
    """``body`` as the JSON response (only the fields it was given)."""
    response = jsonify(body.model_dump(mode="json", exclude_unset=True))
    response.status_code = status
    return response


def respond_stored(body: str, status: int = 200) -> Response:
    """A JSON body already serialised (each part from a response model's dump)."""
    return Response(body, status=status, mimetype="application/json")


def make_api_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint under ``/api/v1`` authenticated by bearer token only (so no CSRF)."""
    blueprint = Blueprint(name, import_name, url_prefix=API_PREFIX)
    blueprint.before_request(authenticate_api_request)
    csrf.exempt(blueprint)
    return blueprint


def _field_name(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location) or "body"


def _message(error: ErrorDetails) -> str:
    if error["type"] == "extra_forbidden":
        return "Unknown field."
    if error["type"] == "missing":
        return "This field is required."
    return str(error["msg"])


def field_errors(exc: ValidationError) -> list[FieldError]:
    """Pydantic's errors as the field errors every 422 carries."""
    return [FieldError(_field_name(error["loc"]), _message(error)) for error in exc.errors()]


def dry_run_requested() -> bool:
    """The ``dry_run`` query flag: 1 checks and reports what would happen, keeping nothing."""
    value = request.args.get("dry_run", "0")
    if value not in ("0", "1", "true", "false"):
        raise Problem(
            422,
            "Invalid dry_run",
            "dry_run is 1 (report only, change nothing) or 0.",
            errors=[FieldError("dry_run", "Use 1 or 0.")],
        )
    return value in ("1", "true")


DRY_RUN_PARAMETER = {
    "name": "dry_run",
    "in": "query",
    "description": "1: report what would happen and change nothing.",
    "schema": {"type": "string", "enum": ["0", "1"]},
}


def parse_json(model: type[ModelT]) -> ModelT:
    """Validate the request's JSON body against ``model`` or raise a 4xx problem."""
    if request.mimetype != "application/json":
        raise Problem(
            415,
            "Unsupported content type",
            f"Send the body as application/json (got {request.mimetype or 'nothing'}).",
        )
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        body = None
    if body is None:
        raise Problem(400, "Malformed JSON", "The request body is not valid JSON.")
    if not isinstance(body, dict):
        raise Problem(400, "Malformed JSON", "The request body must be a JSON object.")
    return validated(model, body)


def validated(model: type[ModelT], data: Mapping[str, object]) -> ModelT:
    """``data`` (a JSON body, or a page's form fields) checked by ``model``: a 422 naming
    the fields, the same on both faces."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        errors = field_errors(exc)
        raise Problem(
            422,
            "Validation failed",
            "Some fields are missing or not valid: " + ", ".join(e.field for e in errors) + ".",
            errors=errors,
            slug="validation",
        ) from exc


# ---- OpenAPI -------------------------------------------------------------------

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


def problem_responses(*statuses: int) -> dict[str, Any]:
    """OpenAPI ``responses`` entries for the problem statuses an operation can return."""
    return {
        str(status): {
            "description": "Problem",
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
        for status in statuses
    }


def model_ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": model_ref(model)}}}


def file_body(description: str) -> dict[str, Any]:
    """A request body of one uploaded file, multipart/form-data field ``file``."""
    schema = {
        "type": "object",
        "required": ["file"],
        "properties": {"file": {"type": "string", "format": "binary", "description": description}},
    }
    return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}


def json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def model_response(description: str, model: type[BaseModel]) -> dict[str, Any]:
    """A response whose body is ``model`` (list it in the room's ``OPENAPI_MODELS``)."""
    return json_response(description, model_ref(model))


NO_CONTENT: dict[str, Any] = {"description": "Done; no body"}


class ApiInfo(ResponseModel):
    title: str
    version: str
    description: str


class ApiServer(ResponseModel):
    url: str


class OpenAPIDocument(ResponseModel):
    """This document's outline; its paths and components are OpenAPI 3.1 objects."""

    openapi: str
    info: ApiInfo
    servers: list[ApiServer]
    paths: dict[str, dict[str, Any]]
    components: dict[str, Any]


class OpenAPIRegistry:
    """Paths and schemas that each room's API registers when the app is wired."""

    def __init__(self) -> None:
        self.paths: dict[str, dict[str, Any]] = {}
        self.schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
        self.add_models(OpenAPIDocument)

    def add_paths(self, paths: dict[str, dict[str, Any]]) -> None:
        for path, operations in paths.items():
            self.paths.setdefault(path, {}).update(operations)

    def add_models(self, *models: type[BaseModel]) -> None:
        for model in models:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, definition in schema.pop("$defs", {}).items():
                self.schemas[name] = definition
            self.schemas[model.__name__] = schema

    def document(self, app: Flask | None = None) -> OpenAPIDocument:
        """The document; with ``app``, each operation completed from its route and view."""
        paths = self.paths if app is None else completed_paths(app, self.paths)
        return OpenAPIDocument(
            openapi="3.1.0",
            info=ApiInfo(
                title="CSM Certify API",
                version="1",
                description="Item bank, exams, certificates and accreditation for the "
                "CSM Competency Standard. Errors are application/problem+json (RFC 9457).",
            ),
            servers=[ApiServer(url=API_PREFIX)],
            paths=dict(sorted(paths.items())),
            components={
                "schemas": self.schemas,
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            },
        )


# ---- what the code says about each operation ------------------------------------

_RULE_ARGUMENT = re.compile(r"<(?:([^:<>]+):)?([^<>]+)>")
ID_SCHEMA: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]


def openapi_path(rule: str) -> str:
    """A Flask rule under /api/v1 as an OpenAPI path (``<id:item_id>`` → ``{item_id}``)."""
    return _RULE_ARGUMENT.sub(r"{\2}", rule[len(API_PREFIX) :])


def api_views(app: Flask) -> dict[tuple[str, str], tuple[Callable[..., Any], dict[str, str]]]:
    """(OpenAPI path, method) → the view function and its path arguments' converters."""
    views = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API_PREFIX + "/"):
            continue
        converters = {name: kind or "default" for kind, name in _RULE_ARGUMENT.findall(rule.rule)}
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            views[(openapi_path(rule.rule), method.lower())] = (
                app.view_functions[rule.endpoint],
                converters,
            )
    return views


def is_guarded(view: Callable[..., Any]) -> bool:
    """True when ``core.auth.roles_required`` guards ``view`` (so it needs a bearer token)."""
    return hasattr(view, "required_roles")


def problem_statuses(
    operation: Mapping[str, Any], view: Callable[..., Any], has_path_arguments: bool
) -> set[int]:
    """The problem statuses every operation of this shape can answer with."""
    statuses = {400, 401}  # a NUL character anywhere; a bearer token sent but not valid
    if is_guarded(view):
        statuses.add(403)
    if has_path_arguments:
        statuses.add(404)
    body = operation.get("requestBody")
    if body:
        statuses |= {413, 422}
        if "application/json" in body.get("content", {}):
            statuses.add(415)
    if any(p.get("in") == "query" for p in operation.get("parameters", [])):
        statuses.add(422)
    if is_rate_limited(view):
        statuses.add(429)
    return statuses


def completed_operation(
    operation: dict[str, Any], view: Callable[..., Any], converters: Mapping[str, str]
) -> dict[str, Any]:
    """``operation`` with what its view and route decide: security, the common problem
    statuses, and path ids as the integers the ``id`` converter accepts."""
    done = dict(operation)
    if is_guarded(view):
        done["security"] = SECURITY
    statuses = problem_statuses(operation, view, bool(converters))
    done["responses"] = {
        **operation["responses"],
        **{
            code: response
            for code, response in problem_responses(*sorted(statuses)).items()
            if code not in operation["responses"]
        },
    }
    done["responses"] = dict(sorted(done["responses"].items()))
    if "parameters" in operation:
        done["parameters"] = [
            {**p, "schema": ID_SCHEMA}
            if p.get("in") == "path" and converters.get(p["name"]) == "id"
            else p
            for p in operation["parameters"]
        ]
    return done


def completed_paths(app: Flask, paths: Mapping[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    views = api_views(app)
    completed: dict[str, dict[str, Any]] = {}
    for path, operations in paths.items():
        for method, operation in operations.items():
            found = views.get((path, method))
            completed.setdefault(path, {})[method] = (
                operation if found is None else completed_operation(operation, *found)
            )
    return completed


def openapi_registry(app: Flask | None = None) -> OpenAPIRegistry:
    registry: OpenAPIRegistry = (app or current_app).extensions["csm_openapi"]
    return registry


core_api = make_api_blueprint("core_api", __name__)


@core_api.get("/openapi.json")
def openapi_document() -> Any:
    return respond(openapi_registry().document(current_app))


CORE_PATHS = {
    "/openapi.json": {
        "get": {
            "summary": "This OpenAPI 3.1 document",
            "operationId": "getOpenApi",
            "responses": {"200": model_response("The document", OpenAPIDocument)},
        }
    }
}


def init_app(app: Flask) -> None:
    registry = OpenAPIRegistry()
    registry.add_paths(CORE_PATHS)
    app.extensions["csm_openapi"] = registry
    app.register_blueprint(core_api)
