"""Configuration from environment variables, with safe defaults for the embedded run."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The limits of an exam's clock, shared by the blueprint rules, accommodations and
# proctors' extensions. A form rendered at the start of the longest possible exam
# must still submit at its end, so sessions outlast it; a CSRF token lives as long as
# the session that holds it (both judged by ``core.clock``, see ``core.auth``).
MAX_TIME_LIMIT_MINUTES = 240
MAX_TIME_FACTOR = 2.0
MAX_TOTAL_EXTENSION_MINUTES = 120
LONGEST_EXAM_SECONDS = int(
    (MAX_TIME_LIMIT_MINUTES * MAX_TIME_FACTOR + MAX_TOTAL_EXTENSION_MINUTES) * 60
)
SESSION_LIFETIME_SECONDS = LONGEST_EXAM_SECONDS + 2 * 3600

API_TOKEN_LIFETIME_SECONDS = 3600


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def instance_secret(
    instance_path: Path,
    name: str = "secret_key",
    make: Callable[[], str] = lambda: secrets.token_urlsafe(48),
) -> str:
    """Read a secret from ``instance/``, generating it with ``make`` on first use
    (mode 0600, never committed)."""
    instance_path.mkdir(parents=True, exist_ok=True)
    path = instance_path / name
    if path.exists():
        return path.read_text().strip()
    value = make()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker made it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


def load_config(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the app's configuration: environment first, then explicit overrides."""
    overrides = dict(overrides or {})
    debug = _env_bool("FLASK_DEBUG", False)
    config: dict[str, Any] = {
        "DATABASE_URL": os.environ.get("DATABASE_URL")
        or f"sqlite:///{instance_path / 'csm-certify.sqlite3'}",
        "SQL_ECHO": _env_bool("SQL_ECHO", False),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _env_bool("RATELIMIT_ENABLED", True),
        "SESSION_COOKIE_SECURE": _env_bool("SESSION_COOKIE_SECURE", not debug),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "csm_session",
        "PERMANENT_SESSION_LIFETIME": max(
            _env_int("SESSION_LIFETIME_SECONDS", SESSION_LIFETIME_SECONDS), SESSION_LIFETIME_SECONDS
        ),
        # The cookie's lifetime above is idle time (it slides on every response); a sign-in
        # ends this long after it began however busy it is, checked against its record.
        "SESSION_ABSOLUTE_HOURS": _env_int("SESSION_ABSOLUTE_HOURS", 12),
        "REMEMBER_COOKIE_DURATION": 0,
        # Flask-WTF would age its tokens by the machine's clock; the session's age is the
        # limit instead, read from core.clock like every other deadline.
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_ENABLED": True,
        "MAX_CONTENT_LENGTH": _env_int("MAX_CONTENT_LENGTH", 16 * 1024 * 1024),
        "API_TOKEN_LIFETIME_SECONDS": API_TOKEN_LIFETIME_SECONDS,
        "PROXY_FIX_X_FOR": _env_int("PROXY_FIX_X_FOR", 0),
        # Argon2id cost; tests lower it through overrides to stay fast.
        "PASSWORD_HASH_TIME_COST": _env_int("PASSWORD_HASH_TIME_COST", 3),
        "PASSWORD_HASH_MEMORY_KIB": _env_int("PASSWORD_HASH_MEMORY_KIB", 65536),
        # Failed password checks in the window: per account from one address, and per
        # account from everywhere (which then refuses only the addresses that took part).
        # Nothing counts per address alone: a test centre puts hundreds behind one.
        "SIGN_IN_MAX_FAILURES_PER_ACCOUNT_ADDRESS": _env_int(
            "SIGN_IN_MAX_FAILURES_PER_ACCOUNT_ADDRESS", 5
        ),
        "SIGN_IN_MAX_FAILURES_PER_ACCOUNT": _env_int("SIGN_IN_MAX_FAILURES_PER_ACCOUNT", 50),
        "SIGN_IN_FAILURE_WINDOW_SECONDS": _env_int("SIGN_IN_FAILURE_WINDOW_SECONDS", 15 * 60),
        # Where the public reaches the app: certificate links, QR codes, signed credentials
        # and emails use it, never the Host header of a request.
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        # An Ed25519 private key (PEM); without it one is generated into instance/.
        "CERT_SIGNING_KEY": os.environ.get("CERT_SIGNING_KEY", ""),
        "CERT_RSA_SIGNING_KEY": os.environ.get("CERT_RSA_SIGNING_KEY", ""),
        # RS256 (the algorithm every Open Badges 3.0 verifier supports) or EdDSA.
        "CERT_JWT_ALGORITHM": os.environ.get("CERT_JWT_ALGORITHM", "RS256"),
        # The published JSON-LD contexts credentials are canonicalised with (see README).
        "JSONLD_CONTEXT_DIR": os.environ.get("JSONLD_CONTEXT_DIR", ""),
        # smtp://user:password@host:port for email; without it mail goes to instance/outbox/.
        "SMTP_URL": os.environ.get("SMTP_URL", ""),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "CSM Certify <no-reply@csm-certify.example>"),
    }
    config.update(overrides)
    if "SECRET_KEY" not in config:
        config["SECRET_KEY"] = os.environ.get("SECRET_KEY") or instance_secret(instance_path)
    return config
