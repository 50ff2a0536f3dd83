"""The OpenAPI document stays in step with the /api/v1 routes."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from core.api import API_PREFIX, api_views

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _api_routes(app: Flask) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API_PREFIX + "/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len(API_PREFIX) :])
        for method in rule.methods - IGNORED_METHODS:
            routes.add((path, method.lower()))
    return routes


def test_every_api_route_is_documented_and_nothing_else(app: Flask, client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    documented = {
        (path, method) for path, operations in document["paths"].items() for method in operations
    }
    assert _api_routes(app) == documented


def test_document_is_openapi_3_1_with_resolvable_refs(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    schemas = document["components"]["schemas"]
    refs = re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', str(document).replace("'", '"'))
    assert refs, "expected schema references"
    assert set(refs) <= set(schemas)
    for operations in document["paths"].values():
        for operation in operations.values():
            assert operation["operationId"] and operation["responses"]


def test_guarded_operations_declare_security_and_every_operation_its_problems(
    app: Flask, client: FlaskClient
) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API_PREFIX + "/"):
            continue
        view = app.view_functions[rule.endpoint]
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len(API_PREFIX) :])
        for method in rule.methods - IGNORED_METHODS:
            operation = document["paths"][path][method.lower()]
            label = f"{method} {path}"
            statuses = set(operation["responses"])
            assert "400" in statuses, label  # a NUL character is refused anywhere
            assert "401" in statuses, label  # so is a bearer token that is not valid
            if hasattr(view, "required_roles"):  # guarded by core.auth.roles_required
                assert operation.get("security") == [{"bearer": []}], label
                assert {"401", "403"} <= statuses, label
            if rule.arguments:
                assert "404" in statuses, label
            if "requestBody" in operation:
                assert {"413", "422"} <= statuses, label
                if "application/json" in operation["requestBody"]["content"]:
                    assert "415" in statuses, label
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and f"<id:{parameter['name']}>" in rule.rule:
                    assert parameter["schema"] == {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 2**31 - 1,
                    }, label
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert "application/problem+json" in response["content"], label
            checked += 1
    assert checked > 30


def test_every_body_is_documented_by_the_model_that_sends_it(
    app: Flask, client: FlaskClient
) -> None:
    """A success body is a model's schema (``core.api.model_response``), or a list of
    them (an export), never a bare object, and one without a body says so."""
    document = client.get("/api/v1/openapi.json").get_json()
    checked = 0
    for path, method in api_views(app):
        for status, response in document["paths"][path][method]["responses"].items():
            if not status.startswith("2"):
                continue
            label = f"{method.upper()} {path} {status}"
            if status == "204":
                assert "content" not in response, label
                continue
            schema = response["content"]["application/json"]["schema"]
            if schema.get("type") == "array":
                schema = schema["items"]
            assert list(schema) == ["$ref"], label
            assert (
                schema["$ref"].removeprefix("#/components/schemas/")
                in (document["components"]["schemas"])
            ), label
            checked += 1
    assert checked > 30
