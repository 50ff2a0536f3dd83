"""Roles, the one role decorator for views and API, and expiring API bearer tokens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache, wraps
from typing import Any, ParamSpec, Protocol, TypeVar

from flask import Flask, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_login import AnonymousUserMixin, current_user
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer

from core import clock
from core.errors import Problem, wants_problem_json

ROLES: dict[str, str] = {
    "candidate": "Candidate",
    "proctor": "Proctor",
    "item_writer": "Item writer",
    "item_reviewer": "Item reviewer",
    "exam_admin": "Exam administrator",
    "accreditation_reviewer": "Accreditation assessor",
    "accreditation_lead": "Accreditation lead",
    "provider": "Training provider",
    "admin": "Administrator",
}

P = ParamSpec("P")
R = TypeVar("R")


class Actor(Protocol):
    """Whoever a service acts for: every service that needs to know who is acting takes
    one (``accounts.models.User`` is one; a handler gets it from :func:`current_actor`)."""

    id: int
    session_version: int

    def has_role(self, *roles: str) -> bool: ...


def current_actor() -> Actor:
    """The signed-in user of this request, for handlers behind ``roles_required``."""
    actor: Actor = current_user._get_current_object()
    return actor


class Anonymous(AnonymousUserMixin):  # type: ignore[misc]  # flask-login is untyped
    """The visitor with no account: holds no role."""

    id = None
    roles: frozenset[str] = frozenset()

    def has_role(self, *roles: str) -> bool:
        return False


def roles_required(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Require a signed-in user holding at least one of ``roles`` (any user if none given).

    Anonymous: HTML gets a redirect to sign-in, the API a 401 problem.
    Signed in without the role: 403 on both faces.
    """
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            if not current_user.is_authenticated:
                if wants_problem_json():
                    raise Problem(
                        401,
                        "Authentication required",
                        "Send 'Authorization: Bearer <token>' (POST /api/v1/tokens gives one).",
                        headers={"WWW-Authenticate": 'Bearer realm="api"'},
                    )
                sign_in_page = url_for(current_app.login_manager.login_view, next=request.full_path)  # type: ignore[attr-defined]
                return redirect(sign_in_page)  # type: ignore[return-value]
            if roles and not current_user.has_role(*roles):
                raise Problem(
                    403,
                    "Not allowed",
                    "This needs one of these roles: " + ", ".join(ROLES[r] for r in roles) + ".",
                )
            return view(*args, **kwargs)

        guarded.required_roles = roles  # type: ignore[attr-defined]
        return guarded

    return decorate


login_required = roles_required()


class _ClockSigner(TimestampSigner):
    """Signs with the time from ``core.clock`` so token expiry follows the test clock."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


class ClockSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, stamped, aged and given its cookie expiry by
    ``core.clock``, so a session (and the CSRF token kept in it) lives
    ``PERMANENT_SESSION_LIFETIME`` of the app's own time."""

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        serializer = super().get_signing_serializer(app)
        if serializer is not None:
            serializer.signer = _ClockSigner
        return serializer

    def get_expiration_time(self, app: Flask, session: SessionMixin) -> datetime | None:
        if not session.permanent:
            return None
        return clock.now() + app.permanent_session_lifetime


def _token_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt="api-token", signer=_ClockSigner
    )


def issue_api_token(user: Actor) -> tuple[str, datetime]:
    """A bearer token for ``user``; it dies with the user's session version."""
    lifetime = current_app.config["API_TOKEN_LIFETIME_SECONDS"]
    token = _token_serializer().dumps({"u": user.id, "v": user.session_version})
    issued = clock.now().replace(microsecond=0)
    return token, issued + timedelta(seconds=lifetime)


TokenUserLoader = Callable[[int, int], Any]


def register_token_user_loader(app: Flask, loader: TokenUserLoader) -> None:
    """``loader(user_id, session_version)`` returns the active user or ``None``."""
    app.extensions["csm_token_user_loader"] = loader


def _invalid_token(detail: str) -> Problem:
    return Problem(
        401,
        "Invalid token",
        detail,
        slug="invalid-token",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


@dataclass(frozen=True)
class Principal:
    """Who a request claims to be, read from the signed cookie or token without the database.

    Handlers that take one must still check ``session_version`` in their own query.
    """

    user_id: int
    session_version: int
    # The browser's sign-in (cookie sessions only; API tokens have none) and the moment
    # it must have begun after to be still alive (see :func:`sign_in_cutoff`).
    sign_in_id: str | None = None
    signed_in_after: datetime | None = None


def token_principal(token: str) -> Principal:
    lifetime = current_app.config["API_TOKEN_LIFETIME_SECONDS"]
    try:
        principal, issued = _verified_token(current_app.config["SECRET_KEY"], token.strip())
    except BadSignature as exc:
        raise _invalid_token("The token is not genuine.") from exc
    if int(clock.now().timestamp()) - issued > lifetime:
        raise _invalid_token("The token has expired; ask for a new one.")
    return principal


@lru_cache(maxsize=8192)
def _verified_token(secret_key: str, token: str) -> tuple[Principal, int]:
    """The signature check, remembered per worker: a client sends the same token many times.

    Only a genuine token is remembered (an exception is never cached); its age is checked
    on every use by the caller.
    """
    serializer = URLSafeTimedSerializer(secret_key, salt="api-token", signer=_ClockSigner)
    claims, issued = serializer.loads(token, return_timestamp=True)
    if not isinstance(claims, dict) or not {"u", "v"} <= claims.keys():
        raise BadSignature("claims missing")
    return Principal(int(claims["u"]), int(claims["v"])), int(issued.timestamp())


def lightweight_auth(view: Callable[P, R]) -> Callable[P, R]:
    """Mark a hot route that checks its caller in its own query (see :class:`Principal`)."""
    view.lightweight_auth = True  # type: ignore[attr-defined]
    return view


def _is_lightweight() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "lightweight_auth", False))


def sign_in_cutoff() -> datetime:
    """A browser sign-in that began at or before this moment has ended, however busy it
    has been since: ``SESSION_ABSOLUTE_HOURS`` after it began. (The cookie's own lifetime
    slides on every response, so by itself it would never end a session in use.)"""
    return clock.now() - timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])


def current_principal() -> Principal | None:
    """The API caller from its token, or the browser's user from the session cookie."""
    if "principal" in g:
        known: Principal | None = g.principal
        return known
    claimed = session.get("_user_id", "")
    user_id, _, version = str(claimed).partition(".")
    sign_in_id = session.get("sign_in")
    valid = user_id.isdigit() and version.isdigit() and isinstance(sign_in_id, str)
    principal = (
        Principal(int(user_id), int(version), sign_in_id, sign_in_cutoff()) if valid else None
    )
    g.principal = principal
    return principal


def require_principal() -> Principal:
    principal = current_principal()
    if principal is None:
        raise Problem(
            401,
            "Authentication required",
            "Sign in again to continue.",
            headers={"WWW-Authenticate": 'Bearer realm="api"'},
        )
    return principal


def authenticate_api_request() -> None:
    """Set the API request's user from its bearer token; cookies are never used here.

    Flask-Login keeps the request's user in ``g._login_user``; setting it here
    means ``current_user`` is the token's user and a browser's session cookie
    can never authorise an API call (so the API needs no CSRF token). Lightweight
    routes get only the token's principal and check it in their own query.
    """
    header = request.headers.get("Authorization", "")
    g._login_user = Anonymous()
    g.principal = None
    if not header:
        return
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _invalid_token("The Authorization header must be 'Bearer <token>'.")
    principal = token_principal(token)
    g.principal = principal
    if not _is_lightweight():
        load_token_user(principal)


def load_token_user(principal: Principal) -> None:
    """Make the token's account the request's user (a lightweight route whose own check
    did not settle it calls this before a full check); a revoked token is a 401."""
    user = current_app.extensions["csm_token_user_loader"](
        principal.user_id, principal.session_version
    )
    if user is None:
        raise _invalid_token(
            "The token was revoked (password changed, signed out everywhere or account "
            "deactivated); ask for a new one."
        )
    g._login_user = user
