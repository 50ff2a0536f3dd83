"""The one source of the current time.

Every deadline, expiry and timestamp is read through :func:`now` so tests can move
time without sleeping. Times are always timezone-aware UTC.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

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


DateOrTime = TypeVar("DateOrTime", date, datetime)


def add_months(moment: DateOrTime, months: int) -> DateOrTime:
    """The same day ``months`` later, or the month's last day if it is shorter."""
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def working_days_between(start: datetime, end: datetime) -> float:
    """Monday-to-Friday days elapsed from ``start`` to ``end`` (fractions of a day count)."""
    if end <= start:
        return 0.0
    first_midnight = datetime.combine(start.date() + timedelta(days=1), time(), start.tzinfo)
    if end <= first_midnight:
        return _weekday_share(start, end)
    last_midnight = datetime.combine(end.date(), time(), end.tzinfo)
    whole_days = (last_midnight.date() - first_midnight.date()).days
    weeks, rest = divmod(whole_days, 7)
    weekdays = weeks * 5 + sum(
        1 for offset in range(rest) if (first_midnight.weekday() + offset) % 7 < 5
    )
    return _weekday_share(start, first_midnight) + weekdays + _weekday_share(last_midnight, end)


def _weekday_share(start: datetime, end: datetime) -> float:
    """The part of one day between ``start`` and ``end`` (same day), if it is a weekday."""
    return (end - start).total_seconds() / 86_400 if start.weekday() < 5 else 0.0


def format_moment(value: datetime, seconds: bool = False) -> str:
    """A moment as people read it, with its date and zone: "Tue 1 Dec 2026, 17:54 UTC"."""
    moment = as_utc(value)
    return f"{_day_and_date(moment)}, {_clock_time(moment, seconds)} UTC"


def format_day(value: date, short: bool = False) -> str:
    """A day as people read it: "1 December 2026" (or "1 Dec 2026" in a table)."""
    return f"{value.day} {value:%b %Y}" if short else f"{value.day} {value:%B %Y}"


def format_window(start: datetime, end: datetime) -> str:
    """A span of time that names the day of each end when it crosses midnight:
    "Tue 1 Dec 2026, 17:54 to 19:54 UTC" or "Tue 1 Dec 2026, 17:54 to Wed 2 Dec 2026,
    02:04 UTC"."""
    first, last = as_utc(start), as_utc(end)
    if first.date() == last.date():
        return f"{_day_and_date(first)}, {_clock_time(first)} to {_clock_time(last)} UTC"
    return f"{_day_and_date(first)}, {_clock_time(first)} to {format_moment(last)}"


def _day_and_date(moment: datetime) -> str:
    return f"{moment:%a} {moment.day} {moment:%b %Y}"


def _clock_time(moment: datetime, seconds: bool = False) -> str:
    return moment.strftime("%H:%M:%S" if seconds else "%H:%M")
