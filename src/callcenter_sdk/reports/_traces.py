"""One OpenTelemetry trace per contact, built from the center's event stream.

:class:`ContactTracer` subscribes to a center's events and turns each
contact's life into a trace: a root ``contact`` span from its arrival (the
IVR, a dialled call, or its entry in a queue) to the end of its agent's
wrap-up, with child spans for the ``ivr``, each ``queue`` wait, each
``offer`` (ringing an agent) inside the wait, the ``talk`` (connected to
completed or transferred), each ``hold`` inside the talk, and the
``wrap-up``. Every span's start and end are the events' own ``at`` (the
center's clock), so a run in virtual time gives the exact same trace each
time; no span is timed by the wall clock.

Attribute names are few and low-cardinality: ``callcenter.queue``,
``callcenter.channel``, ``callcenter.agent``, ``callcenter.campaign``,
``callcenter.outcome`` and ``callcenter.disposition``.

Memory is bounded: at most ``max_open`` contacts have a trace open, and a
contact open for more than ``max_age`` seconds of the center's clock is
closed with the outcome ``interrupted`` (so are the oldest ones when a new
contact would exceed ``max_open``, and every open one at :meth:`close`).

This module needs ``opentelemetry-api`` (the ``otel`` extra adds the SDK);
:mod:`callcenter_sdk.reports` loads it only on first use.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Final

import attrs
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, Tracer, TracerProvider

from .._errors import ValidationError
from .._events import Event
from ..acd import (
    AgentState,
    AgentStateChanged,
    ContactAbandoned,
    ContactCallbackFailed,
    ContactCompleted,
    ContactConnected,
    ContactEnteredQueue,
    ContactExited,
    ContactHeld,
    ContactOffered,
    ContactOverflowed,
    ContactResumed,
    ContactTimedOut,
    ContactTransferred,
    OfferAccepted,
    OfferBusy,
    OfferNotAnswered,
    OfferRejected,
    OfferRescinded,
)
from ..dialer import CallDropped, CallPlaced, CallResult, CallResulted
from ..media import CallIncoming
from ..runtime import CallCenter, CallInterrupted, ContactDisposed, IvrCompleted

__all__ = ["TRACE_ATTRIBUTES", "ContactTracer", "create_tracing"]

#: The attribute names the spans carry (each with a small set of values).
TRACE_ATTRIBUTES: Final = (
    "callcenter.agent",
    "callcenter.campaign",
    "callcenter.channel",
    "callcenter.disposition",
    "callcenter.outcome",
    "callcenter.queue",
)

_INSTRUMENTATION: Final = "callcenter_sdk"
_INTERRUPTED: Final = "interrupted"
_Ended = (
    ContactAbandoned | ContactTimedOut | ContactExited | ContactCallbackFailed | CallInterrupted
)
_END_OUTCOME: Final[Mapping[type[Event], str]] = {
    ContactAbandoned: "abandoned",
    ContactTimedOut: "timed_out",
    ContactExited: "exited",
    ContactCallbackFailed: "callback_failed",
    CallInterrupted: _INTERRUPTED,
}
# OfferBusy subclasses OfferRejected: look the exact class up first
_OFFER_OUTCOME: Final[Mapping[type[Event], str]] = {
    OfferAccepted: "answered",
    OfferBusy: "busy",
    OfferRejected: "rejected",
    OfferNotAnswered: "missed",
    OfferRescinded: "rescinded",
}


def _ns(at: float) -> int:
    """The center's clock (seconds) as OpenTelemetry's nanoseconds since the epoch."""
    return round(at * 1e9)


@attrs.define
class _Trace:
    """One contact's open trace: its root span and the child spans still open."""

    root: Span
    started: float
    context: Context
    ivr: Span | None = None
    queue: Span | None = None
    queue_context: Context | None = None
    offers: dict[str, Span] = attrs.Factory(dict)
    talk: Span | None = None
    talk_context: Context | None = None
    hold: Span | None = None
    wrap_up: Span | None = None
    completed_at: float | None = None
    agent: str = ""


class ContactTracer:
    """Turn a center's events into one OpenTelemetry trace per contact.

    Subscribe it to a center (``center.subscribe(tracer)``, or use
    :func:`create_tracing`); call :meth:`close` at shutdown so contacts still
    open are exported (as ``interrupted``). A contact's trace ends when its
    agent leaves wrap-up; a disposition recorded before then is on the root
    span (``callcenter.disposition``), one recorded later is not. The wrap-up
    of an agent who transferred the contact away is not part of its trace.

    Args:
        tracer_provider: Where the spans go; the global provider by default.
        max_open: At most this many contacts have an open trace; opening one
            more closes the oldest as ``interrupted``.
        max_age: Seconds (the center's clock) after which a contact still open
            is closed as ``interrupted``.

    Raises:
        ValidationError: ``max_open`` is below 1 or ``max_age`` is not positive.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        tracer_provider: TracerProvider | None = None,
        *,
        max_open: int = 10_000,
        max_age: float = 86_400.0,
    ) -> None:
        if max_open < 1:
            raise ValidationError(f"max_open must be at least 1, not {max_open!r}")
        if not max_age > 0:
            raise ValidationError(f"max_age must be a positive number of seconds, not {max_age!r}")
        self._tracer: Tracer = trace.get_tracer(_INSTRUMENTATION, tracer_provider=tracer_provider)
        self._max_open = max_open
        self._max_age = max_age
        self._open: OrderedDict[str, _Trace] = OrderedDict()
        # agent id -> contacts that agent completed and whose wrap-up is not over
        self._after_talk: dict[str, set[str]] = {}
        self._now: float | None = None

    @property
    def open_contacts(self) -> int:
        """How many contacts have a trace open now."""
        return len(self._open)

    def __call__(self, _seq: int, event: Event) -> None:
        """Take one event of the center's stream (the subscriber's signature)."""
        self._now = event.at if self._now is None else max(self._now, event.at)
        self._expire(event.at)
        self._handle(event)

    def close(self, at: float | None = None) -> None:
        """End every open trace as ``interrupted`` at ``at`` (default: the last event's time)."""
        when = at if at is not None else self._now
        for contact_id in list(self._open):
            t = self._open[contact_id]
            self._finish(contact_id, _INTERRUPTED, max(t.started, when or t.started))

    # -- the event handlers --------------------------------------------------------------
    def _handle(self, event: Event) -> None:  # noqa: PLR0912 - one branch per event kind
        if isinstance(event, CallIncoming):
            new = self._start(event.call_id, event.at, {"callcenter.channel": "voice"})
            new.ivr = self._child("ivr", new.context, event.at)
        elif isinstance(event, IvrCompleted):
            self._ivr_done(event)
        elif isinstance(event, CallPlaced):
            self._start(
                event.call_id,
                event.at,
                {"callcenter.channel": "voice", "callcenter.campaign": event.campaign},
            )
        elif isinstance(event, CallResulted):
            if event.result is not CallResult.CONNECTED and event.call_id in self._open:
                self._finish(event.call_id, event.result.value, event.at)
        elif isinstance(event, CallDropped):
            if event.call_id in self._open:
                self._finish(event.call_id, "dropped", event.at)
        elif isinstance(event, ContactEnteredQueue):
            self._entered(event)
        elif isinstance(event, ContactOffered):
            self._offered(event)
        elif type(event) in _OFFER_OUTCOME:
            self._offer_done(event)
        elif isinstance(event, ContactConnected):
            self._connected(event)
        elif isinstance(event, ContactHeld):
            if (t := self._open.get(event.contact_id)) is not None and t.hold is None:
                t.hold = self._child("hold", t.talk_context or t.context, event.at)
        elif isinstance(event, ContactResumed):
            if (t := self._open.get(event.contact_id)) is not None:
                _end(t.hold, event.at)
                t.hold = None
        elif isinstance(event, ContactTransferred):
            if (t := self._open.get(event.contact_id)) is not None:
                _end(t.hold, event.at)
                t.hold = None
                _end(t.talk, event.at, "transferred")
                t.talk = None
        elif isinstance(event, ContactCompleted):
            self._completed(event)
        elif isinstance(event, AgentStateChanged):
            self._agent_changed(event)
        elif isinstance(event, ContactDisposed):
            if (t := self._open.get(event.contact_id)) is not None:
                t.root.set_attribute("callcenter.disposition", event.disposition)
                t.root.add_event("disposed", timestamp=_ns(event.at))
        elif isinstance(event, ContactOverflowed):
            self._overflowed(event)
        elif isinstance(event, _Ended) and event.contact_id in self._open:
            self._finish(event.contact_id, _END_OUTCOME[type(event)], event.at)

    def _ivr_done(self, event: IvrCompleted) -> None:
        t = self._open.get(event.call_id)
        if t is None:
            return
        _end(t.ivr, event.at, event.outcome)
        t.ivr = None
        if event.outcome != "queue":  # the call left the center from the IVR
            self._finish(event.call_id, f"ivr_{event.outcome}", event.at)

    def _entered(self, event: ContactEnteredQueue) -> None:
        t = self._open.get(event.contact_id)
        if t is None:
            t = self._start(event.contact_id, event.at, {})
        t.root.set_attribute("callcenter.channel", event.channel.value)
        t.root.set_attribute("callcenter.queue", event.queue)
        _end(t.queue, event.at, "overflowed")  # entering a queue while in one: an overflow
        t.queue = self._child("queue", t.context, event.at, {"callcenter.queue": event.queue})
        t.queue_context = trace.set_span_in_context(t.queue, t.context)

    def _offered(self, event: ContactOffered) -> None:
        t = self._open.get(event.contact_id)
        if t is None:
            return
        attributes = {"callcenter.agent": event.agent_id, "callcenter.queue": event.queue}
        parent = t.queue_context if t.queue is not None else None
        _end(t.offers.pop(event.offer_id, None), event.at, _INTERRUPTED)
        t.offers[event.offer_id] = self._child("offer", parent or t.context, event.at, attributes)

    def _offer_done(self, event: Event) -> None:
        contact_id: str = getattr(event, "contact_id", "")
        offer_id: str = getattr(event, "offer_id", "")
        if (t := self._open.get(contact_id)) is not None:
            _end(t.offers.pop(offer_id, None), event.at, _OFFER_OUTCOME[type(event)])

    def _connected(self, event: ContactConnected) -> None:
        t = self._open.get(event.contact_id)
        if t is None:
            return
        _end(t.queue, event.at, "answered")
        t.queue = None
        t.agent = event.agent_id
        t.root.set_attribute("callcenter.agent", event.agent_id)
        attributes = {"callcenter.agent": event.agent_id, "callcenter.queue": event.queue}
        t.talk = self._child("talk", t.context, event.at, attributes)
        t.talk_context = trace.set_span_in_context(t.talk, t.context)

    def _completed(self, event: ContactCompleted) -> None:
        t = self._open.get(event.contact_id)
        if t is None:
            return
        _end(t.hold, event.at)
        t.hold = None
        _end(t.talk, event.at, "completed")
        t.talk = None
        t.completed_at = event.at
        t.agent = event.agent_id
        self._after_talk.setdefault(event.agent_id, set()).add(event.contact_id)

    def _agent_changed(self, event: AgentStateChanged) -> None:
        """Start or end the wrap-up of the contacts this agent completed."""
        waiting = self._after_talk.get(event.agent_id)
        if not waiting:
            return
        for contact_id in sorted(waiting):
            t = self._open[contact_id]
            if t.wrap_up is None and event.state is AgentState.WRAP_UP:
                start = t.completed_at if t.completed_at is not None else event.at
                attributes = {"callcenter.agent": event.agent_id}
                t.wrap_up = self._child("wrap-up", t.context, start, attributes)
            elif t.wrap_up is not None and event.state is not AgentState.WRAP_UP:
                _end(t.wrap_up, event.at)
                t.wrap_up = None
                self._finish(contact_id, "answered", event.at)
            elif t.wrap_up is None:  # the agent went on with no wrap-up
                self._finish(contact_id, "answered", t.completed_at or event.at)

    def _overflowed(self, event: ContactOverflowed) -> None:
        t = self._open.get(event.contact_id)
        if t is None:
            return
        if event.to_queue:  # a ContactEnteredQueue for the next queue follows
            _end(t.queue, event.at, "overflowed")
            t.queue = None
        else:
            self._finish(event.contact_id, "overflowed", event.at)

    # -- spans ---------------------------------------------------------------------------
    def _start(self, contact_id: str, at: float, attributes: dict[str, str]) -> _Trace:
        if contact_id in self._open:  # the same id again (a new dial of a lead): a new trace
            self._finish(contact_id, _INTERRUPTED, at)
        while len(self._open) >= self._max_open:
            oldest = next(iter(self._open))
            self._finish(oldest, _INTERRUPTED, max(at, self._open[oldest].started))
        # an empty context: every contact is a trace of its own, whatever span is current
        root = self._tracer.start_span(
            "contact",
            context=Context(),
            kind=trace.SpanKind.SERVER,
            attributes=attributes,
            start_time=_ns(at),
        )
        t = _Trace(root=root, started=at, context=trace.set_span_in_context(root, Context()))
        self._open[contact_id] = t
        return t

    def _child(
        self, name: str, parent: Context, at: float, attributes: dict[str, str] | None = None
    ) -> Span:
        return self._tracer.start_span(
            name, context=parent, attributes=attributes, start_time=_ns(at)
        )

    def _finish(self, contact_id: str, outcome: str, at: float) -> None:
        """End a contact's open spans and its root with ``outcome``, and forget it."""
        t = self._open.pop(contact_id)
        for offer in t.offers.values():
            _end(offer, at, outcome)
        for span in (t.hold, t.talk, t.queue, t.ivr, t.wrap_up):
            _end(span, at, outcome)
        waiting = self._after_talk.get(t.agent)
        if waiting is not None:
            waiting.discard(contact_id)
            if not waiting:
                del self._after_talk[t.agent]
        t.root.set_attribute("callcenter.outcome", outcome)
        t.root.end(end_time=_ns(at))

    def _expire(self, now: float) -> None:
        """Close the contacts open for longer than ``max_age`` (arrival order: the oldest first)."""
        while self._open:
            contact_id, t = next(iter(self._open.items()))
            if now - t.started <= self._max_age:
                return
            self._finish(contact_id, _INTERRUPTED, now)


def _end(span: Span | None, at: float, outcome: str = "") -> None:
    """End ``span`` (if any) at ``at``, with ``outcome`` when given."""
    if span is not None:
        if outcome:
            span.set_attribute("callcenter.outcome", outcome)
        span.end(end_time=_ns(at))


def create_tracing(
    center: CallCenter,
    tracer_provider: TracerProvider | None = None,
    *,
    max_open: int = 10_000,
    max_age: float = 86_400.0,
) -> Callable[[], None]:
    """Trace every contact of ``center`` from now on; return the function that stops it.

    Calling the returned function unsubscribes and ends the traces still open
    as ``interrupted`` at the center's current time. See :class:`ContactTracer`
    for what the traces hold and for ``max_open``/``max_age``.

    .. versionadded:: 0.1
    """
    tracer = ContactTracer(tracer_provider, max_open=max_open, max_age=max_age)
    unsubscribe = center.subscribe(tracer)

    def stop() -> None:
        unsubscribe()
        tracer.close(center.clock.now())

    return stop
