"""A wallboard in Chromium follows ``callcenter serve`` across a restart of the server.

The server is the real command (``callcenter serve --virtual``, its store a
SQLite file); the page is Debian's Chromium driven by Playwright. The page's
activity list shows each event it received with its event-log sequence
number, so what it shows can be compared with the log itself.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import callcenter_sdk.runtime  # noqa: F401 - registers the runtime's event kinds for reading
from callcenter_sdk.store import EventLog, create_store

from .processes import ROOT, free_port, hotline_center_file, running, wait_for_http

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's Chromium is not installed (/usr/bin/chromium)", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api", reason="the test extra installs playwright")
pytestmark = pytest.mark.slow

PASSWORD = "a long passphrase"  # noqa: S105 - a test account's
WATCHED = ("acd.agent_state_changed",)


def _cli(*args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [sys.executable, "-m", "callcenter_sdk", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless."""
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


def _toggle(url: str, token: str, agent: str, times: int, tag: str) -> None:
    """``agent`` sits at a position, then goes ready and pauses (reason ``tag-n``)
    ``times`` times, through the HTTP API."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as api:
        seated = api.post(f"/api/agents/{agent}/login", json={"position": "hotline:1"})
        assert seated.status_code in (200, 409), seated.text  # 409: still seated from before
        for n in range(times):
            answer = api.post(f"/api/agents/{agent}/ready")
            assert answer.status_code == 200, answer.text
            answer = api.post(f"/api/agents/{agent}/not-ready", json={"reason": f"{tag}-{n}"})
            assert answer.status_code == 200, answer.text


def _logged(folder: Path, after: int = 0) -> dict[int, Any]:
    """The state changes in the center's log after ``after``, by sequence number."""
    with create_store(f"sqlite:///{folder / 'center.sqlite'}") as store:
        rows = EventLog(store).read(after=after, limit=100_000)
    return {r.seq: r.event for r in rows if r.event.kind in WATCHED}


def _shown(page: Any) -> list[int]:
    """The sequence numbers of the state changes the page lists, newest first."""
    seqs: list[int] = page.eval_on_selector_all(
        "#activity li[data-kind='acd.agent_state_changed']",
        "items => items.map(i => Number(i.dataset.seq))",
    )
    return seqs


def test_the_wallboard_misses_nothing_and_shows_nothing_twice_across_a_restart(
    tmp_path: Path, chromium: Any
) -> None:
    """The floor manager's wallboard lists agent1's state changes; the server
    is stopped (SIGTERM: the center logs its agents out as it closes, events
    the page cannot have received) and started again on the same store and
    port; without a reload the page reconnects on its own, still signed in,
    and lists the changes made after the restart. Every state change the log
    holds from the first the page saw to the last is listed exactly once, in
    order, including those written while the server went down."""
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)  # a loaded 2-core machine
    config = hotline_center_file(tmp_path)
    _cli("accounts", "set-password", "floor", "--config", str(config), stdin=PASSWORD)
    token = _cli("accounts", "token", "agent1", "--config", str(config), "--label", "test")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    serve_args = ("serve", str(config), "--virtual", "--port", str(port))

    with running(*serve_args) as first:
        wait_for_http(f"{url}/api/me", first, timeout=120)
        page = chromium.new_context().new_page()
        page.goto(f"{url}/wallboard")
        expect(page).to_have_url(re.compile(r"/login\?next="))
        page.fill("#person", "floor")
        page.fill("#password", PASSWORD)
        page.click("#sign-in")
        expect(page).to_have_url(f"{url}/wallboard")
        expect(page.locator("#live")).to_have_text(re.compile("live", re.IGNORECASE))
        _toggle(url, token, "agent1", 3, "before")
        expect(page.locator("#activity li", has_text="(before-2)")).to_have_count(1)
        before = _shown(page)
        assert len(before) >= 6
        assert first.stop(signal.SIGTERM) == 0, "\n".join(first.errors)

    expect(page.locator("#live")).not_to_have_text(re.compile("^● "))
    with running(*serve_args) as second:
        wait_for_http(f"{url}/api/me", second, timeout=120)
        expect(page.locator("#live")).to_have_text(re.compile("^● "))
        _toggle(url, token, "agent1", 2, "after")
        expect(page.locator("#activity li", has_text="(after-1)")).to_have_count(1)
        shown = _shown(page)
        assert second.stop(signal.SIGTERM) == 0, "\n".join(second.errors)
    logged = _logged(tmp_path, after=min(before) - 1)
    expected = [seq for seq in logged if seq <= max(shown)]

    assert shown == sorted(shown, reverse=True), "listed newest first, none twice"
    assert len(shown) == len(set(shown))
    assert shown[::-1] == expected
    went_down = next(logged[seq] for seq in expected if seq > max(before))
    assert went_down.state.value == "offline", "the first change after the page's last: at shutdown"
