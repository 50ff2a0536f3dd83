"""Wires the certificates room: pages, and grading's result event."""

from __future__ import annotations

from flask import Flask

from certificates import services, views
from core.events import subscribe
from core.navigation import NavLink, register_link


def register(app: Flask) -> None:
    app.register_blueprint(views.bp)
    subscribe(app, "attempt.result_changed", services.on_result_changed)
    register_link(
        app, NavLink("Verify a certificate", "certificates.lookup", (), "Check a certificate.")
    )
    register_link(
        app,
        NavLink("My certificates", "certificates.mine", ("candidate",), "Share and verify yours."),
    )
