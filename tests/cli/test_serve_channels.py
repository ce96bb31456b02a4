"""``callcenter serve`` opens the channels its center file names: a customer chats, mails
and texts the running center, and an agent answers from the API the desktop uses.

One ``serve --virtual`` process runs the hotline with ``[chat]``, ``[email]`` (the
center's own SMTP listener) and one ``[[messaging]]`` provider (the reference ``json``
provider; its secret in an environment variable). The customer's side is real: a
WebSocket client on ``/chat/ws``, ``smtplib`` to the listener, signed HTTP webhooks.
The agent signs in with a token and works through the HTTP API. Every wait polls a
condition with a deadline.
"""

from __future__ import annotations

import json
import smtplib
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from callcenter_sdk.channels import hub_signature_256

from .processes import ROOT, Command, free_port, hotline_center_file, running

SMS_SECRET = "provider secret for the test"  # noqa: S105 - the test provider's
WAIT = 60.0
"""Seconds allowed for what the center does at once, on a busy machine."""


def _cli(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "callcenter_sdk", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _center_file(folder: Path, smtp_port: int) -> Path:
    """The hotline with agent1 taking chats, mails and texts, and the three channels open."""
    file = hotline_center_file(folder)
    text = file.read_text(encoding="utf-8").replace(
        "agent1 = { skills = { internet = 5, tv = 2 } }",
        "agent1 = { skills = { internet = 5, tv = 2 },"
        " capacity = { voice = 1, chat = 2, email = 2, sms = 2 } }",
    )
    assert "email = 2" in text
    assert '[chat]\nqueue = "general"' in text  # the hotline opens its web chat
    text += f"""
[email]
address = "support@fibrenet.test"
queue = "general"
listen = "127.0.0.1:{smtp_port}"
acknowledge = false

[[messaging]]
provider = "json"
queue = "general"
channel = "sms"
sender = "+33100000000"

[messaging.options]
base_url = "http://127.0.0.1:9/v1"
secret_env = "HOTLINE_TEST_SMS_SECRET"
"""
    file.write_text(text, encoding="utf-8")
    return file


class Center:
    """The running ``serve`` process, and agent1 signed in with a token."""

    def __init__(self, command: Command, url: str, token: str) -> None:
        self.command = command
        self.url = url
        self.api = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    def accept(self) -> str:
        """The contact agent1 takes once one is offered (polled: the ACD offers it)."""
        deadline = time.monotonic() + WAIT
        while True:
            answer = self.api.post("/api/agents/agent1/accept")
            if answer.status_code == 200:
                contact: str = answer.json()["contact"]
                return contact
            assert answer.status_code == 409, answer.text  # nothing offered yet
            assert time.monotonic() < deadline, "no work offered to agent1"
            time.sleep(0.1)  # polling the ACD over HTTP: nothing to wait on here

    def messages(self, contact: str) -> list[dict[str, Any]]:
        """The conversation the desktop shows for ``contact``."""
        answer = self.api.get(f"/api/contacts/{contact}/messages")
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()["messages"]
        return found


@pytest.fixture
def center(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Center, int]]:
    """The hotline served with its channels, agent1 seated and ready; and the SMTP port."""
    monkeypatch.setenv("HOTLINE_TEST_SMS_SECRET", SMS_SECRET)
    smtp_port = free_port()
    config = _center_file(tmp_path, smtp_port)
    port = free_port()
    with running("serve", str(config), "--virtual", "--port", str(port)) as command:
        command.wait_for_line("web: ", timeout=120)
        token = _cli("accounts", "token", "agent1", "--config", str(config), "--label", "test")
        served = Center(command, f"http://127.0.0.1:{port}", token)
        seated = served.api.post("/api/agents/agent1/login", json={"position": "hotline:1"})
        assert seated.status_code == 200, seated.text
        assert served.api.post("/api/agents/agent1/ready").status_code == 200
        try:
            yield served, smtp_port
        finally:
            served.api.close()


def _frame(socket: ClientConnection, kind: str) -> dict[str, Any]:
    """The customer's next frame of ``kind`` (others, such as typing, are skipped)."""
    deadline = time.monotonic() + WAIT
    while True:
        frame: dict[str, Any] = json.loads(
            socket.recv(timeout=max(0.1, deadline - time.monotonic()))
        )
        if frame["type"] == kind:
            return frame
        assert frame["type"] != "error", frame


def test_serve_says_which_channels_it_opened(center: tuple[Center, int]) -> None:
    """The command prints one line per channel: the chat's path, the SMTP listener's
    address, the provider's webhook."""
    served, smtp_port = center
    lines = served.command.lines
    assert "web chat: /chat (widget /chat/static/chat.js)" in lines
    assert f"mail: smtp://127.0.0.1:{smtp_port} for support@fibrenet.test" in lines
    assert "messages: /messages/json (sms)" in lines


def test_a_customer_chats_with_an_agent_of_the_running_center(center: tuple[Center, int]) -> None:
    """A customer's hello and first line over ``/chat/ws`` are acknowledged; the line
    becomes a chat contact agent1 accepts; agent1's reply through the API reaches the
    customer's socket; disposing of the contact tells the customer it ended."""
    served, _ = center
    ws_url = served.url.replace("http://", "ws://") + "/chat/ws"
    with connect(ws_url, open_timeout=WAIT) as socket:
        socket.send(json.dumps({"type": "hello", "name": "Jeanne", "email": "j@customer.test"}))
        welcome = _frame(socket, "welcome")
        assert welcome["transcript"] == []
        socket.send(json.dumps({"type": "message", "seq": 1, "text": "My box blinks red"}))
        assert _frame(socket, "ack")["seq"] == 1
        contact = served.accept()
        assert [m["text"] for m in served.messages(contact)] == ["My box blinks red"]
        reply = served.api.post(
            f"/api/contacts/{contact}/reply", json={"text": "Unplug it for ten seconds"}
        )
        assert reply.status_code == 200, reply.text
        said = _frame(socket, "message")
        assert (said["from"], said["text"]) == ("agent", "Unplug it for ten seconds")
        done = served.api.post(f"/api/contacts/{contact}/dispose", json={"disposition": "solved"})
        assert done.status_code == 200, done.text
        _frame(socket, "ended")


def test_a_mail_to_the_listener_and_a_signed_text_become_contacts(
    center: tuple[Center, int],
) -> None:
    """A mail sent to the center's SMTP listener is accepted (250) and becomes an e-mail
    contact with its text; a webhook signed with the provider's secret is accepted and its
    text becomes a contact too; an unsigned one is refused and queues nothing."""
    served, smtp_port = center
    mail = EmailMessage()
    mail["From"] = "jeanne@customer.test"
    mail["To"] = "support@fibrenet.test"
    mail["Subject"] = "Invoice of November"
    mail["Message-ID"] = "<nov-invoice@customer.test>"
    mail.set_content("I was charged twice.")
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=WAIT) as smtp:
        refused = smtp.send_message(mail)
    assert refused == {}
    contact = served.accept()
    assert "I was charged twice." in served.messages(contact)[0]["text"]

    body = json.dumps(
        {"id": "sms-1", "from": "+33612345678", "to": "+33100000000", "text": "Still down"}
    ).encode()
    unsigned = served.api.post(
        "/messages/json", content=body, headers={"content-type": "application/json"}
    )
    assert unsigned.status_code in (401, 403), unsigned.text
    signed = served.api.post(
        "/messages/json",
        content=body,
        headers={
            "content-type": "application/json",
            "x-hub-signature-256": hub_signature_256(SMS_SECRET.encode(), body),
        },
    )
    assert signed.status_code == 200, signed.text
    texted = served.accept()
    assert [m["text"] for m in served.messages(texted)] == ["Still down"]
