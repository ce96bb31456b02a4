"""Folding the ACD's events into the KPI inputs: contact records and agent intervals.

The event log is the source of truth; :func:`records_from_events` turns it
into :class:`~callcenter_sdk.kpi.ContactRecord` and
:class:`~callcenter_sdk.kpi.AgentInterval` values, so every KPI of
:mod:`callcenter_sdk.kpi` can be computed after the fact from what the engine
published (the way Asterisk reports are computed from ``queue_log``).

One contact record is made per *queue visit*: a contact that overflows or is
transferred to another queue yields one record per queue, sharing its
``contact_id``, so service level and abandonment stay per queue as users of
app_queue expect. Outcomes:

======================================  ===============================
last event of the visit                 outcome
======================================  ===============================
ContactCompleted, ContactTransferred    ``answered``
ContactAbandoned                        ``abandoned``
ContactOverflowed                       ``overflowed``
ContactTimedOut, exit as queue emptied  ``timed_out``
exit when full or empty on entry        ``rejected``
ContactCallbackFailed                   ``callback_failed``
none yet                                ``waiting`` (or answered, open)
======================================  ===============================

With ``exits_abandon`` (Asterisk's way of counting) a visit ended by the
queue's maximum wait or by its emptying is ``abandoned``, overflowed or not.

A transfer to an agent (:class:`~callcenter_sdk.acd.ContactTransferred` with
``to_agent``) continues the visit too: talk and hold times add up, each
agent's wrap-up is added to it, and the record names the last agent.

A queued callback (:class:`~callcenter_sdk.acd.ContactCallbackRequested`)
continues the same visit, with its original arrival time, and its record's
channel becomes ``callback``; answered when the customer picked up.

Wrap-up time after an answered visit is the agent's stretch in ``wrap_up``
that followed it. Agent intervals run from one :class:`AgentStateChanged` to
the next; zero-length stretches (ready and reserved in the same instant) are
left out, the last one of each agent stays open (``end=None``).

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from operator import attrgetter
from typing import Any

from .._events import Event
from ..kpi import AgentInterval, Channel, ContactRecord, Direction, IntervalState, Outcome
from ._events import (
    AgentState,
    AgentStateChanged,
    ContactAbandoned,
    ContactAdopted,
    ContactCallbackFailed,
    ContactCallbackRequested,
    ContactCompleted,
    ContactConnected,
    ContactEnteredQueue,
    ContactExited,
    ContactOverflowed,
    ContactTimedOut,
    ContactTransferred,
    ExitReason,
)
from ._unchecked import unchecked

__all__ = ["records_from_events"]

# Enum members as module constants: in CPython 3.11 reading one off its class
# goes through the enum metaclass's __getattr__ hook (about 150 ns, against
# about 10 for a global), and the hot path reads several per state change.
_NOT_READY = AgentState.NOT_READY
_WRAP_UP = AgentState.WRAP_UP
_ABANDONED = Outcome.ABANDONED
_ANSWERED = Outcome.ANSWERED
_CALLBACK_FAILED = Outcome.CALLBACK_FAILED
_OVERFLOWED = Outcome.OVERFLOWED
_REJECTED = Outcome.REJECTED
_TIMED_OUT = Outcome.TIMED_OUT
_WAITING = Outcome.WAITING


class _Visit:
    """A contact's stay in one queue, being folded (internal)."""

    __slots__ = (
        "agent",
        "answered_at",
        "arrived_at",
        "channel",
        "contact_id",
        "customer",
        "direction",
        "ended_at",
        "hold_s",
        "outcome",
        "queue",
        "talk_s",
        "wrap_s",
    )

    def __init__(  # noqa: PLR0917 - positional: one call per contact on the fold's hot path
        self,
        contact_id: str,
        queue: str,
        at: float,
        channel: Channel = Channel.VOICE,
        direction: Direction = Direction.INBOUND,
        customer: str | None = None,
    ) -> None:
        self.contact_id = contact_id
        self.queue = queue
        self.arrived_at = at
        self.channel = channel
        self.direction = direction
        self.customer = customer
        self.answered_at: float | None = None
        self.ended_at: float | None = None
        self.agent: str | None = None
        self.outcome = _WAITING
        self.talk_s = self.hold_s = self.wrap_s = 0.0

    def end(self, at: float, outcome: Outcome) -> None:
        self.ended_at = at
        self.outcome = outcome

    def record(self, build: Callable[..., ContactRecord] = ContactRecord) -> ContactRecord:
        outcome = self.outcome
        if outcome is _WAITING and self.answered_at is not None:
            outcome = _ANSWERED
        return build(
            contact_id=self.contact_id,
            channel=self.channel,
            direction=self.direction,
            outcome=outcome,
            arrived_at=self.arrived_at,
            answered_at=self.answered_at,
            ended_at=self.ended_at,
            queue=self.queue,
            agent=self.agent,
            customer=self.customer,
            talk_s=self.talk_s,
            hold_s=self.hold_s,
            wrap_s=self.wrap_s,
        )


class _Folder:
    """Folds events one by one (internal)."""

    def __init__(
        self,
        exits_abandon: bool = False,
        interval: Callable[..., AgentInterval] = AgentInterval,
    ) -> None:
        self.exits_abandon = exits_abandon
        self.interval = interval
        self.visits: list[_Visit] = []
        self.open: dict[str, _Visit] = {}
        self.known: dict[str, _Visit] = {}
        self.wrapping: dict[str, tuple[_Visit, float]] = {}
        self.last_answered: dict[str, _Visit] = {}
        self.intervals: list[AgentInterval] = []
        self.current: dict[str, AgentStateChanged] = {}

    def visit_for(self, contact_id: str, queue: str, at: float) -> _Visit:
        """The open visit, or a zero-length one for a contact refused on entry."""
        visit = self.open.get(contact_id)
        if visit is None:
            visit = _Visit(contact_id, queue, at)
            before = self.known.get(contact_id)
            if before is not None:
                visit.channel, visit.direction = before.channel, before.direction
                visit.customer = before.customer
            self.visits.append(visit)
        return visit

    def close(self, contact_id: str, visit: _Visit, at: float, outcome: Outcome) -> None:
        visit.end(at, outcome)
        self.open.pop(contact_id, None)
        self.known[contact_id] = visit

    def entered(self, event: ContactEnteredQueue) -> None:
        since = event.at if event.entered_at is None else event.entered_at  # event.since
        visit = _Visit(
            event.contact_id,
            event.queue,
            since,
            event.channel,
            event.direction,
            event.caller_id or None,
        )
        self.visits.append(visit)
        self.open[event.contact_id] = visit

    def connected(self, event: ContactConnected) -> None:
        visit = self.visit_for(event.contact_id, event.queue, event.at)
        if visit.answered_at is None:
            visit.answered_at = event.at
        visit.agent = event.agent_id

    def adopted(self, event: ContactAdopted) -> None:
        """A contact a new leader took over: its answer is in the log before, unless cut off."""
        visit = self.open.get(event.contact_id)
        if visit is None:  # the events read begin after its entry: one visit from the adoption
            visit = _Visit(event.contact_id, event.queue, event.entered_at, event.channel)
            self.visits.append(visit)
            self.open[event.contact_id] = visit
        if visit.answered_at is None:  # its answer never reached the log (the leader died)
            visit.answered_at = event.connected_at
        visit.agent = event.agent_id

    def completed(self, event: ContactCompleted) -> None:
        # _answered and close, inlined: one of these per answered contact.
        contact_id, at = event.contact_id, event.at
        visit = self.open.pop(contact_id, None) or self.visit_for(contact_id, event.queue, at)
        visit.talk_s += event.talk_time
        visit.hold_s += event.hold_time
        visit.ended_at = at
        visit.outcome = _ANSWERED
        self.known[contact_id] = visit
        self.last_answered[event.agent_id] = visit

    def transferred(self, event: ContactTransferred) -> None:
        if not event.to_agent:
            self._answered(event, event.from_queue)
            return
        visit = self.visit_for(event.contact_id, event.from_queue, event.at)
        visit.talk_s += event.talk_time
        visit.hold_s += event.hold_time
        visit.agent = event.to_agent
        self.last_answered[event.agent_id] = visit

    def _answered(self, event: ContactCompleted | ContactTransferred, queue: str) -> None:
        visit = self.visit_for(event.contact_id, queue, event.at)
        visit.talk_s += event.talk_time
        visit.hold_s += event.hold_time
        self.close(event.contact_id, visit, event.at, _ANSWERED)
        self.last_answered[event.agent_id] = visit

    def callback_requested(self, event: ContactCallbackRequested) -> None:
        visit = self.open.get(event.contact_id)
        if visit is not None:
            visit.channel = Channel.CALLBACK

    def callback_failed(self, event: ContactCallbackFailed) -> None:
        self._ended(event, _CALLBACK_FAILED)

    def abandoned(self, event: ContactAbandoned) -> None:
        self._ended(event, _ABANDONED)

    def overflowed(self, event: ContactOverflowed) -> None:
        gave_up = event.reason in _GAVE_UP
        self._ended(event, _ABANDONED if gave_up and self.exits_abandon else _OVERFLOWED)

    def timed_out(self, event: ContactTimedOut) -> None:
        self._ended(event, _ABANDONED if self.exits_abandon else _TIMED_OUT)

    def exited(self, event: ContactExited) -> None:
        if event.reason is ExitReason.EXIT_WITH_KEY:
            self._ended(event, _ABANDONED)  # the caller chose to leave
        elif event.reason is not ExitReason.LEAVE_EMPTY and event.reason is not ExitReason.NO_AGENT:
            self._ended(event, _REJECTED)
        else:
            self._ended(event, _ABANDONED if self.exits_abandon else _TIMED_OUT)

    def _ended(self, event: _Final, outcome: Outcome) -> None:
        contact_id, at = event.contact_id, event.at
        visit = self.open.pop(contact_id, None) or self.visit_for(contact_id, event.queue, at)
        visit.ended_at = at
        visit.outcome = outcome
        self.known[contact_id] = visit

    def agent(self, event: AgentStateChanged) -> None:
        agent = event.agent_id
        before = self.current.get(agent)
        if before is not None and event.at > before.at:
            state = before.state  # _interval(before, event.at), inlined
            self.intervals.append(
                self.interval(
                    agent=agent,
                    state=_INTERVAL_STATE[state],
                    start=before.at,
                    end=event.at,
                    reason=before.reason if state is _NOT_READY else None,
                    queue=before.queue or None,
                )
            )
        self.current[agent] = event
        if event.state is _WRAP_UP and event.previous is not _WRAP_UP:
            visit = self.last_answered.get(agent)
            if visit is not None:
                self.wrapping[agent] = (visit, event.at)
        elif event.previous is _WRAP_UP and event.state is not _WRAP_UP:
            wrap = self.wrapping.pop(agent, None)
            if wrap is not None:
                visit, start = wrap
                visit.wrap_s += event.at - start


_Final = (
    ContactAbandoned | ContactOverflowed | ContactTimedOut | ContactExited | ContactCallbackFailed
)
_GAVE_UP = frozenset({"max-wait", "leave-empty", "no-agent"})
_INTERVAL_STATE = {state: IntervalState(state.value) for state in AgentState}
_new_record = unchecked(ContactRecord)
_new_interval = unchecked(AgentInterval)


def _handlers(folder: _Folder) -> dict[type[Event], Callable[[Any], None]]:
    """The folder's method for each ACD event class that it folds."""
    return {
        AgentStateChanged: folder.agent,
        ContactEnteredQueue: folder.entered,
        ContactConnected: folder.connected,
        ContactAdopted: folder.adopted,
        ContactCompleted: folder.completed,
        ContactTransferred: folder.transferred,
        ContactAbandoned: folder.abandoned,
        ContactCallbackRequested: folder.callback_requested,
        ContactCallbackFailed: folder.callback_failed,
        ContactOverflowed: folder.overflowed,
        ContactTimedOut: folder.timed_out,
        ContactExited: folder.exited,
    }


def _interval(
    change: AgentStateChanged,
    end: float | None,
    build: Callable[..., AgentInterval] = AgentInterval,
) -> AgentInterval:
    not_ready = change.state is _NOT_READY
    return build(
        agent=change.agent_id,
        state=_INTERVAL_STATE[change.state],
        start=change.at,
        end=end,
        reason=change.reason if not_ready else None,
        queue=change.queue or None,
    )


def records_from_events(
    events: Iterable[Event],
    *,
    exits_abandon: bool = False,
) -> tuple[list[ContactRecord], list[AgentInterval]]:
    """Fold ACD events (in publication order) into contact records and agent intervals.

    Events of other areas are ignored, so the whole event log can be passed.
    Returns the records in order of arrival in each queue and the intervals in
    order of their start (per agent, not overlapping).

    Args:
        events: The event log.
        exits_abandon: Count a visit the queue gave up on (its maximum wait,
            or it emptied, whether or not the contact overflowed) as
            ``abandoned``, as Asterisk's queue statistics do (app_queue counts
            ``EXITWITHTIMEOUT`` and ``EXITEMPTY`` in ``callsabandoned``); by
            default they are ``timed_out`` (or ``overflowed``), and the
            abandon rate counts only the customers who hung up.

    .. versionchanged:: 0.2
       ``exits_abandon``.
    """
    return _fold(events, exits_abandon, check=True)


def engine_records(events: Iterable[Event]) -> tuple[list[ContactRecord], list[AgentInterval]]:
    """:func:`records_from_events` over events a running engine just published (internal).

    The records and intervals are not validated again: the engine's own
    events, in the order it published them, always fold into valid ones
    (its state machine tests fold them with the checks on). The simulator
    folds a whole day this way; a stored log, which may come from anywhere,
    goes through :func:`records_from_events`.
    """
    return _fold(events, False, check=False)


def _fold(
    events: Iterable[Event], exits_abandon: bool, *, check: bool
) -> tuple[list[ContactRecord], list[AgentInterval]]:
    record = ContactRecord if check else _new_record
    interval = AgentInterval if check else _new_interval
    folder = _Folder(exits_abandon, interval)
    handlers = _handlers(folder)
    get = handlers.get
    for event in events:
        # One dict lookup by exact class instead of a chain of isinstance
        # tests; a subclass of an ACD event is resolved once by its bases.
        cls = type(event)
        handle = get(cls)
        if handle is None:
            handle = handlers[cls] = _resolve(handlers, cls)
        if handle is not _ignore:
            handle(event)
    intervals = folder.intervals
    intervals.extend(_interval(change, None, interval) for change in folder.current.values())
    intervals.sort(key=attrgetter("start", "agent"))
    return [v.record(record) for v in folder.visits], intervals


def _ignore(event: Event) -> None:
    """Events of other areas, and ACD events that make no record, fold to nothing."""


def _resolve(
    handlers: dict[type[Event], Callable[[Any], None]], cls: type[Event]
) -> Callable[[Any], None]:
    for base in cls.__mro__[1:]:
        handle = handlers.get(base)
        if handle is not None:
            return handle
    return _ignore
