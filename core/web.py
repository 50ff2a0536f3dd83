"""Small web helpers shared by every room."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """A database id in a URL: a positive integer the database can hold (else 404)."""

    def __init__(self, map: object) -> None:
        super().__init__(map, min=1, max=MAX_ID)  # type: ignore[arg-type]
