"""The hotline's web chat through real ``serve --cluster`` processes: the customer on the
standby's port, the agent on the leader's, and again after the leader is killed.

Two ``callcenter serve --virtual --cluster`` nodes share a PostgreSQL schema (the
hotline's center file, which opens ``[chat]`` on "general"; agent1 is given chat
capacity). The customer's WebSocket goes to node b while a leads: b relays it to a's
chat through the store. Then a is killed with SIGKILL: b takes the lease, and the
customer, coming back with the token the welcome gave, finds the conversation and its
transcript on b, now the leader, and is answered there.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from websockets.sync.client import ClientConnection, connect

from callcenter_sdk.store import Store, temporary_store

from ..cli.processes import ROOT, Command, free_port, hotline_center_file, running

pytestmark = [pytest.mark.postgresql, pytest.mark.slow]

TTL = 2.0
START = 120.0
"""Seconds a node may take to start, or to take over, on a busy machine."""
WAIT = 60.0
"""Seconds allowed for what a node does at once, on a busy machine."""


@pytest.fixture
def center_file(tmp_path: Path, postgresql_url: str) -> Iterator[Path]:
    """The hotline's file on a schema of its own, a 2 s lease, agent1 taking two chats."""
    with temporary_store(postgresql_url) as store:
        yield _file(tmp_path, store, postgresql_url)


def _file(
    folder: Path,
    store: Store,
    postgresql_url: str,
    *,
    capacity: str = "voice = 1, chat = 2",
    extra: str = "",
) -> Path:
    """The hotline's file in ``folder`` on ``store``'s schema, a 2 s lease, agent1 with
    ``capacity``, and ``extra`` (more sections) at its end."""
    with store.reading("schema") as session:
        schema = session.execute(text("SELECT current_schema()")).scalar_one()
    url = make_url(postgresql_url).update_query_dict({"options": f"-csearch_path={schema}"})
    file = hotline_center_file(folder)
    body = file.read_text(encoding="utf-8")
    assert '[chat]\nqueue = "general"' in body  # the hotline opens its web chat
    body = body.replace(
        'store = "sqlite:///center.sqlite"',
        f'store = "{url.render_as_string(hide_password=False)}"',
    ).replace(
        "agent1 = { skills = { internet = 5, tv = 2 } }",
        f"agent1 = {{ skills = {{ internet = 5, tv = 2 }}, capacity = {{ {capacity} }} }}",
    )
    file.write_text(body + f"\n[cluster]\nttl = {TTL}\n{extra}", encoding="utf-8")
    return file


class Node:
    """One ``serve --cluster`` process: its output and its web port."""

    def __init__(self, command: Command, name: str, port: int) -> None:
        self.command = command
        self.name = name
        self.url = f"http://127.0.0.1:{port}"
        self.ws = f"ws://127.0.0.1:{port}/chat/ws"


def _start(center_file: Path, name: str) -> Iterator[Node]:
    port = free_port()
    args = ("serve", str(center_file), "--virtual", "--cluster", "--node-id", name)
    with running(*args, "--port", str(port)) as command:
        yield Node(command, name, port)


@pytest.fixture
def node_a(center_file: Path) -> Iterator[Node]:
    """Node a, started first: it leads at epoch 1."""
    for node in _start(center_file, "a"):
        node.command.wait_for_line("leader a epoch 1", START)
        yield node


@pytest.fixture
def node_b(center_file: Path, node_a: Node) -> Iterator[Node]:
    """Node b, started once a leads: it stands by."""
    for node in _start(center_file, "b"):
        node.command.wait_for_line("web: ", START)
        yield node


def _token(center_file: Path) -> str:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "callcenter_sdk", "accounts", "token", "agent1"),
            *("--config", str(center_file), "--label", "test"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.strip()


def _frame(socket: ClientConnection, kind: str) -> dict[str, Any]:
    """The customer's next frame of ``kind``; an error frame fails the test."""
    deadline = time.monotonic() + WAIT
    while True:
        left = max(0.1, deadline - time.monotonic())
        frame: dict[str, Any] = json.loads(socket.recv(timeout=left))
        assert frame["type"] != "error", frame
        if frame["type"] == kind:
            return frame


def _accept(api: httpx.Client) -> str:
    """The chat agent1 takes once the ACD offers it (polled)."""
    deadline = time.monotonic() + WAIT
    while True:
        answer = api.post("/api/agents/agent1/accept")
        if answer.status_code == 200:
            contact: str = answer.json()["contact"]
            return contact
        assert answer.status_code in (409, 503), answer.text  # nothing offered yet; no leader
        assert time.monotonic() < deadline, f"no chat offered to agent1: {answer.text}"
        time.sleep(0.2)  # polling the ACD over HTTP: nothing to wait on here


def _say(api: httpx.Client, contact: str, words: str) -> None:
    answer = api.post(f"/api/contacts/{contact}/reply", json={"text": words})
    assert answer.status_code == 200, answer.text


def test_a_customer_on_the_standby_chats_with_the_leader_and_across_a_takeover(
    center_file: Path, node_a: Node, node_b: Node
) -> None:
    """The customer's socket on standby b is welcomed and its line acknowledged; agent1,
    working on leader a, takes the chat and answers, and the answer reaches the customer
    through b. After kill -9 of a, b leads at epoch 2; the customer rejoins on b with the
    token and gets the whole transcript; agent1 (signed in with the same token, now on
    b) still has it (the new leader gave it back: it is not offered again), answers it, and
    the customer gets that answer; disposing of it ends the customer's conversation."""
    token = _token(center_file)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=node_a.url, headers=headers, timeout=30) as api:
        assert api.post("/api/agents/agent1/login", json={"position": "hotline:1"}).is_success
        assert api.post("/api/agents/agent1/ready").is_success
        with connect(node_b.ws, open_timeout=WAIT) as socket:
            socket.send(json.dumps({"type": "hello", "name": "Jeanne", "email": "j@cust.test"}))
            welcome = _frame(socket, "welcome")
            socket.send(json.dumps({"type": "message", "seq": 1, "text": "No signal on TV"}))
            assert _frame(socket, "ack")["seq"] == 1
            contact = _accept(api)
            _say(api, contact, "Which box do you have?")
            said = _frame(socket, "message")
            assert (said["from"], said["text"]) == ("agent", "Which box do you have?")

    node_a.command.process.send_signal(signal.SIGKILL)
    node_b.command.wait_for_line("leader b epoch 2", START)
    with (
        httpx.Client(base_url=node_b.url, headers=headers, timeout=30) as api,
        connect(node_b.ws, open_timeout=WAIT) as socket,
    ):
        socket.send(json.dumps({"type": "hello", "token": welcome["token"]}))
        back = _frame(socket, "welcome")
        assert back["conversation"] == welcome["conversation"]
        assert [(t["from"], t["text"]) for t in back["transcript"]] == [
            ("customer", "No signal on TV"),
            ("agent", "Which box do you have?"),
        ]
        answer = api.post("/api/agents/agent1/accept")
        assert answer.status_code == 409, answer.text  # not offered again: still agent1's
        _say(api, contact, "Then restart it, please.")
        said = _frame(socket, "message")
        assert (said["from"], said["text"]) == ("agent", "Then restart it, please.")
        done = api.post(f"/api/contacts/{contact}/dispose", json={"disposition": "solved"})
        assert done.status_code == 200, done.text
        _frame(socket, "ended")
