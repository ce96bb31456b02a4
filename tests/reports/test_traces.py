"""One OpenTelemetry trace per contact, from a center run in virtual time.

The center runs on the virtual backend; the spans go to the SDK's in-memory
exporter through a simple (synchronous) span processor, so each test reads
the exact spans a collector would receive.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from callcenter_sdk import ManualClock, ValidationError
from callcenter_sdk.acd import (
    Agent,
    AgentState,
    AgentStateChanged,
    ContactAbandoned,
    ContactCompleted,
    ContactConnected,
    ContactEnteredQueue,
    ContactHeld,
    ContactOverflowed,
    ContactResumed,
    ContactTransferred,
    Membership,
    Queue,
)
from callcenter_sdk.ivr import FlowBuilder, ToQueue
from callcenter_sdk.media import PartyScript, VirtualBackend
from callcenter_sdk.reports import ContactTracer, create_tracing
from callcenter_sdk.runtime import CallCenter, CallCenterConfig, Seat, open_call_center, run_virtual
from callcenter_sdk.store import temporary_store

START = 1_000.0
NS = 1_000_000_000
DOCS = Path(__file__).parents[2] / "docs" / "reports.md"


def _seat(agent_id: str) -> Seat:
    agent = Agent(id=agent_id, skills={"support": 3}, memberships=[Membership("support")])
    return Seat(agent=agent, device=f"sip:{agent_id}@phones")


def _config(*agents: str) -> CallCenterConfig:
    return CallCenterConfig(
        flow=FlowBuilder("support", start="queue").node("queue", ToQueue(queue="support")).build(),
        queues=[Queue(name="support", offer_timeout=10.0, wrap_up=30.0)],
        seats=[_seat(a) for a in agents],
        announce=False,
    )


def _provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


@asynccontextmanager
async def _center(
    config: CallCenterConfig,
) -> AsyncIterator[tuple[CallCenter, VirtualBackend, InMemorySpanExporter, ContactTracer]]:
    clock = ManualClock(START)
    backend = VirtualBackend(clock)
    provider, exporter = _provider()
    tracer = ContactTracer(provider)
    with temporary_store() as store:
        async with open_call_center(
            backend, config, store=store, clock=clock, run_timers=False
        ) as center:
            center.subscribe(tracer)
            yield center, backend, exporter, tracer


def _call(backend: VirtualBackend, number: str, script: PartyScript) -> str:
    return backend.inject_call(f"sip:{number}@trunk", "sip:support@center", script)


def _trace_of(spans: Sequence[ReadableSpan], contact_root: ReadableSpan) -> list[ReadableSpan]:
    assert contact_root.context is not None
    trace_id = contact_root.context.trace_id
    return [s for s in spans if s.context is not None and s.context.trace_id == trace_id]


def _roots(spans: Sequence[ReadableSpan]) -> list[ReadableSpan]:
    return [s for s in spans if s.name == "contact"]


def _times(span: ReadableSpan) -> tuple[float, float]:
    assert span.start_time is not None
    assert span.end_time is not None
    return (span.start_time / NS - START, span.end_time / NS - START)


def _parent_name(span: ReadableSpan, spans: Sequence[ReadableSpan]) -> str:
    if span.parent is None:
        return ""
    (parent,) = [s for s in spans if s.context is not None and s.context == span.parent]
    return parent.name


async def test_an_answered_call_is_one_trace_from_arrival_to_the_end_of_wrap_up() -> None:
    """Two callers answered by Alice give two traces (distinct trace ids, one root each).
    The first: a root ``contact`` span from arrival (0 s) to the end of Alice's 30 s
    wrap-up (37 s), with the IVR, the queue wait (0-2 s, answered), Alice's offer inside
    the wait (ringing 0-2 s, answered), the talk (2-7 s, completed) and the wrap-up
    (7-37 s); the times are exactly the virtual clock's, and the root carries the
    queue, channel, agent, outcome and the disposition recorded during wrap-up."""
    async with _center(_config("alice")) as (center, backend, exporter, tracer):
        backend.add_phone("sip:alice@phones", PartyScript(answer_after=2.0))
        await center.set_ready("alice", actor="alice")
        first = _call(backend, "+33142685399", PartyScript(talk_for=5.0))
        await run_virtual(center, backend, 10.0)
        await center.dispose(first, "solved", actor="alice")
        await run_virtual(center, backend, 50.0)
        _call(backend, "+33142685398", PartyScript(talk_for=5.0))
        await run_virtual(center, backend, 60.0)
        assert tracer.open_contacts == 0
    spans = exporter.get_finished_spans()
    roots = _roots(spans)
    assert len(roots) == 2
    assert len({r.context.trace_id for r in roots if r.context is not None}) == 2
    one = _trace_of(spans, roots[0])
    by_name = {s.name: s for s in one}
    assert sorted(by_name) == ["contact", "ivr", "offer", "queue", "talk", "wrap-up"]
    assert len(one) == 6
    assert _times(by_name["contact"]) == (0.0, 37.0)
    assert _times(by_name["ivr"]) == (0.0, 0.0)
    assert _times(by_name["queue"]) == (0.0, 2.0)
    assert _times(by_name["offer"]) == (0.0, 2.0)
    assert _times(by_name["talk"]) == (2.0, 7.0)
    assert _times(by_name["wrap-up"]) == (7.0, 37.0)
    assert {s.name: _parent_name(s, one) for s in one} == {
        "contact": "",
        "ivr": "contact",
        "queue": "contact",
        "offer": "queue",
        "talk": "contact",
        "wrap-up": "contact",
    }
    assert dict(by_name["contact"].attributes or {}) == {
        "callcenter.channel": "voice",
        "callcenter.queue": "support",
        "callcenter.agent": "alice",
        "callcenter.disposition": "solved",
        "callcenter.outcome": "answered",
    }
    offer = by_name["offer"].attributes or {}
    assert (offer["callcenter.agent"], offer["callcenter.outcome"]) == ("alice", "answered")
    assert (by_name["talk"].attributes or {})["callcenter.outcome"] == "completed"
    (disposed,) = by_name["contact"].events
    assert (disposed.name, disposed.timestamp / NS - START) == ("disposed", 10.0)
    second = _trace_of(spans, roots[1])
    assert _times(next(s for s in second if s.name == "contact")) == (60.0, 97.0)


async def test_an_abandoned_caller_has_a_queue_wait_and_no_talk() -> None:
    """A caller who hangs up after 3 s with no agent ready: the trace is the root (0-3 s,
    outcome abandoned), the IVR and the queue wait (0-3 s, ended by the abandon); no
    offer, no talk, no wrap-up."""
    async with _center(_config("alice")) as (center, backend, exporter, tracer):
        _call(backend, "+33142685399", PartyScript(patience=3.0))
        await run_virtual(center, backend, 10.0)
        assert tracer.open_contacts == 0
    spans = exporter.get_finished_spans()
    assert sorted(s.name for s in spans) == ["contact", "ivr", "queue"]
    by_name = {s.name: s for s in spans}
    assert _times(by_name["contact"]) == (0.0, 3.0)
    assert _times(by_name["queue"]) == (0.0, 3.0)
    assert (by_name["contact"].attributes or {})["callcenter.outcome"] == "abandoned"
    assert (by_name["queue"].attributes or {})["callcenter.outcome"] == "abandoned"


async def test_a_missed_offer_then_an_answered_one() -> None:
    """Bob's phone never answers: his offer rings 10 s (the offer timeout) and ends
    missed; the call then rings Alice, who answers after 2 s. Both offers sit inside
    the one queue wait (0-12 s), in order, each naming its agent and outcome."""
    async with _center(_config("alice", "bob")) as (center, backend, exporter, _tracer):
        backend.add_phone("sip:bob@phones", PartyScript(answer_after=None))
        backend.add_phone("sip:alice@phones", PartyScript(answer_after=2.0))
        await center.set_ready("bob", actor="bob")
        _call(backend, "+33142685399", PartyScript(talk_for=5.0))
        await run_virtual(center, backend, 5.0)
        await center.set_ready("alice", actor="alice")  # bob's phone is still ringing
        await run_virtual(center, backend, 60.0)
    spans = exporter.get_finished_spans()
    offers = sorted((s for s in spans if s.name == "offer"), key=lambda s: s.start_time or 0)
    assert [
        (
            (s.attributes or {})["callcenter.agent"],
            (s.attributes or {})["callcenter.outcome"],
            _times(s),
        )
        for s in offers
    ] == [("bob", "missed", (0.0, 10.0)), ("alice", "answered", (10.0, 12.0))]
    assert {_parent_name(s, spans) for s in offers} == {"queue"}
    (queue,) = [s for s in spans if s.name == "queue"]
    assert _times(queue) == (0.0, 12.0)
    (talk,) = [s for s in spans if s.name == "talk"]
    assert ((talk.attributes or {})["callcenter.agent"], _times(talk)) == ("alice", (12.0, 17.0))


async def test_open_contacts_are_capped_and_closed_as_interrupted() -> None:
    """With room for two open traces, a third waiting caller closes the oldest as
    interrupted at its arrival; stopping the tracing (create_tracing's stop) closes the
    two still waiting as interrupted at the center's time. Nothing stays open."""
    clock = ManualClock(START)
    backend = VirtualBackend(clock)
    provider, exporter = _provider()
    with temporary_store() as store:
        async with open_call_center(
            backend, _config("alice"), store=store, clock=clock, run_timers=False
        ) as center:
            stop = create_tracing(center, provider, max_open=2)
            for second, number in enumerate(("+33142685391", "+33142685392", "+33142685393")):
                _call(backend, number, PartyScript(talk_for=5.0))
                await run_virtual(center, backend, 1.0 if second < 2 else 4.0)
            ended = _roots(exporter.get_finished_spans())
            assert [(_times(r), (r.attributes or {})["callcenter.outcome"]) for r in ended] == [
                ((0.0, 2.0), "interrupted")
            ]
            stop()
            _call(backend, "+33142685394", PartyScript(talk_for=5.0))
            await run_virtual(center, backend, 1.0)
    roots = _roots(exporter.get_finished_spans())
    assert [(_times(r), (r.attributes or {})["callcenter.outcome"]) for r in roots] == [
        ((0.0, 2.0), "interrupted"),
        ((1.0, 6.0), "interrupted"),
        ((2.0, 6.0), "interrupted"),
    ]
    queues = [s for s in exporter.get_finished_spans() if s.name == "queue"]
    assert {(s.attributes or {})["callcenter.outcome"] for s in queues} == {"interrupted"}


def test_a_contact_older_than_max_age_is_closed_and_hold_nests_in_the_talk() -> None:
    """Fed the ACD's events directly: a hold and its resume become a ``hold`` span inside
    the talk; a contact still open 100 s after its arrival (max_age 100) is closed as
    interrupted by the first event after that, at that event's time."""
    provider, exporter = _provider()
    tracer = ContactTracer(provider, max_age=100.0)
    events = [
        ContactEnteredQueue(
            at=0.0, contact_id="c1", queue="q", channel="voice", direction="inbound"
        ),
        ContactConnected(at=1.0, contact_id="c1", queue="q", agent_id="a", waited=1.0),
        ContactHeld(at=3.0, contact_id="c1", agent_id="a"),
        ContactResumed(at=5.0, contact_id="c1", agent_id="a"),
        ContactCompleted(
            at=9.0, contact_id="c1", queue="q", agent_id="a", talk_time=6, hold_time=2
        ),
        AgentStateChanged(at=9.0, agent_id="a", state=AgentState.READY, previous=AgentState.BUSY),
        ContactEnteredQueue(
            at=50.0, contact_id="c2", queue="q", channel="chat", direction="inbound"
        ),
        ContactEnteredQueue(
            at=151.0, contact_id="c3", queue="q", channel="voice", direction="inbound"
        ),
    ]
    for seq, event in enumerate(events):
        tracer(seq, event)
    spans = exporter.get_finished_spans()
    (hold,) = [s for s in spans if s.name == "hold"]
    assert (_parent_name(hold, spans), _times(hold)) == ("talk", (3.0 - START, 5.0 - START))
    roots = {str((r.attributes or {})["callcenter.channel"]): r for r in _roots(spans)}
    assert sorted(roots) == ["chat", "voice"]  # c1 (no wrap-up: done at 9 s) and c2 expired
    assert _times(roots["voice"]) == (0.0 - START, 9.0 - START)
    assert _times(roots["chat"]) == (50.0 - START, 151.0 - START)
    assert (roots["chat"].attributes or {})["callcenter.outcome"] == "interrupted"
    assert tracer.open_contacts == 1  # c3


def test_an_overflow_and_a_transfer_give_one_queue_span_per_queue() -> None:
    """Fed the ACD's events directly: a contact overflowing from q1 to q2, answered
    there, transferred by its agent to q3 and abandoned there is one trace with three
    queue waits (overflowed, answered, abandoned), a talk ended by the transfer, and a
    root ending at the abandon that names the last queue."""
    provider, exporter = _provider()
    tracer = ContactTracer(provider)

    def entered(at: float, queue: str) -> ContactEnteredQueue:
        return ContactEnteredQueue(
            at=at, contact_id="c", queue=queue, channel="voice", direction="inbound"
        )

    events = [
        entered(0.0, "q1"),
        ContactOverflowed(at=30.0, contact_id="c", queue="q1", target="queue", to_queue="q2"),
        entered(30.0, "q2"),
        ContactConnected(at=40.0, contact_id="c", queue="q2", agent_id="a", waited=10.0),
        ContactTransferred(at=50.0, contact_id="c", agent_id="a", from_queue="q2", to_queue="q3"),
        entered(50.0, "q3"),
        ContactAbandoned(at=60.0, contact_id="c", queue="q3", waited=10.0),
    ]
    for seq, event in enumerate(events):
        tracer(seq, event)
    spans = exporter.get_finished_spans()
    assert tracer.open_contacts == 0
    waits = sorted((s for s in spans if s.name == "queue"), key=lambda s: s.start_time or 0)
    assert [
        (
            (s.attributes or {})["callcenter.queue"],
            (s.attributes or {})["callcenter.outcome"],
            _times(s),
        )
        for s in waits
    ] == [
        ("q1", "overflowed", (0.0 - START, 30.0 - START)),
        ("q2", "answered", (30.0 - START, 40.0 - START)),
        ("q3", "abandoned", (50.0 - START, 60.0 - START)),
    ]
    (talk,) = [s for s in spans if s.name == "talk"]
    assert ((talk.attributes or {})["callcenter.outcome"], _times(talk)) == (
        "transferred",
        (40.0 - START, 50.0 - START),
    )
    (root,) = _roots(spans)
    assert _times(root) == (0.0 - START, 60.0 - START)
    attributes = root.attributes or {}
    assert (attributes["callcenter.queue"], attributes["callcenter.outcome"]) == ("q3", "abandoned")


def test_bad_limits_are_refused() -> None:
    """max_open below 1 and a max_age that is not positive raise ValidationError."""
    with pytest.raises(ValidationError, match="max_open"):
        ContactTracer(max_open=0)
    with pytest.raises(ValidationError, match="max_age"):
        ContactTracer(max_age=0.0)
    with pytest.raises(ValidationError, match="max_age"):
        ContactTracer(max_age=float("nan"))


def test_the_reports_import_without_opentelemetry() -> None:
    """With opentelemetry unimportable, callcenter_sdk.reports still imports; only
    asking for the tracer fails, with the ImportError naming opentelemetry."""
    code = (
        "import sys\n"
        "sys.modules['opentelemetry'] = None\n"
        "import callcenter_sdk.reports as r\n"
        "assert 'callcenter_sdk.reports._traces' not in sys.modules\n"
        "try:\n"
        "    r.ContactTracer\n"
        "except ImportError as e:\n"
        "    print('refused', 'opentelemetry' in str(e))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "refused True"


def _docs_block() -> str:
    """The Python block of docs/reports.md marked as checked by this file."""
    page = DOCS.read_text(encoding="utf-8")
    found = re.search(
        r"<!-- checked: tests/reports/test_traces.py -->\n```python\n(.*?)^```",
        page,
        re.MULTILINE | re.DOTALL,
    )
    assert found is not None
    return found.group(1)


async def test_the_documented_wiring_traces_a_running_center() -> None:
    """The docs/reports.md example, run against a center (its first part before the
    calls, its last part after them): the provider it builds receives the trace of
    the answered call, and stopping ends the waiting caller's as interrupted at the
    center's time."""
    head, tail = _docs_block().split("# ... the center runs ...\n")
    async with _center(_config("alice")) as (center, backend, _exporter, _tracer):
        backend.add_phone("sip:alice@phones", PartyScript(answer_after=2.0))
        namespace: dict[str, object] = {"center": center}
        exec(head, namespace)  # noqa: S102 - the documentation's own example
        provider = namespace["provider"]
        assert isinstance(provider, TracerProvider)
        seen = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(seen))
        await center.set_ready("alice", actor="alice")
        _call(backend, "+33142685399", PartyScript(talk_for=5.0))
        await run_virtual(center, backend, 60.0)
        _call(backend, "+33142685398", PartyScript(talk_for=5.0))
        await run_virtual(center, backend, 1.0)
        exec(tail, namespace)  # noqa: S102 - the documentation's own example
    roots = _roots(seen.get_finished_spans())
    assert [(_times(r), (r.attributes or {})["callcenter.outcome"]) for r in roots] == [
        ((0.0, 37.0), "answered"),
        ((60.0, 61.0), "interrupted"),
    ]
