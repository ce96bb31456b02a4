"""The Prometheus /metrics app: what a running center exposes, and how many series at most."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from callcenter_sdk import Event, ManualClock
from callcenter_sdk.acd import (
    Agent,
    ContactAbandoned,
    ContactConnected,
    ContactEnteredQueue,
    ContactExited,
    ContactOverflowed,
    ContactTimedOut,
    Membership,
    Queue,
)
from callcenter_sdk.acd import ContactCallbackRequested as Callback
from callcenter_sdk.ivr import FlowBuilder, ToQueue
from callcenter_sdk.kpi import Channel
from callcenter_sdk.media import PartyScript, VirtualBackend
from callcenter_sdk.org import (
    Campaign,
    ContactCenter,
    Direction,
    Floor,
    Org,
    Organisation,
    Person,
    Role,
    Team,
)
from callcenter_sdk.reports import MAX_SERIES, CenterMetrics, create_metrics_app
from callcenter_sdk.runtime import CallCenter, CallCenterConfig, Seat, open_call_center, run_virtual
from callcenter_sdk.store import Accounts, Store, StoreDegraded, StoreRecovered
from callcenter_sdk.web import create_app


def _org(agents: int, teams: int) -> Org:
    per_team = agents // teams
    return Org(
        organisations=[Organisation("acme")],
        centers=[ContactCenter("lyon", seats=1_000)],
        floors=[Floor("f1", "lyon")],
        campaigns=[
            Campaign(
                id="support",
                organisation="acme",
                floor="f1",
                direction=Direction.INBOUND,
                activity="support",
            )
        ],
        teams=[
            Team(
                id=f"t{t}",
                campaign="support",
                agents=tuple(f"a{t * per_team + i}" for i in range(per_team)),
            )
            for t in range(teams)
        ],
        people=[Person(id=f"a{i}", role=Role.AGENT) for i in range(agents)],
    )


def _config(*, agents: int, queues: int, teams: int) -> CallCenterConfig:
    names = [f"q{i}" for i in range(queues)]
    flow = FlowBuilder("in", start="route").node("route", ToQueue(queue="q0")).build()
    return CallCenterConfig(
        flow=flow,
        queues=[Queue(name=n, offer_timeout=10.0, wrap_up=5.0) for n in names],
        seats=[
            Seat(
                agent=Agent(
                    id=f"a{i}",
                    skills={names[i % queues]: 3},
                    memberships=[Membership(names[i % queues])],
                ),
                device=f"sip:a{i}@phones",
            )
            for i in range(agents)
        ],
        announce=False,
        org=_org(agents, teams),
    )


async def _open(
    store: Store, *, agents: int, queues: int, teams: int
) -> AsyncIterator[tuple[CallCenter, VirtualBackend]]:
    clock = ManualClock(1_000.0)
    backend = VirtualBackend(clock)
    for i in range(agents):
        backend.add_phone(f"sip:a{i}@phones", PartyScript(answer_after=1.0))
    config = _config(agents=agents, queues=queues, teams=teams)
    async with open_call_center(
        backend, config, store=store, clock=clock, run_timers=False
    ) as center:
        yield center, backend


@pytest.fixture
async def small(store: Store) -> AsyncIterator[tuple[CallCenter, VirtualBackend]]:
    """Two agents (teams t0 and t1) serving q0, the queue every call goes to."""
    async for pair in _open(store, agents=2, queues=1, teams=2):
        yield pair


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_a_call_shows_on_metrics_of_the_web_app(
    small: tuple[CallCenter, VirtualBackend], store: Store
) -> None:
    """GET /metrics (no redirect) on the web app counts an answered call by queue and
    channel, puts its wait in the histogram, and shows each team's agents by state."""
    center, backend = small
    app = create_app(center, accounts=Accounts(store), metrics=create_metrics_app(center))
    await center.set_ready("a0", actor="a0")
    backend.inject_call("sip:+33142685399@trunk", "sip:in@center", PartyScript(talk_for=5.0))
    await run_virtual(center, backend, 10.0)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        answer = await client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    got = _samples(answer.text)
    q0 = (("queue", "q0"),)
    assert got["callcenter_contacts_total", (("outcome", "answered"), *q0)] == 1
    assert (
        got["callcenter_contacts_by_channel_total", (("channel", "voice"), ("outcome", "answered"))]
        == 1
    )
    assert got["callcenter_wait_seconds_count", (("outcome", "answered"), *q0)] == 1
    assert got["callcenter_queue_waiting", q0] == 0
    assert got["callcenter_agents", (("state", "wrap_up"), ("team", "t0"))] == 1
    assert got["callcenter_agents", (("state", "ready"), ("team", "t0"))] == 0
    assert got["callcenter_agents", (("state", "not_ready"), ("team", "t1"))] == 1
    assert got["callcenter_store_degraded", ()] == 0


def _enter(contact: str, queue: str, channel: Channel) -> ContactEnteredQueue:
    return ContactEnteredQueue(
        at=0.0, contact_id=contact, queue=queue, channel=channel, direction="inbound"
    )


async def test_waits_fall_in_buckets_and_the_store_outage_shows(
    small: tuple[CallCenter, VirtualBackend],
) -> None:
    """Waits land in the right cumulative buckets (bounds inclusive), abandons count
    as waits too (leaving with a key is an abandon, as in the records), time-outs do not;
    a store outage sets the gauge until it recovers."""
    center, _ = small
    metrics = CenterMetrics(center, buckets=(10.0, 20.0))
    metrics.see(1, _enter("c1", "q0", Channel.VOICE))
    metrics.see(
        2, ContactConnected(at=0.0, contact_id="c1", queue="q0", agent_id="a0", waited=10.0)
    )
    metrics.see(3, _enter("c2", "q0", Channel.CHAT))
    metrics.see(4, ContactAbandoned(at=0.0, contact_id="c2", queue="q0", waited=25.0))
    metrics.see(5, _enter("c3", "q0", Channel.CHAT))
    metrics.see(6, ContactTimedOut(at=0.0, contact_id="c3", queue="q0", waited=99.0))
    metrics.see(6, _enter("c4", "q0", Channel.VOICE))
    metrics.see(
        6, ContactExited(at=0.0, contact_id="c4", queue="q0", reason="exit-with-key", waited=3.0)
    )
    metrics.see(7, StoreDegraded(at=0.0, error="disk full", buffered=3))
    got = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in metrics.collect()
        for s in family.samples
    }
    answered, abandoned = (
        (("outcome", "answered"), ("queue", "q0")),
        (("outcome", "abandoned"), ("queue", "q0")),
    )
    assert got["callcenter_wait_seconds_bucket", (("le", "10.0"), *answered)] == 1
    assert got["callcenter_wait_seconds_bucket", (("le", "20.0"), *abandoned)] == 1
    assert got["callcenter_wait_seconds_bucket", (("le", "10.0"), *abandoned)] == 1  # the key
    assert got["callcenter_wait_seconds_bucket", (("le", "+Inf"), *abandoned)] == 2
    assert got["callcenter_wait_seconds_sum", abandoned] == 28.0
    assert (
        got["callcenter_contacts_by_channel_total", (("channel", "chat"), ("outcome", "timed_out"))]
        == 1
    )
    assert got["callcenter_store_degraded", ()] == 1
    assert got["callcenter_store_outages_total", ()] == 1
    metrics.see(8, StoreRecovered(at=1.0, down_for=1.0, written=3))
    after = {
        f.name: f.samples[0].value
        for f in metrics.collect()
        if f.name.startswith("callcenter_store")
    }
    assert after == {"callcenter_store_degraded": 0, "callcenter_store_outages": 1}
    metrics.close()


def _leave(how: int, contact: str, queue: str) -> Event:
    """The ``how``-th of the six ways out of a queue."""
    c, q = contact, queue
    return (
        ContactConnected(at=0, contact_id=c, queue=q, agent_id="a0", waited=1),
        ContactAbandoned(at=0, contact_id=c, queue=q, waited=700),
        Callback(at=0, contact_id=c, queue=q, number="+33912345678"),
        ContactExited(at=0, contact_id=c, queue=q, reason="full"),
        ContactOverflowed(at=0, contact_id=c, queue=q, target="voicemail"),
        ContactTimedOut(at=0, contact_id=c, queue=q, waited=9),
    )[how]


async def test_at_most_5000_series_at_1000_agents_and_100_queues(store: Store) -> None:
    """With 1,000 agents in 100 teams and 100 queues, and every queue having seen every
    outcome on every channel (the worst the traffic can do), a scrape has at most
    MAX_SERIES series: no label grows with contacts or agents."""
    async for center, _ in _open(store, agents=1_000, queues=100, teams=100):
        app = create_metrics_app(center)
        metrics = CenterMetrics(center)
        n = 0
        for q in range(100):
            for channel in Channel:
                for end in range(6):
                    n += 1
                    metrics.see(n, _enter(f"c{n}", f"q{q}", channel))
                    metrics.see(n, _leave(end, f"c{n}", f"q{q}"))
        series = sum(len(family.samples) for family in metrics.collect())
        assert 100 * 6 + len(Channel) * 6 + 100 * 2 * 11 + 100 * 6 <= series <= MAX_SERIES
        metrics.close()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            text = (await client.get("/")).text
        assert len(_samples(text)) <= MAX_SERIES
