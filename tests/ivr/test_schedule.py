"""Business hours: weekly spans in a time zone, holidays, daylight saving."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter_sdk import ValidationError
from callcenter_sdk.ivr import OpeningHours, Schedule

PARIS = ZoneInfo("Europe/Paris")
OFFICE = Schedule(
    timezone="Europe/Paris",
    weekly={"mon": ["08:00-12:00", "14:00-18:00"], "sat": ["09:00-13:00"], "sun": ["00:00-24:00"]},
    holidays=[dt.date(2026, 12, 28)],
)


def paris(year: int, month: int, day: int, hour: int, minute: int) -> float:
    """Seconds since the epoch of a Paris local time."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=PARIS).timestamp()


@pytest.mark.parametrize(
    ("when", "is_open"),
    [
        ((2026, 11, 23, 7, 59), False),  # Monday, before opening
        ((2026, 11, 23, 8, 0), True),
        ((2026, 11, 23, 11, 59), True),
        ((2026, 11, 23, 12, 0), False),  # lunch: the end minute is closed
        ((2026, 11, 23, 14, 30), True),
        ((2026, 11, 24, 10, 0), False),  # Tuesday: no hours at all
        ((2026, 11, 28, 12, 59), True),  # Saturday morning
        ((2026, 11, 29, 23, 59), True),  # Sunday open until midnight
        ((2026, 12, 28, 10, 0), False),  # a Monday, but a holiday
    ],
)
def test_open_follows_local_hours_and_holidays(
    when: tuple[int, int, int, int, int], is_open: bool
) -> None:
    """Spans are [start, end) in local time; a holiday closes the whole day."""
    assert OFFICE.is_open(paris(*when)) is is_open


def test_hours_stay_local_across_daylight_saving() -> None:
    """08:00 Paris is 06:00 UTC in summer and 07:00 UTC in winter: open both times."""
    summer = paris(2026, 6, 29, 8, 0)  # a Monday in CEST (UTC+2)
    winter = paris(2026, 11, 23, 8, 0)  # a Monday in CET (UTC+1)
    assert dt.datetime.fromtimestamp(summer, dt.UTC).hour == 6
    assert dt.datetime.fromtimestamp(winter, dt.UTC).hour == 7
    assert OFFICE.is_open(summer)
    assert OFFICE.is_open(winter)
    assert not OFFICE.is_open(summer - 60)


def test_holiday_is_a_local_date() -> None:
    """Just after midnight Paris on the holiday is 23:xx UTC the day before: still a holiday."""
    first_minute = paris(2026, 12, 28, 0, 1)
    assert dt.datetime.fromtimestamp(first_minute, dt.UTC).day == 27
    assert OFFICE.is_holiday(first_minute)
    assert not OFFICE.is_holiday(paris(2026, 12, 27, 23, 59))


@pytest.mark.parametrize(
    ("weekly", "message"),
    [
        ({"mon": ["18:00-08:00"]}, "start < end"),
        ({"mon": ["08:00-12:00", "11:00-13:00"]}, "overlap"),
        ({"monday": ["08:00-12:00"]}, "a weekday is one of"),
        ({"mon": ["8h-12h"]}, "look like"),
        ({"mon": ["08:61-12:00"]}, "minutes are 00..59"),
    ],
)
def test_bad_hours_are_refused(weekly: dict[str, list[str]], message: str) -> None:
    """Reversed, overlapping, misnamed or malformed spans are ValidationErrors."""
    with pytest.raises(ValidationError, match=message):
        Schedule(weekly=weekly)


def test_unknown_zone_is_refused() -> None:
    """A time zone zoneinfo does not know is a ValidationError."""
    with pytest.raises(ValidationError, match="unknown time zone"):
        Schedule(timezone="Nowhere/Special")


@given(st.integers(0, 24 * 60 - 1), st.integers(1, 24 * 60))
def test_a_span_contains_exactly_its_minutes(start: int, length: int) -> None:
    """For any span, a minute is open iff start <= minute < end (property, in UTC)."""
    end = min(start + length, 24 * 60)
    span = OpeningHours(start, end)
    schedule = Schedule(weekly={"thu": [str(span)]})
    thursday = dt.datetime(2026, 11, 26, tzinfo=dt.UTC).timestamp()
    for minute in {0, start - 1, start, end - 1, end, 24 * 60 - 1} - {-1, 24 * 60}:
        assert schedule.is_open(thursday + minute * 60) is (start <= minute < end)
