"""The agent desktop, the wallboard and the administration page in headless Chromium.

Everything goes through a real server: the pages sign in, send commands with
the session's CSRF token and follow the live events; the center behind them
rings a position's phone, which answers after four seconds. Playwright's
``expect`` waits for each thing to show (no sleeps).
"""

from __future__ import annotations

import datetime
import re
import threading
from pathlib import Path
from typing import Any, TypeVar

from playwright.sync_api import expect

from callcenter_sdk.acd import AgentState, ContactEnteredQueue
from callcenter_sdk.cti import DialConnected
from callcenter_sdk.runtime import CallbackScheduled, IvrCompleted

from .conftest import (
    CALLER,
    CUSTOMER,
    GRACE,
    PASSWORD,
    SUPERVISOR_PHONE,
    LiveCenter,
    screenshot,
)

expect.set_options(timeout=30_000)  # a loaded 2-core machine
T = TypeVar("T")


def _sign_in(browser: Any, live: LiveCenter, person: str, page: str, **context: Any) -> Any:
    """A new browser context (its own cookies) signed in as ``person``, on ``page``."""
    tab = browser.new_context(viewport={"width": 1280, "height": 900}, **context).new_page()
    tab.goto(f"{live.url}{page}")
    expect(tab).to_have_url(re.compile(r"/login\?next="))
    tab.fill("#person", person)
    tab.fill("#password", PASSWORD)
    tab.click("#sign-in")
    expect(tab).to_have_url(f"{live.url}{page}")
    return tab


def test_a_call_from_ring_to_disposition_seen_on_the_desk_and_the_wallboard(
    chromium: Any, live: LiveCenter, tmp_path: Path
) -> None:
    """Alice signs in, sits at lyon:1 and a caller waits (the wallboard shows 1
    waiting); she clicks Ready, her desk rings with the customer's name and an
    unverified-number mark, her phone answers, the ticket's timer runs, the
    knowledge base suggests its questions, she follows the campaign's script to
    its end (converted) (another agent may not read the pop
    nor the ticket); she promises a callback in two hours to another number
    (stored with that number and time); the wallboard shows the call answered and Claire listens
    in; Alice hangs up, disposes (solved) with wrap-up time left, goes ready,
    then closes her desk and is paused as desktop-lost."""
    desk = _sign_in(chromium, live, "ag.alice", "/desk")
    expect(desk.locator("#state")).to_have_text("Offline")
    desk.select_option("#position", "lyon:1")
    desk.click("#sit")
    expect(desk.locator("#current-position")).to_have_text("Position lyon:1")
    expect(desk.locator("#state")).to_have_text("Not ready")

    board = _sign_in(chromium, live, "sup.lambert", "/wallboard")
    alice = board.locator('#agents tr[data-agent="ag.alice"]')
    hotline = board.locator('#queues tr[data-queue="hotline"]')
    expect(alice.locator("td.state")).to_have_text("Not ready")

    live.call_in()
    expect(hotline.locator("td.waiting")).to_have_text("1")
    expect(hotline.locator("td.by-state")).to_contain_text("Not ready 1")

    desk.click("#ready")
    expect(desk.locator("#offer")).to_be_visible()
    expect(desk.locator("#pop-name")).to_have_text("Jeanne Martin")
    expect(desk.locator("#pop-caller")).to_have_text("+33142685399")
    expect(desk.locator("#pop-verified")).to_have_attribute("data-verified", "no")
    expect(desk.locator("#pop-verified")).to_contain_text("unverified number")
    expect(desk.locator("#pop-attributes")).to_contain_text("Fibre 1G")

    expect(desk.locator("#call")).to_be_visible()  # the position's phone answered
    expect(desk.locator("#state")).to_have_text("On a call")
    expect(desk.locator("#offer")).to_be_hidden()
    timer = desk.locator("#ticket-elapsed")
    expect(timer).to_have_text(re.compile(r"^00:\d\d$"))
    first = timer.inner_text()
    expect(timer).not_to_have_text(first)  # it runs
    expect(desk.locator("#sla-resolution")).to_have_text(re.compile(r"\d+:\d\d"))
    expect(desk.locator("#kb-questions")).to_contain_text("Is the box's light green?")
    expect(desk.locator("#kb-articles")).to_contain_text("Restart the box")

    text = desk.locator("#script-text")  # the campaign's script, one step at a time
    expect(desk.locator("#script-title")).to_have_text("FibreNet support call")
    expect(text).to_contain_text("FibreNet support, good day")
    desk.click("#script button.script-next")
    for expected, answer in [
        ("customer number and the postcode", "yes"),
        ("What does the customer see?", "slow"),
        ("light on the front of the box", "yes"),
        ("is the problem solved?", "yes"),
    ]:
        expect(text).to_contain_text(expected)
        desk.click(f'#script button.answer[data-answer="{answer}"]')
    expect(text).to_have_text("End of the script.")
    expect(desk.locator("#script-converted")).to_be_visible()
    expect(desk.locator("#script-answers li")).to_have_count(4)

    expect(hotline.locator("td.waiting")).to_have_text("0")
    expect(hotline.locator("td.answered")).to_have_text("1")
    expect(hotline.locator("td.service-level")).to_have_text("100 %")
    expect(alice.locator("td.state")).to_have_text("On a call")
    expect(board.locator("#chart svg rect.bar")).to_have_count(1)
    screenshot(desk, "desk", tmp_path)

    expect(desk.locator("#callback-number")).to_have_value(CALLER)  # the caller's, by default
    now = datetime.datetime.now(datetime.UTC).astimezone()  # the local time the page shows
    due = now.replace(second=0, microsecond=0) + datetime.timedelta(hours=2)
    desk.fill("#callback-number", CUSTOMER)
    desk.fill("#callback-at", due.strftime("%Y-%m-%dT%H:%M"))
    desk.click("#schedule-callback")
    expect(desk.locator("#message")).to_contain_text(f"Callback scheduled: {CUSTOMER}")

    contact = desk.locator("#call-id").inner_text()
    farid = _sign_in(chromium, live, "ag.farid", "/desk")  # another agent: not his call
    for what in ("pop", "ticket"):
        assert farid.request.get(f"{live.url}/api/contacts/{contact}/{what}").status == 403
        assert desk.request.get(f"{live.url}/api/contacts/{contact}/{what}").status == 200
    farid.context.close()

    board.fill("#device", SUPERVISOR_PHONE)
    alice.locator("button.monitor-listen").click()
    expect(board.locator("#message")).to_have_text("Monitoring: ag.alice (Listen)")
    expect(alice.locator("span.monitoring")).to_contain_text("Listen")
    screenshot(board, "wallboard", tmp_path)

    desk.click("#hangup")
    expect(desk.locator("#wrap")).to_be_visible()
    expect(desk.locator("#state")).to_have_text("Wrap-up")
    expect(desk.locator("#wrap-left")).to_have_text(re.compile(r"^0[12]:\d\d$"))
    desk.select_option("#disposition", "solved")
    desk.click("#dispose")
    expect(desk.locator("#disposed")).to_have_text("Disposed: solved")
    desk.click("#end-wrap")
    expect(desk.locator("#state")).to_have_text("Ready")
    expect(alice.locator("td.state")).to_have_text("Ready")

    desk.context.close()  # the desktop disappears
    expect(alice.locator("td.state")).to_have_text("Not ready", timeout=GRACE * 1000 + 30_000)
    expect(alice.locator("td.reason")).to_have_text("desktop-lost")
    status = live.run(live.center.engine.agent_status, "ag.alice")
    assert (status.state, status.reason) == (AgentState.NOT_READY, "desktop-lost")
    board.context.close()
    promised = live.portal.call(_logged, live, CallbackScheduled)
    assert [(e.contact_id, e.number) for e in promised] == [(contact, CUSTOMER)]
    assert abs(promised[0].due_at - due.timestamp()) < 60  # the browser's local time, kept


async def _logged(live: LiveCenter, kind: type[T]) -> list[T]:
    """The events of ``kind`` in the center's event log."""
    await live.center.writer.flush()
    return [row.event for row in live.center.log.read() if isinstance(row.event, kind)]


def test_a_reload_within_the_grace_time_keeps_the_agent_ready(
    chromium: Any, live: LiveCenter
) -> None:
    """Farid reloads his desk three times: each stream is back before the grace
    time ends, so he stays ready after it; his wallboard shows him alone, with no
    listen buttons (an agent may not monitor)."""
    desk = _sign_in(chromium, live, "ag.farid", "/desk")
    desk.select_option("#position", "lyon:2")
    desk.click("#sit")
    desk.click("#ready")
    expect(desk.locator("#state")).to_have_text("Ready")
    for _ in range(3):
        desk.reload()
        expect(desk.locator("#live")).to_contain_text("live")
    desk.wait_for_timeout(GRACE * 1000 * 2)  # the grace time passing is the point here
    expect(desk.locator("#state")).to_have_text("Ready")
    assert live.run(live.center.engine.agent_status, "ag.farid").state is AgentState.READY
    board = desk.context.new_page()
    board.goto(f"{live.url}/wallboard")
    expect(board.locator("#agents tbody tr")).to_have_count(1)  # an agent sees only himself
    expect(board.locator('#agents tr[data-agent="ag.farid"] button')).to_have_count(0)
    desk.context.close()


def test_the_administrator_allocates_a_seat_and_an_agent_sits_there(
    chromium: Any, live: LiveCenter
) -> None:
    """Paul (administrator) picks seat 30 for the hotline on the admin page; the
    allocation reaches the running center, and Alice can then log in at lyon:30.
    A supervisor's admin page offers no campaign."""
    admin = _sign_in(chromium, live, "adm.petit", "/admin")
    hotline = admin.locator('section[data-campaign="acme-hotline"]')
    expect(hotline.locator('input[data-seat="1"]')).to_be_checked()
    expect(hotline.locator('input[data-seat="11"]')).to_be_disabled()  # acme-orders' seat
    seat = hotline.locator('input[data-seat="30"]')
    expect(seat).to_be_enabled()
    seat.check()
    hotline.locator("button.save").click()
    expect(admin.locator("#message")).to_have_text("Saved.")
    expect(admin.locator('section[data-campaign="acme-hotline"] p.allocated')).to_contain_text(
        "30 (11)"
    )
    org = live.center.access.org
    assert org is not None
    assert 30 in org.campaign("acme-hotline").seats

    desk = _sign_in(chromium, live, "ag.alice", "/desk")
    expect(desk.locator('#position option[value="lyon:30"]')).to_have_count(1)
    desk.select_option("#position", "lyon:30")
    desk.click("#sit")
    expect(desk.locator("#current-position")).to_have_text("Position lyon:30")

    supervisor = _sign_in(chromium, live, "sup.lambert", "/admin")
    expect(supervisor.locator("#campaigns")).to_have_text("You administer no campaign.")
    for tab in (admin, desk, supervisor):
        tab.context.close()


def test_the_administrator_stops_the_campaign_and_changes_its_queue(
    chromium: Any, live: LiveCenter
) -> None:
    """Paul stops the hotline from the admin page (it shows stopped, the running
    center has it stopped): a caller then leaves after the IVR without queueing.
    He starts it again and the next caller waits in the queue; he sets the
    queue's wrap-up to 45 s, which the engine runs with at once. Alice releases
    nothing: her admin page offers no campaign; seat 2, unticked, is released."""
    admin = _sign_in(chromium, live, "adm.petit", "/admin")
    hotline = admin.locator('section[data-campaign="acme-hotline"]')
    expect(hotline.locator(".campaign-state")).to_have_text("taking calls")
    hotline.locator("button.stop-campaign").click()
    expect(hotline.locator(".campaign-state")).to_have_text("stopped")
    assert live.center.admin.stopped == frozenset({"acme-hotline"})

    left = threading.Event()
    queued = threading.Event()

    def watch(_seq: int, event: object) -> None:
        if isinstance(event, IvrCompleted):
            left.set()
        if isinstance(event, ContactEnteredQueue):
            queued.set()

    unsubscribe = live.run(lambda: live.center.subscribe(watch))
    live.call_in(talk_for=5.0)
    assert left.wait(60)
    assert not queued.is_set()

    hotline.locator("button.start-campaign").click()
    expect(hotline.locator(".campaign-state")).to_have_text("taking calls")
    live.call_in(talk_for=5.0)
    assert queued.wait(60)
    live.run(unsubscribe)

    settings = hotline.locator('.queue-settings[data-queue="hotline"]')
    expect(settings.locator('input[data-setting="wrap_up"]')).to_have_value("120")
    settings.locator('input[data-setting="wrap_up"]').fill("45")
    settings.locator("button.save-settings").click()
    expect(admin.locator("#message")).to_have_text("Saved.")
    expect(settings.locator('input[data-setting="wrap_up"]')).to_have_value("45")
    assert live.run(lambda: live.center.engine.queue_config("hotline").wrap_up) == 45.0

    hotline.locator('input[data-seat="2"]').uncheck()
    hotline.locator("button.save").click()
    expect(hotline.locator("p.allocated")).to_contain_text("Seats: 1, 3, 4")
    org = live.center.access.org
    assert org is not None
    assert 2 not in org.campaign("acme-hotline").seats

    agent = _sign_in(chromium, live, "ag.alice", "/admin")
    expect(agent.locator("#campaigns")).to_have_text("You administer no campaign.")
    for tab in (admin, agent):
        tab.context.close()


def test_pages_speak_french_by_accept_language_and_switch(chromium: Any, live: LiveCenter) -> None:
    """A browser asking for French gets French pages; the switch turns them to
    English and the choice sticks across pages."""
    desk = _sign_in(chromium, live, "ag.alice", "/desk", locale="fr-FR")
    expect(desk.locator("html")).to_have_attribute("lang", "fr")
    expect(desk.locator("#ready")).to_have_text("Prêt")
    expect(desk.locator("#state")).to_have_text("Déconnecté")
    desk.click("#lang-en")
    expect(desk.locator("#ready")).to_have_text("Ready")
    desk.goto(f"{live.url}/wallboard")
    expect(desk.locator("html")).to_have_attribute("lang", "en")
    desk.click("#signout")
    expect(desk).to_have_url(re.compile(r"/login$"))
    desk.context.close()


def test_click_to_dial_from_the_desk(chromium: Any, live: LiveCenter) -> None:
    """Alice, ready at lyon:1, types a customer's number and clicks Call: her
    position's phone rings and answers, the customer is dialled and answers, and
    her desk shows her paused for click-to-dial; when the customer hangs up she
    is ready again. A number the dial plan refuses shows the refusal and dials
    nothing."""
    desk = _sign_in(chromium, live, "ag.alice", "/desk")
    desk.select_option("#position", "lyon:1")
    desk.click("#sit")
    desk.click("#ready")
    expect(desk.locator("#state")).to_have_text("Ready")
    legs = set(live.run(lambda: set(live.backend.calls)))
    desk.fill("#dial-number", "+33142685300")
    desk.click("#dial")
    expect(desk.locator("#message")).to_contain_text("+33142685300")
    expect(desk.locator("#message")).to_have_class(re.compile(r"\bbad\b"))
    assert live.run(lambda: set(live.backend.calls)) == legs
    desk.fill("#dial-number", CUSTOMER)
    desk.click("#dial")
    expect(desk.locator("#message")).to_have_text(f"Your phone rings, then {CUSTOMER}")
    expect(desk.locator("#state")).to_have_text("Not ready")
    expect(desk.locator("#reason")).to_have_text("(click-to-dial)")
    expect(desk.locator("#state")).to_have_text("Ready")  # the customer hung up
    expect(desk.locator("#reason")).to_have_text("")
    desk.context.close()

    dialled = live.portal.call(_logged, live, DialConnected)
    assert [(e.agent, e.number) for e in dialled] == [("ag.alice", CUSTOMER)]


def test_the_floor_manager_sees_every_team_and_picks_one(chromium: Any, live: LiveCenter) -> None:
    """Fabrice (floor manager of lyon-1) sees both hotline teams on his wallboard,
    each with its agents by state; picking hotline-b lists Farid alone, and
    clicking hotline-a in the teams table lists Alice alone."""
    board = _sign_in(chromium, live, "fm.bernard", "/wallboard")
    teams = board.locator("#teams tbody tr")
    expect(board.locator("#teams-panel")).to_be_visible()
    expect(teams).to_have_count(2)
    expect(board.locator('#teams tr[data-team="hotline-a"] td.supervisor')).to_have_text(
        "Claire Lambert"
    )
    expect(board.locator('#teams tr[data-team="hotline-b"] td.by-state')).to_have_text("Offline 1")
    expect(board.locator("#agents tbody tr")).to_have_count(2)
    board.select_option("#team-filter", "hotline-b")
    expect(board.locator("#agents tbody tr")).to_have_count(1)
    expect(board.locator('#agents tr[data-agent="ag.farid"]')).to_be_visible()
    board.locator('#teams tr[data-team="hotline-a"] a').click()
    expect(board.locator("#agents tbody tr")).to_have_count(1)
    expect(board.locator('#agents tr[data-agent="ag.alice"]')).to_be_visible()
    board.context.close()
