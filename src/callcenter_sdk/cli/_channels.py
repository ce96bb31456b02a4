"""The channels ``callcenter serve`` opens besides the phone, from the center file.

:func:`open_channels` builds, for the center that runs (a single node, or
the leader of a cluster for its term), what ``[chat]``, ``[email]`` and
``[[messaging]]`` ask for (:class:`~callcenter_sdk.runtime.ChannelSections`):

* ``[chat]``: a :class:`~callcenter_sdk.channels.ChatChannel` whose tokens
  are signed with a key derived from the store's own secret (the same on
  every node, never in a file), served at ``/chat`` by the web server;
* ``[email]``: an :class:`~callcenter_sdk.channels.EmailChannel` replying
  through its SMTP relay, fed by the center's own SMTP listener (``listen``)
  and/or a mailbox read over IMAP (``[email.imap]``);
* each ``[[messaging]]``: a :class:`~callcenter_sdk.channels.MessagingChannel`
  through the provider a plugin offers under that name (the reference
  ``json`` provider is always offered), its webhook at ``/messages/<name>``.

Each is registered with ``center.add_channel`` so agents' replies go out
on the customer's channel, and closed when the block ends.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING

import anyio
import attrs

from .._errors import ConfigError
from ..kpi import Channel
from ..runtime import CallCenter, CenterSetup
from ..store import Accounts, Store

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from ..channels import ChatChannel, EmailChannel, MessagingChannel, MessagingProvider
    from ..tickets import TicketMessages

__all__ = ["ServedChannels", "chat_secret", "open_channels"]

_CHAT_LABEL = b"callcenter chat tokens v1"


@attrs.frozen
class ServedChannels:
    """What the web server mounts for the channels that are open.

    Attributes:
        chat: The web chat, if ``[chat]`` is there.
        chat_app: Its ASGI app (``/chat``).
        messages_app: The messaging webhooks (``/messages``), if any.
        smtp_port: The port the SMTP listener took, if one runs.
    """

    chat: ChatChannel | None = None
    chat_app: ASGIApp | None = None
    messages_app: ASGIApp | None = None
    smtp_port: int | None = None


def chat_secret(store: Store) -> bytes:
    """The key that signs the web chat's tokens: derived from the store's own secret.

    Every node of the same store derives the same key, so a customer who
    comes back on another node (or after a restart) keeps their conversation.
    """
    root = Accounts(store).cookie_secret(at=time.time())
    return hmac.new(root, _CHAT_LABEL, hashlib.sha256).digest()


@contextlib.asynccontextmanager
async def open_channels(
    setup: CenterSetup, center: CallCenter, store: Store, out: Callable[[str], None]
) -> AsyncIterator[ServedChannels]:
    """Open the channels the center file names for ``center``, for the duration of the block.

    Raises:
        ConfigError: A ``[[messaging]]`` provider no plugin offers, or one
            whose options it refuses (the error names the file and the table).
    """
    sections = setup.channels
    if sections.chat is None and sections.email is None and not sections.messaging:
        yield ServedChannels()
        return
    from ..tickets import TicketMessages  # noqa: PLC0415

    messages = TicketMessages(store)
    async with contextlib.AsyncExitStack() as stack, anyio.create_task_group() as tg:
        chat = _chat(setup, center, messages, store)
        if chat is not None:
            stack.callback(chat.close)
            center.add_channel(chat)
            out("web chat: /chat (widget /chat/static/chat.js)")
        smtp_port = None
        email = _email(setup, center, messages)
        if email is not None:
            center.add_channel(email)
            smtp_port = await _email_intake(setup, email, stack, tg, out)
        providers = _messaging(setup, center, messages)
        for channel in providers:
            stack.callback(channel.close)
            center.add_channel(channel)
            out(f"messages: /messages/{channel.provider.name} ({channel.channel.value})")
        try:
            yield ServedChannels(
                chat=chat,
                chat_app=chat.app() if chat is not None else None,
                messages_app=_messaging_app(providers) if providers else None,
                smtp_port=smtp_port,
            )
        finally:
            tg.cancel_scope.cancel()


def _chat(
    setup: CenterSetup, center: CallCenter, messages: TicketMessages, store: Store
) -> ChatChannel | None:
    section = setup.channels.chat
    if section is None:
        return None
    from ..channels import ChatChannel, ChatSettings  # noqa: PLC0415 - the channels extra

    settings = ChatSettings(
        queue=section.queue,
        secret=chat_secret(store),
        rejoin_window=section.rejoin_window,
        idle_timeout=section.idle_timeout,
        max_line=section.max_line,
    )
    return ChatChannel(center, messages, settings)


def _email(setup: CenterSetup, center: CallCenter, messages: TicketMessages) -> EmailChannel | None:
    section = setup.channels.email
    if section is None:
        return None
    from ..channels import EmailChannel, EmailSettings  # noqa: PLC0415 - the channels extra

    settings = EmailSettings(
        address=section.address,
        queue=section.queue,
        smtp_host=section.smtp_host,
        smtp_port=section.smtp_port,
        smtp_user=section.smtp_user,
        smtp_password=section.smtp_password,
        smtp_tls=section.smtp_tls,
        display_name=section.display_name,
        acknowledge=section.acknowledge,
        auto_replies_per_hour=section.auto_replies_per_hour,
    )
    return EmailChannel(center, messages, settings)


async def _email_intake(
    setup: CenterSetup,
    email: EmailChannel,
    stack: contextlib.AsyncExitStack,
    tg: anyio.abc.TaskGroup,
    out: Callable[[str], None],
) -> int | None:
    """Start the SMTP listener and the mailbox reader the ``[email]`` section asks for."""
    from ..channels import ImapIntake, ImapSettings, open_smtp_intake  # noqa: PLC0415

    section = setup.channels.email
    assert section is not None  # noqa: S101 - called for an [email] section only
    port = None
    if section.listen_port is not None:
        try:
            smtp = await stack.enter_async_context(
                open_smtp_intake(email, host=section.listen_host, port=section.listen_port)
            )
        except OSError as exc:
            raise ConfigError(
                setup.source,
                ("email", "listen"),
                "an address and port this machine can listen on",
                f"{section.listen_host}:{section.listen_port}",
                detail=str(exc),
            ) from exc
        port = smtp.port
        out(f"mail: smtp://{section.listen_host}:{port} for {section.address}")
    if section.imap is not None:
        imap = section.imap
        settings = ImapSettings(
            host=imap.host,
            port=imap.port,
            user=imap.user,
            password=imap.password,
            tls=imap.tls,
            folder=imap.folder,
            check_every=imap.check_every,
        )
        tg.start_soon(ImapIntake(email, settings).run, name="imap intake")
        out(f"mail: imap{'s' if imap.tls else ''}://{imap.user}@{imap.host}:{imap.port}")
    return port


def _factories(center: CallCenter) -> Mapping[str, Callable[[Mapping[str, str]], object]]:
    from ..channels import json_provider_plugin, messaging_providers  # noqa: PLC0415

    found = dict(messaging_providers(center.plugins))
    if "json" not in found:  # the reference provider is always there
        found.update(json_provider_plugin.callcenter_messaging_providers())
    return found


def _messaging(
    setup: CenterSetup, center: CallCenter, messages: TicketMessages
) -> list[MessagingChannel]:
    sections = setup.channels.messaging
    if not sections:
        return []
    from ..channels import MessagingChannel, MessagingSettings  # noqa: PLC0415

    factories = _factories(center)
    opened: list[MessagingChannel] = []
    for i, section in enumerate(sections):
        factory = factories.get(section.provider)
        if factory is None:
            raise ConfigError(
                setup.source,
                ("messaging", i, "provider"),
                f"a provider a plugin offers: {', '.join(sorted(factories))}",
                section.provider,
            )
        try:
            provider: MessagingProvider = factory(section.options)  # type: ignore[assignment]
        except (KeyError, ValueError, TypeError) as exc:
            raise ConfigError(
                setup.source,
                ("messaging", i, "options"),
                f"the options the {section.provider!r} provider needs",
                detail=f"{type(exc).__name__}: {exc}",
            ) from exc
        settings = MessagingSettings(
            queue=section.queue, channel=Channel(section.channel), sender=section.sender
        )
        opened.append(MessagingChannel(center, messages, provider, settings))
    return opened


def _messaging_app(channels: list[MessagingChannel]) -> ASGIApp:
    from ..channels import messaging_app  # noqa: PLC0415

    return messaging_app(*channels)
