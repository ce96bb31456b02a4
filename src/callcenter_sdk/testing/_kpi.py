"""Hypothesis strategies for contact records and agent-state intervals.

Records are consistent by construction (an answer never precedes the arrival,
outcomes match the times) and varied where KPI bugs hide: waits exactly at a
service-level threshold, zero-second abandons, contacts still waiting, outbound
calls dropped by the dialer or connected late, records with unknown customers.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

from ..kpi import AgentInterval, ContactRecord, Direction, IntervalState, Outcome

__all__ = ["agent_intervals", "contact_records"]

_WAITS = st.one_of(
    st.sampled_from([0.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0]),
    st.floats(min_value=0, max_value=600, allow_nan=False, allow_infinity=False),
)
_DURATIONS = st.floats(min_value=0, max_value=1200, allow_nan=False, allow_infinity=False)
_INBOUND = [
    Outcome.ANSWERED,
    Outcome.ABANDONED,
    Outcome.OVERFLOWED,
    Outcome.TIMED_OUT,
    Outcome.REJECTED,
    Outcome.CALLBACK_FAILED,
    Outcome.WAITING,
]
_OUTBOUND = [
    Outcome.ANSWERED,
    Outcome.DROPPED,
    Outcome.NO_ANSWER,
    Outcome.BUSY,
    Outcome.MACHINE,
    Outcome.FAILED,
]


@st.composite
def _record(
    draw: st.DrawFn,
    index: int,
    *,
    direction: Direction | None,
    queues: Sequence[str],
    campaigns: Sequence[str],
    agents: Sequence[str],
    customers: Sequence[str],
    horizon: float,
) -> ContactRecord:
    way = direction or draw(st.sampled_from([Direction.INBOUND, Direction.OUTBOUND]))
    outcome = draw(st.sampled_from(_INBOUND if way is Direction.INBOUND else _OUTBOUND))
    arrived = draw(st.floats(min_value=0, max_value=horizon, allow_nan=False))
    wait = draw(_WAITS)
    answered_at = arrived + wait if outcome is Outcome.ANSWERED else None
    talk = draw(_DURATIONS) if answered_at is not None else 0.0
    hold = draw(_DURATIONS) / 4 if answered_at is not None else 0.0
    wrap = draw(_DURATIONS) / 4 if answered_at is not None else 0.0
    if outcome is Outcome.WAITING:
        ended_at = None
    elif answered_at is not None:
        ended_at = answered_at + talk + hold
    else:
        ended_at = arrived + wait
    greeting = None
    live = None
    if way is Direction.OUTBOUND:
        live = outcome in (Outcome.ANSWERED, Outcome.DROPPED) or None
        if live:
            ring = draw(st.floats(min_value=0, max_value=min(wait, 30.0)))
            greeting = arrived + ring
            if answered_at is not None and greeting > answered_at:
                greeting = answered_at
    return ContactRecord(
        contact_id=f"c{index}",
        direction=way,
        outcome=outcome,
        arrived_at=arrived,
        answered_at=answered_at,
        ended_at=ended_at,
        queue=draw(st.sampled_from(queues)),
        campaign=draw(st.sampled_from(campaigns)),
        team=draw(st.sampled_from(["red", "blue", None])),
        agent=draw(st.sampled_from(agents)) if answered_at is not None else None,
        customer=draw(st.sampled_from([*customers, None])),
        talk_s=talk,
        hold_s=hold,
        wrap_s=wrap,
        resolved=draw(st.sampled_from([True, False, None])) if answered_at is not None else None,
        right_party=draw(st.sampled_from([True, False, None])) if live else None,
        live_answer=live,
        greeting_ended_at=greeting,
        converted=draw(st.booleans()) if answered_at is not None else None,
    )


def contact_records(
    *,
    direction: Direction | str | None = None,
    queues: Sequence[str] = ("sales", "support"),
    campaigns: Sequence[str] = ("spring", "renewals"),
    agents: Sequence[str] = ("ann", "bob", "eve"),
    customers: Sequence[str] = ("cust-1", "cust-2", "cust-3", "cust-4"),
    horizon: float = 4 * 3600.0,
    min_size: int = 0,
    max_size: int = 60,
) -> st.SearchStrategy[list[ContactRecord]]:
    """Lists of valid contact records with unique ids, arrivals within ``[0, horizon]``.

    ``direction`` restricts them to inbound or outbound; otherwise both appear.
    """
    way = None if direction is None else Direction(direction)

    @st.composite
    def build(draw: st.DrawFn) -> list[ContactRecord]:
        size = draw(st.integers(min_value=min_size, max_value=max_size))
        return [
            draw(
                _record(
                    i,
                    direction=way,
                    queues=queues,
                    campaigns=campaigns,
                    agents=agents,
                    customers=customers,
                    horizon=horizon,
                )
            )
            for i in range(size)
        ]

    return build()


def agent_intervals(
    *,
    agents: Sequence[str] = ("ann", "bob"),
    horizon: float = 4 * 3600.0,
    max_per_agent: int = 12,
) -> st.SearchStrategy[list[AgentInterval]]:
    """Per-agent, back-to-back state intervals (no overlaps), the last one possibly open."""

    @st.composite
    def build(draw: st.DrawFn) -> list[AgentInterval]:
        out: list[AgentInterval] = []
        for agent in agents:
            count = draw(st.integers(min_value=0, max_value=max_per_agent))
            start = draw(st.floats(min_value=0, max_value=horizon / 4))
            for i in range(count):
                length = draw(st.floats(min_value=0, max_value=horizon / max_per_agent))
                is_open = i == count - 1 and draw(st.booleans())
                out.append(
                    AgentInterval(
                        agent=agent,
                        state=draw(st.sampled_from(list(IntervalState))),
                        start=start,
                        end=None if is_open else start + length,
                        reason=draw(st.sampled_from([None, "lunch", "training"])),
                        queue=draw(st.sampled_from([None, "sales", "support"])),
                    )
                )
                start += length
        return out

    return build()
