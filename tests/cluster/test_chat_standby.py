"""The web chat through a standby node: the customer's socket on b, the conversation on leader a.

One process, one PostgreSQL schema, two uvicorn servers on loopback: the
leader's web app (``create_app(..., chat=chat.app(), chat_relay=chat.relay)``
on a real center, its lifespan running) with a real :class:`Forwarder`, and
standby b's :class:`ClusterFront` handing everything to a
:class:`NodeFront` with ``chat=True``. The customer talks to b's
``/chat/ws`` with a real WebSocket client; b relays each frame to a through
the table ``forwarded_requests`` and pushes the agent's lines and ``ended``
from the shared log and store. The agent works at a's desk API.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import attrs
import httpx
import pytest
from anyio.abc import TaskGroup
from sqlalchemy import func, select
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from callcenter_sdk import ManualClock
from callcenter_sdk.acd import Agent, Capacity, Membership, Queue
from callcenter_sdk.channels import ChatChannel, ChatSettings
from callcenter_sdk.ivr import FlowBuilder, ToQueue
from callcenter_sdk.kpi import Channel
from callcenter_sdk.media import VirtualBackend
from callcenter_sdk.org import load_org
from callcenter_sdk.runtime import CallCenter, CallCenterConfig, Seat, open_call_center, run_virtual
from callcenter_sdk.store import (
    Accounts,
    EventLog,
    ForwardedRequests,
    Notifications,
    Store,
    temporary_store,
)
from callcenter_sdk.store._forward import ForwardedRequestRow
from callcenter_sdk.tickets import MessageDirection, TicketMessages
from callcenter_sdk.web import create_app
from callcenter_sdk.web._forward import (
    CHANNELS,
    CHAT_PATH,
    Forwarder,
    Hints,
    NodeFront,
    announce_events,
)
from callcenter_sdk.web._standby import ClusterFront, ClusterStatus

from ..channels.conftest import serve

pytestmark = [pytest.mark.postgresql]

ROOT = Path(__file__).parents[2]
AGENT = "ag.alice"
PASSWORD = "correct horse battery"  # noqa: S105 - the test account's
SECRET = b"chat cluster secret"


def _config() -> CallCenterConfig:
    alice = Agent(
        id=AGENT,
        skills={"chat": 3},
        memberships=[Membership("chat")],
        capacity=Capacity(limits={Channel.VOICE: 1, Channel.CHAT: 2}),
    )
    return CallCenterConfig(
        flow=FlowBuilder("chat", start="q").node("q", ToQueue(queue="chat")).build(),
        queues=[Queue(name="chat", channels=[Channel.CHAT], offer_timeout=600.0, wrap_up=1.0)],
        seats=[Seat(agent=alice, device=f"sip:{AGENT}@phones")],
        announce=False,
        org=load_org(ROOT / "examples" / "org" / "acme.toml"),
        campaigns={"chat": "acme-hotline"},
    )


@attrs.define
class Pair:
    """Leader a (the center, its chat, its forwarder) and standby b, both served on loopback."""

    center: CallCenter
    backend: VirtualBackend
    clock: ManualClock
    store: Store
    chat: ChatChannel
    leader: str
    """Leader a's base URL."""
    standby: str
    """Standby b's base URL."""
    node: NodeFront
    tg: TaskGroup
    forwarder: Forwarder
    stop_forwarder: anyio.CancelScope | None = None

    @property
    def chat_socket(self) -> str:
        """The chat's WebSocket on standby b."""
        return self.standby.replace("http", "ws", 1) + "/chat/ws"

    async def run_forwarder(self) -> None:
        """(Re)start the leader's forwarder: b's requests are answered."""

        async def run(*, task_status: anyio.abc.TaskStatus[None]) -> None:
            with anyio.CancelScope() as scope:
                self.stop_forwarder = scope
                await self.forwarder.run(task_status=task_status)

        await self.tg.start(run)

    def no_leader(self) -> None:
        """Stop the forwarder: nobody answers b's requests any more."""
        assert self.stop_forwarder is not None
        self.stop_forwarder.cancel()

    @asynccontextmanager
    async def desk(self) -> AsyncIterator[httpx.AsyncClient]:
        """Alice signed in at leader a's API (cookie session and CSRF token)."""
        headers = {"Origin": self.leader}
        async with httpx.AsyncClient(base_url=self.leader, timeout=30, headers=headers) as desk:
            signed = await desk.post("/api/login", json={"person": AGENT, "password": PASSWORD})
            assert signed.status_code == 200, signed.text
            desk.headers["X-CSRF-Token"] = signed.json()["csrf_token"]
            yield desk


@asynccontextmanager
async def cluster(url: str, **settings: Any) -> AsyncIterator[Pair]:
    """Leader a and standby b on a fresh PostgreSQL schema (b waits at most 2 s for a, reads a
    chat's agent lines every second without a hint); ``settings``: the chat's."""
    clock = ManualClock(1_000.0)
    backend = VirtualBackend(clock)
    config = _config()
    with temporary_store(url) as store:
        Accounts(store).set_password(AGENT, PASSWORD, at=0.0)
        async with open_call_center(
            backend, config, store=store, clock=clock, run_timers=False
        ) as center:
            chat = ChatChannel(
                center,
                TicketMessages(store),
                ChatSettings(queue="chat", secret=SECRET, **settings),
            )
            center.add_channel(chat)
            app = create_app(
                center, accounts=Accounts(store), chat=chat.app(), chat_relay=chat.relay, poll=0.05
            )
            hints = Hints(Notifications(store, CHANNELS), timeout=0.05)
            node = NodeFront(
                store, config, domain="acme", node="b", hints=hints, wait=2.0, poll=0.05,
                chat=True, chat_reread=1.0,
            )  # fmt: skip

            async def status() -> ClusterStatus:
                return {"node": "b", "leader": "a", "epoch": 1, "role": "standby"}

            front = ClusterFront(status, standby=node)
            forwarder = Forwarder(
                app, ForwardedRequests(store), store, hints, domain="acme", node="a", epoch=1,
                poll=0.05,
            )  # fmt: skip
            async with (
                app.router.lifespan_context(app),
                anyio.create_task_group() as tg,
                node.running(),
            ):
                await tg.start(hints.run)
                tg.start_soon(announce_events, app.state.api.feed, store)
                try:
                    async with serve(app) as leader, serve(front) as standby:
                        pair = Pair(
                            center,
                            backend,
                            clock,
                            store,
                            chat,
                            leader,
                            standby,
                            node,
                            tg,
                            forwarder,
                        )
                        await pair.run_forwarder()
                        yield pair
                finally:  # once the servers have stopped
                    tg.cancel_scope.cancel()
            chat.close()


@pytest.fixture
async def pair(postgresql_url: str) -> AsyncIterator[Pair]:
    """Leader a and standby b, running."""
    async with cluster(postgresql_url) as running:
        yield running


def relayed(store: Store) -> int:
    """Chat frames the standby passed to the leader (rows of ``forwarded_requests``)."""
    with store.reading("count relayed") as session:
        counted = select(func.count()).where(ForwardedRequestRow.path == CHAT_PATH)
        return int(session.execute(counted).scalar_one())


async def until(predicate: Callable[[], bool]) -> None:
    """Wait until ``predicate()`` holds, failing after 30 s."""
    with anyio.fail_after(30):
        while not predicate():  # noqa: ASYNC110 - a condition on the leader's side, checked often
            await anyio.sleep(0.02)


async def recv(ws: ClientConnection) -> dict[str, Any]:
    """The server's next frame."""
    with anyio.fail_after(30):
        frame = json.loads(await ws.recv())
    assert isinstance(frame, dict)
    return frame


async def say(ws: ClientConnection, **frame: Any) -> dict[str, Any]:
    """Send ``frame``; return the server's next frame."""
    await ws.send(json.dumps(frame))
    return await recv(ws)


async def test_a_customer_on_the_standby_chats_with_the_agent_on_the_leader(pair: Pair) -> None:
    """Jeanne's socket is on standby b: her hello is welcomed (with a token) by leader a's chat;
    her line is acknowledged once a stored it and queued its contact; Alice, ready on a, accepts
    it and answers through a's desk API (the route the desktop uses): Jeanne receives exactly that
    line, once (her next frames are only the ack of her next line, then ``ended`` when Alice
    disposes through the API); her lines and Alice's are in the ticket, in order."""
    center, messages = pair.center, pair.chat.intake.messages
    async with connect(pair.chat_socket) as ws:
        welcome = await say(ws, type="hello", name="Jeanne", email="jeanne@customer.test")
        assert welcome["type"] == "welcome", welcome
        assert (welcome["transcript"], welcome["next"]) == ([], 1)
        assert welcome["token"]

        ack = await say(ws, type="message", seq=1, text="My internet is slow.")
        assert ack == {"type": "ack", "seq": 1, "id": f"chat:{welcome['conversation']}:c000001"}
        stored = messages.get(ack["id"])
        assert stored is not None
        assert stored.handed_over
        assert center.engine.queue_status("chat").waiting == 1, "queued at the leader"

        await center.set_ready(AGENT, actor=AGENT)
        await run_virtual(center, pair.backend, 1.0)
        contact_id = await center.accept(AGENT, actor=AGENT)
        assert contact_id == stored.contact_id
        async with pair.desk() as desk:
            replied = await desk.post(
                f"/api/contacts/{contact_id}/reply", json={"text": "Let us test your line."}
            )
            assert replied.status_code == 200, replied.text
            sent = replied.json()["message_id"]
            answer = await recv(ws)
            assert (answer["type"], answer["from"], answer["id"], answer["text"]) == (
                "message", "agent", sent, "Let us test your line.",
            )  # fmt: skip

            assert await say(ws, type="message", seq=2, text="OK.") == {
                "type": "ack", "seq": 2, "id": f"chat:{welcome['conversation']}:c000002",
            }  # fmt: skip
            disposed = await desk.post(
                f"/api/contacts/{contact_id}/dispose", json={"disposition": "solved"}
            )
            assert disposed.status_code == 200, disposed.text
            assert await recv(ws) == {"type": "ended"}, "the agent's line was sent once"
    lines = messages.of_ticket(stored.ticket_id)
    assert [(m.direction, m.text) for m in lines] == [
        (MessageDirection.INBOUND, "My internet is slow."),
        (MessageDirection.OUTBOUND, "Let us test your line."),
        (MessageDirection.INBOUND, "OK."),
    ]


async def test_a_customer_rejoins_on_the_standby_and_a_forged_token_is_refused(
    pair: Pair,
) -> None:
    """After leaving, Jeanne's token brings her back through b to the same conversation with
    its transcript (her line and Alice's answer); a token whose signature was altered is
    refused by the leader (an error, then close 4001), and nothing reaches the ticket."""
    center = pair.center
    async with connect(pair.chat_socket) as ws:
        welcome = await say(ws, type="hello", name="Jeanne", phone="+33612345678")
        assert (await say(ws, type="message", seq=1, text="Hello?"))["type"] == "ack"
        await center.set_ready(AGENT, actor=AGENT)
        await run_virtual(center, pair.backend, 1.0)
        contact_id = await center.accept(AGENT, actor=AGENT)
        await center.reply(contact_id, "Hello, how can I help?", actor=AGENT)
        assert (await recv(ws))["text"] == "Hello, how can I help?"
    token = welcome["token"]

    async with connect(pair.chat_socket) as ws:
        back = await say(ws, type="hello", token=token)
        assert back["conversation"] == welcome["conversation"]
        assert [(t["from"], t["text"]) for t in back["transcript"]] == [
            ("customer", "Hello?"),
            ("agent", "Hello, how can I help?"),
        ]
        assert back["next"] == 2

    payload, _, signature = token.partition(".")
    forged = f"{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    (ticket,) = center.tickets.active()
    before = len(pair.chat.intake.messages.of_ticket(ticket.ticket_id))
    async with connect(pair.chat_socket) as ws:
        refused = await say(ws, type="hello", token=forged)
        assert refused == {"type": "error", "error": "this token is not ours"}
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4001
    assert len(pair.chat.intake.messages.of_ticket(ticket.ticket_id)) == before


async def test_a_line_nobody_took_is_refused_with_its_seq_and_stored_once_when_sent_again(
    pair: Pair,
) -> None:
    """With no leader answering b's requests, Jeanne's line gets an ``error`` frame carrying its
    ``seq`` (not an ack: the widget keeps it) and her socket closes with 1013, so the widget
    connects again; once a leader answers again, her rejoin's transcript lacks the line, the
    line sent again is acknowledged, and the ticket holds it once."""
    async with connect(pair.chat_socket) as ws:
        welcome = await say(ws, type="hello", name="Jeanne", email="jeanne@customer.test")
        assert (await say(ws, type="message", seq=1, text="First."))["type"] == "ack"
        pair.no_leader()
        refused = await say(ws, type="message", seq=2, text="Second.")
        assert (refused["type"], refused["seq"]) == ("error", 2)
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1013
    await pair.run_forwarder()
    async with connect(pair.chat_socket) as ws:
        back = await say(ws, type="hello", token=welcome["token"])
        assert ([t["text"] for t in back["transcript"]], back["next"]) == (["First."], 2)
        assert (await say(ws, type="message", seq=2, text="Second."))["type"] == "ack"
    (ticket,) = pair.center.tickets.active()
    lines = pair.chat.intake.messages.of_ticket(ticket.ticket_id)
    assert [m.text for m in lines] == ["First.", "Second."]
    assert all(m.message_id.startswith(f"chat:{welcome['conversation']}:") for m in lines)


async def test_the_internal_chat_route_answers_no_client(pair: Pair) -> None:
    """``POST /internal/chat`` from an HTTP client is not found, on standby b (which refuses to
    forward ``/internal/``) and on leader a's own port (no forwarder ran it), even with would-be
    internal headers; no conversation is started by either."""
    forged = {"X-Callcenter-Forwarded": "b", "callcenter.forwarded": "b", "Forwarded": "by=b"}
    hello = {"frame": {"type": "hello", "name": "Mallory", "email": "m@evil.example"}}
    for base in (pair.standby, pair.leader):
        async with httpx.AsyncClient(base_url=base, timeout=30, headers={"Origin": base}) as c:
            answer = await c.post("/internal/chat", json=hello, headers=forged)
            assert answer.status_code == 404, (base, answer.text)
    assert pair.center.tickets.active() == []


async def test_typing_reaches_the_leader_at_most_once_in_three_seconds(pair: Pair) -> None:
    """Jeanne's typing through b reaches leader a (``customer_typing`` of her contact turns true
    for Alice); four more typing frames within three seconds are not passed on: b relayed one
    typing frame and her two lines, nothing else."""
    async with connect(pair.chat_socket) as ws:
        await say(ws, type="hello", name="Jeanne", email="jeanne@customer.test")
        ack = await say(ws, type="message", seq=1, text="Hello.")
        stored = pair.chat.intake.messages.get(ack["id"])
        assert stored is not None
        before = relayed(pair.store)
        await ws.send(json.dumps({"type": "typing"}))
        await until(lambda: pair.chat.customer_typing(stored.contact_id))
        for _ in range(4):
            await ws.send(json.dumps({"type": "typing"}))
        assert (await say(ws, type="message", seq=2, text="Still there?"))["type"] == "ack"
    assert relayed(pair.store) == before + 2


async def test_a_line_stored_without_an_event_reaches_the_customer_by_the_periodic_read(
    pair: Pair,
) -> None:
    """An agent line stored in the ticket with no event in the log (an automatic message: no
    note, no ``reply_sent``, so no hint) still reaches Jeanne on b, by the relay's periodic read
    of the ticket, once. Her socket is opened (a rejoin) after b's feed holds every event of her
    first line, so no earlier event can be the hint."""
    async with connect(pair.chat_socket) as ws:
        welcome = await say(ws, type="hello", name="Jeanne", email="jeanne@customer.test")
        ack = await say(ws, type="message", seq=1, text="Hello.")
    stored = pair.chat.intake.messages.get(ack["id"])
    assert stored is not None
    assert await pair.center.writer.flush()
    written = EventLog(pair.store).last_seq()
    await until(lambda: pair.node.feed.head >= written)
    async with connect(pair.chat_socket) as ws:
        assert (await say(ws, type="hello", token=welcome["token"]))["type"] == "welcome"
        line = f"chat:{welcome['conversation']}:a-auto"
        await pair.chat.intake.sent(
            ticket_id=stored.ticket_id,
            message_id=line,
            channel=Channel.CHAT,
            party="jeanne@customer.test",
            text="We answer within five minutes.",
            automatic=True,
        )
        pushed = await recv(ws)
        assert (pushed["type"], pushed["id"], pushed["text"]) == (
            "message", line, "We answer within five minutes.",
        )  # fmt: skip
        assert await say(ws, type="message", seq=2, text="OK.") == {
            "type": "ack", "seq": 2, "id": f"chat:{welcome['conversation']}:c000002",
        }, "sent once"  # fmt: skip


async def test_a_silent_socket_on_the_standby_is_closed_after_the_leaders_idle_timeout(
    postgresql_url: str,
) -> None:
    """The idle timeout is the leader's chat's (b learns it from the welcome): Jeanne, silent
    on b past it, is told and her socket closed with 4000; her token brings her back."""
    async with cluster(postgresql_url, idle_timeout=0.5) as pair:
        async with connect(pair.chat_socket) as ws:
            welcome = await say(ws, type="hello", name="Jeanne", email="jeanne@customer.test")
            assert await recv(ws) == {"type": "idle"}
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4000
        async with connect(pair.chat_socket) as ws:
            back = await say(ws, type="hello", token=welcome["token"])
            assert back["conversation"] == welcome["conversation"]


async def test_the_front_hands_websockets_to_the_standby_app_and_closes_them_without_one() -> None:
    """A standby's front gives a WebSocket to its node app (which serves it, here an echo); one
    on a path the node app has no route for is closed as Starlette closes it, and a front with
    no standby app closes every WebSocket (1013): both before accepting, which the server
    answers with HTTP 403."""
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket

    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("node: " + await websocket.receive_text())
        await websocket.close()

    async def status() -> ClusterStatus:
        return {"node": "b", "leader": "a", "epoch": 1, "role": "standby"}

    node = Starlette(routes=[WebSocketRoute("/chat/ws", echo)])
    async with (
        serve(ClusterFront(status, standby=node)) as with_node,
        serve(ClusterFront(status)) as bare,
    ):
        async with connect(with_node.replace("http", "ws", 1) + "/chat/ws") as ws:
            await ws.send("hello")
            assert await ws.recv() == "node: hello"
        for url, path in ((with_node, "/nowhere"), (bare, "/chat/ws")):
            with pytest.raises(InvalidStatus) as refused:  # closed before accepted: HTTP 403
                async with connect(url.replace("http", "ws", 1) + path):
                    pass
            assert refused.value.response.status_code == 403, (url, path)


ROUNDS = 100


def _percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    at = [ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 for p in (0.5, 0.95)]
    return f"p50 {at[0]:.1f} ms, p95 {at[1]:.1f} ms"


@pytest.mark.slow
async def test_figures_of_a_chat_through_the_standby_and_on_the_leader(pair: Pair) -> None:
    """Figures, printed (run with -s), never asserted: Jeanne on standby b and Ann on leader a's
    own socket each send ROUNDS lines, each acknowledged; Alice answers each of them ROUNDS
    times. Printed: each way's line-to-ack time, and from ``center.reply`` returning to the
    answer on the customer's socket."""
    center = pair.center
    leader_socket = pair.leader.replace("http", "ws", 1) + "/chat/ws"
    ack: dict[str, list[float]] = {"standby (b)": [], "leader (a)": []}
    reply: dict[str, list[float]] = {"standby (b)": [], "leader (a)": []}
    async with connect(pair.chat_socket) as on_b, connect(leader_socket) as on_a:
        contacts = {}
        for way, ws, name in (("standby (b)", on_b, "Jeanne"), ("leader (a)", on_a, "Ann")):
            await say(ws, type="hello", name=name, email=f"{name.lower()}@customer.test")
            for seq in range(1, ROUNDS + 1):
                began = anyio.current_time()
                answer = await say(ws, type="message", seq=seq, text=f"line {seq}")
                ack[way].append(anyio.current_time() - began)
                assert answer["type"] == "ack", answer
            first = pair.chat.intake.messages.get(answer["id"][: -len("000100")] + "000001")
            assert first is not None  # the line that opened the contact
            contacts[way] = (first.contact_id, ws)
        await center.set_ready(AGENT, actor=AGENT)
        for contact_id, _ws in contacts.values():
            await run_virtual(center, pair.backend, 1.0)
            assert await center.accept(AGENT, actor=AGENT, contact_id=contact_id) == contact_id
        for n in range(ROUNDS):
            for way, (contact_id, ws) in contacts.items():
                sent = await center.reply(contact_id, f"answer {n}", actor=AGENT)
                began = anyio.current_time()
                frame = await recv(ws)
                reply[way].append(anyio.current_time() - began)
                assert frame["id"] == sent, frame
    for way, values in ack.items():
        print(f"chat line to ack, socket on the {way}: {_percentiles(values)} over {len(values)}")
    for way, values in reply.items():
        print(f"reply to the customer's socket on the {way}: {_percentiles(values)}")
