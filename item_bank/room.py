"""Wires the item bank room into an app."""

from __future__ import annotations

from flask import Flask

import item_bank.stimulus_views  # noqa: F401  (its routes join views.bp)
from core.api import openapi_registry
from core.demo import DemoLoader, register_demo_loader
from core.navigation import NavLink, register_link
from item_bank import api, cli, media_api, media_demo, stimulus_api, stimulus_responses, views
from item_bank.rendering import render_inline, render_markdown, render_summary
from item_bank.schemas import StimulusContent
from item_bank.services import STAFF_ROLES


def register(app: Flask) -> None:
    app.register_blueprint(views.bp)
    app.register_blueprint(api.api)
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["markdown_inline"] = render_inline
    app.jinja_env.filters["markdown_summary"] = render_summary
    registry = openapi_registry(app)
    registry.add_models(*api.OPENAPI_MODELS, *media_api.OPENAPI_MODELS)
    registry.add_paths({**api.OPENAPI_PATHS, **media_api.OPENAPI_PATHS})
    registry.add_models(StimulusContent, *stimulus_responses.OPENAPI_MODELS)
    registry.add_paths(stimulus_api.OPENAPI_PATHS)
    cli.register_item_bank_cli(app)
    register_demo_loader(app, DemoLoader("item_bank", 20, cli.load_demo_item_bank))
    register_demo_loader(app, DemoLoader("item_media", 21, media_demo.load_demo_media_item))
    register_demo_loader(app, DemoLoader("item_ladder", 22, cli.load_demo_ladder))
    register_link(
        app, NavLink("Standard", "item_bank.framework_page", (), "The competencies examined.")
    )
    register_link(
        app,
        NavLink(
            "Item bank", "item_bank.item_list", STAFF_ROLES, "Write, review and version items."
        ),
    )
    register_link(
        app,
        NavLink(
            "Review queue",
            "item_bank.review_queue",
            ("item_reviewer",),
            "Items waiting for your review.",
        ),
    )
    register_link(
        app,
        NavLink(
            "Coverage",
            "item_bank.coverage_page",
            ("exam_admin",),
            "Can the bank feed the blueprint?",
        ),
    )
