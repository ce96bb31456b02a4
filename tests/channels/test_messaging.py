"""SMS through the reference provider, with a real HTTP server standing in for the provider.

The stand-in provider (a Starlette app under uvicorn) receives the center's
outbound messages on ``POST /messages`` — checking their signature as a
provider would — and, playing the provider's other half, posts signed
inbound webhooks to the center's endpoint, itself served by uvicorn.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import attrs
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from callcenter_sdk import ManualClock, create_plugin_host, hookimpl
from callcenter_sdk.acd import Agent, Capacity, ContactExited, Membership, Queue
from callcenter_sdk.channels import (
    ChannelError,
    JsonProvider,
    MessagingChannel,
    MessagingSettings,
    ProviderMessage,
    SignatureError,
    Webhook,
    hub_signature_256,
    json_provider_plugin,
    messaging_app,
    messaging_providers,
    twilio_signature,
)
from callcenter_sdk.ivr import FlowBuilder, ToQueue
from callcenter_sdk.kpi import Channel
from callcenter_sdk.media import VirtualBackend
from callcenter_sdk.runtime import CallCenter, CallCenterConfig, Seat, open_call_center, run_virtual
from callcenter_sdk.store import temporary_store
from callcenter_sdk.tickets import MessageDirection, TicketMessages

from .conftest import serve

SECRET = b"shared provider secret"
CENTER = "+33100000000"
CUSTOMER = "+33612345678"


@attrs.define
class Provider:
    """The provider's side: what it received from the center, and its webhook poster."""

    url: str = ""
    webhook: str = ""
    sent: list[dict[str, str]] = attrs.field(factory=list)
    ids: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))

    async def messages(self, request: Request) -> JSONResponse:
        body = await request.body()
        if request.headers.get("x-hub-signature-256") != hub_signature_256(SECRET, body):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        self.sent.append(json.loads(body))
        return JSONResponse({"id": f"out-{next(self.ids)}"})

    async def deliver(self, message: Mapping[str, str], *, secret: bytes = SECRET,
                      signed: bool = True) -> httpx.Response:  # fmt: skip
        """Post an inbound webhook as the provider does (signed with ``secret``)."""
        body = json.dumps(message).encode()
        headers = {"content-type": "application/json"}
        if signed:
            headers["x-hub-signature-256"] = hub_signature_256(secret, body)
        async with httpx.AsyncClient() as client:
            return await client.post(self.webhook, content=body, headers=headers)


def _config(max_length: int | None = None) -> CallCenterConfig:
    alice = Agent(
        id="alice",
        skills={"sms": 3},
        memberships=[Membership("sms")],
        capacity=Capacity(limits={Channel.VOICE: 1, Channel.SMS: 2}),
    )
    return CallCenterConfig(
        flow=FlowBuilder("sms", start="q").node("q", ToQueue(queue="sms")).build(),
        queues=[
            Queue(
                name="sms",
                channels=[Channel.SMS],
                offer_timeout=600.0,
                wrap_up=1.0,
                max_length=max_length,
            )
        ],
        seats=[Seat(agent=alice, device="sip:alice@phones")],
        announce=False,
    )


@attrs.define
class Live:
    center: CallCenter
    backend: VirtualBackend
    clock: ManualClock
    channel: MessagingChannel
    provider: Provider


@asynccontextmanager
async def live_sms(max_length: int | None = None) -> AsyncIterator[Live]:
    """A center taking SMS from the stand-in provider, both served on loopback."""
    clock = ManualClock(1_000.0)
    backend = VirtualBackend(clock)
    provider = Provider()
    with temporary_store() as store:
        async with (
            open_call_center(backend, _config(max_length), store=store, clock=clock,
                             run_timers=False) as center,
            serve(Starlette(routes=[Route("/messages", provider.messages, methods=["POST"])]))
            as provider_url,
        ):  # fmt: skip
            host = create_plugin_host(plugins=[json_provider_plugin])
            factory = messaging_providers(host)["json"]
            options = {"base_url": provider_url, "secret": SECRET.decode(), "name": "acme"}
            channel = MessagingChannel(
                center, TicketMessages(store), factory(options), MessagingSettings(queue="sms")
            )
            center.add_channel(channel)
            async with serve(messaging_app(channel)) as url:
                provider.url, provider.webhook = provider_url, f"{url}/acme"
                yield Live(center, backend, clock, channel, provider)
            channel.close()


def _sms(n: int, text: str, sender: str = CUSTOMER) -> dict[str, str]:
    return {"id": f"SM{n}", "from": sender, "to": CENTER, "text": text}


def _signed(message: Mapping[str, str]) -> Webhook:
    body = json.dumps(message).encode()
    headers = {"x-hub-signature-256": hub_signature_256(SECRET, body)}
    return Webhook(url="http://center/messages/acme", headers=headers, body=body)


async def test_an_sms_is_stored_queued_answered_and_its_retry_stored_once() -> None:
    """A customer's SMS, signed by the provider, is answered 200 only once its ticket, the
    message and its contact are stored; the provider's retry of it is answered 200 and
    stored nothing new; Alice accepts and answers, and the answer reaches the provider
    from the center's number, signed, and is stored in the ticket under the provider's
    id; the customer's next SMS joins the same contact; after disposal the next one
    queues a new contact on the same ticket."""
    async with live_sms() as live:
        center, provider, messages = live.center, live.provider, live.channel.intake.messages
        first = await provider.deliver(_sms(1, "My bill is wrong."))
        assert (first.status_code, first.json()) == (200, {"stored": 1, "duplicates": 0})
        stored = messages.get("acme:SM1")
        assert stored is not None
        assert stored.handed_over
        again = await provider.deliver(_sms(1, "My bill is wrong."))
        assert (again.status_code, again.json()) == (200, {"stored": 0, "duplicates": 1})
        (ticket,) = center.tickets.active()

        await center.set_ready("alice", actor="alice")
        await run_virtual(center, live.backend, 1.0)
        contact_id = await center.accept("alice", actor="alice")
        assert contact_id == stored.contact_id
        sent = await center.reply(contact_id, "We will correct it.", actor="alice")
        assert sent == "acme:out-1"
        assert provider.sent == [{"from": CENTER, "to": CUSTOMER, "text": "We will correct it."}]

        live.clock.advance(1.0)
        assert (await provider.deliver(_sms(2, "Thanks!"))).json()["stored"] == 1
        lines = messages.of_ticket(ticket.ticket_id)
        assert [(m.message_id, m.direction) for m in lines] == [
            ("acme:SM1", MessageDirection.INBOUND),
            ("acme:out-1", MessageDirection.OUTBOUND),
            ("acme:SM2", MessageDirection.INBOUND),
        ]
        await run_virtual(center, live.backend, 1.0)
        with pytest.raises(Exception, match="no desk work"):  # the same contact, not a new one
            await center.accept("alice", actor="alice")

        await center.dispose(contact_id, "solved", actor="alice")
        assert (await provider.deliver(_sms(3, "Wrong again."))).status_code == 200
        await run_virtual(center, live.backend, 2.0)
        assert await center.accept("alice", actor="alice") != contact_id
        assert [t.ticket_id for t in center.tickets.active()] == [ticket.ticket_id]


async def test_a_full_queue_leaves_an_sms_unacknowledged_and_takes_its_retry_later() -> None:
    """With the queue full (max_length 1), a second customer's SMS is stored but answered
    503, not 200: the provider delivers it again later, and nothing was acknowledged that
    no agent will see. Once Alice took the first, the provider's retry is answered 200, the
    message is handed over once and its contact waits for an agent; the refusal is in the
    log (acd.contact_exited, full)."""
    async with live_sms(max_length=1) as live:
        center, provider, messages = live.center, live.provider, live.channel.intake.messages
        exits: list[ContactExited] = []
        center.subscribe(lambda _seq, e: exits.append(e) if isinstance(e, ContactExited) else None)
        first = await provider.deliver(_sms(1, "My bill is wrong."))
        assert first.status_code == 200, first.text
        refused = await provider.deliver(_sms(2, "No signal.", sender="+33699999999"))
        assert refused.status_code == 503, refused.text
        held = messages.get("acme:SM2")
        assert held is not None
        assert not held.handed_over
        assert [(e.contact_id, e.reason.value) for e in exits] == [(held.contact_id, "full")]

        await center.set_ready("alice", actor="alice")
        await run_virtual(center, live.backend, 1.0)
        await center.accept("alice", actor="alice")
        retried = await provider.deliver(_sms(2, "No signal.", sender="+33699999999"))
        assert (retried.status_code, retried.json()) == (200, {"stored": 1, "duplicates": 0})
        taken = messages.get("acme:SM2")
        assert taken is not None
        assert taken.handed_over
        assert center.engine.contact_status(taken.contact_id).queue == "sms"


async def test_after_a_restart_the_next_sms_finds_its_conversations_ticket() -> None:
    """A channel that has not seen the customer since it started (a restarted center)
    stores their next SMS on the ticket of their open conversation, found in the store,
    not on a new one; a customer without an open conversation gets a new ticket."""
    async with live_sms() as live:
        await live.provider.deliver(_sms(1, "First."))
        (ticket,) = live.center.tickets.active()
        channel = live.channel
        fresh = MessagingChannel(
            live.center, channel.intake.messages, channel.provider, channel.settings
        )
        (taken,) = await fresh.take(_signed(_sms(2, "Second.")))
        assert (taken.ticket_id, taken.new_ticket) == (ticket.ticket_id, False)
        (other,) = await fresh.take(_signed(_sms(3, "Me too.", sender="+33699999999")))
        assert other.new_ticket
        assert other.ticket_id != ticket.ticket_id
        fresh.close()


async def test_forged_and_unsigned_webhooks_are_refused_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A webhook signed with another secret, one whose body was altered after signing,
    and an unsigned one are refused with 401 and logged; nothing is stored or queued."""
    async with live_sms() as live:
        provider = live.provider
        with caplog.at_level(logging.WARNING, logger="callcenter_sdk.channels"):
            forged = await provider.deliver(_sms(1, "Send me money."), secret=b"guess")
            unsigned = await provider.deliver(_sms(2, "Hello"), signed=False)
            body = json.dumps(_sms(3, "Hello")).encode()
            tampered = body.replace(b"Hello", b"Hellp")
            async with httpx.AsyncClient() as client:
                altered = await client.post(provider.webhook, content=tampered, headers={
                    "x-hub-signature-256": hub_signature_256(SECRET, body)})  # fmt: skip
        assert [r.status_code for r in (forged, unsigned, altered)] == [401, 401, 401]
        assert live.channel.refused == 3
        assert len([r for r in caplog.records if "webhook refused" in r.getMessage()]) == 3
        assert live.center.tickets.active() == []
        assert all(live.channel.intake.messages.get(f"acme:SM{n}") is None for n in (1, 2, 3))
        bad = await provider.deliver({"id": "SM4", "from": CUSTOMER})
        assert bad.status_code == 400


async def test_a_provider_that_cannot_be_reached_fails_the_reply() -> None:
    """A reply through a provider whose API is down raises ChannelError and stores nothing."""
    provider = JsonProvider(base_url="http://127.0.0.1:9", secret=SECRET)
    with pytest.raises(ChannelError, match="not sent"):
        await provider.send(sender=CENTER, recipient=CUSTOMER, text="hello")


def test_twilio_style_signatures_match_twilios_own_validator() -> None:
    """Our HMAC-SHA1 ``X-Twilio-Signature`` agrees with the ``twilio`` package's request
    validator on a form webhook, and a changed parameter no longer validates."""
    validator = pytest.importorskip("twilio.request_validator").RequestValidator("token123")
    url = "https://center.example/messages/twilio?x=1"
    params = {"From": CUSTOMER, "To": CENTER, "Body": "Hello é", "MessageSid": "SM1"}
    signature = twilio_signature("token123", url, params)
    assert signature == validator.compute_signature(url, params)
    assert validator.validate(url, params, signature)
    assert not validator.validate(url, {**params, "Body": "Hellp"}, signature)


def test_provider_plugins_are_found_through_the_hook_and_names_are_unique() -> None:
    """The reference provider is offered through ``callcenter_messaging_providers``; a
    plugin's provider is built from its options and parses its own webhooks; two plugins
    claiming one name are refused."""

    @attrs.frozen
    class Echo:
        name: str = "echo"

        def verify(self, webhook: Webhook) -> None:
            if webhook.headers.get("x-token") != "ok":
                raise SignatureError("no token")

        def parse(self, webhook: Webhook) -> list[ProviderMessage]:
            return [ProviderMessage(id="1", sender="a", recipient="b", text=webhook.body.decode())]

        async def send(self, *, sender: str, recipient: str, text: str) -> str:
            return "1"

    class EchoPlugin:
        @hookimpl
        def callcenter_messaging_providers(self) -> dict[str, Any]:
            return {"echo": lambda options: Echo(), "json": lambda options: Echo()}

    found = messaging_providers(create_plugin_host(plugins=[json_provider_plugin]))
    provider = found["json"]({"base_url": "http://x", "secret": "s"})
    assert isinstance(provider, JsonProvider)
    with pytest.raises(ChannelError, match="two plugins"):
        messaging_providers(create_plugin_host(plugins=[json_provider_plugin, EchoPlugin()]))
    echo = messaging_providers(create_plugin_host(plugins=[EchoPlugin()]))["echo"]({})
    hook = Webhook(url="http://x", headers={"x-token": "ok"}, body=b"hi")
    echo.verify(hook)
    assert [m.text for m in echo.parse(hook)] == ["hi"]
