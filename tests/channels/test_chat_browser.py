"""The chat widget in Debian's Chromium, on the web app's ``/chat`` mount, served by uvicorn.

The center, its web app (``create_app(..., chat=...)``) and uvicorn share one
event loop in a thread (an anyio blocking portal); the test drives Chromium
with Playwright's synchronous API on the main thread and acts as the agent
through the center's API over the portal.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

from callcenter_sdk import ManualClock
from callcenter_sdk.acd import Agent, Capacity, Membership, Queue
from callcenter_sdk.channels import ChatChannel, ChatSettings
from callcenter_sdk.cti import Customer
from callcenter_sdk.ivr import FlowBuilder, ToQueue
from callcenter_sdk.kpi import Channel
from callcenter_sdk.media import VirtualBackend
from callcenter_sdk.org import load_org
from callcenter_sdk.runtime import CallCenter, CallCenterConfig, Seat, open_call_center, run_virtual
from callcenter_sdk.store import Accounts, create_store
from callcenter_sdk.tickets import MessageDirection

from .conftest import serve

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's Chromium is not installed (/usr/bin/chromium)", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api", reason="the test extra installs playwright")
pytestmark = pytest.mark.slow

ACME = load_org(Path(__file__).parents[2] / "examples" / "org" / "acme.toml")
AGENT = "ag.alice"


@attrs.define
class Served:
    """The running center, its chat and the web app's URL."""

    center: CallCenter
    backend: VirtualBackend
    chat: ChatChannel
    url: str
    portal: BlockingPortal

    def run(self, function: Any, *args: Any) -> Any:
        """Run ``function(*args)`` on the center's event loop."""
        return self.portal.call(function, *args)


def _config() -> CallCenterConfig:
    alice = Agent(
        id=AGENT,
        skills={"chat": 3},
        memberships=[Membership("chat")],
        capacity=Capacity(limits={Channel.VOICE: 1, Channel.CHAT: 3}),
    )
    return CallCenterConfig(
        flow=FlowBuilder("chat", start="q").node("q", ToQueue(queue="chat")).build(),
        queues=[Queue(name="chat", channels=[Channel.CHAT], offer_timeout=600.0, wrap_up=5.0)],
        seats=[Seat(agent=alice, device="sip:alice@phones")],
        announce=False,
        org=ACME,
        campaigns={"chat": "acme-hotline"},
    )


@contextlib.asynccontextmanager
async def _serving(db: Path) -> AsyncIterator[tuple[CallCenter, VirtualBackend, ChatChannel, str]]:
    from callcenter_sdk.tickets import TicketMessages
    from callcenter_sdk.web import create_app

    clock = ManualClock(time.time())
    backend = VirtualBackend(clock)
    store = create_store(f"sqlite:///{db}")
    async with open_call_center(
        backend, _config(), store=store, clock=clock, run_timers=False
    ) as center:
        center.directory.save(
            Customer(number="C-1042", name="Jeanne Martin", email="jeanne@customer.test")
        )
        chat = ChatChannel(
            center, TicketMessages(store), ChatSettings(queue="chat", secret=b"browser test")
        )
        center.add_channel(chat)
        app = create_app(center, accounts=Accounts(store), chat=chat.app())
        async with serve(app) as url:
            yield center, backend, chat, url
        chat.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """The center with Alice (three chats) and Jeanne's record, its web app served."""
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(_serving(tmp_path / "center.sqlite3")) as running,
    ):
        center, backend, chat, url = running
        yield Served(center, backend, chat, url, portal)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, per module (Playwright's sync driver holds the loop)."""
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


def test_a_customer_chats_in_the_widget_and_reads_the_agents_answer(
    served: Served, chromium: Any
) -> None:
    """Jeanne opens the demo page at the web app's /chat, says who she is and is greeted by
    the name in her customer record; her line is acknowledged (stored) in the widget;
    Alice accepts the chat and answers through the center's API; the answer appears in
    the widget with the typing indicator before it; after a reload the widget's token
    brings back the same conversation, and the ticket holds the transcript."""
    expect = playwright.expect
    page = chromium.new_page()
    page.goto(served.url + "/chat/")
    page.fill("input[name=name]", "Jeanne")
    page.fill("input[name=who]", "jeanne@customer.test")
    page.click("text=Start chat")
    expect(page.locator(".cc-status")).to_have_text("Hello Jeanne Martin.")
    page.fill("input[name=line]", "My internet is slow.")
    page.press("input[name=line]", "Enter")
    expect(page.locator(".cc-customer:not(.cc-pending)")).to_have_text(["My internet is slow."])

    center = served.center
    served.run(lambda: center.set_ready(AGENT, actor=AGENT))
    served.run(run_virtual, center, served.backend, 1.0)
    contact_id = served.run(lambda: center.accept(AGENT, actor=AGENT))
    served.run(served.chat.typing, contact_id)
    expect(page.locator(".cc-typing")).to_be_visible()
    served.run(lambda: center.reply(contact_id, "Let us check your line.", actor=AGENT))
    expect(page.locator(".cc-agent")).to_have_text(["Let us check your line."])
    expect(page.locator(".cc-typing")).to_be_hidden()

    page.reload()
    expect(page.locator(".cc-log li")).to_have_text(
        ["My internet is slow.", "Let us check your line."]
    )
    (ticket,) = served.run(center.tickets.active)
    lines = served.run(served.chat.intake.messages.of_ticket, ticket.ticket_id)
    assert [(m.direction, m.text) for m in lines] == [
        (MessageDirection.INBOUND, "My internet is slow."),
        (MessageDirection.OUTBOUND, "Let us check your line."),
    ]
    page.close()
