"""One call-center cluster node for the fenced-offer tests: an Elector, and a center in each term.

Usage: ``python tests/cluster/center_node.py URL SCHEMA NODE TTL SCENARIO``

The node runs an :class:`~callcenter_sdk.runtime.Elector` for the domain
``voice`` and, in each term it leads, ``open_call_center(..., elector=)`` on
the virtual backend, its time paced on the wall clock as ``callcenter serve
--virtual`` does. Three agents (``a1``-``a3``, one voice call or one email at
a time) sit at their own phones, which never answer. Lines printed (flushed
at once):

* ``ready NODE`` once the elector runs;
* ``gained NODE EPOCH`` / ``lost NODE EPOCH REASON`` as terms start and end;
* ``leading NODE EPOCH STATES`` once the term's center is open, with each
  agent's state then (``a1=ready,a2=reserved,...``: what the takeover resumed);
* ``rang NODE EPOCH DEVICE CONTACT T`` each time the center dials an agent's
  phone (``T``: ``time.monotonic()``, one clock for every process here);
* ``ticked NODE EPOCH N`` after the term published its N-th probe event (below);
* ``seeded NODE EPOCH`` once the term's scenario is set up.

Scenarios, set up once per term:

* ``voice``: three callers dial in (ids ``NODE-...``, unique across nodes);
  offers time out after 1 s unanswered and are made again, so phones ring all
  the time. The term also publishes a probe event (kind ``test.node_tick``,
  with node and epoch) every 50 ms, as any event of its term would be logged.
* ``email``: in the first term only, three emails arrive; offers ring for an
  hour, so they are still in flight when the leader dies.

Agents are made ready in the first term; later terms resume them from the log.
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Mapping
from typing import ClassVar

import anyio
import attrs

from callcenter_sdk import Event, ManualClock
from callcenter_sdk.acd import (
    Agent,
    AgentState,
    Capacity,
    Contact,
    Membership,
    Queue,
    RoutingPolicy,
)
from callcenter_sdk.ivr import FlowBuilder, ToQueue
from callcenter_sdk.kpi import Channel
from callcenter_sdk.media import PartyScript, VirtualBackend
from callcenter_sdk.runtime import (
    CallCenter,
    CallCenterConfig,
    DialPlan,
    Elector,
    Seat,
    open_call_center,
    run_virtual,
)
from callcenter_sdk.store import Lease, Leases, create_store

AGENTS = ("a1", "a2", "a3")
PACE = 0.05
"""Seconds between two steps of virtual time (it follows the wall clock)."""


def say(*words: object) -> None:
    """Print one line of the protocol and flush it, so the test sees it at once."""
    print(*words, flush=True)


@attrs.frozen(kw_only=True)
class NodeTick(Event):
    """A probe a leading node publishes: which node and epoch wrote what is after it.

    Attributes:
        node: The node.
        epoch: Its term.
        n: The probe's number in the term.
    """

    kind: ClassVar[str] = "test.node_tick"
    node: str
    epoch: int
    n: int


class RingingBackend(VirtualBackend):
    """The virtual backend, reporting each agent's phone it dials; call ids unique per node."""

    def __init__(self, clock: ManualClock, node: str) -> None:
        super().__init__(clock)
        self.node = node
        self.epoch = 0
        self._numbers = itertools.count(1)

    def _new_id(self) -> str:
        return f"{self.node}-{next(self._numbers)}"

    async def originate(
        self,
        uri: str,
        *,
        caller_id: str | None = None,
        near: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        say("rang", self.node, self.epoch, uri, near, f"{time.monotonic():.6f}")
        return await super().originate(uri, caller_id=caller_id, near=near, headers=headers)


def config(scenario: str) -> CallCenterConfig:
    """Three agents on one queue; short unanswered offers for voice, hour-long ones for email."""
    flow = FlowBuilder("support", start="queue").node("queue", ToQueue(queue="support")).build()
    capacity = Capacity(limits={Channel.VOICE: 1, Channel.EMAIL: 1})
    timeout = 1.0 if scenario == "voice" else 3600.0
    return CallCenterConfig(
        flow=flow,
        queues=[Queue(name="support", offer_timeout=timeout)],
        seats=[
            Seat(
                agent=Agent(
                    id=agent,
                    skills={"support": 3},
                    memberships=[Membership("support")],
                    capacity=capacity,
                ),
                device=f"sip:{agent}@phones",
            )
            for agent in AGENTS
        ],
        announce=False,
        dial_plan=DialPlan(allowed=[r"\+33\d{9}"], gateway="sip:{number}@carrier"),
        # unanswered offers never pause or rest the agents: their phones ring on and on
        policy=RoutingPolicy(max_missed_offers=1_000_000, missed_offer_delay=0.0),
    )


async def term(elector: Elector, lease: Lease, store_url: str, schema: str, scenario: str) -> None:
    """Lead one term: open the center, set the scenario up, pace virtual time until cancelled."""
    store = create_store(store_url, schema=schema, upgrade=False)
    clock = ManualClock(time.time())
    backend = RingingBackend(clock, elector.node)
    backend.epoch = lease.epoch
    for agent in AGENTS:
        backend.add_phone(f"sip:{agent}@phones", PartyScript(answer_after=None))
    async with open_call_center(
        backend, config(scenario), store=store, clock=clock, run_timers=False, elector=elector
    ) as center:
        states = ",".join(f"{a}={center.engine.agent_status(a).state.value}" for a in AGENTS)
        say("leading", elector.node, lease.epoch, states)
        await seed(center, backend, lease, scenario)
        say("seeded", elector.node, lease.epoch)
        ticks = itertools.count(1)
        last = time.monotonic()
        while True:
            await anyio.sleep(PACE)
            now = time.monotonic()
            await run_virtual(center, backend, now - last)
            last = now
            if scenario == "voice":
                n = next(ticks)
                center.events.publish(
                    NodeTick(at=clock.now(), node=elector.node, epoch=lease.epoch, n=n)
                )
                say("ticked", elector.node, lease.epoch, n)


async def seed(center: CallCenter, backend: VirtualBackend, lease: Lease, scenario: str) -> None:
    """Make the agents ready (first term) and bring this term's contacts."""
    if lease.epoch == 1:
        for agent in AGENTS:
            await center.set_ready(agent, actor=agent)
    if scenario == "voice":
        for i in range(3):
            backend.inject_call(f"sip:+3361234560{i}@x", "sip:support@c")
    elif lease.epoch == 1:
        for i in range(3):
            contact = Contact(id=f"mail-{i}", channel=Channel.EMAIL, caller_id=f"c{i}@x.org")
            await center.receive(contact, "support")
            await backend.advance(0.01)  # each arrives after the one before
    await run_virtual(center, backend, 0.0)
    await center.writer.flush()
    if scenario == "email" and lease.epoch == 1:
        busy = [a for a in AGENTS if center.engine.agent_status(a).state is AgentState.RESERVED]
        say("offered", len(busy))


async def main(arguments: list[str]) -> None:
    """Run the elector, and a center in each term, until killed."""
    url, schema, node, ttl_text, scenario = arguments
    leases = Leases(create_store(url, schema=schema, upgrade=False))

    def gained(lease: Lease) -> None:
        say("gained", node, lease.epoch)

    def lost(lease: Lease, reason: str) -> None:
        say("lost", node, lease.epoch, reason)

    elector = Elector(leases, "voice", node, ttl=float(ttl_text), on_gained=gained, on_lost=lost)

    async def work(lease: Lease) -> None:
        await term(elector, lease, url, schema, scenario)

    async with anyio.create_task_group() as tg:
        await tg.start(elector.run)
        say("ready", node)
        tg.start_soon(elector.lead, work)


if __name__ == "__main__":
    anyio.run(main, sys.argv[1:])
