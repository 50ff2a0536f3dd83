"""Small web helpers shared by every room."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1


def valid_id(value: int | None) -> int | None:
    """``value`` if the database can hold it as an id, else ``None``."""
    return value if value is not None and 0 < value <= MAX_ID else None


class IdConverter(IntegerConverter):
    """A database id in a URL: a positive integer the database can hold (else 404)."""

    def __init__(self, map: object) -> None:
        super().__init__(map, min=1, max=MAX_ID)  # type: ignore[arg-type]
