"""Small web helpers shared by every room."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import Flask
from werkzeug.routing import IntegerConverter

from core import clock

T = TypeVar("T")

MAX_ID = 2**31 - 1


def valid_id(value: int | None) -> int | None:
    """``value`` if the database can hold it as an id, else ``None``."""
    return value if value is not None and 0 < value <= MAX_ID else None


class IdConverter(IntegerConverter):
    """A database id in a URL: a positive integer the database can hold (else 404)."""

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
