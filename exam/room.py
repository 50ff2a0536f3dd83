"""Wires the exam room into an app."""

from __future__ import annotations

from flask import Flask

from core.api import openapi_registry
from exam import api, cli


def register(app: Flask) -> None:
    app.register_blueprint(api.api)
    registry = openapi_registry(app)
    registry.add_models(*api.OPENAPI_MODELS)
    registry.add_paths(api.OPENAPI_PATHS)
    cli.register_exam_cli(app)
