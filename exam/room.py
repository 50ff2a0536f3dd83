"""Wires the exam room into an app."""

from __future__ import annotations

from flask import Flask

from core.api import openapi_registry
from core.demo import DemoLoader, register_demo_loader
from core.duties import register_bank_lock
from core.navigation import NavLink, register_link
from exam import api, cli, views
from exam.psychometrics import api as psychometrics_api
from exam.psychometrics import schemas as psychometrics_schemas
from exam.psychometrics.cli import register_psychometrics_cli
from exam.services.duties import open_exam_reason
from exam.services.proctoring import event_detail


def register(app: Flask) -> None:
    app.register_blueprint(views.bp)
    app.jinja_env.filters["event_detail"] = event_detail
    app.register_blueprint(api.api)
    registry = openapi_registry(app)
    registry.add_models(*api.OPENAPI_MODELS)
    registry.add_paths(api.OPENAPI_PATHS)
    app.register_blueprint(psychometrics_api.api)
    registry.add_paths(psychometrics_api.OPENAPI_PATHS)
    registry.add_models(*psychometrics_schemas.OPENAPI_MODELS)
    cli.register_exam_cli(app)
    register_psychometrics_cli(app)
    register_bank_lock(app, open_exam_reason)
    register_demo_loader(app, DemoLoader("exam", 30, cli.load_demo_sitting))
    register_link(
        app, NavLink("My exams", "exam.my_exams", ("candidate",), "Book, check in, take your exam.")
    )
    register_link(
        app,
        NavLink(
            "About you",
            "exam.about_you",
            ("candidate",),
            "Optional: help the association check its questions are fair.",
        ),
    )
    register_link(
        app,
        NavLink(
            "Proctoring", "exam.proctor_home", ("proctor",), "Admit candidates, watch the room."
        ),
    )
    register_link(
        app,
        NavLink(
            "Sittings",
            "exam.staff_sittings",
            ("exam_admin",),
            "Schedule sittings, decide extra time.",
        ),
    )
