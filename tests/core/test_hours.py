"""Business-hour arithmetic in the desk's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from omnidesk.services.hours import BusinessHours

HOURS = BusinessHours()


@pytest.mark.parametrize(
    ("utc", "is_open"),
    [
        pytest.param(datetime(2026, 11, 25, 1, 0, tzinfo=UTC), True, id="wed-09:00-beijing"),
        pytest.param(datetime(2026, 11, 25, 0, 59, tzinfo=UTC), False, id="wed-08:59-beijing"),
        pytest.param(datetime(2026, 11, 25, 10, 0, tzinfo=UTC), False, id="wed-18:00-beijing"),
        pytest.param(datetime(2026, 11, 28, 3, 0, tzinfo=UTC), False, id="saturday-noon"),
    ],
)
def test_open_hours_are_judged_in_beijing_time(utc, is_open):
    assert HOURS.is_open(utc) is is_open


def test_after_closing_the_next_opening_is_the_next_workday_at_nine():
    friday_night = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # 23:00 Friday in Beijing
    opening = HOURS.next_opening(friday_night)
    assert opening.astimezone(UTC) == datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


def test_when_open_the_next_opening_is_now():
    now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    assert HOURS.next_opening(now) == now
