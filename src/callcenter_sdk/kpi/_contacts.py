"""KPIs of contact records: service level, abandonment, waits, handle times, FCR.

Every function takes an iterable of :class:`ContactRecord` and returns a
float, or ``None`` when its denominator is zero (no contact offered, none
answered): "no data" is not 0 % and not 100 %, and a wallboard should show it
as such.

Which records count:

* **offered** (inbound queue KPIs): inbound records that entered the queue and
  left it -- outcomes ``ANSWERED``, ``ABANDONED``, ``OVERFLOWED`` and
  ``TIMED_OUT``. ``REJECTED`` contacts never queued; ``WAITING`` ones have not
  finished (see :func:`current_longest_wait`). Outbound records never count.
* **answered within T**: an ``ANSWERED`` offered record with ``wait <= T``
  (Asterisk's ``holdtime <= servicelevel``); **abandoned within T** likewise.
* **short abandon**: an ``ABANDONED`` record with ``wait < short_abandon_s``
  (a caller who hangs up within a few seconds is not a lost call).
* **handled** (handle-time KPIs): every ``ANSWERED`` record, either direction.

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
import math
from collections import defaultdict
from collections.abc import Iterable

from .._errors import ValidationError
from ._records import ContactRecord, Direction, Outcome, member

__all__ = [
    "ServiceLevelVariant",
    "abandon_rate",
    "aht",
    "asa",
    "average_hold",
    "average_talk",
    "average_wait",
    "average_wrap",
    "current_longest_wait",
    "first_contact_resolution",
    "longest_wait",
    "offered",
    "resolution_rate",
    "service_level",
]

OFFERED_OUTCOMES = frozenset(
    {Outcome.ANSWERED, Outcome.ABANDONED, Outcome.OVERFLOWED, Outcome.TIMED_OUT}
)


class ServiceLevelVariant(enum.StrEnum):
    """The named ways of computing a service level (``AW`` = answered within T).

    * ``OFFERED``: ``AW / offered`` -- the default, and what Erlang C/A predict.
    * ``OFFERED_EXCLUDING_SHORT_ABANDONS``: ``AW / (offered - short abandons)``.
    * ``ANSWERED``: ``AW / answered`` (Asterisk's ``SL``).
    * ``ABANDONS_MET``: ``(AW + abandoned within T) / offered`` (Asterisk's ``SL2``):
      a caller who gave up within T is counted as served in time.
    * ``ABANDONS_EXCLUDED``: ``AW / (offered - abandoned within T)``: callers who
      gave up within T are left out altogether.
    """

    OFFERED = "offered"
    OFFERED_EXCLUDING_SHORT_ABANDONS = "offered_excluding_short_abandons"
    ANSWERED = "answered"
    ABANDONS_MET = "abandons_met"
    ABANDONS_EXCLUDED = "abandons_excluded"


def offered(records: Iterable[ContactRecord]) -> list[ContactRecord]:
    """Return the records that count as offered to a queue (see the module docs)."""
    return [
        r for r in records if r.direction is Direction.INBOUND and r.outcome in OFFERED_OUTCOMES
    ]


def _wait(record: ContactRecord) -> float:
    wait = record.wait_s
    if wait is None:  # pragma: no cover - offered records always have ended or been answered
        raise ValidationError(f"contact {record.contact_id!r} has no wait yet")
    return wait


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def _check_threshold(name: str, value: float) -> None:
    if not math.isfinite(value) or value < 0:
        raise ValidationError(f"{name} must be a finite number of seconds >= 0, got {value!r}")


def service_level(
    records: Iterable[ContactRecord],
    threshold_s: float,
    variant: ServiceLevelVariant | str = ServiceLevelVariant.OFFERED,
    *,
    short_abandon_s: float = 5.0,
) -> float | None:
    """Fraction of contacts answered within ``threshold_s`` seconds, by ``variant``.

    See :class:`ServiceLevelVariant` for the formulas. ``short_abandon_s`` only
    matters for ``OFFERED_EXCLUDING_SHORT_ABANDONS``. ``None`` when the
    variant's denominator is zero.

    Example: 10 offered, 6 answered within 20 s, 2 answered later, 1 abandoned
    after 3 s and 1 after 40 s give ``OFFERED`` 0.6, ``ANSWERED`` 0.75,
    ``OFFERED_EXCLUDING_SHORT_ABANDONS`` (5 s) 6/9, ``ABANDONS_MET`` 0.7 and
    ``ABANDONS_EXCLUDED`` 6/9.
    """
    _check_threshold("threshold_s", threshold_s)
    _check_threshold("short_abandon_s", short_abandon_s)
    kind = member(ServiceLevelVariant, "variant", variant, ValidationError)
    rows = offered(records)
    answered = [r for r in rows if r.outcome is Outcome.ANSWERED]
    in_time = sum(1 for r in answered if _wait(r) <= threshold_s)
    abandons = [r for r in rows if r.outcome is Outcome.ABANDONED]
    if kind is ServiceLevelVariant.OFFERED:
        return _ratio(in_time, len(rows))
    if kind is ServiceLevelVariant.ANSWERED:
        return _ratio(in_time, len(answered))
    if kind is ServiceLevelVariant.OFFERED_EXCLUDING_SHORT_ABANDONS:
        short = sum(1 for r in abandons if _wait(r) < short_abandon_s)
        return _ratio(in_time, len(rows) - short)
    gave_up = sum(1 for r in abandons if _wait(r) <= threshold_s)
    if kind is ServiceLevelVariant.ABANDONS_MET:
        return _ratio(in_time + gave_up, len(rows))
    return _ratio(in_time, len(rows) - gave_up)


def abandon_rate(records: Iterable[ContactRecord], *, short_abandon_s: float = 0.0) -> float | None:
    """Abandoned over offered, leaving short abandons out of both.

    ``(abandoned - short) / (offered - short)`` where a short abandon waited less
    than ``short_abandon_s`` seconds (0 keeps every abandon). Example: 10
    offered, 2 abandoned after 3 s and 40 s: 0.2 plain, 1/9 with a 5 s threshold.
    """
    _check_threshold("short_abandon_s", short_abandon_s)
    rows = offered(records)
    abandons = [r for r in rows if r.outcome is Outcome.ABANDONED]
    short = sum(1 for r in abandons if _wait(r) < short_abandon_s)
    return _ratio(len(abandons) - short, len(rows) - short)


def asa(records: Iterable[ContactRecord]) -> float | None:
    """Average speed of answer: mean wait of the *answered* offered contacts."""
    waits = [_wait(r) for r in offered(records) if r.outcome is Outcome.ANSWERED]
    return _ratio(math.fsum(waits), len(waits))


def average_wait(records: Iterable[ContactRecord]) -> float | None:
    """Mean wait of *all* offered contacts, answered or not (abandons wait until they leave)."""
    waits = [_wait(r) for r in offered(records)]
    return _ratio(math.fsum(waits), len(waits))


def longest_wait(records: Iterable[ContactRecord]) -> float | None:
    """The longest wait among offered contacts (historical); ``None`` without any."""
    waits = [_wait(r) for r in offered(records)]
    return max(waits) if waits else None


def current_longest_wait(records: Iterable[ContactRecord], now: float) -> float | None:
    """How long the oldest contact *still waiting* has waited at ``now``; ``None`` if none waits."""
    waits = [
        now - r.arrived_at
        for r in records
        if r.direction is Direction.INBOUND and r.outcome is Outcome.WAITING
    ]
    return max(0.0, *waits) if waits else None


def _handled(records: Iterable[ContactRecord]) -> list[ContactRecord]:
    return [r for r in records if r.outcome is Outcome.ANSWERED]


def aht(records: Iterable[ContactRecord]) -> float | None:
    """Average handle time: mean of talk + hold + after-contact work over handled contacts."""
    rows = _handled(records)
    return _ratio(math.fsum(r.handle_s for r in rows), len(rows))


def average_talk(records: Iterable[ContactRecord]) -> float | None:
    """Mean talk time of handled contacts."""
    rows = _handled(records)
    return _ratio(math.fsum(r.talk_s for r in rows), len(rows))


def average_hold(records: Iterable[ContactRecord]) -> float | None:
    """Mean hold time of handled contacts (including those never put on hold)."""
    rows = _handled(records)
    return _ratio(math.fsum(r.hold_s for r in rows), len(rows))


def average_wrap(records: Iterable[ContactRecord]) -> float | None:
    """Mean after-contact work (wrap-up) time of handled contacts."""
    rows = _handled(records)
    return _ratio(math.fsum(r.wrap_s for r in rows), len(rows))


def first_contact_resolution(
    records: Iterable[ContactRecord],
    repeat_window_s: float,
    *,
    now: float | None = None,
    same_queue: bool = False,
    require_resolved: bool = False,
) -> float | None:
    """Share of handled contacts not followed by a repeat contact within the window.

    A handled contact with a known ``customer`` is resolved at first contact
    when the same customer makes no other contact (any outcome, any direction)
    arriving within ``repeat_window_s`` seconds after it ended (arrival when the
    end is unknown). ``same_queue`` only counts repeats in the same queue;
    ``require_resolved`` also demands ``resolved is not False``. Given ``now``,
    contacts whose window has not elapsed yet are left out (they cannot be
    judged). Contacts without a customer key are left out.
    """
    _check_threshold("repeat_window_s", repeat_window_s)
    rows = list(records)
    by_customer: dict[str, list[ContactRecord]] = defaultdict(list)
    for r in rows:
        if r.customer is not None:
            by_customer[r.customer].append(r)
    judged = 0
    first_time = 0
    for r in _handled(rows):
        if r.customer is None:
            continue
        since = r.ended_at if r.ended_at is not None else r.arrived_at
        if now is not None and since + repeat_window_s > now:
            continue
        judged += 1
        repeat = any(
            other is not r
            and since <= other.arrived_at <= since + repeat_window_s
            and (not same_queue or other.queue == r.queue)
            for other in by_customer[r.customer]
        )
        if not repeat and not (require_resolved and r.resolved is False):
            first_time += 1
    return _ratio(first_time, judged)


def resolution_rate(records: Iterable[ContactRecord]) -> float | None:
    """Share of handled contacts marked ``resolved`` among those with a verdict (the flag FCR)."""
    verdicts = [r.resolved for r in _handled(records) if r.resolved is not None]
    return _ratio(sum(verdicts), len(verdicts))
