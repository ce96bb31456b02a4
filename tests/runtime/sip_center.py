"""A call center on real SIP in its own process, for the SIP crash test (a script).

``python sip_center.py MODE URL DESK PROMPTS RTP_BASE``: the hotline's flow and
queues on a one-worker pjsua2 pool behind the redirect front door, its agents'
phones at ``DESK`` (``alice`` takes billing, ``bob`` internet), callbacks on key 1
through the gateway at ``DESK``, short prompts from ``PROMPTS``, the store at
``URL``. ``take``: bob is ready; ``serve``: alice is ready. Prints one JSON line
per fact, flushed: ``{"front": address}`` once it takes calls, then
``{"queued": contact}`` as callers enter a queue, ``{"promised": contact}``
after each callback is stored and kept,
``{"connected": contact, "agent": id}`` as calls connect. Runs until killed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import anyio
import attrs

from callcenter_sdk import Event, WallClock
from callcenter_sdk.acd import (
    Agent,
    ContactCallbackRequested,
    ContactConnected,
    ContactEnteredQueue,
    Membership,
    Queue,
)
from callcenter_sdk.ivr import load_flow
from callcenter_sdk.media import create_media_pool, create_redirect_front
from callcenter_sdk.runtime import CallCenterConfig, DialPlan, Seat, open_call_center
from callcenter_sdk.store import create_store

FLOW = Path(__file__).parents[2] / "examples" / "hotline" / "flow.toml"


def _say(**fields: object) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def _watch(_seq: int, event: Event) -> None:
    if isinstance(event, ContactEnteredQueue):
        _say(queued=event.contact_id)
    elif isinstance(event, ContactCallbackRequested):
        _say(promised=event.contact_id)
    elif isinstance(event, ContactConnected):
        _say(connected=event.contact_id, agent=event.agent_id)


async def main(mode: str, url: str, desk: str, prompts: str, rtp_base: int) -> None:
    """Run the center until killed."""
    flow = load_flow(FLOW)
    seats = [
        Seat(
            agent=Agent(id=name, skills={skill: 2}, memberships=[Membership(skill)]),
            device=f"sip:{name}@{desk}",
        )
        for name, skill in (("alice", "billing"), ("bob", "internet"))
    ]
    config = CallCenterConfig(
        flow=attrs.evolve(flow, prompt_dirs=(Path(prompts), *flow.prompt_dirs)),
        queues=[Queue(name=q) for q in ("internet", "tv", "billing", "general")],
        seats=seats,
        announce=False,
        callback_key="1",
        dial_plan=DialPlan(allowed=[r"\+331\d{8}"], gateway=f"sip:{{number}}@{desk}"),
    )
    store = create_store(url)
    async with (
        create_media_pool(1, rtp_port_base=rtp_base) as pool,
        create_redirect_front(pool) as front,
        open_call_center(pool, config, store=store, clock=WallClock()) as center,
    ):
        center.subscribe(_watch)
        agent = "bob" if mode == "take" else "alice"
        await center.set_ready(agent, actor=agent)
        _say(front=front.address)
        await anyio.sleep_forever()


if __name__ == "__main__":
    anyio.run(main, sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
