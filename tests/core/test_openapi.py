"""The OpenAPI document stays in step with the /api/v1 routes."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from core.api import API_PREFIX

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
