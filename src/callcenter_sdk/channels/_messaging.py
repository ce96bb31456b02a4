"""SMS and social messages: providers' webhooks in, agents' answers out through the provider.

A :class:`MessagingProvider` knows one provider's wire format: how its
webhooks are signed and what they carry, and how to send a message through
its API. Providers come from plugins (the ``callcenter_messaging_providers``
hook, see :func:`messaging_providers`); :class:`JsonProvider` is the
reference one.

A :class:`MessagingChannel` connects one provider to the center on one
channel (SMS, or social messages). Its webhook endpoint (:func:`messaging_app`,
mounted by the web app at ``/messages/<provider>``) refuses a request whose
signature does not verify (401, logged), stores each message with its
ticket and hands it to the center (:class:`~callcenter_sdk.channels.Intake`)
and only then answers 200: a provider retries anything else, and a retry
of a stored message (the same provider message id) is recognised and
stored once. A customer's next messages join their conversation while its
contact lasts; after the agent disposed of it, the next one queues a new
contact on the same ticket. Agents answer with ``center.reply``, which
sends through the provider (:meth:`MessagingChannel.send`).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import anyio
import attrs
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .._errors import CallCenterError, NotFoundError
from .._events import Event
from .._plugins import PluginHost
from ..acd import Contact
from ..kpi import Channel
from ..tickets import TicketMessages, TicketStatus
from ._chat import ChatCenter
from ._errors import ChannelError, SignatureError
from ._intake import Inbound, Intake, Taken

__all__ = [
    "MessagingChannel",
    "MessagingProvider",
    "MessagingSettings",
    "ProviderMessage",
    "Webhook",
    "messaging_app",
    "messaging_providers",
]

_log = logging.getLogger(__name__)

_BODY_LIMIT = 1024 * 1024
_DISPOSED = "runtime.contact_disposed"


@attrs.frozen(kw_only=True)
class Webhook:
    """A provider's request to the webhook, as received (before any check).

    Attributes:
        url: The URL the provider called (some schemes sign it).
        headers: Its headers, names in lower case.
        body: Its raw body (signatures cover the bytes, not a parsed form).
    """

    url: str
    headers: Mapping[str, str]
    body: bytes = attrs.field(repr=lambda body: f"<{len(body)} bytes>")


@attrs.frozen(kw_only=True)
class ProviderMessage:
    """A customer's message as a provider delivered it.

    Attributes:
        id: The provider's id of the message (retries carry the same one).
        sender: The customer's number or account.
        recipient: The center's number or page it was sent to.
        text: What they wrote.
    """

    id: str
    sender: str
    recipient: str
    text: str


class MessagingProvider(Protocol):
    """One messaging provider's wire format (what a provider plugin implements).

    .. versionadded:: 0.2
    """

    @property
    def name(self) -> str:
        """The provider's name: the webhook's path and the prefix of its message ids."""
        ...

    def verify(self, webhook: Webhook) -> None:
        """Check the webhook's signature.

        Raises:
            SignatureError: It is unsigned or the signature does not match.
        """
        ...

    def parse(self, webhook: Webhook) -> Sequence[ProviderMessage]:
        """The customers' messages a verified webhook carries (none for a status report).

        Raises:
            ValueError: The body is not what the provider sends.
        """
        ...

    async def send(self, *, sender: str, recipient: str, text: str) -> str:
        """Send ``text`` to ``recipient`` from the center's ``sender``; return the provider's id.

        Raises:
            ChannelError: The provider refused it or could not be reached.
        """
        ...


ProviderFactory = Callable[[Mapping[str, str]], MessagingProvider]
"""Builds a provider from its options (a deployment's settings: URLs, secrets...)."""


def messaging_providers(plugins: PluginHost) -> Mapping[str, ProviderFactory]:
    """Every messaging provider factory the registered plugins offer, by name.

    Raises:
        ChannelError: A plugin answered something other than a mapping of
            names to callables, or two plugins claim one name.

    .. versionadded:: 0.2
    """
    found: dict[str, ProviderFactory] = {}
    for answer in plugins.manager.hook.callcenter_messaging_providers():
        if not isinstance(answer, Mapping):
            raise ChannelError(f"a plugin returned {answer!r} instead of a mapping")
        for name, factory in answer.items():
            if not isinstance(name, str) or not name or not callable(factory):
                raise ChannelError(f"a plugin returned a bad provider {name!r}: {factory!r}")
            if name in found and found[name] is not factory:
                raise ChannelError(f"two plugins provide the messaging provider {name!r}")
            found[name] = factory
    return found


@attrs.frozen(kw_only=True)
class MessagingSettings:
    """How one provider's messages reach the center.

    Attributes:
        queue: The ACD queue every conversation joins.
        channel: ``Channel.SMS`` or ``Channel.SOCIAL``.
        sender: The center's number or account replies are sent from (the
            number the customer wrote to, when empty).
    """

    queue: str
    channel: Channel = Channel.SMS
    sender: str = ""


@attrs.define
class _Thread:
    ticket_id: str
    contact_id: str


class MessagingChannel:
    """SMS or social messages through one provider: webhook intake and replies.

    Register it with ``center.add_channel(channel)`` so agents' replies go out
    through the provider, and serve :func:`messaging_app` (the web app mounts
    it at ``/messages``).

    Args:
        center: The running center.
        messages: The tickets' conversations, on the center's store.
        provider: The provider's wire format.
        settings: The channel's settings.

    .. versionadded:: 0.2
    """

    def __init__(
        self,
        center: ChatCenter,
        messages: TicketMessages,
        provider: MessagingProvider,
        settings: MessagingSettings,
    ) -> None:
        if settings.channel not in (Channel.SMS, Channel.SOCIAL):
            raise ChannelError(f"a messaging channel carries SMS or social, not {settings.channel}")
        self.provider = provider
        self.settings = settings
        self.intake = Intake(center, messages)
        self.refused = 0
        self._threads: dict[str, _Thread] = {}
        self._lock = anyio.Lock()
        self._unsubscribe = center.subscribe(self._event)

    @property
    def channel(self) -> Channel:
        """The channel this provider carries."""
        return self.settings.channel

    def close(self) -> None:
        """Stop following the center's events."""
        self._unsubscribe()

    async def take(self, webhook: Webhook) -> list[Taken]:
        """Verify a webhook, then store and hand over each message it carries.

        Returns once every message is stored: answer the provider 200 only then.

        Raises:
            SignatureError: Unsigned or forged: refuse it (nothing is stored).
            ValueError: Not what the provider sends.
            StoreError: Not stored: answer an error so the provider retries.
        """
        try:
            self.provider.verify(webhook)
        except SignatureError as exc:
            self.refused += 1
            _log.warning("%s webhook refused: %s", self.provider.name, exc)
            raise
        return [await self._take(message) for message in self.provider.parse(webhook)]

    async def _take(self, message: ProviderMessage) -> Taken:
        inbound = Inbound(
            message_id=f"{self.provider.name}:{message.id}",
            channel=self.channel,
            party=message.sender,
            text=message.text,
            subject=f"{self.channel.value} from {message.sender}",
            dialled=message.recipient,
        )
        async with self._lock:  # one message at a time: a conversation's contact opens once
            thread = self._threads.get(message.sender)
            if thread is not None and thread.contact_id:
                inbound = attrs.evolve(inbound, ticket_id=thread.ticket_id)
                if not await self.intake.record(inbound, contact_id=thread.contact_id):
                    return Taken(ticket_id=thread.ticket_id, contact_id=thread.contact_id,
                                 new_ticket=False, again=True)  # fmt: skip
                return Taken(ticket_id=thread.ticket_id, contact_id=thread.contact_id,
                             new_ticket=False)  # fmt: skip
            if thread is not None:
                inbound = attrs.evolve(inbound, ticket_id=thread.ticket_id)
            else:  # not seen since the start: its conversation's ticket, if one is open
                ticket_id, new_ticket_id = await anyio.to_thread.run_sync(
                    self._conversation, message.sender
                )
                inbound = attrs.evolve(inbound, ticket_id=ticket_id, new_ticket_id=new_ticket_id)
            taken = await self.intake.take(inbound, self.settings.queue)
            if not taken.again:
                self._threads[message.sender] = _Thread(taken.ticket_id, taken.contact_id)
            return taken

    async def send(self, contact: Contact, text: str, *, agent: str) -> str:
        """Answer the customer of ``contact`` through the provider; return the message id.

        Raises:
            ChannelError: The provider refused it or could not be reached.
        """
        sent = await self.provider.send(
            sender=self.settings.sender or contact.dialled, recipient=contact.caller_id, text=text
        )
        message_id = f"{self.provider.name}:{sent}"
        ticket_id = str(contact.attributes.get("ticket_id", ""))
        if ticket_id:
            await self.intake.sent(
                ticket_id=ticket_id,
                message_id=message_id,
                channel=self.channel,
                party=contact.caller_id,
                text=text,
                author=agent,
            )
        return message_id

    async def webhook(self, request: Request) -> JSONResponse:
        """The provider's webhook: 200 once stored, 401 unsigned or forged, 503 not stored."""
        body = await request.body()
        if len(body) > _BODY_LIMIT:
            return JSONResponse({"error": "too large"}, status_code=413)
        hook = Webhook(
            url=str(request.url),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
        )
        try:
            taken = await self.take(hook)
        except SignatureError as exc:
            return JSONResponse({"error": str(exc)}, status_code=401)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except CallCenterError as exc:  # not stored: the provider delivers it again
            _log.warning("%s webhook not stored: %s", self.provider.name, exc)
            return JSONResponse({"error": "not stored, retry"}, status_code=503)
        return JSONResponse(
            {"stored": sum(not t.again for t in taken), "duplicates": sum(t.again for t in taken)}
        )

    def _conversation(self, party: str) -> tuple[str, str]:
        """The open ticket of ``party``'s conversation and the id of their next one.

        A party's tickets on this provider have ids derived from the party and
        a counter, so the store finds the open one again after a restart:
        the first that exists and is not closed (in a worker thread).
        """
        for n in itertools.count():
            ticket_id = _conversation_ticket(self.provider.name, party, n)
            try:
                ticket = self.intake.center.tickets.get(ticket_id)
            except NotFoundError:
                return "", ticket_id
            if ticket.status is not TicketStatus.CLOSED:
                return ticket_id, ""
        raise AssertionError("unreachable")  # pragma: no cover

    def _event(self, _seq: int, event: Event) -> None:
        if getattr(event, "kind", "") != _DISPOSED:
            return
        contact_id = str(getattr(event, "contact_id", ""))
        for thread in self._threads.values():
            if thread.contact_id == contact_id:
                thread.contact_id = ""


def _conversation_ticket(provider: str, party: str, n: int) -> str:
    key = f"{provider}\0{party}\0{n}".encode()
    return hashlib.sha256(b"conversation\0" + key).hexdigest()[:16]


def messaging_app(*channels: MessagingChannel) -> Starlette:
    """The webhooks of ``channels``: ``POST /<provider name>`` each.

    .. versionadded:: 0.2
    """
    return Starlette(
        routes=[Route(f"/{c.provider.name}", c.webhook, methods=["POST"]) for c in channels]
    )
