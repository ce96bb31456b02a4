"""What the fence costs a cluster leader per assignment, on PostgreSQL.

A center opened with ``elector=`` commits every batch of decisions that offers
anything (the ``ContactOffered`` and every event before it) to the event log,
with the check that its term is current, before the phone rings or the desk
shows the offer. A single node rings at once. This benchmark opens the same
center both ways on one PostgreSQL schema each, with ``AGENTS`` agents (one
email at a time each) and as many emails waiting, and times one assignment:
``set_ready`` of an agent, which returns once the engine's offer to them has
been performed (for the leader: after its fenced commit). Then the same again
with every agent made ready at once (concurrent decisions share the event
writer's transactions), timed from the first ``set_ready`` to the last.

The figures are per assignment: median, p95 and max of the sequential
latency, and assignments per second when concurrent. ``added_p50_ms`` is the
leader's median less the single node's. Several rounds, interleaved.

Then what a takeover reads: a log of ``TAKEOVER_EVENTS`` agent-state and
offer events of 500 agents (each offer answered or timed out, as a day's
log holds them), read whole (``takeover_read_all_s``) and read back from
the end as a new leader does, a page at a time until every agent's last
idle state is in (``takeover_read_back_s``, the same pages and stop as
``CallCenter``'s takeover).

Run: ``CALLCENTER_TEST_POSTGRESQL_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test
.venv/bin/python benchmarks/bench_fence.py``.
"""

from __future__ import annotations

import functools
import json
import os
import statistics
import time

import anyio

from callcenter_sdk import Event, ManualClock
from callcenter_sdk.acd import (
    Agent,
    AgentStateChanged,
    Capacity,
    Contact,
    ContactOffered,
    Membership,
    OfferNotAnswered,
    Queue,
)
from callcenter_sdk.ivr import FlowBuilder, ToQueue
from callcenter_sdk.kpi import Channel
from callcenter_sdk.media import VirtualBackend
from callcenter_sdk.runtime import CallCenterConfig, DialPlan, Elector, Seat, open_call_center
from callcenter_sdk.runtime._takeover import KINDS, History, read_takeover
from callcenter_sdk.store import EventLog, Leases, Store, temporary_store

POSTGRESQL_URL = os.environ.get(
    "CALLCENTER_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
AGENTS = 200
ROUNDS = 3
TAKEOVER_EVENTS = 200_000


def _config() -> CallCenterConfig:
    flow = FlowBuilder("support", start="queue").node("queue", ToQueue(queue="support")).build()
    capacity = Capacity(limits={Channel.VOICE: 1, Channel.EMAIL: 1})
    return CallCenterConfig(
        flow=flow,
        queues=[Queue(name="support", offer_timeout=3600.0)],
        seats=[
            Seat(
                agent=Agent(
                    id=f"a{i}",
                    skills={"support": 3},
                    memberships=[Membership("support")],
                    capacity=capacity,
                ),
                device=f"sip:a{i}@phones",
            )
            for i in range(AGENTS)
        ],
        announce=False,
        dial_plan=DialPlan(allowed=[r"\+33\d{9}"], gateway="sip:{number}@carrier"),
    )


async def _assignments(store: Store, *, fenced: bool, concurrent: bool) -> list[float]:
    """Seconds per assignment (sequential), or the whole batch's seconds (concurrent)."""
    clock = ManualClock(1_000.0)
    async with anyio.create_task_group() as tg:
        elector = None
        if fenced:
            elector = Elector(Leases(store), "voice", "bench", ttl=30.0)
            await tg.start(elector.run)
            await elector.wait_leader()
        async with open_call_center(
            VirtualBackend(clock), _config(), store=store, clock=clock, run_timers=False,
            elector=elector,
        ) as center:  # fmt: skip
            for i in range(AGENTS):
                await center.receive(
                    Contact(id=f"m{i}", channel=Channel.EMAIL, caller_id=f"c{i}@x.org"), "support"
                )
            await center.settle()
            await center.writer.flush()
            times: list[float] = []
            if concurrent:
                started = time.perf_counter()
                async with anyio.create_task_group() as ready:
                    for i in range(AGENTS):
                        ready.start_soon(
                            functools.partial(center.set_ready, f"a{i}", actor=f"a{i}")
                        )
                times.append(time.perf_counter() - started)
            else:
                for i in range(AGENTS):
                    started = time.perf_counter()
                    await center.set_ready(f"a{i}", actor=f"a{i}")
                    times.append(time.perf_counter() - started)
            offered = center.engine.live_contacts()
            assert len(offered) == AGENTS, len(offered)
        tg.cancel_scope.cancel()
    return times


def _takeover_read() -> dict[str, float | int]:
    """Seconds to read a long log whole, and back to what a takeover needs."""
    agents = [f"a{i}" for i in range(500)]
    with temporary_store(POSTGRESQL_URL) as store:
        log = EventLog(store, durable=False, batch_size=5_000)
        for i in range(TAKEOVER_EVENTS // 4):
            agent, offer, contact = agents[i % len(agents)], f"o{i}", f"c{i}"
            log.append(
                ContactOffered(
                    at=float(i), contact_id=contact, queue="q", agent_id=agent, offer_id=offer,
                    expires_at=i + 15.0,
                )
            )  # fmt: skip
            log.append(AgentStateChanged(at=float(i), agent_id=agent, state="reserved",
                                         previous="ready"))  # fmt: skip
            log.append(OfferNotAnswered(at=float(i), contact_id=contact, queue="q",
                                        agent_id=agent, offer_id=offer))  # fmt: skip
            log.append(AgentStateChanged(at=float(i), agent_id=agent, state="ready",
                                         previous="reserved"))  # fmt: skip
        log.flush()
        end = log.last_seq()
        started = time.perf_counter()
        read_takeover(e.event for e in log.read(kinds=KINDS, since=0.0))
        whole = time.perf_counter() - started
        started = time.perf_counter()
        history = History(agents, horizon=TAKEOVER_EVENTS / 4 - 15.0 - 120.0)
        events: list[Event] = []
        before, done = end + 1, False
        while not done:
            page = log.read_back(before=before, limit=2_000, kinds=KINDS, since=0.0)
            for logged in page:
                events.append(logged.event)
                if history.feed(logged.event):
                    done = True
                    break
            done = done or len(page) < 2_000
            before = page[-1].seq if page else before
        read_takeover(reversed(events))
        back = time.perf_counter() - started
    return {
        "takeover_events": TAKEOVER_EVENTS,
        "takeover_read_all_s": round(whole, 3),
        "takeover_read_back_s": round(back, 3),
        "takeover_read_back_events": len(events),
    }


async def main() -> None:
    """Interleave rounds of the single node and the leader; print the figures as JSON."""
    sequential: dict[bool, list[float]] = {False: [], True: []}
    batch: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(ROUNDS):
        for fenced in (False, True):
            with temporary_store(POSTGRESQL_URL) as store:
                sequential[fenced] += await _assignments(store, fenced=fenced, concurrent=False)
            with temporary_store(POSTGRESQL_URL) as store:
                batch[fenced] += await _assignments(store, fenced=fenced, concurrent=True)

    def figures(fenced: bool) -> dict[str, float]:
        times = sorted(sequential[fenced])
        return {
            "p50_ms": round(statistics.median(times) * 1000, 3),
            "p95_ms": round(times[int(len(times) * 0.95)] * 1000, 3),
            "max_ms": round(times[-1] * 1000, 3),
            "concurrent_per_s": round(AGENTS / statistics.median(batch[fenced]), 1),
        }

    single, leader = figures(False), figures(True)
    print(
        json.dumps(
            {
                "agents": AGENTS,
                "rounds": ROUNDS,
                "single_node": single,
                "leader": leader,
                "added_p50_ms": round(leader["p50_ms"] - single["p50_ms"], 3),
                **_takeover_read(),
            }
        )
    )


if __name__ == "__main__":
    anyio.run(main)
