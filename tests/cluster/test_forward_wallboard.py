"""A wallboard in Chromium on a standby node shows the leader's events, and goes on after takeover.

Two ``callcenter serve --virtual --cluster`` processes on one PostgreSQL
schema (the fixtures of ``test_serve_failover``); the page is Debian's
Chromium driven by Playwright, opened on standby b while a leads. Its
activity list shows each event with its event-log sequence number.
"""

# ruff: noqa: F811 - the fixtures come from test_serve_failover, and tests name them as parameters

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import callcenter_sdk.runtime  # noqa: F401 - registers the runtime's event kinds for reading
from callcenter_sdk.store import Accounts, EventLog, Store

from .test_serve_failover import (  # noqa: F401 - the fixtures
    OPEN,
    PERIOD,
    SLACK,
    START,
    TTL,
    Node,
    center_file,
    database,
    node_a,
    node_b,
    token,
)

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's Chromium is not installed (/usr/bin/chromium)", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api", reason="the test extra installs playwright")
pytestmark = [pytest.mark.postgresql, pytest.mark.slow]

PASSWORD = "a long passphrase"  # noqa: S105 - a test account's
WATCHED = "acd.agent_state_changed"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless."""
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


def _toggle(url: str, token: str, times: int, tag: str) -> None:
    """agent1 sits, then goes ready and pauses (reason ``tag-n``) ``times`` times, via ``url``."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as api:
        seated = api.post("/api/agents/agent1/login", json={"position": "hotline:1"})
        assert seated.status_code in (200, 409), seated.text  # 409: still seated from before
        for n in range(times):
            answer = api.post("/api/agents/agent1/ready")
            assert answer.status_code == 200, answer.text
            answer = api.post("/api/agents/agent1/not-ready", json={"reason": f"{tag}-{n}"})
            assert answer.status_code == 200, answer.text


def _shown(page: Any) -> list[int]:
    """The sequence numbers of the state changes the page lists, newest first."""
    seqs: list[int] = page.eval_on_selector_all(
        f"#activity li[data-kind='{WATCHED}']", "items => items.map(i => Number(i.dataset.seq))"
    )
    return seqs


def test_a_wallboard_on_the_standby_shows_the_leaders_events_and_outlives_the_leader(
    chromium: Any, node_a: Node, node_b: Node, token: str, database: Store
) -> None:
    """The floor manager opens the wallboard on standby b and signs in there (pages and sign-in
    forwarded to a); agent1's state changes made through leader a's API appear on it, each
    once, with the log's sequence numbers; kill -9 of a: b takes over, and the same page, not
    reloaded, lists the changes made through b afterwards. Every state change the log holds
    from the first the page saw to the last is listed exactly once, in order."""
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)  # a loaded 2-core machine
    node_b.command.wait_for_line("standby b for hotline", START)
    Accounts(database).set_password("floor", PASSWORD, at=0.0)

    page = chromium.new_context().new_page()
    page.goto(f"{node_b.url}/wallboard")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("#person", "floor")
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    expect(page).to_have_url(f"{node_b.url}/wallboard")
    expect(page.locator("#live")).to_have_text(re.compile("live", re.IGNORECASE))
    _toggle(node_a.url, token, 3, "before")
    expect(page.locator("#activity li", has_text="(before-2)")).to_have_count(1)
    assert node_b.cluster()["role"] == "standby"

    node_a.command.process.kill()
    node_b.command.wait_for_line("leader b epoch 2", TTL + PERIOD + SLACK + OPEN + 30)
    _toggle(node_b.url, token, 2, "after")
    expect(page.locator("#activity li", has_text="(after-1)")).to_have_count(1)
    shown = _shown(page)
    logged = [
        r.seq for r in EventLog(database).read(after=0, limit=100_000) if r.event.kind == WATCHED
    ]
    expected = [seq for seq in logged if min(shown) <= seq <= max(shown)]
    assert sorted(shown) == expected, "each change listed once, none missing"
    assert shown == sorted(shown, reverse=True), "newest first, in log order"
