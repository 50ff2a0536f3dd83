"""The one source of the current time.

Every deadline, expiry and timestamp is read through :func:`now` so tests can move
time without sleeping. Times are always timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

_source: Callable[[], datetime] | None = None


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    if _source is not None:
        return _source()
    return datetime.now(UTC)


def set_source(source: Callable[[], datetime] | None) -> None:
    """Replace the time source (tests only); ``None`` restores the system clock."""
    global _source
    _source = source


def as_utc(value: datetime) -> datetime:
    """Read a stored time as aware UTC (naive values are taken to be UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
