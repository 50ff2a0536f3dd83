"""The base application that ``wsgi.create_app`` builds on: no domain room is known here."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from core import api, db, mail, navigation, security, web  # noqa: F401  (mail: its table)
from core.audit import describe_change
from core.auth import ROLES, Anonymous, ClockSessionInterface
from core.cli import register_core_cli
from core.config import load_config
from core.demo import register_demo_cli
from core.errors import register_error_handlers
from core.extensions import csrf, limiter, login_manager
from core.security import refuse_nul_bytes
from core.web import IdConverter

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_instance_path() -> Path:
    return Path(os.environ.get("CSM_INSTANCE_PATH") or PROJECT_ROOT / "instance")


def build_base_app(config: dict[str, Any] | None = None) -> Flask:
    """A Flask app with configuration, database, security, errors, CSRF, limits and login."""
    instance_path = Path((config or {}).get("INSTANCE_PATH") or default_instance_path())
    app = Flask(
        "csm_certify",
        root_path=str(PROJECT_ROOT),
        instance_path=str(instance_path),
        template_folder="templates",
        static_folder="static",
    )
    app.config.from_mapping(load_config(instance_path, config))
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    if app.config["PROXY_FIX_X_FOR"]:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"], x_proto=1
        )

    app.session_interface = ClockSessionInterface()
    app.url_map.converters["id"] = IdConverter
    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.anonymous_user = Anonymous
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    security.init_app(app)
    app.before_request(refuse_nul_bytes)
    navigation.init_app(app)
    web.init_app(app)
    register_error_handlers(app)
    api.init_app(app)
    register_core_cli(app)
    register_demo_cli(app)
    app.jinja_env.globals["ROLE_LABELS"] = ROLES
    app.jinja_env.filters["role_labels"] = role_labels
    app.jinja_env.filters["audit_change"] = describe_change
    app.add_url_rule("/healthz", "healthz", _healthz)
    return app


def role_labels(roles: Iterable[str]) -> str:
    """Roles as people read them: "Item reviewer, Proctor"."""
    return ", ".join(sorted(ROLES.get(role, role) for role in roles))


def _healthz() -> dict[str, str]:
    from sqlalchemy import text

    db.get_session().execute(text("SELECT 1"))
    return {"status": "ok"}
