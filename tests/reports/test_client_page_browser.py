"""The client page as a browser shows it: headless Chromium renders it like the stored picture."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from matplotlib.testing.compare import compare_images

from callcenter_sdk.reports import client_report, render_client_html
from callcenter_sdk.store import Store

from .test_client_report import CAMPAIGNS, NOW, _day

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's Chromium is not installed (/usr/bin/chromium)", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api", reason="the test extra installs playwright")

BASELINE = Path(__file__).parent / "baseline" / "client_page.png"
TOLERANCE = 3.0
"""RMS difference allowed (0-255): text antialiasing may move a little between Chromium builds."""


def test_chromium_renders_the_client_page_as_stored(store: Store, tmp_path: Path) -> None:
    """FibreNet's page, opened from a file with the network cut, renders (figures, the
    inlined SVG chart, the tickets) within the tolerance of the stored screenshot, and
    asks for nothing over the network."""
    org = _day(store)
    report = client_report(
        store, org, "fibrenet", start=0.0, end=7_200.0, now=NOW, campaigns=CAMPAIGNS,
        interval="15min",
    )  # fmt: skip
    page_file = tmp_path / "fibrenet.html"
    page_file.write_text(render_client_html(report), encoding="utf-8")
    shot = tmp_path / "client_page.png"
    requests: list[str] = []
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM))
        try:
            page = browser.new_page(viewport={"width": 860, "height": 600})
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_file.as_uri())
            assert page.locator("svg").count() == 1
            assert page.locator("tbody tr").count() == 3  # one campaign, two tickets
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert requests == [page_file.as_uri()]
    if os.environ.get("CALLCENTER_UPDATE_BASELINES") == "1":
        BASELINE.write_bytes(shot.read_bytes())
    assert compare_images(str(BASELINE), str(shot), tol=TOLERANCE) is None
