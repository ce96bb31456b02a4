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

In a cluster every node, leader or not, runs the ``[email]`` SMTP listener
for as long as its process lives (:func:`open_relayed_smtp`): it hands each
mail to the leader's channel through the store and answers ``250`` once the
leader stored it (``451`` otherwise), so an MX may point at any node.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

import anyio
import attrs

from .._errors import CallCenterError, ConfigError, StoreError
from ..kpi import Channel
from ..runtime import CallCenter, CenterSetup, EmailSection
from ..store import Accounts, Store

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from ..channels import (
        ChatChannel,
        EmailChannel,
        EmailSettings,
        MessagingChannel,
        MessagingProvider,
    )
    from ..tickets import TicketMessages

__all__ = ["RelayedMailbox", "ServedChannels", "chat_secret", "open_channels", "open_relayed_smtp"]

_CHAT_LABEL = b"callcenter chat tokens v1"


@attrs.frozen
class ServedChannels:
    """What the web server mounts for the channels that are open.

    Attributes:
        chat: The web chat, if ``[chat]`` is there.
        chat_app: Its ASGI app (``/chat``).
        messages_app: The messaging webhooks (``/messages``), if any.
        email: The mailbox, if ``[email]`` is there (its ``deliver`` takes
            the mails other nodes relay).
    """

    chat: ChatChannel | None = None
    chat_app: ASGIApp | None = None
    messages_app: ASGIApp | None = None
    email: EmailChannel | None = None


def chat_secret(store: Store) -> bytes:
    """The key that signs the web chat's tokens: derived from the store's own secret.

    Every node of the same store derives the same key, so a customer who
    comes back on another node (or after a restart) keeps their conversation.
    """
    root = Accounts(store).cookie_secret(at=time.time())
    return hmac.new(root, _CHAT_LABEL, hashlib.sha256).digest()


@contextlib.asynccontextmanager
async def open_channels(
    setup: CenterSetup,
    center: CallCenter,
    store: Store,
    out: Callable[[str], None],
    *,
    smtp: bool = True,
) -> AsyncIterator[ServedChannels]:
    """Open the channels the center file names for ``center``, for the duration of the block.

    ``smtp=False`` leaves the ``[email]`` SMTP listener to the caller (a
    cluster node runs its own, relayed, for its whole life).

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
        email = _email(setup, center, messages)
        if email is not None:
            center.add_channel(email)
            await _email_intake(setup, email, stack, tg, out, smtp=smtp)
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
                email=email,
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
    from ..channels import EmailChannel  # noqa: PLC0415 - the channels extra

    return EmailChannel(center, messages, email_settings(section))


def email_settings(section: EmailSection) -> EmailSettings:
    """The e-mail channel's settings from ``[email]``."""
    from ..channels import EmailSettings  # noqa: PLC0415 - the channels extra

    return EmailSettings(
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


async def _email_intake(
    setup: CenterSetup,
    email: EmailChannel,
    stack: contextlib.AsyncExitStack,
    tg: anyio.abc.TaskGroup,
    out: Callable[[str], None],
    *,
    smtp: bool,
) -> None:
    """Start the SMTP listener (if ``smtp``) and the mailbox reader ``[email]`` asks for."""
    from ..channels import ImapIntake, ImapSettings, open_smtp_intake  # noqa: PLC0415

    section = setup.channels.email
    assert section is not None  # noqa: S101 - called for an [email] section only
    if section.listen_port is not None and smtp:
        try:
            listener = await stack.enter_async_context(
                open_smtp_intake(email, host=section.listen_host, port=section.listen_port)
            )
        except OSError as exc:
            raise _not_listening(setup, section, exc) from exc
        out(f"mail: smtp://{section.listen_host}:{listener.port} for {section.address}")
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


class RelayedMailbox:
    """A cluster node's mail sink: each mail is stored by the leader's e-mail channel.

    Args:
        settings: The mailbox's settings (its address: which recipients are taken).
        ask: Passes the raw mail to the leader and returns once it is stored
            (``NodeFront.ask_mail``); raises when it was not.
        node: This node's id (the forwarded row's client).
    """

    def __init__(
        self,
        settings: EmailSettings,
        ask: Callable[[bytes, str], Awaitable[None]],
        node: str,
    ) -> None:
        self._settings = settings
        self._ask = ask
        self._node = node

    @property
    def settings(self) -> EmailSettings:
        """The mailbox's settings."""
        return self._settings

    async def deliver(self, raw: bytes) -> None:
        """Have the leader store ``raw``; return once it did.

        Raises:
            StoreError: The leader did not store it (or none answered in time).
        """
        from ..web._errors import HttpError  # noqa: PLC0415 - the web extra is optional

        try:
            await self._ask(raw, self._node)
        except (HttpError, CallCenterError) as exc:  # no leader stored it, or the store failed
            raise StoreError(f"the leader did not store the mail: {exc}") from exc


@contextlib.asynccontextmanager
async def open_relayed_smtp(
    setup: CenterSetup,
    ask: Callable[[bytes, str], Awaitable[None]],
    node: str,
    out: Callable[[str], None],
) -> AsyncIterator[int | None]:
    """Run a cluster node's SMTP listener (``[email] listen``) for the block; yield its port.

    Yields ``None`` when the center file opens no SMTP listener.
    """
    section = setup.channels.email
    if section is None or section.listen_port is None:
        yield None
        return
    from ..channels import open_smtp_intake  # noqa: PLC0415 - the channels extra

    mailbox = RelayedMailbox(email_settings(section), ask, node)
    async with contextlib.AsyncExitStack() as stack:
        try:
            listener = await stack.enter_async_context(
                open_smtp_intake(mailbox, host=section.listen_host, port=section.listen_port)
            )
        except OSError as exc:
            raise _not_listening(setup, section, exc) from exc
        out(f"mail: smtp://{section.listen_host}:{listener.port} for {section.address} (relayed)")
        yield listener.port


def _not_listening(setup: CenterSetup, section: EmailSection, exc: OSError) -> ConfigError:
    """The ``[email] listen`` address this machine cannot listen on, as a config error."""
    return ConfigError(
        setup.source,
        ("email", "listen"),
        "an address and port this machine can listen on",
        f"{section.listen_host}:{section.listen_port}",
        detail=str(exc),
    )
