"""Working days, counted the slow obvious way and the fast way, agree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from core.clock import add_months, working_days_between


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
