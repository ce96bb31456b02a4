"""A real uvicorn server on a loopback port serving the ACME center, and Debian's Chromium.

The center runs on the virtual backend (phones and callers are scripts) with
its virtual time paced by the wall clock, so the pages see a live center:
a position's phone rings for four real seconds before it answers. Server,
center and pacer share one event loop in a thread (an anyio blocking
portal); the tests, on the main thread, drive Chromium with Playwright's
synchronous API and reach into the center through the portal.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import anyio
import attrs
import pytest
import uvicorn
from anyio.from_thread import BlockingPortal, start_blocking_portal

from callcenter_sdk import ManualClock
from callcenter_sdk.acd import Agent, Membership, Queue
from callcenter_sdk.cti import Customer
from callcenter_sdk.dialer import load_questionnaire
from callcenter_sdk.ivr import FlowBuilder, ToQueue
from callcenter_sdk.kb import Article
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
from callcenter_sdk.store import Accounts, create_store

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "Debian's Chromium is not installed (/usr/bin/chromium): `make test` installs it",
        allow_module_level=True,
    )
playwright = pytest.importorskip("playwright.sync_api", reason="the test extra installs playwright")

ACME = load_org(Path(__file__).parents[3] / "examples" / "org" / "acme.toml")
SCRIPT = load_questionnaire(Path(__file__).parents[3] / "examples" / "hotline" / "script.toml")
"""The hotline's support script, followed on the desk."""
PASSWORD = "correct horse battery"  # noqa: S105 - the test accounts' password
PEOPLE = ("ag.alice", "ag.farid", "sup.lambert", "adm.petit", "an.fournier", "fm.bernard")
POSITIONS = (1, 2, 30)
"""Lyon seats with a phone: 1 and 2 belong to the hotline's campaign, 30 to nobody yet."""
CALLER = "+33142685399"
CUSTOMER = "+33912345678"
"""A customer agents may call (the dial plan allows ``+339...`` only): answers in 2 s, talks 6 s."""
RING_SECONDS = 4.0
SUPERVISOR_PHONE = "sip:lambert@phones"
GRACE = 1.5
"""The desktop-lost grace time of the test server, in seconds."""

T = TypeVar("T")


@attrs.define
class LiveCenter:
    """The running center, its virtual backend and the server's URL."""

    center: CallCenter
    backend: VirtualBackend
    url: str
    portal: BlockingPortal

    def run(self, function: Callable[..., T], *args: Any) -> T:
        """Run ``function(*args)`` on the center's event loop (sync or async)."""
        return self.portal.call(function, *args)

    def call_in(self, *, talk_for: float | None = None) -> str:
        """A customer of the hotline dials in; return their leg's id."""
        return self.run(
            lambda: self.backend.inject_call(
                f"sip:{CALLER}@trunk", "sip:hotline@center", PartyScript(talk_for=talk_for)
            )
        )


def _config() -> CallCenterConfig:
    flow = FlowBuilder("acme", start="route").node("route", ToQueue(queue="hotline")).build()
    seats = [
        Seat(
            agent=Agent(id=a, skills={"hotline": 3}, memberships=[Membership("hotline")]),
            device="",
        )
        for a in ("ag.alice", "ag.farid")
    ]
    return CallCenterConfig(
        flow=flow,
        queues=[Queue(name="hotline", offer_timeout=30.0, wrap_up=120.0)],
        seats=seats,
        announce=False,
        org=ACME,
        positions=[Position("lyon", n, f"sip:pos{n}@lyon") for n in POSITIONS],
        campaigns={"hotline": "acme-hotline"},
        topics={"other": "internet slow"},
        dial_plan=DialPlan(allowed=[r"\+339\d{8}"], gateway="sip:{number}@trunk"),
        scripts={"acme-hotline": SCRIPT},
    )


async def _pace(center: CallCenter, backend: VirtualBackend) -> None:
    """Move the center's virtual time along with the wall clock."""
    last = time.monotonic()
    while True:
        await anyio.sleep(0.05)
        now = time.monotonic()
        await run_virtual(center, backend, now - last)
        last = now


@contextlib.asynccontextmanager
async def _serving(db: Path) -> AsyncIterator[tuple[CallCenter, VirtualBackend, str]]:
    from callcenter_sdk.web import create_app

    clock = ManualClock(time.time())
    backend = VirtualBackend(clock)
    for n in POSITIONS:
        backend.add_phone(f"sip:pos{n}@lyon", PartyScript(answer_after=RING_SECONDS))
    backend.add_phone(SUPERVISOR_PHONE, PartyScript(answer_after=1.0))
    backend.add_phone(f"sip:{CUSTOMER}@trunk", PartyScript(answer_after=2.0, talk_for=6.0))
    store = create_store(f"sqlite:///{db}")
    accounts = Accounts(store)
    for person in PEOPLE:
        accounts.set_password(person, PASSWORD, at=clock.now())
    async with open_call_center(
        backend, _config(), store=store, clock=clock, run_timers=False
    ) as center:
        center.directory.save(
            Customer(
                number="C-1042",
                name="Jeanne Martin",
                phones=(CALLER,),
                attributes={"offer": "Fibre 1G"},
            )
        )
        center.knowledge.add(
            Article(
                question="My internet is slow",
                solution="Restart the box, then test the line.",
                diagnostics=("Is the box's light green?", "Wi-Fi or cable?"),
                tags=frozenset({"internet"}),
            )
        )
        app = create_app(center, accounts=accounts, desktop_grace=GRACE, poll=0.2)
        async with anyio.create_task_group() as tg:
            tg.start_soon(_pace, center, backend)
            async with serve(app) as url:
                yield center, backend, url
            tg.cancel_scope.cancel()


@contextlib.asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port for the block; yield its URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve)
        with anyio.fail_after(30):
            while not server.started:  # noqa: ASYNC110 - uvicorn offers no event
                await anyio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
        server.should_exit = True
        with anyio.move_on_after(5):
            while server.started:  # noqa: ASYNC110
                await anyio.sleep(0.05)
        tg.cancel_scope.cancel()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveCenter]:
    """The ACME hotline served over HTTP, with alice and farid to seat at positions."""
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(_serving(tmp_path / "center.sqlite3")) as served,
    ):
        center, backend, url = served
        yield LiveCenter(center, backend, url, portal)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright.

    Per module: Playwright's synchronous driver keeps an event loop running on
    the main thread, where the async tests of the other modules need theirs.
    """
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


def screenshot(page: Any, name: str, tmp_path: Path) -> None:
    """Keep a screenshot: in the test's directory, and in ``$CALLCENTER_SCREENSHOTS`` if set
    (``CALLCENTER_SCREENSHOTS=docs/img`` refreshes the documentation's pictures)."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    keep = os.environ.get("CALLCENTER_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(keep) / f"{name}.png")
