"""The agent desktop and the wallboard in Chromium over real SIP.

The center runs on a one-worker pjsua2 pool behind the redirect front door,
in wall time; the customer's phone, the agent's position phone and the
supervisor's phone are legs of a second pjsua2 pool (real SIP user agents on
loopback, with real RTP). The pages only see the HTTP API and its live
events, as with any other center. The test answers the position's phone
through that pool, and checks the supervisor's Listen by what their phone
hears: each party plays its own tone.
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import anyio
import attrs
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from playwright.sync_api import expect

from callcenter_sdk import WallClock
from callcenter_sdk.acd import Agent, AgentState, Membership, Queue
from callcenter_sdk.cti import Customer
from callcenter_sdk.ivr import FlowBuilder, ToQueue
from callcenter_sdk.media import (
    CallAnswered,
    CallIncoming,
    CallMediaActive,
    MediaEventLog,
    MediaPool,
    RecordingFinished,
    Tone,
    call_is,
    create_media_pool,
    create_redirect_front,
    has_tone,
    read_wav,
    tone_level,
)
from callcenter_sdk.runtime import (
    CallCenter,
    CallCenterConfig,
    MonitoringStarted,
    Position,
    Seat,
    open_call_center,
)
from callcenter_sdk.store import Accounts, create_store

from .conftest import ACME, CALLER, PASSWORD, screenshot, serve

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(
        importlib.util.find_spec("pjsua2") is None,
        reason="pjsua2 is not installed (pip install pjsua2-python)",
    ),
]

expect.set_options(timeout=30_000)  # a loaded 2-core machine
CALLER_HZ, AGENT_HZ, SUPERVISOR_HZ = 1000, 1600, 2200
"""The tone each party plays, so a recording tells whom a phone heard."""

T = TypeVar("T")


@attrs.define
class SipCenter:
    """The running center, the pool holding everyone's phones, and the server's URL."""

    center: CallCenter
    phones: MediaPool
    log: MediaEventLog
    front: str
    desk: str
    url: str
    portal: BlockingPortal

    def run(self, function: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run ``await function(*args)`` on the center's event loop."""
        return self.portal.call(function, *args)


def _config(desk: str) -> CallCenterConfig:
    flow = FlowBuilder("acme", start="route").node("route", ToQueue(queue="hotline")).build()
    alice = Agent(id="ag.alice", skills={"hotline": 3}, memberships=[Membership("hotline")])
    return CallCenterConfig(
        flow=flow,
        queues=[Queue(name="hotline", offer_timeout=30.0, wrap_up=120.0)],
        seats=[Seat(agent=alice, device="")],
        announce=False,
        org=ACME,
        positions=[Position("lyon", 1, f"sip:pos1@{desk}")],
        campaigns={"hotline": "acme-hotline"},
    )


@contextlib.asynccontextmanager
async def _serving(
    db: Path,
) -> AsyncIterator[tuple[CallCenter, MediaPool, MediaEventLog, str, str, str]]:
    from callcenter_sdk.web import create_app

    clock = WallClock()
    store = create_store(f"sqlite:///{db}")
    accounts = Accounts(store)
    for person in ("ag.alice", "sup.lambert"):
        accounts.set_password(person, PASSWORD, at=clock.now())
    async with (
        create_media_pool(1) as center_pool,
        create_redirect_front(center_pool) as front,
        create_media_pool(1) as phones,
    ):
        desk = phones.workers[0].address
        log = MediaEventLog(phones.events())
        async with open_call_center(center_pool, _config(desk), store=store, clock=clock) as center:
            center.directory.save(Customer(number="C-1042", name="Jeanne Martin", phones=(CALLER,)))
            app = create_app(center, accounts=accounts, poll=0.2)
            async with serve(app) as url:
                yield center, phones, log, front.address, desk, url


@pytest.fixture
def sip(tmp_path: Path) -> Iterator[SipCenter]:
    """The ACME hotline on real SIP, served over HTTP; lyon:1's phone is in ``phones``."""
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(_serving(tmp_path / "center.sqlite3")) as served,
    ):
        yield SipCenter(*served, portal=portal)


def _sign_in(browser: Any, url: str, person: str, page: str) -> Any:
    tab = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    tab.goto(f"{url}/login?next={page}")
    tab.fill("#person", person)
    tab.fill("#password", PASSWORD)
    tab.click("#sign-in")
    expect(tab).to_have_url(f"{url}{page}")
    return tab


async def _dial_in(sip: SipCenter) -> str:
    """The customer calls the hotline from their number and speaks; return their leg."""
    caller = await sip.phones.originate(f"sip:hotline@{sip.front}", caller_id=CALLER)
    await sip.log.wait(CallAnswered, call_is(caller), limit=60)
    await sip.log.wait(CallMediaActive, call_is(caller), limit=60)
    await sip.phones.play(caller, Tone((CALLER_HZ,)))
    return caller


async def _pick_up(sip: SipCenter, user: str, hz: int) -> str:
    """The phone of ``user`` rings; it answers and speaks ``hz``; return its leg."""
    ring = await sip.log.wait(CallIncoming, lambda e: f"{user}@" in e.to_uri, limit=60)
    await sip.phones.answer(ring.call_id)
    await sip.log.wait(CallMediaActive, call_is(ring.call_id), limit=60)
    await sip.phones.play(ring.call_id, Tone((hz,)))
    return ring.call_id


async def _hears(sip: SipCenter, leg: str, folder: Path) -> set[int]:
    """The parties' tones ``leg`` hears over 1.5 s (a measurement, not a wait).

    A tone far below the loudest one is a G.711 spur, not a voice heard.
    """
    path = folder / f"{leg.replace(':', '_')}.wav"
    await sip.phones.start_recording(leg, str(path))
    await anyio.sleep(1.5)
    await sip.phones.stop_recording(leg)
    await sip.log.wait(RecordingFinished, call_is(leg), limit=60)
    rate, samples = read_wav(path)
    levels = {hz: tone_level(samples, rate, hz) for hz in (CALLER_HZ, AGENT_HZ, SUPERVISOR_HZ)}
    loudest = max(levels.values())
    return {hz for hz, level in levels.items() if has_tone(path, hz) and level > loudest / 10}


async def _logged(sip: SipCenter, kind: type[T]) -> list[T]:
    """The events of ``kind`` in the center's event log."""
    await sip.center.writer.flush()
    return [row.event for row in sip.center.log.read() if isinstance(row.event, kind)]


def test_a_real_sip_call_worked_at_the_desk_and_listened_to_from_the_wallboard(
    chromium: Any, sip: SipCenter, tmp_path: Path
) -> None:
    """Over real SIP: Alice signs in and sits at lyon:1, whose device is a SIP
    phone; a customer calls and the wallboard shows them waiting; she clicks
    Ready, her desk rings with the customer's name while her SIP phone rings;
    the phone answers, the ticket's timer runs, the wallboard shows the call
    answered; Claire clicks Listen, her SIP phone rings and, answered, hears the
    customer and Alice; Alice hangs up from the desk and disposes."""
    desk = _sign_in(chromium, sip.url, "ag.alice", "/desk")
    desk.select_option("#position", "lyon:1")
    desk.click("#sit")
    expect(desk.locator("#current-position")).to_have_text("Position lyon:1")
    expect(desk.locator("#state")).to_have_text("Not ready")

    board = _sign_in(chromium, sip.url, "sup.lambert", "/wallboard")
    alice = board.locator('#agents tr[data-agent="ag.alice"]')
    hotline = board.locator('#queues tr[data-queue="hotline"]')
    caller = sip.run(_dial_in, sip)
    expect(hotline.locator("td.waiting")).to_have_text("1")

    desk.click("#ready")
    expect(desk.locator("#offer")).to_be_visible()
    expect(desk.locator("#pop-name")).to_have_text("Jeanne Martin")
    expect(desk.locator("#pop-caller")).to_have_text(CALLER)
    phone = sip.run(_pick_up, sip, "pos1", AGENT_HZ)  # Alice answers her SIP phone

    expect(desk.locator("#call")).to_be_visible()
    expect(desk.locator("#state")).to_have_text("On a call")
    timer = desk.locator("#ticket-elapsed")
    expect(timer).to_have_text(re.compile(r"^00:\d\d$"))
    first = timer.inner_text()
    expect(timer).not_to_have_text(first)  # it runs
    expect(hotline.locator("td.waiting")).to_have_text("0")
    expect(hotline.locator("td.answered")).to_have_text("1")
    expect(alice.locator("td.state")).to_have_text("On a call")

    board.fill("#device", f"sip:lambert@{sip.desk}")
    alice.locator("button.monitor-listen").click()
    expect(board.locator("#message")).to_have_text("Monitoring: ag.alice (Listen)")
    supervisor = sip.run(_pick_up, sip, "lambert", SUPERVISOR_HZ)
    expect(alice.locator("span.monitoring")).to_contain_text("Listen")
    started = sip.run(_logged, sip, MonitoringStarted)
    heard = {
        who: sip.run(_hears, sip, leg, tmp_path)
        for who, leg in {"caller": caller, "alice": phone, "claire": supervisor}.items()
    }
    screenshot(desk, "desk-sip", tmp_path)

    desk.click("#hangup")
    expect(desk.locator("#wrap")).to_be_visible()
    desk.select_option("#disposition", "solved")
    desk.click("#dispose")
    expect(desk.locator("#disposed")).to_have_text("Disposed: solved")
    assert sip.portal.call(sip.center.engine.agent_status, "ag.alice").state is AgentState.WRAP_UP
    assert [(e.supervisor, e.mode) for e in started] == [("sup.lambert", "listen")]
    assert heard == {  # a listener is heard by nobody
        "caller": {AGENT_HZ},
        "alice": {CALLER_HZ},
        "claire": {CALLER_HZ, AGENT_HZ},
    }
    desk.context.close()
    board.context.close()
