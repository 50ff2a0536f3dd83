"""Where rate limits are counted, and a warning when that place is one worker's memory.

Flask-Limiter's default ``memory://`` storage keeps one count per process: under gunicorn
with N workers a limit of "10 a minute" lets up to N x 10 through. Any server with more
than one worker (or more than one server) needs a shared storage in
``RATELIMIT_STORAGE_URI`` (``redis://host:port``). gunicorn runs
:func:`warn_if_limits_unshared` at start through ``gunicorn.conf.py``.
"""

from __future__ import annotations

import os
from typing import Any

IN_MEMORY = ("memory://",)


def storage_uri(environ: os._Environ[str] | dict[str, str] | None = None) -> str:
    """The limit storage the app will use, read as ``core.config`` reads it."""
    return (environ if environ is not None else os.environ).get(
        "RATELIMIT_STORAGE_URI", "memory://"
    )


def unshared_limits_warning(workers: int, uri: str) -> str | None:
    """The warning to log when ``workers`` processes would each count limits alone."""
    if workers <= 1 or not uri.startswith(IN_MEMORY):
        return None
    return (
        f"Rate limits are counted in each worker's memory (RATELIMIT_STORAGE_URI={uri}) "
        f"but {workers} workers serve the app: each limit lets up to {workers} times its "
        "number through. Set RATELIMIT_STORAGE_URI to a shared storage such as "
        "redis://127.0.0.1:6379."
    )


def warn_if_limits_unshared(server: Any) -> None:
    """gunicorn's ``on_starting`` hook: its arbiter knows the real worker count (from
    ``-w``, ``WEB_CONCURRENCY`` or a config file)."""
    message = unshared_limits_warning(int(server.cfg.workers), storage_uri())
    if message:
        server.log.warning(message)
