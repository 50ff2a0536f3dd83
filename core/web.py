"""Small web helpers shared by every room."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import Flask, current_app, has_request_context, url_for
from werkzeug.routing import IntegerConverter

from core import clock

T = TypeVar("T")

MAX_ID = 2**31 - 1


def valid_id(value: int | None) -> int | None:
    """``value`` if the database can hold it as an id, else ``None``."""
    return value if value is not None and 0 < value <= MAX_ID else None


def digits_up_to(limit: int) -> str:
    """A regular expression for the whole numbers 1 to ``limit`` (leading zeros allowed)."""

    def any_digits(count: int) -> str:
        return rf"\d{{{count}}}" if count else ""

    def one_of(low: int, high: int) -> str:
        return str(low) if low == high else f"[{low}-{high}]"

    digits = str(limit)
    width = len(digits)
    shorter = [rf"[1-9]\d{{0,{width - 2}}}"] if width > 1 else []
    same_width = [  # ``limit``'s first i digits, a smaller digit, then any digits
        digits[:i] + one_of(1 if i == 0 else 0, int(d) - 1) + any_digits(width - i - 1)
        for i, d in enumerate(digits)
        if int(d) > (1 if i == 0 else 0)
    ]
    return "0*(?:" + "|".join([*shorter, *same_width, digits]) + ")"


class IdConverter(IntegerConverter):
    """A database id in a URL: a positive integer the database can hold (else 404).

    The bound is in the pattern, not only in ``to_python``: werkzeug answers 405 when a
    path matched another method's rule before a converter refused it (``PUT /items/0``
    beside ``GET /items/<id>``), and a path no rule's pattern matches is a plain 404.
    """

    regex = digits_up_to(MAX_ID)

    def __init__(self, map: object) -> None:
        super().__init__(map, min=1, max=MAX_ID)  # type: ignore[arg-type]


def memoised(app: Flask, name: str, key: Hashable, build: Callable[[], T], limit: int = 4096) -> T:
    """``build()``'s result kept per process under ``key``, the oldest dropped past ``limit``.

    Only for output that is a pure function of ``key``: the key must hold everything the
    output depends on (a row's state, the day's status), so the caller still reads the
    database and a change shows at once.
    """
    store: OrderedDict[Hashable, Any] = app.extensions.setdefault(f"csm_memo_{name}", OrderedDict())
    found = store.get(key, _MISSING)
    if found is not _MISSING:
        return found  # type: ignore[no-any-return]
    value = build()
    with _MEMO_LOCK:  # threaded servers: insert and evict one at a time
        store[key] = value
        while len(store) > limit:
            store.popitem(last=False)
    return value


_MISSING = object()
_MEMO_LOCK = threading.Lock()


def init_app(app: Flask) -> None:
    """Template filters for times as people read them (see ``core.clock``)."""
    app.jinja_env.filters["moment"] = clock.format_moment
    app.jinja_env.filters["day"] = clock.format_day
    app.jinja_env.filters["window"] = clock.format_window


def link_base(endpoint: str) -> str:
    """The public address of a link page without its token, from PUBLIC_BASE_URL (never the
    request's Host); a command, outside any request, gets the same address."""
    if has_request_context():
        path = url_for(endpoint, token="")
    else:
        with current_app.test_request_context():
            path = url_for(endpoint, token="")
    return str(current_app.config["PUBLIC_BASE_URL"]) + path.rstrip("/")
