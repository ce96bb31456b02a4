"""Channels under a mixed load with a kill -9 of the center: nothing lost, nothing twice.

``python benchmarks/bench_channels.py [--conversations N] [--seed S]``

A center process (this script with ``center``) serves every channel on a
SQLite store: the SMTP listener (e-mail), the chat's WebSocket, and
webhooks for three messaging providers (``sms`` on SMS; ``messenger`` and
``whatsapp``, WhatsApp-style, on social). Four agents (capacity: 2 e-mails,
3 chats, 3 SMS, 3 social at once) accept each offer and dispose of it a
moment later; the center prints a ``violation`` line whenever an agent holds
more of a channel than their capacity.

The load (this process) opens ``N`` conversations per channel, three
messages each (a first one and two follow-ups: e-mail replies with
``In-Reply-To``, the same chat socket, the same number), and behaves as each
sender does: it sends a message again until it is acknowledged (SMTP 250,
webhook 200, the chat's ack). Every tenth webhook is also sent forged (a
wrong secret). When 40 % of the messages are acknowledged the center is
killed with SIGKILL and started again on the same store; the senders retry
meanwhile (the chat rejoins with its token).

Afterwards the store is read: ``lost`` counts acknowledged messages not
stored (or not handed to the ACD), ``duplicates`` stored rows beyond one per
message plus conversations split over two tickets' first messages,
``threaded_ratio`` the follow-ups stored on their conversation's ticket,
``tampered_accepted`` forged webhooks answered 200. The last line is one
JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import aiosmtplib
import anyio
import anyio.to_thread
import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from callcenter_sdk import ManualClock
from callcenter_sdk.acd import Agent, Capacity, ContactOffered, Membership, Queue
from callcenter_sdk.channels import (
    ChatChannel,
    ChatSettings,
    EmailChannel,
    EmailSettings,
    JsonProvider,
    MessagingChannel,
    MessagingSettings,
    hub_signature_256,
    messaging_app,
    open_smtp_intake,
)
from callcenter_sdk.ivr import FlowBuilder, ToQueue
from callcenter_sdk.kpi import Channel
from callcenter_sdk.media import VirtualBackend
from callcenter_sdk.runtime import CallCenterConfig, Seat, open_call_center, run_virtual
from callcenter_sdk.store import create_store
from callcenter_sdk.tickets import TicketMessages

SECRET = b"bench secret"
CHAT_SECRET = b"bench chat secret"
CENTER_NUMBER = "+33100000000"
PROVIDERS = {"sms": "sms", "messenger": "social", "whatsapp": "social"}
CAPACITY = {"email": 2, "chat": 3, "sms": 3, "social": 3}
AGENTS = ("a1", "a2", "a3", "a4")


# -- the center process ---------------------------------------------------------------------
async def center_main(db: str, smtp_port: int, http_port: int) -> None:
    """Serve every channel on ``db`` until killed; print ``ready`` and ``violation`` lines."""

    def say(**line: Any) -> None:
        print(json.dumps(line), flush=True)

    queues = {
        "email": Channel.EMAIL,
        "chat": Channel.CHAT,
        "sms": Channel.SMS,
        "social": Channel.SOCIAL,
    }
    limits = {queues[q]: n for q, n in CAPACITY.items()}
    agents = [
        Agent(
            id=a,
            skills=dict.fromkeys(queues, 3),
            memberships=[Membership(q) for q in queues],
            capacity=Capacity(limits={Channel.VOICE: 1, **limits}),
        )
        for a in AGENTS
    ]
    config = CallCenterConfig(
        flow=FlowBuilder("bench", start="q").node("q", ToQueue(queue="email")).build(),
        queues=[
            Queue(name=q, channels=[c], offer_timeout=600.0, wrap_up=0.0) for q, c in queues.items()
        ],
        seats=[Seat(agent=a, device=f"sip:{a.id}@phones") for a in agents],
        announce=False,
    )
    clock = ManualClock(time.time())
    backend = VirtualBackend(clock)
    store = create_store(f"sqlite:///{db}")
    async with open_call_center(
        backend, config, store=store, clock=clock, run_timers=False
    ) as center:
        messages = TicketMessages(store)
        email = EmailChannel(
            center,
            messages,
            EmailSettings(address="support@bench.example", queue="email", acknowledge=False),
        )
        chat = ChatChannel(center, messages, ChatSettings(queue="chat", secret=CHAT_SECRET))
        providers = [
            MessagingChannel(
                center,
                messages,
                JsonProvider(base_url="http://127.0.0.1:9", secret=SECRET, name=name),
                MessagingSettings(queue=q, channel=queues[q]),
            )
            for name, q in PROVIDERS.items()
        ]
        for adapter in (email, chat, providers[0], providers[1]):
            center.add_channel(adapter)
        queue_of: dict[str, str] = {}
        center.subscribe(
            lambda _s, e: (
                queue_of.__setitem__(e.contact_id, e.queue)
                if isinstance(e, ContactOffered)
                else None
            )
        )
        app = Starlette(
            routes=[Mount("/chat", chat.app()), Mount("/messages", messaging_app(*providers))]
        )
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=http_port,
                ws="wsproto",
                lifespan="off",
                log_level="error",
            )
        )

        async def pace() -> None:
            last = time.monotonic()
            while True:
                await anyio.sleep(0.05)
                now = time.monotonic()
                await run_virtual(center, backend, now - last)
                last = now

        async def work(agent: str) -> None:
            with contextlib.suppress(Exception):
                await center.set_ready(agent, actor=agent)
            held: dict[str, list[tuple[str, float]]] = defaultdict(list)
            while True:
                await anyio.sleep(0.05)
                try:
                    contact_id = await center.accept(agent, actor=agent)
                except Exception:  # noqa: BLE001 - nothing offered now
                    contact_id = ""
                if contact_id:
                    queue = queue_of.get(contact_id, "?")
                    held[queue].append((contact_id, time.monotonic()))
                    say(accepted=agent, queue=queue, held=len(held[queue]))
                    if len(held[queue]) > CAPACITY.get(queue, 0):
                        say(violation=agent, queue=queue, held=len(held[queue]))
                for items in held.values():
                    for item in [i for i in items if time.monotonic() - i[1] > 0.3]:
                        items.remove(item)
                        with contextlib.suppress(Exception):
                            await center.dispose(item[0], "solved", actor=agent)

        async with open_smtp_intake(email, port=smtp_port), anyio.create_task_group() as tg:
            tg.start_soon(server.serve)
            while not server.started:  # noqa: ASYNC110 - uvicorn offers no event
                await anyio.sleep(0.02)
            tg.start_soon(pace)
            for agent in AGENTS:
                tg.start_soon(work, agent)
            say(ready=True)


# -- the load ---------------------------------------------------------------------------------
class Center:
    """The center process: started, killed with SIGKILL, started again."""

    def __init__(self, db: str) -> None:
        self.db = db
        self.smtp, self.http = _free_port(), _free_port()
        self.violations = 0
        self.accepted = 0
        self.most_held: Counter[str] = Counter()
        self.process: subprocess.Popen[str] | None = None
        self.lines: list[str] = []

    async def start(self) -> None:
        """Start the center and wait until it serves."""
        self.process = subprocess.Popen(  # noqa: S603, ASYNC220 - this script, started at once
            [sys.executable, __file__, "center", self.db, str(self.smtp), str(self.http)],
            stdout=subprocess.PIPE,
            text=True,
        )
        stream = self.process.stdout
        assert stream is not None
        while True:
            line = await anyio.to_thread.run_sync(stream.readline)
            if not line:
                raise RuntimeError("the center died while starting")
            if json.loads(line).get("ready"):
                break

    def stop(self, sig: int = signal.SIGKILL) -> None:
        """Kill it (SIGKILL by default) and count the violations it reported."""
        assert self.process is not None
        self.process.send_signal(sig)
        out, _ = self.process.communicate()
        lines = [json.loads(line) for line in out.splitlines() if line.strip()]
        self.violations += sum(1 for line in lines if "violation" in line)
        self.accepted += sum(1 for line in lines if "accepted" in line)
        for line in lines:
            if "accepted" in line:
                self.most_held[line["queue"]] = max(self.most_held[line["queue"]], line["held"])


class Load:
    """The customers' side: every message sent until acknowledged."""

    def __init__(self, center: Center, conversations: int, rng: random.Random) -> None:
        self.center = center
        self.n = conversations
        self.rng = rng
        self.acked: dict[str, tuple[str, int]] = {}  # message id -> (conversation, position)
        self.total = 5 * conversations * 3
        self.forged = 0
        self.tampered_accepted = 0
        self.killed = anyio.Event()

    async def after_ack(self) -> None:
        """Kill the center and start it again once 40 % of the messages are acknowledged."""
        if len(self.acked) >= 0.4 * self.total and not self.killed.is_set():
            self.killed.set()
            self.center.stop()
            await self.center.start()

    async def email(self, k: int) -> None:
        """Conversation ``k`` by e-mail: a mail and two replies in its thread."""
        first = ""
        for position in range(3):
            message = EmailMessage()
            message["From"] = f"customer{k}@bench.example"
            message["To"] = "support@bench.example"
            message["Subject"] = f"Question {k}" if not position else f"Re: Question {k}"
            message["Message-ID"] = make_msgid(domain="customer.bench")
            if first:
                message["In-Reply-To"] = first
                message["References"] = first
            message.set_content(f"email {k} line {position}")
            while True:
                try:
                    await aiosmtplib.send(
                        message, hostname="127.0.0.1", port=self.center.smtp, timeout=10
                    )
                    break
                except (aiosmtplib.SMTPException, OSError):
                    await anyio.sleep(0.1)
            first = first or str(message["Message-ID"])
            self.acked[str(message["Message-ID"])] = (f"email{k}", position)
            await self.after_ack()

    async def webhook(self, provider: str, k: int, client: httpx.AsyncClient) -> None:
        """Conversation ``k`` through ``provider``: three messages from one number."""
        sender = f"+336{list(PROVIDERS).index(provider):02d}{k:06d}"
        for position in range(3):
            body = json.dumps(
                {
                    "id": f"{provider}-{k}-{position}",
                    "from": sender,
                    "to": CENTER_NUMBER,
                    "text": f"{provider} {k} line {position}",
                }
            )
            url = f"http://127.0.0.1:{self.center.http}/messages/{provider}"
            if self.rng.random() < 0.1:
                forged = body.replace(f'-{position}"', f'-{position}-forged"').encode()
                headers = {"x-hub-signature-256": hub_signature_256(b"guess", forged)}
                with contextlib.suppress(httpx.HTTPError):
                    self.forged += 1
                    answer = await client.post(url, content=forged, headers=headers)
                    self.tampered_accepted += answer.status_code == 200
            headers = {"x-hub-signature-256": hub_signature_256(SECRET, body.encode())}
            while True:
                try:
                    answer = await client.post(url, content=body.encode(), headers=headers)
                    if answer.status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await anyio.sleep(0.1)
            self.acked[f"{provider}:{provider}-{k}-{position}"] = (f"{provider}{k}", position)
            await self.after_ack()

    async def chat(self, k: int) -> None:
        """Conversation ``k`` by chat: three lines, rejoining with the token after a drop."""
        token = ""
        position = 0
        while position < 3:
            try:
                async with connect(f"ws://127.0.0.1:{self.center.http}/chat/ws") as ws:
                    hello: dict[str, Any] = (
                        {"type": "hello", "token": token}
                        if token
                        else {
                            "type": "hello",
                            "name": f"Chatter {k}",
                            "email": f"chat{k}@bench.example",
                        }
                    )
                    await ws.send(json.dumps(hello))
                    welcome = json.loads(await ws.recv())
                    token = welcome["token"]
                    while position < 3:
                        await ws.send(
                            json.dumps(
                                {
                                    "type": "message",
                                    "seq": position + 1,
                                    "text": f"chat {k} line {position}",
                                }
                            )
                        )
                        while True:
                            frame = json.loads(await ws.recv())
                            if frame["type"] in ("ack", "error"):
                                break
                        if frame["type"] == "error":
                            await anyio.sleep(0.1)
                            continue
                        self.acked[frame["id"]] = (f"chat{k}", position)
                        position += 1
                        await self.after_ack()
            except (OSError, WebSocketException, KeyError):
                await anyio.sleep(0.1)

    async def run(self) -> None:
        """Every conversation, twenty at a time."""
        limiter = anyio.CapacityLimiter(20)

        async def one(job: Any, *args: Any) -> None:
            async with limiter:
                await job(*args)

        async with httpx.AsyncClient(timeout=10) as client, anyio.create_task_group() as tg:
            for k in range(self.n):
                tg.start_soon(one, self.email, k)
                tg.start_soon(one, self.chat, k)
                for provider in PROVIDERS:
                    tg.start_soon(one, self.webhook, provider, k, client)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _measure(db: str, load: Load) -> dict[str, Any]:
    rows = (
        sqlite3.connect(db)
        .execute(
            "SELECT message_id, ticket_id, text, handed_over FROM ticket_messages"
            " WHERE direction = 'inbound'"
        )
        .fetchall()
    )
    by_id = {r[0]: r for r in rows}
    lost = sum(1 for m in load.acked if m not in by_id or not by_id[m][3])
    texts = Counter(r[2] for r in rows)
    duplicates = sum(n - 1 for n in texts.values() if n > 1)
    tickets: dict[str, dict[int, str]] = defaultdict(dict)
    for message_id, (conversation, position) in load.acked.items():
        if message_id in by_id:
            tickets[conversation][position] = by_id[message_id][1]
    follow_ups = threaded = 0
    split: Counter[str] = Counter()
    for conversation, positions in tickets.items():
        for position in (1, 2):
            if position in positions:
                follow_ups += 1
                threaded += positions[position] == positions.get(0)
                if positions[position] != positions.get(0):
                    split[conversation.rstrip("0123456789")] += 1
    return {
        "messages": len(load.acked),
        "lost": lost,
        "duplicates": duplicates,
        "threaded_ratio": round(threaded / follow_ups, 4) if follow_ups else None,
        "tampered_accepted": load.tampered_accepted,
        "forged_sent": load.forged,
        "unthreaded_by_channel": dict(split),
    }


async def main() -> None:
    """Run the load against a center killed once with SIGKILL; print the summary."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=20, help="per channel")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "center.sqlite3")
        center = Center(db)
        await center.start()
        load = Load(center, args.conversations, random.Random(args.seed))
        started = time.monotonic()
        await load.run()
        elapsed = time.monotonic() - started
        center.stop(signal.SIGTERM)
        result = {
            **_measure(db, load),
            "capacity_violations": center.violations,
            "accepted": center.accepted,
            "most_held_at_once": dict(center.most_held),
            "kills": int(load.killed.is_set()),
            "seconds": round(elapsed, 1),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "center":
        anyio.run(center_main, sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        os.environ.setdefault("PYTHONUNBUFFERED", "1")
        anyio.run(main)
