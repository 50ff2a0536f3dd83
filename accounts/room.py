"""Wires the accounts room into an app."""

from __future__ import annotations

from flask import Flask, session

from accounts import api, cli, services, views
from core.api import openapi_registry
from core.auth import register_token_user_loader, sign_in_cutoff
from core.db import get_session
from core.demo import DemoLoader, register_demo_loader
from core.extensions import login_manager
from core.navigation import NavLink, register_link


def _load_session_user(session_id: str) -> object | None:
    user_id, _, version = session_id.partition(".")
    sign_in_id = session.get("sign_in")
    if not (user_id.isdigit() and version.isdigit() and isinstance(sign_in_id, str)):
        return None
    return services.user_for_session(
        get_session(), int(user_id), int(version), sign_in_id, sign_in_cutoff()
    )


def register(app: Flask) -> None:
    app.register_blueprint(views.bp)
    app.register_blueprint(api.api)
    login_manager.user_loader(_load_session_user)
    login_manager.login_view = "accounts.sign_in"
    register_token_user_loader(
        app, lambda uid, ver: services.user_for_session(get_session(), uid, ver)
    )
    registry = openapi_registry(app)
    registry.add_models(*api.OPENAPI_MODELS)
    registry.add_paths(api.OPENAPI_PATHS)
    cli.register_accounts_cli(app)
    register_demo_loader(app, DemoLoader("accounts", 10, cli.load_demo_accounts))
    register_link(
        app,
        NavLink("Users", "accounts.admin_users", ("admin",), "Grant roles, deactivate accounts."),
    )
    register_link(app, NavLink("My account", "accounts.account", ("*",), "Password and sessions."))
