"""A running call center for the crash loop of ``bench_recovery.py`` (run as a script).

``python recovery_center.py MODE URL SCHEMA SEED``

The center runs on the virtual media backend, driven in virtual time that
starts at the wall clock (so a restarted process continues the same time
line), on the store at ``URL`` (``SCHEMA``: a PostgreSQL schema, ``-`` for
none). Every line it prints is one JSON object, flushed at once, and says
only what is already committed:

* ``take``: 60 callers arrive, one every 3 s; nobody is ready, so they
  wait; most press the callback key and hang up after the confirmation
  (``{"promised": id, "number": ..., "entered": ...}`` once the ACD kept their
  place, which it does only after the store committed the callback); one
  agent takes the others (``{"ticket": id}`` once a ticket is opened). The
  loop's parent kills the process with SIGKILL at a random moment.
* ``serve``: the same center starts again (``{"ready": seconds}`` once it
  restored its promises), one agent is ready and calls back every kept
  callback (``{"called": stored id, "offered": n}`` when the customer
  answers, before they talk), and prints ``{"idle": true}`` once no callback
  waits. Also killed at random, and restarted until idle.
"""

from __future__ import annotations

import json
import sys
import time

import anyio

from callcenter_sdk import ManualClock, create_plugin_host
from callcenter_sdk.acd import (
    Agent,
    ContactCallbackRequested,
    ContactConnected,
    ContactOffered,
    Membership,
    Queue,
)
from callcenter_sdk.ivr import FlowBuilder, Menu, ToQueue
from callcenter_sdk.media import PartyScript, VirtualBackend
from callcenter_sdk.runtime import (
    CallCenterConfig,
    DialPlan,
    Seat,
    open_call_center,
    run_virtual,
)
from callcenter_sdk.store import create_store
from callcenter_sdk.tickets import TicketOpened

CALLERS = 60
GATEWAY = "sip:{number}@carrier"


def _number(i: int) -> str:
    return f"+3314268{i:04d}"


def _config() -> CallCenterConfig:
    flow = (
        FlowBuilder("crash", start="menu")
        .node("menu", Menu(prompts=["welcome"], options={"1": "queue"}, on_failure="queue"))
        .node("queue", ToQueue(queue="support"))
        .build()
    )
    seats = [
        Seat(
            agent=Agent(id=name, skills={"support": 3}, memberships=[Membership("support")]),
            device=f"sip:{name}@phones",
        )
        for name in ("ana", "bob")
    ]
    return CallCenterConfig(
        flow=flow,
        queues=[Queue(name="support", offer_timeout=10.0, wrap_up=1.0, max_length=200)],
        seats=seats,
        announce=False,
        lookup_budget=5.0,
        callback_key="1",
        dial_plan=DialPlan(allowed=[r"\+33\d{9}"], per_number_per_hour=5, gateway=GATEWAY),
    )


def _say(**fields: object) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


async def main(mode: str, url: str, schema: str, seed: int) -> None:
    """Run the center in ``mode`` (``take`` or ``serve``) until killed or idle."""
    started = time.monotonic()
    store = create_store(url, schema=None if schema == "-" else schema)
    clock = ManualClock(time.time())
    backend = VirtualBackend(clock)
    for name in ("ana", "bob"):
        backend.add_phone(f"sip:{name}@phones", PartyScript(answer_after=1.0, talk_for=None))
    for i in range(CALLERS):
        customer = PartyScript(answer_after=2.0, talk_for=5.0)
        backend.add_phone(GATEWAY.format(number=_number(i)), customer)
    host = create_plugin_host()
    offered: dict[str, int] = {}
    promised: set[str] = set()

    def watch(_seq: int, event: object) -> None:
        if isinstance(event, ContactCallbackRequested):
            promised.add(event.contact_id)
            _say(promised=event.contact_id, number=event.number, entered=event.at)
        elif isinstance(event, TicketOpened):
            _say(ticket=event.ticket_id)
        elif isinstance(event, ContactOffered):
            offered[event.contact_id] = offered.get(event.contact_id, 0) + 1
        elif isinstance(event, ContactConnected) and (
            "/" in event.contact_id or event.contact_id in promised
        ):  # a restored callback ("<stored id>/<run>"), or one promised in this run
            # a restored callback's id is "<leg>@<run>/<run>": the leg is what was promised
            stored = event.contact_id.split("/", 1)[0].split("@", 1)[0]
            _say(called=stored, offered=offered.get(event.contact_id, 0))

    center_cm = open_call_center(
        backend, _config(), store=store, clock=clock, run_timers=False, plugins=host
    )
    async with center_cm as center:
        center.subscribe(watch)
        _say(ready=time.monotonic() - started, restored=len(center.engine.live_contacts()))
        if mode == "take":
            await center.set_ready("ana", actor="ana")
            for i in range(CALLERS):
                wants_callback = (i + seed) % 4 != 0
                press = [(0.5, "1")] + ([(4.0, "1")] if wants_callback else [])
                backend.inject_call(
                    f"sip:{_number(i)}@trunk",
                    "sip:support@center",
                    PartyScript(press=press, talk_for=20.0),
                    after=3.0 * i,
                )
            while True:  # until killed
                await run_virtual(center, backend, 1.0)
                await anyio.sleep(0.005)  # let the parent's kill land at varied points
        else:
            await center.set_ready("bob", actor="bob")
            while True:
                await run_virtual(center, backend, 1.0)
                await anyio.sleep(0.005)
                waiting = await center.ledger.read(center.ledger.work.callbacks)
                if not waiting and not center.engine.live_contacts():
                    _say(idle=True)
                    return


if __name__ == "__main__":
    anyio.run(main, sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
