"""Working days, counted the slow obvious way and the fast way, agree."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from core.clock import (
    add_months,
    format_day,
    format_moment,
    format_window,
    working_days_between,
)

ROOT = Path(__file__).resolve().parents[2]


def _slow(start: datetime, end: datetime) -> float:
    total, cursor = 0.0, start
    while cursor < end:
        step = min(
            end, datetime.combine(cursor.date() + timedelta(days=1), datetime.min.time(), UTC)
        )
        if cursor.weekday() < 5:
            total += (step - cursor).total_seconds() / 86_400
        cursor = step
    return total


moments = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)


@given(moments, st.integers(min_value=0, max_value=2_000 * 86_400))
def test_working_days_match_a_day_by_day_count(start: datetime, seconds: int) -> None:
    end = start + timedelta(seconds=seconds)
    assert abs(working_days_between(start, end) - _slow(start, end)) < 1e-9


def test_a_monday_to_the_next_monday_is_five_working_days() -> None:
    monday = datetime(2026, 11, 23, 9, tzinfo=UTC)
    assert working_days_between(monday, monday + timedelta(days=7)) == 5
    saturday, next_monday = monday + timedelta(days=5), monday + timedelta(days=7)
    assert working_days_between(saturday, next_monday.replace(hour=0)) == 0
    assert working_days_between(saturday, next_monday) == 0.375  # Monday, midnight to nine
    assert add_months(datetime(2026, 1, 31, tzinfo=UTC), 1).day == 28


APP_PACKAGES = ("core", "accounts", "item_bank", "exam", "certificates", "accreditation")
WALL_CLOCK_READS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
}


def _wall_clock_reads(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and (node.func.value.id, node.func.attr) in WALL_CLOCK_READS
    ]


def test_the_app_reads_the_time_only_through_core_clock() -> None:
    """Tests move time through core.clock; a read of the machine's clock anywhere else
    would judge a deadline by a different time than the one the test set."""
    sources = [path for package in APP_PACKAGES for path in (ROOT / package).rglob("*.py")]
    sources.append(ROOT / "wsgi.py")
    offenders = [
        place
        for path in sources
        if path != ROOT / "core" / "clock.py"
        for place in _wall_clock_reads(path)
    ]
    assert offenders == []


def test_times_shown_to_people_carry_their_date_and_zone() -> None:
    evening = datetime(2026, 12, 1, 17, 54, tzinfo=UTC)
    assert format_moment(evening) == "Tue 1 Dec 2026, 17:54 UTC"
    assert format_window(evening, evening + timedelta(hours=2)) == (
        "Tue 1 Dec 2026, 17:54 to 19:54 UTC"
    )
    # A window that crosses midnight names the day of each end.
    assert format_window(evening, evening + timedelta(hours=8, minutes=10)) == (
        "Tue 1 Dec 2026, 17:54 to Wed 2 Dec 2026, 02:04 UTC"
    )
    assert format_day(evening.date()) == "1 December 2026"
    assert format_day(evening.date(), short=True) == "1 Dec 2026"
