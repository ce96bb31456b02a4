"""One cluster node for ``test_adopt_written.py``: an Elector, and a center in each term.

Usage: ``python tests/cluster/adopt_node.py URL SCHEMA NODE TTL``

The node runs an :class:`~callcenter_sdk.runtime.Elector` for the domain
``chat`` and, in each term it leads, ``open_call_center(..., elector=)`` on
the virtual backend paced on the wall clock. Two agents (``a1``, ``a2``; two
chats each) sit at phones that never answer. Lines printed (flushed at once):

* ``ready NODE`` once the elector runs;
* ``leading NODE EPOCH a1=STATE:CONTACTS a2=...`` once the term's center is
  open (what the takeover gave each agent back);
* in the first term, ``connected NODE EPOCH a1 chat-1`` once ``a1`` has taken
  the chat at the desk and ``a2`` is ready (everything written);
* in a later term, ``disposed NODE EPOCH AGENT CONTACT STATE`` for each
  contact an agent has in hand, disposed of by that agent (``STATE``: theirs
  after it), then ``written NODE EPOCH`` once the log and the ledger hold it.
"""

from __future__ import annotations

import sys
import time

import anyio

from callcenter_sdk import ManualClock
from callcenter_sdk.acd import Agent, Capacity, Contact, Membership, Queue, RoutingPolicy
from callcenter_sdk.ivr import FlowBuilder, ToQueue
from callcenter_sdk.kpi import Channel
from callcenter_sdk.media import PartyScript, VirtualBackend
from callcenter_sdk.runtime import (
    CallCenter,
    CallCenterConfig,
    Elector,
    Seat,
    open_call_center,
    run_virtual,
)
from callcenter_sdk.store import Lease, Leases, create_store

AGENTS = ("a1", "a2")
PACE = 0.05
"""Seconds between two steps of virtual time (it follows the wall clock)."""


def say(*words: object) -> None:
    """Print one line of the protocol and flush it, so the test sees it at once."""
    print(*words, flush=True)


def config() -> CallCenterConfig:
    """Two agents of one queue, two chats each; offers ring for an hour, 30 s wrap-up."""
    flow = FlowBuilder("support", start="queue").node("queue", ToQueue(queue="support")).build()
    capacity = Capacity(limits={Channel.VOICE: 1, Channel.CHAT: 2})
    return CallCenterConfig(
        flow=flow,
        queues=[Queue(name="support", offer_timeout=3600.0, wrap_up=30.0)],
        seats=[
            Seat(
                agent=Agent(id=agent, memberships=[Membership("support")], capacity=capacity),
                device=f"sip:{agent}@phones",
            )
            for agent in AGENTS
        ],
        announce=False,
        policy=RoutingPolicy(max_missed_offers=1_000_000, missed_offer_delay=0.0),
    )


def _states(center: CallCenter) -> str:
    parts = []
    for agent in AGENTS:
        status = center.engine.agent_status(agent)
        parts.append(f"{agent}={status.state.value}:{'+'.join(status.contacts)}")
    return " ".join(parts)


async def _written(center: CallCenter) -> None:
    await center.writer.flush()
    await center.ledger.drained()


async def term(elector: Elector, lease: Lease, url: str, schema: str) -> None:
    """Lead one term: open the center, play this term's part, pace virtual time until killed."""
    store = create_store(url, schema=schema, upgrade=False)
    clock = ManualClock(time.time())
    backend = VirtualBackend(clock)
    for agent in AGENTS:
        backend.add_phone(f"sip:{agent}@phones", PartyScript(answer_after=None))
    async with open_call_center(
        backend, config(), store=store, clock=clock, run_timers=False, elector=elector
    ) as center:
        say("leading", elector.node, lease.epoch, _states(center))
        if lease.epoch == 1:
            await center.set_ready("a1", actor="a1")
            await center.receive(Contact(id="chat-1", channel=Channel.CHAT), "support")
            taken = await center.accept("a1", actor="a1")
            await center.set_ready("a2", actor="a2")
            await run_virtual(center, backend, 0.0)
            await _written(center)
            say("connected", elector.node, lease.epoch, "a1", taken)
        else:
            for agent in AGENTS:
                for contact_id in center.engine.agent_status(agent).contacts:
                    await center.dispose(contact_id, "solved", actor=agent)
                    state = center.engine.agent_status(agent).state.value
                    say("disposed", elector.node, lease.epoch, agent, contact_id, state)
            await run_virtual(center, backend, 0.0)
            await _written(center)
            say("written", elector.node, lease.epoch)
        last = time.monotonic()
        while True:
            await anyio.sleep(PACE)
            now = time.monotonic()
            await run_virtual(center, backend, now - last)
            last = now


async def main(arguments: list[str]) -> None:
    """Run the elector, and a center in each term, until killed."""
    url, schema, node, ttl_text = arguments
    leases = Leases(create_store(url, schema=schema, upgrade=False))
    elector = Elector(leases, "chat", node, ttl=float(ttl_text))

    async def work(lease: Lease) -> None:
        await term(elector, lease, url, schema)

    async with anyio.create_task_group() as tg:
        await tg.start(elector.run)
        say("ready", node)
        tg.start_soon(elector.lead, work)


if __name__ == "__main__":
    anyio.run(main, sys.argv[1:])
