"""A running ACME center on the virtual backend with its web app, and helpers to drive both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import httpx
import pytest
from starlette.applications import Starlette

from callcenter_sdk import ManualClock
from callcenter_sdk.acd import Agent, Capacity, Membership, Queue
from callcenter_sdk.dialer import load_questionnaire
from callcenter_sdk.ivr import FlowBuilder, ToQueue
from callcenter_sdk.kpi import Channel
from callcenter_sdk.media import PartyScript, VirtualBackend
from callcenter_sdk.org import load_org
from callcenter_sdk.runtime import (
    CallCenter,
    CallCenterConfig,
    DialPlan,
    Position,
    Seat,
    open_call_center,
    run_virtual,
)
from callcenter_sdk.store import Accounts, Store
from callcenter_sdk.web import create_app

ROOT = Path(__file__).parents[2]
ACME = load_org(ROOT / "examples" / "org" / "acme.toml")
SCRIPT = load_questionnaire(ROOT / "examples" / "hotline" / "script.toml")
"""The hotline's support script, followed on the hotline's calls."""
AGENTS = ("ag.alice", "ag.farid", "ag.karim")
"""Seated: alice (team hotline-a), farid (hotline-b, inside hotline-a), karim (orders)."""
PASSWORD = "correct horse battery"  # noqa: S105 - the test accounts' password
PEOPLE = (
    *AGENTS,
    "sup.lambert",
    "tl.andre",
    "an.fournier",
    "pm.mercier",
    "d.moreau",
    "adm.petit",
    "fm.bernard",
    "fm.garcia",
)


CUSTOMER = "+33912345678"
"""A number the center's dial plan allows (``+339...``; every other number is refused)."""

POSITIONS = (30, 31)
"""Seats of the lyon center with a phone, not allocated to any campaign at first."""


def _seat(agent_id: str) -> Seat:
    queue = "orders" if agent_id == "ag.karim" else "hotline"
    capacity = Capacity(limits={Channel.VOICE: 1, Channel.EMAIL: 1})  # e-mail: desk work
    agent = Agent(
        id=agent_id, skills={queue: 3}, memberships=[Membership(queue)], capacity=capacity
    )
    return Seat(agent=agent, device=f"sip:{agent_id}@phones")


@attrs.define
class Rig:
    """A center, its virtual backend, its app and an in-process client."""

    center: CallCenter
    backend: VirtualBackend
    app: Starlette
    accounts: Accounts

    def client(self) -> httpx.AsyncClient:
        """A fresh client (its own cookie jar) talking to the app in-process."""
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://testserver"
        )

    async def call(self, agent: str, *, talk_for: float | None = 5.0) -> str:
        """A caller of the hotline is answered by ``agent`` (made ready for it) and talks
        ``talk_for`` s then hangs up (``None``: stays on the line); return the contact id."""
        await self.center.set_ready(agent, actor=agent)
        call = self.backend.inject_call(
            "sip:+33142685399@trunk", "sip:hotline@center", PartyScript(talk_for=talk_for)
        )
        await run_virtual(self.center, self.backend, 10.0 if talk_for is not None else 3.0)
        assert self.center.access.handler(call) == agent
        return call

    async def run(self, seconds: float) -> None:
        """Move the center's virtual time forward."""
        await run_virtual(self.center, self.backend, seconds)

    async def login(self, client: httpx.AsyncClient, person: str) -> str:
        """Log ``person`` in on ``client`` (cookie session), send the CSRF token from now on."""
        answer = await client.post("/api/login", json={"person": person, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        token = answer.json()["csrf_token"]
        assert isinstance(token, str)
        client.headers["X-CSRF-Token"] = token
        return token


def _config() -> CallCenterConfig:
    flow = FlowBuilder("acme", start="route").node("route", ToQueue(queue="hotline")).build()
    return CallCenterConfig(
        flow=flow,
        queues=[
            Queue(name="hotline", offer_timeout=10.0, wrap_up=600.0),
            Queue(name="orders", offer_timeout=10.0, wrap_up=600.0),
        ],
        seats=[_seat(a) for a in AGENTS],
        announce=False,
        org=ACME,
        positions=[Position("lyon", n, f"sip:pos{n}@lyon") for n in POSITIONS],
        campaigns={"hotline": "acme-hotline", "orders": "acme-orders"},
        dial_plan=DialPlan(allowed=[r"\+339\d{8}"], gateway="sip:{number}@trunk"),
        scripts={"acme-hotline": SCRIPT},
    )


@pytest.fixture
async def rig(store: Store) -> AsyncIterator[Rig]:
    """The ACME center with alice, farid and karim seated, every person of PEOPLE with PASSWORD."""
    clock = ManualClock(1_000.0)
    backend = VirtualBackend(clock)
    for agent in AGENTS:
        backend.add_phone(f"sip:{agent}@phones", PartyScript(answer_after=1.0))
    for n in POSITIONS:
        backend.add_phone(f"sip:pos{n}@lyon", PartyScript(answer_after=1.0))
    accounts = Accounts(store)
    for person in PEOPLE:
        accounts.set_password(person, PASSWORD, at=clock.now())
    async with open_call_center(
        backend, _config(), store=store, clock=clock, run_timers=False
    ) as center:
        app = create_app(center, accounts=accounts, poll=0.05)
        async with app.router.lifespan_context(app):
            yield Rig(center, backend, app, accounts)
