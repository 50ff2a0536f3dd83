"""Wires the accreditation room: pages, API, commands and navigation."""

from __future__ import annotations

from flask import Flask

from accreditation import (
    api,
    application_pages,  # noqa: F401  (its routes join views.bp)
    cli,
    demo,
    step_pages,  # noqa: F401  (its routes join views.bp)
    views,
)
from accreditation.models import PROVIDER_ROLE, STAFF_ROLES
from core.api import openapi_registry
from core.demo import DemoLoader, register_demo_loader
from core.navigation import NavLink, register_link


def register(app: Flask) -> None:
    app.register_blueprint(views.bp)
    app.register_blueprint(api.api)
    registry = openapi_registry(app)
    registry.add_models(*api.OPENAPI_MODELS)
    registry.add_paths(api.OPENAPI_PATHS)
    cli.register(app)
    register_demo_loader(app, DemoLoader("accreditation", 40, demo.load_demo_accreditation))
    register_link(
        app,
        NavLink("Accredited training", "accreditation.register", (), "The public register."),
    )
    register_link(
        app,
        NavLink(
            "Accreditation", "accreditation.provider_home", (PROVIDER_ROLE,), "Your programmes."
        ),
    )
    register_link(
        app,
        NavLink(
            "Accreditation queue",
            "accreditation.staff_queue",
            STAFF_ROLES,
            "Screen, assess and decide applications.",
        ),
    )
