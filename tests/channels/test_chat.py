"""The web chat's protocol over a real uvicorn server (wsproto) and a real WebSocket client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, cast

import anyio
import attrs
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from callcenter_sdk import ManualClock
from callcenter_sdk.acd import Agent, Capacity, Membership, Queue
from callcenter_sdk.channels import ChatChannel, ChatSettings
from callcenter_sdk.cti import Customer
from callcenter_sdk.ivr import FlowBuilder, ToQueue
from callcenter_sdk.kpi import Channel
from callcenter_sdk.media import VirtualBackend
from callcenter_sdk.runtime import CallCenter, CallCenterConfig, Seat, open_call_center, run_virtual
from callcenter_sdk.store import temporary_store
from callcenter_sdk.tickets import MessageDirection, TicketMessages

from .conftest import serve

SECRET = b"chat test secret"
JEANNE = Customer(number="C-1042", name="Jeanne Martin", email="jeanne@customer.test")


def _config() -> CallCenterConfig:
    alice = Agent(
        id="alice",
        skills={"chat": 3},
        memberships=[Membership("chat")],
        capacity=Capacity(limits={Channel.VOICE: 1, Channel.CHAT: 2}),
    )
    return CallCenterConfig(
        flow=FlowBuilder("chat", start="q").node("q", ToQueue(queue="chat")).build(),
        queues=[Queue(name="chat", channels=[Channel.CHAT], offer_timeout=600.0, wrap_up=1.0)],
        seats=[Seat(agent=alice, device="sip:alice@phones")],
        announce=False,
    )


@attrs.define
class Live:
    """A running center with its chat served over HTTP."""

    center: CallCenter
    backend: VirtualBackend
    clock: ManualClock
    chat: ChatChannel
    url: str

    async def ready(self) -> None:
        """Alice is ready and the ACD has offered her what waits."""
        await self.center.set_ready("alice", actor="alice")
        await run_virtual(self.center, self.backend, 1.0)


@asynccontextmanager
async def live_chat(**settings: Any) -> AsyncIterator[Live]:
    """A center with Alice (two chats at once) and Jeanne's record, its chat served."""
    clock = ManualClock(1_000.0)
    backend = VirtualBackend(clock)
    with temporary_store() as store:
        async with open_call_center(
            backend, _config(), store=store, clock=clock, run_timers=False
        ) as center:
            center.directory.save(JEANNE)
            chat = ChatChannel(
                center, TicketMessages(store), ChatSettings(queue="chat", secret=SECRET, **settings)
            )
            center.add_channel(chat)
            async with serve(chat.app()) as url:
                yield Live(center, backend, clock, chat, url.replace("http", "ws", 1))
            chat.close()


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


async def until(predicate: Callable[[], bool]) -> None:
    """Wait until ``predicate()`` holds, failing after 30 s."""
    with anyio.fail_after(30):
        while not predicate():  # noqa: ASYNC110 - a condition on the server's side, checked often
            await anyio.sleep(0.02)


async def test_a_chat_is_identified_queued_answered_and_stored() -> None:
    """Jeanne says who she is and the CTI finds her record; her first line is acknowledged
    only once its ticket (hers) and its contact are stored; Alice accepts the chat, sees
    Jeanne typing, types back and answers, and the answer reaches Jeanne's socket; a line
    sent twice (a lost acknowledgement) is stored once; the ticket holds the transcript in
    order; when Alice disposes of the contact Jeanne is told, and her next line queues a
    new contact on the same ticket."""
    async with live_chat() as live, connect(live.url + "/ws") as ws:
        center, messages = live.center, live.chat.intake.messages
        welcome = await say(ws, type="hello", name="Jeanne", email="Jeanne@Customer.test")
        assert (welcome["type"], welcome["customer"]) == ("welcome", "Jeanne Martin")
        assert (welcome["transcript"], welcome["next"]) == ([], 1)

        ack = await say(ws, type="message", seq=1, text="My internet is slow.")
        assert ack == {"type": "ack", "seq": 1, "id": f"chat:{welcome['conversation']}:c000001"}
        stored = messages.get(ack["id"])
        assert stored is not None
        assert stored.handed_over
        (ticket,) = center.tickets.active()
        jeanne = center.directory.by_number("C-1042")
        assert jeanne is not None
        assert ticket.customer_id == jeanne.customer_id

        await live.ready()
        contact_id = await center.accept("alice", actor="alice")
        assert contact_id == stored.contact_id
        await ws.send(json.dumps({"type": "typing"}))
        await until(lambda: live.chat.customer_typing(contact_id))
        live.chat.typing(contact_id)
        assert await recv(ws) == {"type": "typing", "from": "agent"}
        live.clock.advance(1.0)
        sent = await center.reply(contact_id, "Let us test your line.", actor="alice")
        answer = await recv(ws)
        assert (answer["type"], answer["from"], answer["id"], answer["text"]) == (
            "message", "agent", sent, "Let us test your line.",
        )  # fmt: skip

        live.clock.advance(1.0)
        for _ in range(2):
            assert (await say(ws, type="message", seq=2, text="OK."))["type"] == "ack"
        lines = messages.of_ticket(ticket.ticket_id)
        assert [(m.direction, m.text) for m in lines] == [
            (MessageDirection.INBOUND, "My internet is slow."),
            (MessageDirection.OUTBOUND, "Let us test your line."),
            (MessageDirection.INBOUND, "OK."),
        ]
        assert center.tickets.get(ticket.ticket_id).first_response_at is not None

        await center.dispose(contact_id, "solved", actor="alice")
        assert await recv(ws) == {"type": "ended"}
        live.clock.advance(1.0)
        assert (await say(ws, type="message", seq=3, text="It is slow again."))["type"] == "ack"
        await run_virtual(center, live.backend, 2.0)
        again = await center.accept("alice", actor="alice")
        assert again != contact_id
        assert [t.ticket_id for t in center.tickets.active()] == [ticket.ticket_id]


async def test_a_customer_who_comes_back_gets_the_same_conversation() -> None:
    """After leaving, Jeanne's token from the widget's storage brings her back to the same
    conversation with its transcript — on the same chat and on a fresh one (a restart),
    which reads it from the store; a token whose signature was altered is refused, and
    so is a good token once the rejoin window has passed since the last line."""
    async with live_chat(rejoin_window=600.0) as live:
        async with connect(live.url + "/ws") as ws:
            welcome = await say(ws, type="hello", name="Jeanne", phone="+33612345678")
            assert welcome["customer"] is None  # no record with that number
            await say(ws, type="message", seq=1, text="Hello?")
            await live.ready()
            contact_id = await live.center.accept("alice", actor="alice")
            live.clock.advance(1.0)
            await live.center.reply(contact_id, "Hello, how can I help?", actor="alice")
            await recv(ws)
        token = welcome["token"]
        expected = [("customer", "Hello?"), ("agent", "Hello, how can I help?")]

        fresh = ChatChannel(live.center, live.chat.intake.messages, live.chat.settings)
        async with serve(fresh.app()) as other:
            for url in (live.url, other.replace("http", "ws", 1)):
                async with connect(url + "/ws") as ws:
                    back = await say(ws, type="hello", token=token)
                    assert back["conversation"] == welcome["conversation"]
                    assert [(t["from"], t["text"]) for t in back["transcript"]] == expected
                    assert back["next"] == 2
        fresh.close()

        payload, _, signature = token.partition(".")
        forged = f"{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
        async with connect(live.url + "/ws") as ws:
            refused = await say(ws, type="hello", token=forged)
            assert refused == {"type": "error", "error": "this token is not ours"}
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4001

        live.clock.advance(601.0)
        async with connect(live.url + "/ws") as ws:
            late = await say(ws, type="hello", token=token)
            assert late["type"] == "error"
            assert "ended" in late["error"]


async def test_a_silent_socket_is_closed_and_the_conversation_kept() -> None:
    """A customer who says nothing for the idle timeout is told and their socket closed
    with code 4000; their token still brings them back to the conversation."""
    async with live_chat(idle_timeout=0.3) as live:
        async with connect(live.url + "/ws") as ws:
            welcome = await say(ws, type="hello", name="Jeanne", number="C-1042")
            assert welcome["customer"] == "Jeanne Martin"
            assert await recv(ws) == {"type": "idle"}
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4000
        async with connect(live.url + "/ws") as ws:
            back = await say(ws, type="hello", token=welcome["token"])
            assert back["conversation"] == welcome["conversation"]


async def test_an_agent_holds_chats_up_to_her_capacity() -> None:
    """Alice may hold two chats: three customers write, she is offered and accepts two,
    each answer reaches its own customer only; the third waits until she disposes of
    one and her wrap-up ends, then it is hers."""
    async with live_chat() as live:
        center = live.center
        async with (
            connect(live.url + "/ws") as a,
            connect(live.url + "/ws") as b,
            connect(live.url + "/ws") as c,
        ):
            sockets = {}
            for ws, name in ((a, "Ann"), (b, "Bob"), (c, "Cid")):
                await say(ws, type="hello", name=name, email=f"{name.lower()}@customer.test")
                ack = await say(ws, type="message", seq=1, text=f"I am {name}.")
                stored = live.chat.intake.messages.get(ack["id"])
                assert stored is not None
                sockets[stored.contact_id] = ws
                live.clock.advance(1.0)
            await live.ready()
            first = await center.accept("alice", actor="alice")
            second = await center.accept("alice", actor="alice")
            with pytest.raises(Exception, match="no desk work"):
                await center.accept("alice", actor="alice")
            for contact_id in (first, second):
                await center.reply(contact_id, f"Answer for {contact_id}", actor="alice")
                assert (await recv(sockets[contact_id]))["text"] == f"Answer for {contact_id}"
            await center.dispose(first, "solved", actor="alice")
            assert (await recv(sockets[first]))["type"] == "ended"
            await run_virtual(center, live.backend, 2.0)
            third = await center.accept("alice", actor="alice")
            assert {first, second, third} == set(sockets)
            await center.reply(third, "Now you.", actor="alice")
            assert (await recv(sockets[third]))["text"] == "Now you."


async def test_bad_frames_are_refused_without_harm() -> None:
    """A socket that does not say hello, or says it without an identity, is refused;
    an empty or oversized line is refused and not acknowledged."""
    async with live_chat() as live:
        async with connect(live.url + "/ws") as ws:
            assert (await say(ws, type="message", seq=1, text="hi"))["type"] == "error"
        async with connect(live.url + "/ws") as ws:
            refused = await say(ws, type="hello", name="Nobody")
            assert refused["type"] == "error"
            assert "e-mail" in refused["error"]
        async with connect(live.url + "/ws") as ws:
            await say(ws, type="hello", name="Jeanne", email="jeanne@customer.test")
            assert (await say(ws, type="message", seq=1, text=" "))["type"] == "error"
            too_long = "x" * (live.chat.settings.max_line + 1)
            assert (await say(ws, type="message", seq=1, text=too_long))["type"] == "error"
            assert cast("list[object]", live.center.tickets.active()) == []
