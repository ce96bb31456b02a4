"""``callcenter demo --web``: the hotline with its web app, logins printed."""

from __future__ import annotations

import signal

import httpx

from .processes import free_port, running, wait_for_http


def test_demo_web_prints_a_url_and_logins_that_work_then_stops_on_sigterm() -> None:
    """The virtual-time hotline serves its web app: the printed URL answers, the
    printed supervisor login with the printed password opens a session that
    sees the hotline's queues; after the run the pages stay up, and SIGTERM
    ends it with the report, exit 0 and no process left."""
    port = free_port()
    with running("demo", "--web", "--virtual", "--duration", "20", "--port", str(port)) as demo:
        line = demo.wait_for_line("web: ", timeout=120)
        url = f"http://127.0.0.1:{port}/"
        assert line.startswith(f"web: {url} ")
        assert wait_for_http(f"{url}api/me", demo, timeout=30).status_code == 401
        password = demo.wait_for_line("logins, all with the password ", timeout=10).split()[-1]
        password = password.rstrip(":")
        assert demo.wait_for_line("  supervisor ", timeout=10).split() == [
            "supervisor",
            "supervisor",
        ]
        with httpx.Client(base_url=url) as browser:
            login = browser.post("/api/login", json={"person": "supervisor", "password": password})
            assert login.status_code == 200, login.text
            queues = browser.get("/api/queues")
            assert queues.status_code == 200
            assert "streamtv" in queues.text
            assert browser.get("/wallboard").status_code == 200
        demo.wait_for_line("the run is over; the pages stay up", timeout=120)
        assert httpx.get(f"{url}api/me").status_code == 401  # still up
        assert demo.stop(signal.SIGTERM) == 0, "\n".join(demo.errors)
        assert "Hotline report (from the stored event log)" in demo.output
        assert demo.leftovers() == []
