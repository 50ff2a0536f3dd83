"""Extension objects shared by every room; bound to an app in ``core.app``."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from core.auth import current_principal

csrf = CSRFProtect()
login_manager = LoginManager()
# Storage comes from RATELIMIT_STORAGE_URI: memory by default (one count per worker
# process, see ``core.limits``), Redis to share limits between workers and servers.
# The default key, the caller's address, suits only anonymous routes: a test centre
# puts hundreds of candidates behind one address, so signed-in work is keyed below.
limiter = Limiter(key_func=get_remote_address)


@limiter.request_filter
def _lightweight_route() -> bool:
    """Hot routes that check their caller in their own query skip rate-limit bookkeeping,
    unless they carry a limit of their own (the start: one account asking again and again)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "lightweight_auth", False)) and not is_rate_limited(view)


@cache
def is_rate_limited(view: Callable[..., Any]) -> bool:
    """True when ``view`` carries a limit of its own (``limiter.limit``)."""
    name = f"{view.__module__}.{view.__name__}.{view.__qualname__}"
    return bool(limiter.limit_manager.decorated_limits(name))


def per_account() -> str:
    """The limit key of signed-in work: the account, wherever it comes from.

    Decorated limits are checked inside the view's role guard, so the caller is known;
    an anonymous caller (a guard that lets one through) falls back to the address.
    """
    principal = current_principal()
    if principal is None:
        return f"address:{get_remote_address()}"
    return f"account:{principal.user_id}"


def per_attempt() -> str:
    """The limit key of one attempt's traffic (its events): the account and the attempt."""
    attempt_id = (request.view_args or {}).get("attempt_id", "")
    return f"{per_account()}:attempt:{attempt_id}"


def per_email_and_address() -> str:
    """The limit key of a credentials exchange: the email asked about, from this address.

    Hundreds of candidates behind one address each get their own budget; guessing one
    account's password is slowed by the sign-in throttle as well.
    """
    try:
        body = request.get_json(silent=True) if request.is_json else None
    except RecursionError:  # a hostile body: the view answers it with a 400
        body = None
    email = body.get("email") if isinstance(body, dict) else None
    email_part = email.strip().casefold()[:254] if isinstance(email, str) else ""
    return f"address:{get_remote_address()}:email:{email_part}"
