"""The IMAP mailbox the center reads: IDLE for news, a periodic check, reconnection.

imapclient is a blocking library: each of its calls runs in a worker
thread. The loop fetches every unseen mail *without* marking it (``PEEK``),
hands it to :meth:`EmailChannel.deliver`, and flags it seen only once
that returned: a crash in between leaves the mail unseen, so it is fetched
again and recognised (stored once). Between sweeps it waits in IMAP IDLE,
at most ``check_every`` seconds; a dropped connection is opened again
after a pause that grows up to ``max_backoff``.
"""

from __future__ import annotations

import logging
import socket
import ssl

import anyio
import anyio.to_thread
import attrs
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from .._errors import CallCenterError
from ._email import EmailChannel

__all__ = ["ImapIntake", "ImapSettings"]

_log = logging.getLogger(__name__)

_SEEN = b"\\Seen"
_FAILURES = (IMAPClientError, OSError, socket.timeout, ssl.SSLError)


@attrs.frozen(kw_only=True)
class ImapSettings:
    """Where the center's mailbox is.

    Attributes:
        host: The IMAP server.
        port: Its port.
        user: The mailbox's login.
        password: Its password.
        tls: Connect over TLS (port 993 usually).
        folder: The folder customers' mails land in.
        check_every: Seconds between two checks even when IDLE reports nothing.
        max_backoff: The longest pause before connecting again after a failure.
    """

    host: str
    port: int = 993
    user: str
    password: str = attrs.field(repr=False)
    tls: bool = True
    folder: str = "INBOX"
    check_every: float = 60.0
    max_backoff: float = 30.0


class ImapIntake:
    """Reads a mailbox into the e-mail channel, for as long as :meth:`run` runs.

    Attributes:
        channel: The e-mail channel mails go to.
        settings: The mailbox.
        fetched: Mails fetched (a mail fetched again after a crash counts twice).
        connections: How many times it connected (1 when nothing dropped).

    .. versionadded:: 0.2
    """

    def __init__(self, channel: EmailChannel, settings: ImapSettings) -> None:
        self.channel = channel
        self.settings = settings
        self.fetched = 0
        self.connections = 0
        self._client: IMAPClient | None = None

    async def run(self) -> None:
        """Read the mailbox until cancelled, connecting again whenever the link drops."""
        backoff = 0.5
        while True:
            try:
                await self._session()
            except _FAILURES as exc:
                _log.warning("mailbox %s: %s; connecting again", self.settings.user, exc)
            finally:
                await self._close()
            await anyio.sleep(backoff)
            backoff = min(backoff * 2, self.settings.max_backoff)

    async def _session(self) -> None:
        settings = self.settings
        self._client = client = await anyio.to_thread.run_sync(self._connect)
        self.connections += 1
        while True:
            await self.sweep()
            await anyio.to_thread.run_sync(client.idle)
            try:
                await anyio.to_thread.run_sync(
                    lambda: client.idle_check(timeout=settings.check_every),
                    abandon_on_cancel=True,
                )
            except anyio.get_cancelled_exc_class():
                self._client = None  # the abandoned IDLE read fails on the closed socket
                client.shutdown()
                raise
            await anyio.to_thread.run_sync(client.idle_done)

    def _connect(self) -> IMAPClient:
        settings = self.settings
        client = IMAPClient(settings.host, port=settings.port, ssl=settings.tls, timeout=30)
        try:
            client.login(settings.user, settings.password)
            client.select_folder(settings.folder)
        except BaseException:
            client.shutdown()
            raise
        return client

    async def sweep(self) -> int:
        """Fetch every unseen mail, deliver each, flag it seen once stored; return how many."""
        client = self._client
        if client is None:
            return 0
        ids = await anyio.to_thread.run_sync(client.search, ["UNSEEN"])
        stored = 0
        for uid in ids:
            fetched = await anyio.to_thread.run_sync(client.fetch, [uid], ["BODY.PEEK[]"])
            raw = fetched.get(uid, {}).get(b"BODY[]")
            if not isinstance(raw, bytes):
                continue
            self.fetched += 1
            try:
                await self.channel.deliver(raw)
            except CallCenterError as exc:  # left unseen: the next sweep tries again
                _log.warning("mail %s left in the mailbox: %s", uid, exc)
                continue
            await anyio.to_thread.run_sync(client.add_flags, [uid], [_SEEN])
            stored += 1
        return stored

    async def _close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        with anyio.CancelScope(shield=True):
            try:
                await anyio.to_thread.run_sync(client.logout)
            except (*_FAILURES, AttributeError):  # already gone: drop the socket
                client.shutdown()
