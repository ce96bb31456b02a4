"""An e-mail round trip through ``callcenter serve``: a real Dovecot mailbox in, a real
SMTP relay out, the center's own process in between.

The center file's ``[email]`` names the Dovecot mailbox (``[email.imap]``, its password
from an environment variable) and the relay (this file's aiosmtpd relay, run on an event
loop of its own thread, filing what it accepts into Dovecot). A customer's mail filed in
the support mailbox becomes a contact the agent takes through the HTTP API; the agent's
reply reaches the customer's mailbox in the thread of their mail.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from ..cli.processes import ROOT, free_port, hotline_center_file, running
from .conftest import PASSWORD, Dovecot, open_relay
from .test_email import _inbox

WAIT = 60.0
"""Seconds allowed for what the center does at once (IMAP IDLE wakes it), on a busy machine."""


@pytest.fixture
def relay_port(dovecot: Dovecot) -> Iterator[int]:
    """The relay's port: an aiosmtpd relay into ``dovecot``, on its own thread's loop."""
    ready = threading.Event()
    port: list[int] = []
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def run() -> None:
        async with open_relay(dovecot) as relay:
            port.append(relay.port)
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(run(),), daemon=True)
    thread.start()
    assert ready.wait(WAIT), "the relay did not start"
    try:
        yield port[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(WAIT)
        loop.close()


def test_a_mail_in_the_mailbox_is_answered_in_its_thread_by_the_running_center(
    tmp_path: Path, dovecot: Dovecot, relay_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``serve`` reads the support mailbox (IMAP, password from the environment): the
    customer's mail becomes an e-mail contact agent1 accepts, with its text; agent1's reply
    through the API is sent through the relay and lands in the customer's mailbox with the
    mail's thread (In-Reply-To its Message-ID) and the ticket's reference in the subject."""
    monkeypatch.setenv("HOTLINE_TEST_IMAP_PASSWORD", PASSWORD)
    file = hotline_center_file(tmp_path)
    text = file.read_text(encoding="utf-8").replace(
        "agent1 = { skills = { internet = 5, tv = 2 } }",
        "agent1 = { skills = { internet = 5, tv = 2 }, capacity = { voice = 1, email = 2 } }",
    )
    text += f"""
[email]
address = "support@acme.example"
queue = "general"
smtp_port = {relay_port}
acknowledge = false

[email.imap]
host = "127.0.0.1"
port = {dovecot.port}
user = "support"
password_env = "HOTLINE_TEST_IMAP_PASSWORD"
tls = false
check_every = 2
"""
    file.write_text(text, encoding="utf-8")
    port = free_port()
    with running("serve", str(file), "--virtual", "--port", str(port)) as command:
        command.wait_for_line("web: ", timeout=120)
        assert f"mail: imap://support@127.0.0.1:{dovecot.port}" in command.lines
        token = subprocess.run(
            [
                *(sys.executable, "-m", "callcenter_sdk", "accounts", "token", "agent1"),
                *("--config", str(file), "--label", "test"),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout.strip()
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as api:
            assert api.post("/api/agents/agent1/login", json={"position": "hotline:1"}).is_success
            assert api.post("/api/agents/agent1/ready").is_success

            mail = EmailMessage()
            mail["From"] = "customer@acme.example"
            mail["To"] = "support@acme.example"
            mail["Subject"] = "Router keeps rebooting"
            mail["Message-ID"] = "<reboot-1@acme.example>"
            mail.set_content("Every ten minutes, since Monday.")
            dovecot.save("support", bytes(mail))

            deadline = time.monotonic() + WAIT
            while (taken := api.post("/api/agents/agent1/accept")).status_code == 409:
                assert time.monotonic() < deadline, "the mail never became a contact"
                time.sleep(0.2)  # polling the ACD over HTTP while IMAP delivers
            assert taken.status_code == 200, taken.text
            contact = taken.json()["contact"]
            read = api.get(f"/api/contacts/{contact}/messages").json()["messages"]
            assert "Every ten minutes, since Monday." in read[0]["text"]

            answer = api.post(
                f"/api/contacts/{contact}/reply", json={"text": "Please update its firmware."}
            )
            assert answer.status_code == 200, answer.text

    deadline = time.monotonic() + WAIT
    while not (inbox := _inbox(dovecot, "customer")):
        assert time.monotonic() < deadline, "the reply never reached the customer's mailbox"
        time.sleep(0.2)  # polling the customer's mailbox, as a mail client does
    (reply,) = inbox
    assert reply["In-Reply-To"] == "<reboot-1@acme.example>"
    assert "Router keeps rebooting" in reply["Subject"]
    assert "[#" in reply["Subject"]
    assert "Please update its firmware." in reply.get_content()
