"""Web chat from the widget to the agent desktop, in Debian's Chromium, served by uvicorn.

The center, its web app (``create_app(..., chat=...)``, the chat mounted at
``/chat``) and uvicorn share one event loop in a thread (an anyio blocking
portal). Customers chat from the widget page in their own browser contexts;
Alice signs in at the desktop in another and does everything there: she
clicks Ready, sees each chat offered, accepts it, reads and answers in its
pane, and disposes of it. The center's virtual time moves only when a test
moves it (the ACD offers what waits when it does); the tests wait on the
pages (Playwright's ``expect``) and read the center through the portal.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
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
from callcenter_sdk.runtime import (
    CallCenter,
    CallCenterConfig,
    ContactDisposed,
    Seat,
    open_call_center,
    run_virtual,
)
from callcenter_sdk.store import Accounts, create_store
from callcenter_sdk.tickets import MessageDirection, TicketStatus

from .conftest import serve

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's Chromium is not installed (/usr/bin/chromium)", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api", reason="the test extra installs playwright")
pytestmark = pytest.mark.slow
expect = playwright.expect
expect.set_options(timeout=30_000)  # a loaded 2-core machine

ACME = load_org(Path(__file__).parents[2] / "examples" / "org" / "acme.toml")
AGENT = "ag.alice"
PASSWORD = "correct horse battery"  # noqa: S105 - the test account's password


@attrs.define
class Served:
    """The running center, its chat and the web app's URL."""

    center: CallCenter
    backend: VirtualBackend
    chat: ChatChannel
    url: str
    portal: BlockingPortal
    disposed: list[ContactDisposed]

    def run(self, function: Any, *args: Any) -> Any:
        """Run ``function(*args)`` on the center's event loop."""
        return self.portal.call(function, *args)

    def route(self) -> None:
        """Move the center's time one second: the ACD offers what waits to whoever is ready."""
        self.run(run_virtual, self.center, self.backend, 1.0)


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
    from callcenter_sdk.web import create_app

    clock = ManualClock(time.time())
    backend = VirtualBackend(clock)
    store = create_store(f"sqlite:///{db}")
    accounts = Accounts(store)
    accounts.set_password(AGENT, PASSWORD, at=clock.now())
    async with open_call_center(
        backend, _config(), store=store, clock=clock, run_timers=False
    ) as center:
        center.directory.save(
            Customer(number="C-1042", name="Jeanne Martin", email="jeanne@customer.test")
        )
        chat = ChatChannel(center, center.messages, ChatSettings(queue="chat", secret=b"browser"))
        center.add_channel(chat)
        app = create_app(center, accounts=accounts, chat=chat.app(), poll=0.2)
        async with serve(app, lifespan=True) as url:
            yield center, backend, chat, url
        chat.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """The center with Alice (three chats at once) and Jeanne's record, its web app served."""
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(_serving(tmp_path / "center.sqlite3")) as running,
    ):
        center, backend, chat, url = running
        disposed: list[ContactDisposed] = []
        stop = portal.call(
            center.subscribe,
            lambda _seq, e: disposed.append(e) if isinstance(e, ContactDisposed) else None,
        )
        yield Served(center, backend, chat, url, portal, disposed)
        portal.call(stop)


@pytest.fixture(scope="module")
def chromium_browser() -> Iterator[Any]:
    """Debian's Chromium, headless, per module (Playwright's sync driver holds the loop)."""
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


@pytest.fixture
def chromium(chromium_browser: Any, served: Served) -> Iterator[Any]:
    """The browser for one test: its contexts are closed before the server stops
    (an open page's event stream would hold the server up)."""
    yield chromium_browser
    for context in chromium_browser.contexts:
        context.close()


def _desk(chromium: Any, served: Served) -> Any:
    """Alice's desktop in a browser context of her own, signed in; she clicks Ready."""
    page = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(served.url + "/desk")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("#person", AGENT)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    expect(page).to_have_url(served.url + "/desk")
    expect(page.locator("#state")).to_have_text("Not ready")
    expect(page.locator("#live")).to_contain_text("live")  # the event stream is open
    page.click("#ready")
    expect(page.locator("#state")).to_have_text("Ready")
    return page


def _customer(chromium: Any, served: Served, name: str, who: str, line: str) -> Any:
    """A customer in a browser context of their own opens the widget and writes ``line``."""
    page = chromium.new_context().new_page()
    page.goto(served.url + "/chat/")
    page.fill("input[name=name]", name)
    page.fill("input[name=who]", who)
    page.click("text=Start chat")
    expect(page.locator(".cc-status")).not_to_be_empty()
    page.fill("input[name=line]", line)
    page.press("input[name=line]", "Enter")
    expect(page.locator(".cc-customer:not(.cc-pending)")).to_have_text([line])  # stored
    return page


def _screenshot(page: Any, name: str, tmp_path: Path) -> None:
    """Keep a screenshot in the test's directory, and in ``$CALLCENTER_SCREENSHOTS`` if set
    (``CALLCENTER_SCREENSHOTS=docs/img`` refreshes the documentation's pictures)."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    keep = os.environ.get("CALLCENTER_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(keep) / f"{name}.png")


def test_a_customer_chats_in_the_widget_and_the_agent_answers_from_the_desk(
    served: Served, chromium: Any
) -> None:
    """Jeanne chats from the widget (greeted by the name in her customer record); Alice's
    desk offers the chat with its channel, the name and address Jeanne gave, the CTI's
    identification and her first line; Alice accepts it, a pane opens with the transcript,
    she types (the widget shows Jeanne that she is typing) and sends an answer (the widget
    shows it, the typing indicator gone); Jeanne's
    next line reaches the pane live; the ticket holds the three lines and Alice's answer as
    its first response; Alice disposes (solved) from the pane, which closes; the widget is
    told, the ticket is resolved, and a reload of the widget brings the conversation back."""
    desk = _desk(chromium, served)
    jeanne = _customer(chromium, served, "Jeanne", "jeanne@customer.test", "My internet is slow.")
    expect(jeanne.locator(".cc-status")).to_have_text("Hello Jeanne Martin.")
    served.route()

    offer = desk.locator("#work-offer-list li.work-offer")
    expect(offer).to_have_count(1)
    expect(offer.locator(".channel")).to_have_text("Chat")
    expect(offer.locator(".who")).to_have_text("Jeanne")
    expect(offer.locator(".party")).to_have_text("jeanne@customer.test")
    expect(offer.locator(".identity")).to_have_attribute("data-identified", "yes")
    expect(offer.locator(".identity")).to_contain_text("Jeanne Martin (C-1042)")
    expect(offer.locator(".first-message")).to_have_text("My internet is slow.")
    expect(desk.locator("#state")).to_have_text("Conversation offered")
    expect(desk.locator("#offer")).to_be_hidden()  # no phone rings for a chat
    offer.locator("button.accept-work").click()

    pane = desk.locator("#conversations section.conversation")
    expect(pane).to_have_count(1)
    expect(desk.locator("#work-offers")).to_be_hidden()
    expect(desk.locator("#state")).to_have_text("In conversation")
    expect(desk.locator("#call")).to_be_hidden()
    expect(pane.locator(".transcript .line .text")).to_have_text(["My internet is slow."])
    contact = pane.get_attribute("data-contact")
    pane.locator(".reply-text").fill("Let us check")  # the desk tells the widget: typing
    expect(jeanne.locator(".cc-typing")).to_be_visible()

    pane.locator(".reply-text").fill("Let us check your line.")
    pane.locator("button.send-reply").click()
    expect(jeanne.locator(".cc-agent")).to_have_text(["Let us check your line."])
    expect(jeanne.locator(".cc-typing")).to_be_hidden()
    expect(pane.locator(".reply-text")).to_have_value("")
    jeanne.fill("input[name=line]", "Thank you, it works now.")
    jeanne.press("input[name=line]", "Enter")
    lines = ["My internet is slow.", "Let us check your line.", "Thank you, it works now."]
    expect(pane.locator(".transcript .line .text")).to_have_text(lines)
    expect(pane.locator(".transcript .from-agent .text")).to_have_text([lines[1]])
    expect(pane.locator(".transcript .from-agent .author")).to_have_text([AGENT])

    (ticket,) = served.run(served.center.tickets.active)
    stored = served.run(served.center.messages.of_ticket, ticket.ticket_id)
    assert [(m.direction, m.author, m.text) for m in stored] == [
        (MessageDirection.INBOUND, "", lines[0]),
        (MessageDirection.OUTBOUND, AGENT, lines[1]),
        (MessageDirection.INBOUND, "", lines[2]),
    ]
    assert ticket.first_response_at is not None
    assert [n.text for n in ticket.notes if n.author == AGENT] == [lines[1]]

    pane.locator("select.work-disposition").select_option("solved")
    pane.locator("button.dispose-work").click()
    expect(pane).to_have_count(0)
    expect(jeanne.locator(".cc-status")).to_contain_text("closed this conversation")
    assert [(e.contact_id, e.disposition, e.agent_id) for e in served.disposed] == [
        (contact, "solved", AGENT)
    ]
    assert served.run(served.center.tickets.get, ticket.ticket_id).status is TicketStatus.RESOLVED
    jeanne.reload()
    expect(jeanne.locator(".cc-log li")).to_have_text(lines)


def test_two_chats_at_once_each_in_its_own_pane(
    served: Served, chromium: Any, tmp_path: Path
) -> None:
    """Jeanne and Bob (unknown to the CTI, marked so) chat at once: Alice's desk offers
    both, oldest first; Bob writes again meanwhile; she accepts Bob's first, then
    Jeanne's: two panes, each with its own whole transcript; an answer typed in a pane
    (sent with Enter) reaches that customer only, and Jeanne's next line shows in her
    pane only; Alice disposes of Bob's chat and Jeanne's pane stays; in French after a
    reload, the pane is back with its words."""
    desk = _desk(chromium, served)
    jeanne = _customer(chromium, served, "Jeanne", "jeanne@customer.test", "My box blinks red.")
    bob = _customer(chromium, served, "Bob", "bob@elsewhere.test", "Can I change my plan?")
    served.route()

    offers = desk.locator("#work-offer-list li.work-offer")
    expect(offers.locator(".who")).to_have_text(["Jeanne", "Bob"])
    expect(offers.nth(1).locator(".identity")).to_contain_text("not in the customer records")
    expect(offers.nth(1).locator(".first-message")).to_have_text("Can I change my plan?")
    jeanne_id, bob_id = (offers.nth(i).get_attribute("data-contact") for i in (0, 1))
    bob.fill("input[name=line]", "Hello?")  # while offered: the pane shows it once accepted
    bob.press("input[name=line]", "Enter")
    expect(bob.locator(".cc-customer:not(.cc-pending)")).to_have_count(2)
    served.route()  # time goes on (the transcript is in the order of the center's clock)
    offers.nth(1).locator("button.accept-work").click()
    expect(offers.locator(".who")).to_have_text(["Jeanne"])
    offers.nth(0).locator("button.accept-work").click()
    expect(desk.locator("#work-offers")).to_be_hidden()

    panes = desk.locator("#conversations section.conversation")
    expect(panes).to_have_count(2)
    bob_pane = desk.locator(f'section.conversation[data-contact="{bob_id}"]')
    jeanne_pane = desk.locator(f'section.conversation[data-contact="{jeanne_id}"]')
    expect(bob_pane.locator(".transcript .text")).to_have_text(["Can I change my plan?", "Hello?"])
    expect(jeanne_pane.locator(".transcript .text")).to_have_text(["My box blinks red."])
    expect(bob_pane.locator(".identity")).to_have_attribute("data-identified", "no")
    expect(jeanne_pane.locator(".identity")).to_have_attribute("data-identified", "yes")

    for pane, answer in ((bob_pane, "Yes: which one?"), (jeanne_pane, "Unplug it for 10 s.")):
        pane.locator(".reply-text").fill(answer)
        pane.locator(".reply-text").press("Enter")
    expect(bob.locator(".cc-agent")).to_have_text(["Yes: which one?"])
    expect(jeanne.locator(".cc-agent")).to_have_text(["Unplug it for 10 s."])
    jeanne.fill("input[name=line]", "Done, it is green.")
    jeanne.press("input[name=line]", "Enter")
    expect(jeanne_pane.locator(".transcript .text")).to_have_text(
        ["My box blinks red.", "Unplug it for 10 s.", "Done, it is green."]
    )
    expect(bob_pane.locator(".transcript .text")).to_have_text(
        ["Can I change my plan?", "Hello?", "Yes: which one?"]
    )
    _screenshot(desk, "desk-chat", tmp_path)

    bob_pane.locator("select.work-disposition").select_option("solved")
    bob_pane.locator("button.dispose-work").click()
    expect(panes).to_have_count(1)
    expect(panes).to_have_attribute("data-contact", str(jeanne_id))
    expect(bob.locator(".cc-status")).to_contain_text("closed this conversation")
    assert [e.contact_id for e in served.disposed] == [bob_id]

    desk.goto(served.url + "/desk?lang=fr")
    expect(desk.locator("#state")).to_have_text("En conversation")
    expect(panes).to_have_count(1)
    expect(panes.locator("button.send-reply")).to_have_text("Envoyer")
    expect(panes.locator(".identity")).to_contain_text("identifié par le CTI")
    expect(panes.locator(".transcript .text")).to_have_count(3)
