"""What the pictures and the conversation report read from the event log.

The stored interval aggregates hold the contacts' figures; the agents' day,
the dialer's drops, the survey answers and the written conversations are
read from the event log itself, only the kinds each needs, in chunks, and
folded here into the plain values the pictures draw
(:mod:`callcenter_sdk.reports._plots`).

.. versionadded:: 0.2
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence

import attrs

from .._events import Event
from ..acd import AgentStateChanged, records_from_events
from ..dialer import AnswerRecorded, CallPlaced, CallResult, CallResulted
from ..kpi import AgentInterval, ContactRecord, Direction, DropRate, DropRegime, Outcome, drop_rate
from ..store import EventLog, Store

__all__ = [
    "DAY_S",
    "agent_day",
    "clock_day",
    "day_of",
    "dialer_records",
    "drop_rates_through_day",
    "stored_events",
    "survey_answers",
]

DAY_S = 86_400.0
_CHUNK = 50_000


def stored_events(
    store: Store, kinds: Sequence[str], *, start: float | None = None, end: float | None = None
) -> Iterator[Event]:
    """The stored events of ``kinds`` (in log order) whose time is in ``[start, end)``."""
    log = EventLog(store)
    after = 0
    while True:
        part = log.read(after=after, limit=_CHUNK, kinds=kinds)
        if not part:
            return
        for logged in part:
            at = logged.event.at
            if (start is None or at >= start) and (end is None or at < end):
                yield logged.event
        after = part[-1].seq


def day_of(at: float) -> float:
    """Midnight UTC of the day holding ``at``."""
    return at - at % DAY_S


def agent_day(
    store: Store, *, day: float | None = None, start: float | None = None, end: float | None = None
) -> tuple[float, list[AgentInterval]]:
    """The agents' state intervals of one day (midnight UTC), from the stored state changes.

    Args:
        store: The store.
        day: Midnight of the day drawn; by default the day of the last state
            change in ``[start, end)``.
        start: First second looked at.
        end: First second not looked at.

    Returns:
        The day's midnight and the intervals touching it (empty: no state
        change); an interval still open ends at the last state change read,
        since the store knows nothing after it.
    """
    events = list(stored_events(store, [AgentStateChanged.kind], start=start, end=end))
    if not events:
        return day if day is not None else 0.0, []
    if day is None:
        day = day_of(events[-1].at)
    read = [e for e in events if e.at < day + DAY_S]
    _, intervals = records_from_events(read)
    last = read[-1].at if read else day
    return day, [
        iv if iv.end is not None else attrs.evolve(iv, end=max(last, iv.start))
        for iv in intervals
        if (iv.end is None or iv.end > day) and iv.start < day + DAY_S
    ]


def dialer_records(events: Iterable[Event]) -> list[ContactRecord]:
    """Outbound contact records of the dialer's placed calls and their results.

    A call put through (``connected``) is answered at its result; a dropped
    call is a live answer no agent took, so its connect delay is infinite and
    it counts as dropped by :func:`callcenter_sdk.kpi.drop_rate`. A call with
    no result yet is still ``waiting``.
    """
    placed: dict[str, CallPlaced] = {}
    results: dict[str, CallResulted] = {}
    for e in events:
        if isinstance(e, CallPlaced):
            placed[e.call_id] = e
        elif isinstance(e, CallResulted):
            results[e.call_id] = e
    records = []
    for call_id, call in placed.items():
        result = results.get(call_id)
        records.append(
            ContactRecord(
                contact_id=call_id,
                direction=Direction.OUTBOUND,
                outcome=Outcome.WAITING if result is None else result.result.outcome,
                arrived_at=call.at,
                answered_at=(
                    result.at
                    if result is not None and result.result is CallResult.CONNECTED
                    else None
                ),
                ended_at=None if result is None else result.at,
                campaign=call.campaign,
            )
        )
    return records


def drop_rates_through_day(
    store: Store,
    *,
    step: float = 3600.0,
    day: float | None = None,
    start: float | None = None,
    end: float | None = None,
    regime: DropRegime = DropRegime.FCC,
) -> tuple[str | None, list[DropRate]]:
    """The busiest campaign's drop rate at the end of each ``step`` of the dialling day.

    Args:
        store: The store (its ``dialer.call_placed`` and ``dialer.call_resulted`` events).
        step: Seconds between two measures.
        day: Midnight of the day drawn; by default the day of the last call placed.
        start: First second looked at.
        end: First second not looked at.
        regime: The regulator whose window and cap apply (FCC: no AMD estimate needed).

    Returns:
        The campaign with the most calls placed, and its rates from the end of
        the first step with a call to the end of the step of the last call
        (empty: no call placed).
    """
    kinds = [CallPlaced.kind, CallResulted.kind]
    records = dialer_records(stored_events(store, kinds, start=start, end=end))
    if not records:
        return None, []
    if day is None:
        day = day_of(max(r.arrived_at for r in records))
    counts: dict[str | None, int] = {}
    for r in records:
        counts[r.campaign] = counts.get(r.campaign, 0) + 1
    campaign = max(sorted(counts, key=str), key=lambda c: counts[c])
    today = [r.arrived_at for r in records if day <= r.arrived_at < day + DAY_S]
    if not today:
        return campaign, []
    first = day + (min(today) - day) // step * step + step
    last = day + (max(today) - day) // step * step + step
    rates = []
    now = first
    while now <= last:
        rates.append(drop_rate(records, regime, now=now, campaign=campaign))
        now += step
    return campaign, rates


def _order(value: str) -> tuple[int, float, str]:
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def survey_answers(
    store: Store, *, start: float | None = None, end: float | None = None
) -> dict[str, dict[str, int]]:
    """Calls per answer of each question, from the stored ``dialer.answer_recorded`` events.

    The last answer of a call to a question wins (as ``dialer.export_answers_csv``
    has it). Questions come in the order first answered, prefixed by their
    questionnaire when the store holds several; answers numbers first, in
    order, then words in alphabetical order.
    """
    last: dict[tuple[str, str, str], str] = {}
    for e in stored_events(store, [AnswerRecorded.kind], start=start, end=end):
        if isinstance(e, AnswerRecorded):
            last[(e.questionnaire, e.question, e.contact_id)] = e.value
    several = len({q for q, _, _ in last}) > 1
    counts: dict[str, dict[str, int]] = {}
    for (questionnaire, question, _), value in last.items():
        name = f"{questionnaire}: {question}" if several else question
        per = counts.setdefault(name, {})
        per[value] = per.get(value, 0) + 1
    return {
        name: {value: per[value] for value in sorted(per, key=_order)}
        for name, per in counts.items()
    }


def clock_day(day: float) -> str:
    """The day as ``YYYY-MM-DD`` (for titles)."""
    return dt.datetime.fromtimestamp(day, dt.UTC).strftime("%Y-%m-%d")
