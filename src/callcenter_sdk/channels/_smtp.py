"""The SMTP listener the center runs: customers' mails arrive here directly.

An aiosmtpd server on the center's own event loop. It answers ``250`` to a
mail only once :meth:`EmailChannel.deliver` returned (the mail is stored
and queued) and ``451`` (try again later) when it could not be stored, so
the sending server keeps the mail and retries: nothing is lost.

It hands each mail to a :class:`MailSink`: the e-mail channel itself, or,
on a node of a cluster that does not lead, what relays the mail to the
leader's channel and returns once the leader stored it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

from aiosmtpd.smtp import SMTP, Envelope, Session

from .._errors import CallCenterError
from ._email import EmailSettings

__all__ = ["MailSink", "SmtpIntake", "open_smtp_intake"]

_log = logging.getLogger(__name__)


class MailSink(Protocol):
    """Where the SMTP listener hands each mail (an :class:`EmailChannel` is one).

    .. versionadded:: 0.2
    """

    @property
    def settings(self) -> EmailSettings:
        """The mailbox's settings (its address decides which recipients are taken)."""
        ...

    async def deliver(self, raw: bytes) -> object:
        """Store the mail; return only once it is stored.

        Raises:
            CallCenterError: It was not stored: the listener answers 451.
        """
        ...


class SmtpIntake:
    """The aiosmtpd handler: each mail goes to the e-mail channel before it is accepted.

    Attributes:
        channel: The e-mail channel (or another :class:`MailSink`) mails go to.
        host: The address it listens on.
        port: The port it listens on (the one bound when 0 was asked).
        accepted: How many mails it answered ``250``.

    .. versionadded:: 0.2
    """

    def __init__(self, channel: MailSink, host: str, port: int) -> None:
        self.channel = channel
        self.host = host
        self.port = port
        self.accepted = 0

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        """Accept mail for the center's mailbox and its plus-addresses only."""
        del server, session, options
        local, _, domain = address.lower().partition("@")
        mine_local, _, mine_domain = self.channel.settings.address.lower().partition("@")
        if domain != mine_domain or local.partition("+")[0] != mine_local:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        """Store the mail, then accept it; refuse it for now if it could not be stored."""
        del server, session
        raw = envelope.original_content or b""
        try:
            await self.channel.deliver(raw)
        except CallCenterError as exc:
            _log.warning("mail from %s refused for now: %s", envelope.mail_from, exc)
            return "451 4.3.0 Not stored, try again later"
        self.accepted += 1
        return "250 OK: queued"


@asynccontextmanager
async def open_smtp_intake(
    channel: MailSink, *, host: str = "127.0.0.1", port: int = 25
) -> AsyncIterator[SmtpIntake]:
    """Listen for mails to ``channel``'s address on ``host:port`` (0: any free port).

    Runs on the asyncio event loop the center runs on.

    .. versionadded:: 0.2
    """
    handler = SmtpIntake(channel, host, port)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname=channel.settings.domain, loop=loop), host=host, port=port
    )
    handler.port = server.sockets[0].getsockname()[1]
    try:
        yield handler
    finally:
        server.close()
        await server.wait_closed()
