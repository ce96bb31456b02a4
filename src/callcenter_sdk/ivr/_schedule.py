"""Business hours: a weekly schedule with holidays, in a time zone.

The IVR asks "is the office open at this instant?" with the time of the
injected :class:`~callcenter_sdk.Clock` (seconds since the epoch), so tests
move a :class:`~callcenter_sdk.ManualClock` across a Friday evening or a
public holiday instead of waiting for one. Opening hours are local times in
the schedule's zone (``zoneinfo``), so daylight-saving changes need no care.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from .._errors import ValidationError

__all__ = ["DAYS", "OpeningHours", "Schedule"]

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""The day keys of a weekly schedule, Monday first (``datetime.weekday()`` order)."""

_SPAN = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_DAY_MINUTES = 24 * 60


@attrs.frozen(order=True)
class OpeningHours:
    """One opening span of a day, in minutes after local midnight.

    Attributes:
        start: First open minute (``8 * 60`` for 08:00).
        end: First closed minute (``24 * 60`` allowed: open until midnight).
    """

    start: int
    end: int

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.start < self.end <= _DAY_MINUTES:
            raise ValidationError(f"opening hours need 00:00 <= start < end <= 24:00: {self}")

    @classmethod
    def parse(cls, text: str) -> OpeningHours:
        """Read ``"08:00-12:30"``."""
        match = _SPAN.match(text.strip())
        if match is None:
            raise ValidationError(f'opening hours look like "08:00-12:30", got {text!r}')
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if m1 >= 60 or m2 >= 60:
            raise ValidationError(f"minutes are 00..59 in {text!r}")
        return cls(h1 * 60 + m1, h2 * 60 + m2)

    def __str__(self) -> str:
        return (
            f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"
        )


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"unknown time zone {name!r}") from exc
    return name


def _weekly(
    value: Mapping[str, Iterable[OpeningHours | str]],
) -> Mapping[str, tuple[OpeningHours, ...]]:
    out: dict[str, tuple[OpeningHours, ...]] = {}
    for day, spans in value.items():
        if day not in DAYS:
            raise ValidationError(f"a weekday is one of {', '.join(DAYS)}, got {day!r}")
        hours = sorted(s if isinstance(s, OpeningHours) else OpeningHours.parse(s) for s in spans)
        for before, after in itertools.pairwise(hours):
            if after.start < before.end:
                raise ValidationError(f"{day}: opening hours {before} and {after} overlap")
        out[day] = tuple(hours)
    return MappingProxyType(out)


def _dates(value: Iterable[dt.date]) -> frozenset[dt.date]:
    return frozenset(value)


@attrs.frozen(kw_only=True)
class Schedule:
    """When a service is open: weekly hours in a time zone, minus holidays.

    Attributes:
        timezone: An IANA zone name (``"Europe/Paris"``); hours are local to it.
        weekly: Opening hours per day key (``"mon"`` .. ``"sun"``); a missing day is closed.
        holidays: Local dates on which the service is closed all day.
    """

    timezone: str = attrs.field(default="UTC", converter=_zone)
    weekly: Mapping[str, tuple[OpeningHours, ...]] = attrs.field(factory=dict, converter=_weekly)
    holidays: frozenset[dt.date] = attrs.field(factory=frozenset, converter=_dates)

    def local(self, at: float) -> dt.datetime:
        """The local date and time at ``at`` seconds since the epoch."""
        return dt.datetime.fromtimestamp(at, ZoneInfo(self.timezone))

    def is_holiday(self, at: float) -> bool:
        """Whether ``at`` falls on one of the holidays (local date)."""
        return self.local(at).date() in self.holidays

    def is_open(self, at: float) -> bool:
        """Whether the service is open at ``at`` seconds since the epoch."""
        local = self.local(at)
        if local.date() in self.holidays:
            return False
        minute = local.hour * 60 + local.minute
        spans = self.weekly.get(DAYS[local.weekday()], ())
        return any(span.start <= minute < span.end for span in spans)
