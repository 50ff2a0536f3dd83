"""Wires the certificates room: pages, and grading's result event."""

from __future__ import annotations

import os

from flask import Flask

from certificates import (
    api,
    cli,
    credential_routes,
    holdings,
    issuing,
    renewal_views,
    schemas,
    views,
)
from certificates.models import STAFF_ROLES
from core.api import openapi_registry
from core.events import subscribe
from core.navigation import NavLink, register_link
from exam.responses import register_certificate_finder
from exam.services.ladder import register_credential_lookup


def register(app: Flask) -> None:
    if not (app.debug or app.testing) and "PUBLIC_BASE_URL" not in os.environ:
        # Every credential signed from now on carries this address for ever.
        app.logger.warning(
            "PUBLIC_BASE_URL is not set: certificate links, QR codes and signed credentials "
            "will point at %s",
            app.config["PUBLIC_BASE_URL"],
        )
    app.register_blueprint(views.bp)
    app.register_blueprint(credential_routes.bp)
    app.register_blueprint(renewal_views.bp)
    cli.register(app)
    app.register_blueprint(api.api)
    app.register_blueprint(api.links)
    registry = openapi_registry(app)
    registry.add_models(*api.OPENAPI_MODELS, *schemas.OPENAPI_MODELS)
    registry.add_paths(api.OPENAPI_PATHS)
    subscribe(app, "attempt.result_changed", issuing.on_result_changed)
    register_certificate_finder(app, api.attempt_certificate)
    register_credential_lookup(app, holdings.held_credentials)
    register_link(
        app, NavLink("Verify a certificate", "certificates.lookup", (), "Check a certificate.")
    )
    register_link(
        app,
        NavLink("My certificates", "certificates.mine", ("candidate",), "Share and verify yours."),
    )
    register_link(
        app,
        NavLink(
            "Certificates",
            "certificates.staff_list",
            STAFF_ROLES,
            "Find, revoke, suspend or reinstate certificates; review renewal credits.",
        ),
    )
