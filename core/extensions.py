"""Extension objects shared by every room; bound to an app in ``core.app``."""

from __future__ import annotations

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
login_manager = LoginManager()
# Storage comes from RATELIMIT_STORAGE_URI: memory by default, Redis to share
# limits between app servers.
limiter = Limiter(key_func=get_remote_address)


@limiter.request_filter
def _lightweight_route() -> bool:
    """Hot routes that check their caller in their own query skip rate-limit bookkeeping."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "lightweight_auth", False))
