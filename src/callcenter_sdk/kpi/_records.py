"""Contact records and agent-state intervals: the inputs of every KPI.

A :class:`ContactRecord` is the summary of one contact's life (arrival, answer,
end, talk/hold/wrap-up durations, outcome), folded from the event log by the
ACD. An :class:`AgentInterval` is one stretch of time an agent spent in one
state. KPIs are pure functions of these two; keeping them as frozen, validated
values means an inconsistent record (answered before it arrived) is caught
once, where it is built, with a message naming the contact, instead of
silently skewing a service level.

All times are seconds on the injected clock's time line (the same numbers as
``Event.at``); durations are seconds.

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
import math
from typing import TypeVar

import attrs

from .._errors import RecordError, ValidationError

__all__ = [
    "AgentInterval",
    "Channel",
    "ContactRecord",
    "Direction",
    "IntervalState",
    "Outcome",
]


class Channel(enum.StrEnum):
    """The medium of a contact; live channels (voice, chat, video) are answered in seconds.

    ``TICKET`` is back-office work (a ticket routed to an agent): it has its own
    capacity, so an agent can hold, say, two tickets beside an e-mail.
    """

    VOICE = "voice"
    EMAIL = "email"
    CHAT = "chat"
    SMS = "sms"
    SOCIAL = "social"
    CALLBACK = "callback"
    VIDEO = "video"
    TICKET = "ticket"


class Direction(enum.StrEnum):
    """Who started the contact: the customer (inbound) or the center (outbound)."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Outcome(enum.StrEnum):
    """How a contact left the queue (or the dialer).

    Inbound outcomes: ``ANSWERED`` (connected to an agent), ``ABANDONED`` (the
    customer left before an answer), ``OVERFLOWED`` (sent on to another queue or
    target), ``TIMED_OUT`` (the queue's maximum wait expired), ``REJECTED``
    (refused on entry: queue full or closed), ``CALLBACK_FAILED`` (a queued
    callback the center could not complete: the customer did not answer, or it
    was cancelled; not an abandon, and not counted as offered) and ``WAITING``
    (still in the queue: the record of a live contact).

    Outbound outcomes: ``ANSWERED`` (connected to an agent), ``DROPPED`` (a live
    person answered and the dialer released the call with no agent: the
    regulators' abandoned call), ``NO_ANSWER``, ``BUSY``, ``MACHINE`` (answering
    machine detected; the call was not put through), ``FAILED`` (network or
    number error).
    """

    ANSWERED = "answered"
    ABANDONED = "abandoned"
    OVERFLOWED = "overflowed"
    TIMED_OUT = "timed_out"
    REJECTED = "rejected"
    WAITING = "waiting"
    DROPPED = "dropped"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    MACHINE = "machine"
    FAILED = "failed"
    CALLBACK_FAILED = "callback_failed"


class IntervalState(enum.StrEnum):
    """An agent's state during an :class:`AgentInterval` (values match the ACD's states)."""

    OFFLINE = "offline"
    NOT_READY = "not_ready"
    READY = "ready"
    RESERVED = "reserved"
    BUSY = "busy"
    WRAP_UP = "wrap_up"


_INBOUND_ONLY = frozenset({Outcome.ABANDONED, Outcome.OVERFLOWED, Outcome.TIMED_OUT})
_OUTBOUND_ONLY = frozenset(
    {Outcome.DROPPED, Outcome.NO_ANSWER, Outcome.BUSY, Outcome.MACHINE, Outcome.FAILED}
)


_E = TypeVar("_E", bound=enum.StrEnum)


def member(kind: type[_E], what: str, value: str, error: type[ValidationError] = RecordError) -> _E:
    """Convert ``value`` to the enum ``kind``, raising ``error`` that lists the choices."""
    if type(value) is kind:  # already a member: the common case on hot paths
        return value
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise error(f"{what} {value!r} is not one of: {allowed}") from None


def _to_channel(value: str) -> Channel:
    return member(Channel, "channel", value)


def _to_direction(value: str) -> Direction:
    return member(Direction, "direction", value)


def _to_outcome(value: str) -> Outcome:
    return member(Outcome, "outcome", value)


def _to_state(value: str) -> IntervalState:
    return member(IntervalState, "state", value)


def _check_time(owner: str, name: str, value: float | None) -> None:
    if value is not None and not math.isfinite(value):
        raise RecordError(f"{owner}: {name} must be a finite time, got {value!r}")


def _check_duration(owner: str, name: str, value: float) -> None:
    if not math.isfinite(value) or value < 0:
        raise RecordError(f"{owner}: {name} must be a finite duration >= 0, got {value!r}")


@attrs.frozen(kw_only=True)
class ContactRecord:
    """One contact's life, summarised for KPIs.

    Times are absolute (seconds on the clock's time line); ``*_s`` fields are
    durations. The record is validated when built: an answer before the arrival,
    an end before the answer, a negative duration, or an outcome that contradicts
    the times (``ANSWERED`` with no ``answered_at``) raise :class:`RecordError`.

    Inbound: ``arrived_at`` is when the contact entered the queue (or the
    center), ``answered_at`` when an agent was connected, ``ended_at`` when it
    left (hang-up, abandon, completion). Outbound: ``arrived_at`` is when the
    dialer placed the call, ``live_answer`` says whether a person (not a machine)
    picked up, ``greeting_ended_at`` is when that person finished their greeting
    (the moment the FCC and Ofcom two-second rule counts from) and
    ``answered_at`` is when an agent was connected.

    Attributes:
        contact_id: Unique id of the contact.
        channel: voice, email, chat, sms, social, callback or video.
        direction: inbound or outbound.
        outcome: How it left the queue or the dialer (:class:`Outcome`).
        arrived_at: Entered the queue (inbound) or was dialled (outbound).
        answered_at: Connected to an agent, or ``None``.
        ended_at: Left for good, or ``None`` while still live.
        queue: The queue it waited in, if any.
        campaign: The campaign it belongs to, if any.
        organisation: The client organisation that ordered that campaign, if known.
        team: The team of the agent who handled it, if any.
        agent: The agent who handled it, if any.
        customer: A stable customer key (number, account), used for first-contact
            resolution; ``None`` when unknown.
        talk_s: Seconds talking (or actively working a non-voice contact).
        hold_s: Seconds the customer spent on hold after the answer.
        wrap_s: Seconds of after-contact work.
        disposition: The wrap-up code the agent chose, if any.
        resolved: The agent's (or survey's) verdict that the issue was solved.
        right_party: Outbound: the intended person was reached.
        live_answer: Outbound: a person (not a machine) answered. ``None`` when
            unknown or inbound.
        greeting_ended_at: Outbound: when the person's greeting ended; defaults
            to their pick-up time when the dialer cannot tell.
        converted: The contact reached the campaign's goal (a sale, an
            appointment, a completed survey).
    """

    contact_id: str
    channel: Channel = attrs.field(converter=_to_channel, default=Channel.VOICE)
    direction: Direction = attrs.field(converter=_to_direction, default=Direction.INBOUND)
    outcome: Outcome = attrs.field(converter=_to_outcome)
    arrived_at: float
    answered_at: float | None = None
    ended_at: float | None = None
    queue: str | None = None
    campaign: str | None = None
    organisation: str | None = None
    team: str | None = None
    agent: str | None = None
    customer: str | None = None
    talk_s: float = 0.0
    hold_s: float = 0.0
    wrap_s: float = 0.0
    disposition: str | None = None
    resolved: bool | None = None
    right_party: bool | None = None
    live_answer: bool | None = None
    greeting_ended_at: float | None = None
    converted: bool | None = None

    def __attrs_post_init__(self) -> None:
        who = f"contact {self.contact_id!r}"
        for name in ("arrived_at", "answered_at", "ended_at", "greeting_ended_at"):
            _check_time(who, name, getattr(self, name))
        for name in ("talk_s", "hold_s", "wrap_s"):
            _check_duration(who, name, getattr(self, name))
        if self.answered_at is not None and self.answered_at < self.arrived_at:
            raise RecordError(
                f"{who}: answered_at {self.answered_at} is before arrived_at {self.arrived_at}"
            )
        start = self.arrived_at if self.answered_at is None else self.answered_at
        if self.ended_at is not None and self.ended_at < start:
            which = "arrived_at" if self.answered_at is None else "answered_at"
            raise RecordError(f"{who}: ended_at {self.ended_at} is before {which} {start}")
        if self.greeting_ended_at is not None and self.greeting_ended_at < self.arrived_at:
            raise RecordError(
                f"{who}: greeting_ended_at {self.greeting_ended_at} is before arrived_at"
                f" {self.arrived_at}"
            )
        self._check_outcome(who)

    def _check_outcome(self, who: str) -> None:
        outcome = self.outcome
        if outcome is Outcome.ANSWERED and self.answered_at is None:
            raise RecordError(f"{who}: outcome answered needs answered_at")
        if outcome is not Outcome.ANSWERED and self.answered_at is not None:
            raise RecordError(f"{who}: outcome {outcome} contradicts answered_at (only answered)")
        if outcome is Outcome.WAITING and self.ended_at is not None:
            raise RecordError(f"{who}: outcome waiting contradicts ended_at {self.ended_at}")
        if self.direction is Direction.INBOUND and outcome in _OUTBOUND_ONLY:
            raise RecordError(f"{who}: outcome {outcome} is only for outbound contacts")
        if self.direction is Direction.OUTBOUND and outcome in _INBOUND_ONLY:
            raise RecordError(f"{who}: outcome {outcome} is only for inbound contacts")
        if outcome is Outcome.DROPPED and self.live_answer is False:
            raise RecordError(f"{who}: outcome dropped means a live answer, live_answer is False")

    @property
    def abandoned(self) -> bool:
        """The customer left before an agent answered (inbound ``ABANDONED``)."""
        return self.outcome is Outcome.ABANDONED

    @property
    def answered(self) -> bool:
        """An agent was connected."""
        return self.outcome is Outcome.ANSWERED

    @property
    def wait_s(self) -> float | None:
        """Seconds from arrival to answer, or to leaving unanswered; ``None`` while waiting."""
        if self.answered_at is not None:
            return self.answered_at - self.arrived_at
        if self.ended_at is not None:
            return self.ended_at - self.arrived_at
        return None

    @property
    def handle_s(self) -> float:
        """Handle time: talk + hold + after-contact work."""
        return self.talk_s + self.hold_s + self.wrap_s

    @property
    def is_live_answer(self) -> bool:
        """Outbound: a person picked up (``live_answer``, or implied by answered/dropped)."""
        if self.live_answer is not None:
            return self.live_answer
        return self.outcome in (Outcome.ANSWERED, Outcome.DROPPED)

    @property
    def connect_delay_s(self) -> float | None:
        """Outbound: seconds from the end of the greeting to the agent; ``inf`` if none came.

        ``None`` when no person answered live or the greeting time is unknown
        and cannot be inferred. Regulators call the call abandoned when this
        exceeds two seconds.
        """
        if not self.is_live_answer:
            return None
        if self.greeting_ended_at is None:
            return 0.0 if self.answered_at is not None else math.inf
        if self.answered_at is None:
            return math.inf
        return max(0.0, self.answered_at - self.greeting_ended_at)


@attrs.frozen(kw_only=True)
class AgentInterval:
    """One stretch of time an agent spent in one state.

    Occupancy and utilization are ratios of these durations. Intervals of an
    agent should not overlap; the calculators do not need them sorted.

    Attributes:
        agent: The agent's id.
        state: The state held during the interval (:class:`IntervalState`).
        start: When the state began.
        end: When it ended, or ``None`` for the current, open interval.
        reason: The not-ready (pause) reason, if any.
        queue: The queue the work was for (busy, wrap-up), if known.
        campaign: The campaign, if known.
        team: The agent's team, if known.
    """

    agent: str
    state: IntervalState = attrs.field(converter=_to_state)
    start: float
    end: float | None = None
    reason: str | None = None
    queue: str | None = None
    campaign: str | None = None
    team: str | None = None

    def __attrs_post_init__(self) -> None:
        who = f"agent {self.agent!r} interval"
        _check_time(who, "start", self.start)
        _check_time(who, "end", self.end)
        if self.end is not None and self.end < self.start:
            raise RecordError(f"{who}: end {self.end} is before start {self.start}")

    def duration_s(self, now: float | None = None) -> float:
        """Seconds in the state; an open interval runs to ``now`` (zero without one)."""
        end = self.end if self.end is not None else now
        if end is None:
            return 0.0
        return max(0.0, end - self.start)
