"""Written conversations at the agent desktop's API: offers, the conversation read,
accepting one, capacity.

Customers chat over real WebSockets (the chat served by uvicorn) and send
SMS through a stand-in provider posting signed webhooks; the agent and her
colleagues use the web app in-process, signed in with cookie sessions, as
the desktop page does.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import attrs
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from websockets.asyncio.client import ClientConnection, connect

from callcenter_sdk import ManualClock, create_plugin_host
from callcenter_sdk.acd import Agent, Capacity, Membership, Queue
from callcenter_sdk.channels import (
    ChatChannel,
    ChatSettings,
    MessagingChannel,
    MessagingSettings,
    hub_signature_256,
    json_provider_plugin,
    messaging_app,
    messaging_providers,
)
from callcenter_sdk.cti import Customer
from callcenter_sdk.ivr import FlowBuilder, ToQueue
from callcenter_sdk.kpi import Channel
from callcenter_sdk.media import VirtualBackend
from callcenter_sdk.org import load_org
from callcenter_sdk.runtime import CallCenter, CallCenterConfig, Seat, open_call_center, run_virtual
from callcenter_sdk.store import Accounts, temporary_store
from callcenter_sdk.web import create_app

from .conftest import serve

ACME = load_org(Path(__file__).parents[2] / "examples" / "org" / "acme.toml")
PASSWORD = "correct horse battery"  # noqa: S105 - the test accounts' password
JEANNE = Customer(
    number="C-1042", name="Jeanne Martin", email="jeanne@customer.test", phones=("+33612345678",)
)
WRAP_UP = 5.0
SMS_SECRET = b"provider secret"
CENTER_NUMBER = "+33100000000"


def _seat(agent_id: str) -> Seat:
    agent = Agent(
        id=agent_id,
        skills={"chat": 3},
        memberships=[Membership("chat"), Membership("sms")],
        capacity=Capacity(limits={Channel.VOICE: 1, Channel.CHAT: 3, Channel.SMS: 1}),
    )
    return Seat(agent=agent, device=f"sip:{agent_id}@phones")


def _config() -> CallCenterConfig:
    return CallCenterConfig(
        flow=FlowBuilder("chat", start="q").node("q", ToQueue(queue="chat")).build(),
        queues=[
            Queue(name="chat", channels=[Channel.CHAT], offer_timeout=600.0, wrap_up=WRAP_UP),
            Queue(name="sms", channels=[Channel.SMS], offer_timeout=600.0, wrap_up=WRAP_UP),
        ],
        seats=[_seat("ag.alice"), _seat("ag.karim")],
        announce=False,
        org=ACME,
        campaigns={"chat": "acme-hotline", "sms": "acme-hotline"},
    )


@attrs.define
class Desk:
    """The running center, its chat's WebSocket URL and the web app."""

    center: CallCenter
    backend: VirtualBackend
    clock: ManualClock
    chat: ChatChannel
    ws_url: str
    app: Starlette
    webhook: str
    sent: list[dict[str, str]]

    @asynccontextmanager
    async def person(self, person: str) -> AsyncIterator[httpx.AsyncClient]:
        """A client signed in as ``person``, sending the session's CSRF token."""
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            answer = await client.post("/api/login", json={"person": person, "password": PASSWORD})
            assert answer.status_code == 200, answer.text
            client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
            yield client

    async def customer(
        self, stack: AsyncExitStack, name: str, email: str, line: str
    ) -> tuple[str, ClientConnection]:
        """A customer says who they are and writes ``line``; return their contact id and socket."""
        ws: ClientConnection = await stack.enter_async_context(connect(self.ws_url + "/ws"))
        await _say(ws, type="hello", name=name, email=email)
        ack = await _say(ws, type="message", seq=1, text=line)
        stored = await anyio.to_thread.run_sync(self.chat.intake.messages.get, ack["id"])
        assert stored is not None
        self.clock.advance(1.0)  # one customer after the other: the offers' order
        return stored.contact_id, ws


async def _sms(webhook: str, n: int, text: str) -> None:
    """The provider posts customer SMS number ``n`` to the center, signed as it does."""
    message = {"id": f"SM{n}", "from": JEANNE.phones[0], "to": CENTER_NUMBER, "text": text}
    body = json.dumps(message).encode()
    headers = {"x-hub-signature-256": hub_signature_256(SMS_SECRET, body)}
    async with httpx.AsyncClient() as client:
        answer = await client.post(webhook, content=body, headers=headers)
    assert answer.json()["stored"] == 1, answer.text


async def _say(ws: ClientConnection, **frame: Any) -> dict[str, Any]:
    await ws.send(json.dumps(frame))
    return await _recv(ws)


async def _recv(ws: ClientConnection) -> dict[str, Any]:
    with anyio.fail_after(30):
        answer = json.loads(await ws.recv())
    assert isinstance(answer, dict)
    return answer


@asynccontextmanager
async def desk() -> AsyncIterator[Desk]:
    """ACME's chat queue with Alice and Karim (three chats each), Jeanne's record, the web app."""
    clock = ManualClock(1_000.0)
    backend = VirtualBackend(clock)
    with temporary_store() as store:
        accounts = Accounts(store)
        for person in ("ag.alice", "ag.karim", "ag.farid", "sup.lambert"):
            accounts.set_password(person, PASSWORD, at=clock.now())
        async with open_call_center(
            backend, _config(), store=store, clock=clock, run_timers=False
        ) as center:
            center.directory.save(JEANNE)
            settings = ChatSettings(queue="chat", secret=b"desk test")
            chat = ChatChannel(center, center.messages, settings)
            center.add_channel(chat)
            sent: list[dict[str, str]] = []

            async def provider(request: Request) -> JSONResponse:  # the SMS provider's side
                sent.append(json.loads(await request.body()))
                return JSONResponse({"id": f"out-{len(sent)}"})

            async with serve(
                Starlette(routes=[Route("/messages", provider, methods=["POST"])])
            ) as p:
                factory = messaging_providers(create_plugin_host(plugins=[json_provider_plugin]))
                options = {"base_url": p, "secret": SMS_SECRET.decode(), "name": "acme"}
                sms = MessagingChannel(
                    center,
                    center.messages,
                    factory["json"](options),
                    MessagingSettings(queue="sms"),
                )
                center.add_channel(sms)
                app = create_app(center, accounts=accounts, poll=0.05)
                async with (
                    app.router.lifespan_context(app),
                    serve(chat.app()) as url,
                    serve(messaging_app(sms)) as hooks,
                ):
                    ws_url = url.replace("http", "ws", 1)
                    yield Desk(center, backend, clock, chat, ws_url, app, f"{hooks}/acme", sent)
                sms.close()
            chat.close()


async def test_the_desk_is_offered_three_chats_and_never_a_fourth() -> None:
    """Four customers write while Alice (three chats at most) is ready: her desk lists
    three offers, oldest first, and the ACD leaves the fourth waiting; she takes the
    second, not the oldest; the fourth is refused to her until she disposes of a chat
    (listed in wrap-up meanwhile) and her wrap-up ends, then it is offered to her."""
    async with desk() as d, AsyncExitStack() as stack, d.person("ag.alice") as alice:
        ids = [
            (await d.customer(stack, name, f"{name.lower()}@customer.test", f"I am {name}."))[0]
            for name in ("Ann", "Bob", "Cid", "Dan")
        ]
        assert (await alice.post("/api/agents/ag.alice/ready")).status_code == 200
        await run_virtual(d.center, d.backend, 1.0)
        work = (await alice.get("/api/desk")).json()["work"]
        assert work == [{"contact": c, "channel": "chat", "state": "offered"} for c in ids[:3]]
        assert d.center.engine.contact_status(ids[3]).offers == ()
        assert d.center.engine.queue_status("chat").waiting == 1

        taken = await alice.post("/api/agents/ag.alice/accept", json={"contact": ids[1]})
        assert taken.json() == {"ok": True, "contact": ids[1]}
        refused = await alice.post("/api/agents/ag.alice/accept", json={"contact": ids[3]})
        assert refused.status_code == 409, refused.text
        assert ids[3] in refused.json()["detail"]
        bad = await alice.post("/api/agents/ag.alice/accept", json={"contact": 7})
        assert bad.status_code == 422
        work = (await alice.get("/api/desk")).json()["work"]
        assert [(w["contact"], w["state"]) for w in work] == [
            (ids[0], "offered"),
            (ids[2], "offered"),
            (ids[1], "connected"),
        ]
        disposed = await alice.post(
            f"/api/contacts/{ids[1]}/dispose", json={"disposition": "solved"}
        )
        assert disposed.status_code == 200, disposed.text
        work = (await alice.get("/api/desk")).json()["work"]
        assert [(w["contact"], w["state"]) for w in work] == [
            (ids[0], "offered"),
            (ids[2], "offered"),
            (ids[1], "wrap_up"),  # still desk work to the desk, not a call
        ]
        await run_virtual(d.center, d.backend, WRAP_UP + 1.0)
        work = (await alice.get("/api/desk")).json()["work"]
        assert [w["contact"] for w in work] == [ids[0], ids[2], ids[3]]


async def test_the_conversation_read_shows_the_customer_and_the_transcript_to_her_agent() -> None:
    """Jeanne (in the customer records) and a stranger chat; offered to Alice, each
    conversation shows the channel, the name and address as given, whether the CTI
    found them, and the first line; once Alice answers and Jeanne writes again both
    lines follow in order; while she writes, Jeanne's widget is told she is typing.
    Karim (another team) and a supervisor of another campaign may not read it nor
    type to her, Alice's supervisor may read it; a disposed chat is no longer desk work."""
    async with desk() as d, AsyncExitStack() as stack, d.person("ag.alice") as alice:
        jeanne, ws = await d.customer(
            stack, "Jeanne", "jeanne@customer.test", "My internet is slow."
        )
        stranger, _ = await d.customer(stack, "Zoé", "zoe@elsewhere.test", "Bonjour ?")
        await alice.post("/api/agents/ag.alice/ready")
        await run_virtual(d.center, d.backend, 1.0)

        found = (await alice.get(f"/api/contacts/{jeanne}/messages")).json()
        assert {k: found[k] for k in ("channel", "name", "party", "identified", "customer")} == {
            "channel": "chat",
            "name": "Jeanne",
            "party": "jeanne@customer.test",
            "identified": True,
            "customer": "C-1042",
        }
        assert found["customer_name"] == "Jeanne Martin"
        assert found["message_id"] == found["messages"][0]["id"]  # the line that queued it
        assert found["agents"] == ["ag.alice"]
        assert [(m["from"], m["text"]) for m in found["messages"]] == [
            ("customer", "My internet is slow.")
        ]
        unknown = (await alice.get(f"/api/contacts/{stranger}/messages")).json()
        assert (unknown["name"], unknown["identified"], unknown["customer_name"]) == (
            "Zoé",
            False,
            "",
        )

        await alice.post("/api/agents/ag.alice/accept", json={"contact": jeanne})
        typing = await alice.post(f"/api/contacts/{jeanne}/typing")
        assert typing.json() == {"shown": True}
        assert (await _recv(ws)) == {"type": "typing", "from": "agent"}
        answer = await alice.post(f"/api/contacts/{jeanne}/reply", json={"text": "Let me see."})
        assert answer.status_code == 200, answer.text
        assert (await _recv(ws))["text"] == "Let me see."
        assert (await _say(ws, type="message", seq=2, text="It is the Wi-Fi."))["type"] == "ack"
        lines = (await alice.get(f"/api/contacts/{jeanne}/messages")).json()["messages"]
        assert [(m["from"], m["author"], m["text"]) for m in lines] == [
            ("customer", "", "My internet is slow."),
            ("agent", "ag.alice", "Let me see."),
            ("customer", "", "It is the Wi-Fi."),
        ]
        for person, status in (("ag.karim", 403), ("sup.lambert", 200)):
            async with d.person(person) as other:
                seen = await other.get(f"/api/contacts/{jeanne}/messages")
                assert seen.status_code == status, (person, seen.text)
        async with d.person("ag.karim") as karim:
            assert (await karim.post(f"/api/contacts/{jeanne}/typing")).status_code == 403
        missing = await alice.get("/api/contacts/msg:nothing/messages")
        assert missing.status_code == 404
        await alice.post(f"/api/contacts/{jeanne}/dispose", json={"disposition": "solved"})
        assert (await alice.get(f"/api/contacts/{jeanne}/messages")).status_code == 404


async def test_an_sms_is_desk_work_like_a_chat() -> None:
    """Jeanne sends an SMS from the number in her customer record: Alice's desk lists it
    offered on the sms channel, its conversation shows her number and the CTI's
    identification; Alice accepts (an SMS shows no "typing"), answers through the desk's
    reply (the provider sends
    it to Jeanne's number), Jeanne's next SMS joins the conversation, and Alice disposes."""
    async with desk() as d, d.person("ag.alice") as alice:
        await _sms(d.webhook, 1, "My bill is wrong.")
        await alice.post("/api/agents/ag.alice/ready")
        await run_virtual(d.center, d.backend, 1.0)
        (offer,) = (await alice.get("/api/desk")).json()["work"]
        assert (offer["channel"], offer["state"]) == ("sms", "offered")
        contact = offer["contact"]
        found = (await alice.get(f"/api/contacts/{contact}/messages")).json()
        assert (found["party"], found["identified"], found["customer"]) == (
            "+33612345678",
            True,
            "C-1042",
        )
        assert [m["text"] for m in found["messages"]] == ["My bill is wrong."]

        await alice.post("/api/agents/ag.alice/accept", json={"contact": contact})
        typing = await alice.post(f"/api/contacts/{contact}/typing")
        assert typing.json() == {"shown": False}  # an SMS shows no typing
        answer = await alice.post(f"/api/contacts/{contact}/reply", json={"text": "Fixed."})
        assert answer.json() == {"ok": True, "message_id": "acme:out-1"}
        assert d.sent == [{"from": CENTER_NUMBER, "to": "+33612345678", "text": "Fixed."}]
        d.clock.advance(1.0)
        await _sms(d.webhook, 2, "Thanks!")
        lines = (await alice.get(f"/api/contacts/{contact}/messages")).json()["messages"]
        assert [(m["from"], m["text"]) for m in lines] == [
            ("customer", "My bill is wrong."),
            ("agent", "Fixed."),
            ("customer", "Thanks!"),
        ]
        disposed = await alice.post(
            f"/api/contacts/{contact}/dispose", json={"disposition": "solved"}
        )
        assert disposed.status_code == 200
        work = (await alice.get("/api/desk")).json()["work"]
        assert work == [{"contact": contact, "channel": "sms", "state": "wrap_up"}]
