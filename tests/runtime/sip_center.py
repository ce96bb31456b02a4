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

Imported, it also lends the SIP tests their helpers: :class:`Watch` (the
center's events, waited on by predicate), :func:`billing_center`,
:func:`call_billing` (a caller through the IVR to billing) and
:func:`record_hearing` (what each phone hears, measured at once).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

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
from callcenter_sdk.media import (
    CallAnswered,
    CallMediaActive,
    MediaEventLog,
    MediaPool,
    RecordingFinished,
    Tone,
    call_is,
    create_media_pool,
    create_redirect_front,
)
from callcenter_sdk.runtime import CallCenterConfig, DialPlan, Seat, open_call_center
from callcenter_sdk.store import create_store

FLOW = Path(__file__).parents[2] / "examples" / "hotline" / "flow.toml"

CALLER_HZ, AGENT_HZ, SUPERVISOR_HZ = 1000, 1600, 2200
"""The tone each party plays, so a recording tells whom a phone heard."""

_E = TypeVar("_E", bound=Event)


class Watch:
    """Every event a call center publishes, with waits on a predicate (never on time).

    Subscribe it (``center.subscribe(watch)``); :meth:`wait` returns the first
    event seen so far that matches, or the next one to come.
    """

    def __init__(self) -> None:
        self.seen: list[Event] = []
        self._changed = anyio.Event()

    def __call__(self, _seq: int, event: Event) -> None:
        self.seen.append(event)
        self._changed.set()
        self._changed = anyio.Event()

    async def wait(self, kind: type[_E], where: Callable[[_E], bool] = lambda _: True) -> _E:
        """The first event of ``kind`` matching ``where`` (bound it with ``anyio.fail_after``)."""
        index = 0
        while True:
            while index < len(self.seen):
                event = self.seen[index]
                index += 1
                if isinstance(event, kind) and where(event):
                    return event
            await self._changed.wait()

    def of(self, kind: type[_E]) -> list[_E]:
        """Every event of ``kind`` seen so far."""
        return [e for e in self.seen if isinstance(e, kind)]


def billing_center(desk: str, *agents: str) -> CallCenterConfig:
    """The hotline's flow and queues, with billing agents whose phones are at ``desk``."""
    seats = [
        Seat(
            agent=Agent(id=name, skills={"billing": 2}, memberships=[Membership("billing")]),
            device=f"sip:{name}@{desk}",
        )
        for name in agents
    ]
    return CallCenterConfig(
        flow=load_flow(FLOW),
        queues=[Queue(name=q) for q in ("internet", "tv", "billing", "general")],
        seats=seats,
        announce=False,
    )


async def call_billing(
    phones: MediaPool, log: MediaEventLog, address: str, caller_id: str | None = None
) -> str:
    """A caller dials the front door and, once their media flows, types account 4242,
    ``#`` and "3" (billing) ahead of the prompts, then speaks (:data:`CALLER_HZ`);
    return their leg. The center's DTMF buffer keeps the keys for the IVR."""
    caller = await phones.originate(f"sip:hotline@{address}", caller_id=caller_id)
    await log.wait(CallAnswered, call_is(caller))
    await log.wait(CallMediaActive, call_is(caller))
    await phones.send_dtmf(caller, "4242#3")
    await phones.play(caller, Tone((CALLER_HZ,)))
    return caller


async def record_hearing(
    phones: MediaPool,
    log: MediaEventLog,
    legs: Mapping[str, str],
    folder: Path,
    *,
    seconds: float = 1.5,
) -> dict[str, Path]:
    """Record what each phone leg (named by who holds it) hears over the same window.

    The window is a measurement, not a wait: callers wait for the state they
    measure (a join, a leg ended) before calling this.
    """
    files = {who: folder / f"{who}-{leg.replace(':', '_')}.wav" for who, leg in legs.items()}
    for who, leg in legs.items():
        await phones.start_recording(leg, str(files[who]))
    await anyio.sleep(seconds)
    for leg in legs.values():
        await phones.stop_recording(leg)
        await log.wait(RecordingFinished, call_is(leg))
    return files


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
