"""The e-mail channel: customers' mails into the ACD, agents' answers back, threaded.

:class:`EmailChannel` is both ends. Its :meth:`~EmailChannel.deliver` takes
a received mail (from the SMTP listener or the IMAP mailbox), finds the
conversation it continues and hands it to the center through
:class:`~callcenter_sdk.channels.Intake`; its :meth:`~EmailChannel.send`
is the :class:`~callcenter_sdk.runtime.ChannelAdapter` the center answers
through, by SMTP, with the threading headers a mail client expects.

Threading: a mail joins a conversation by ``In-Reply-To``/``References``
(the ids of mails stored in a ticket's conversation, the center's answers
included), then by a ticket reference in its subject (``[#<ticket>]``),
then by plus-addressing (``support+<ticket>@...``); otherwise it opens a
ticket. Loops: a mail a robot sent (``Auto-Submitted``, bulk or list
precedence, a list) is queued but never acknowledged automatically, and no
address gets more than ``auto_replies_per_hour`` automatic mails.
"""

from __future__ import annotations

import logging
import string
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

import aiosmtplib
import anyio.to_thread
import attrs

from .._errors import NotFoundError
from ..acd import Contact
from ..kpi import Channel
from ..tickets import TicketMessages
from ._errors import ChannelError
from ._intake import Center, Inbound, Intake, Taken
from ._mail import Mail, parse_mail, plus_tag, subject_tag

__all__ = ["EmailChannel", "EmailSettings"]

_log = logging.getLogger(__name__)

_HOUR = 3600.0


@attrs.frozen(kw_only=True)
class EmailSettings:
    """How the center's mailbox reads and writes.

    Attributes:
        address: The center's address customers write to (``support@acme.example``).
        queue: The ACD queue every mail joins.
        smtp_host: The relay replies are sent through.
        smtp_port: Its port.
        smtp_user: The relay's login (none when empty).
        smtp_password: Its password.
        smtp_tls: ``"starttls"``, ``"tls"`` or ``"none"``.
        display_name: The name the customer sees.
        acknowledge: Answer each new conversation automatically with its ticket number.
        acknowledgement: The automatic answer (``$ticket`` and ``$subject`` are replaced).
        auto_replies_per_hour: At most this many automatic mails to one address per hour.
    """

    address: str
    queue: str
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = attrs.field(default="", repr=False)
    smtp_tls: str = "none"
    display_name: str = "Customer service"
    acknowledge: bool = True
    acknowledgement: str = (
        "Thank you for your message. We have opened ticket $ticket about “$subject” "
        "and will answer soon. Please keep [#$ticket] in the subject when you write again."
    )
    auto_replies_per_hour: int = 3

    @property
    def domain(self) -> str:
        """The domain of the center's address (its message ids use it)."""
        return self.address.rpartition("@")[2] or "localhost"


class EmailChannel:
    """The e-mail channel of a center: intake, threading, acknowledgements and replies.

    Register it with ``center.add_channel(channel)`` so agents' replies go out
    by mail; feed it with an :class:`~callcenter_sdk.channels.SmtpIntake` or
    an :class:`~callcenter_sdk.channels.ImapIntake`.

    Args:
        center: The running center.
        messages: The tickets' conversations, on the center's store.
        settings: The mailbox's settings.

    .. versionadded:: 0.2
    """

    def __init__(self, center: Center, messages: TicketMessages, settings: EmailSettings) -> None:
        self.settings = settings
        self.intake = Intake(center, messages)
        self._center = center
        self._messages = messages

    @property
    def channel(self) -> Channel:
        """E-mail."""
        return Channel.EMAIL

    async def deliver(self, raw: bytes) -> Taken:
        """Take a received mail: store it, thread it, queue it, maybe acknowledge it.

        Returns once it is stored; acknowledge it to its sender (the SMTP
        250, the IMAP "seen" flag) only then.

        Raises:
            StoreError: It could not be stored: do not acknowledge it.
        """
        mail = parse_mail(raw)
        ticket_id = await anyio.to_thread.run_sync(self._thread, mail)
        inbound = Inbound(
            message_id=mail.message_id,
            channel=Channel.EMAIL,
            party=mail.sender,
            text=mail.text,
            subject=mail.subject,
            dialled=self.settings.address,
            ticket_id=ticket_id,
            attachments=mail.attachments,
            attributes={"thread": " ".join((*mail.references, mail.message_id))},
        )
        taken = await self.intake.take(inbound, self.settings.queue)
        if taken.new_ticket and not taken.again:
            await self._acknowledge(mail, taken.ticket_id)
        return taken

    def _thread(self, mail: Mail) -> str:
        """The ticket ``mail`` continues, ``""`` for a new conversation (in a worker thread)."""
        known = self._messages.find(mail.thread)
        if known is not None:
            return known.ticket_id
        tags = [subject_tag(mail.subject)]
        tags += [plus_tag(r, self.settings.address) for r in mail.recipients]
        for tag in tags:
            if not tag:
                continue
            try:
                return self._center.tickets.get(tag).ticket_id
            except NotFoundError:
                continue
        return ""

    async def _acknowledge(self, mail: Mail, ticket_id: str) -> None:
        if not self.settings.acknowledge or mail.automatic or not mail.sender:
            return
        since = self._center.clock.now() - _HOUR
        count = await anyio.to_thread.run_sync(self._messages.automatic_since, mail.sender, since)
        if count >= self.settings.auto_replies_per_hour:
            _log.info("no acknowledgement to %s: %d automatic mails this hour", mail.sender, count)
            return
        text = string.Template(self.settings.acknowledgement).safe_substitute(
            ticket=ticket_id, subject=mail.subject
        )
        try:
            await self._send(
                to=mail.sender,
                subject=mail.subject,
                text=text,
                ticket_id=ticket_id,
                thread=(*mail.references, mail.message_id),
                author="",
            )
        except ChannelError as exc:  # the mail is queued: only the courtesy is lost
            _log.warning("acknowledgement of %s not sent: %s", mail.message_id, exc)

    async def send(self, contact: Contact, text: str, *, agent: str) -> str:
        """Answer the customer of ``contact`` by mail, in its thread; return the Message-ID.

        Raises:
            ChannelError: The relay refused it or could not be reached.
        """
        attributes = contact.attributes
        return await self._send(
            to=contact.caller_id,
            subject=str(attributes.get("subject", "")),
            text=text,
            ticket_id=str(attributes.get("ticket_id", "")),
            thread=tuple(str(attributes.get("thread", "")).split()),
            author=agent,
        )

    async def _send(
        self,
        *,
        to: str,
        subject: str,
        text: str,
        ticket_id: str,
        thread: tuple[str, ...],
        author: str,
    ) -> str:
        settings = self.settings
        message = EmailMessage()
        local, _, domain = settings.address.partition("@")
        message["From"] = formataddr((settings.display_name, settings.address))
        message["Reply-To"] = f"{local}+{ticket_id}@{domain}" if ticket_id else settings.address
        message["To"] = to
        message["Subject"] = _reply_subject(subject, ticket_id)
        message["Date"] = formatdate(localtime=False)
        message_id = make_msgid(domain=settings.domain)
        message["Message-ID"] = message_id
        if thread:
            message["In-Reply-To"] = thread[-1]
            message["References"] = " ".join(thread[-20:])
        if not author:
            message["Auto-Submitted"] = "auto-replied"  # RFC 3834: robots do not answer it
        message.set_content(text)
        tls = settings.smtp_tls
        try:
            await aiosmtplib.send(
                message,
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_user or None,
                password=settings.smtp_password or None,
                use_tls=tls == "tls",
                start_tls=tls == "starttls",
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise ChannelError(f"mail to {to} not sent: {exc}") from exc
        if ticket_id:
            await self.intake.sent(
                ticket_id=ticket_id,
                message_id=message_id,
                channel=Channel.EMAIL,
                party=to,
                text=text,
                author=author,
                subject=str(message["Subject"]),
                automatic=not author,
            )
        return message_id


def _reply_subject(subject: str, ticket_id: str) -> str:
    subject = subject or "Your request"
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    if ticket_id and subject_tag(subject) != ticket_id:
        subject = f"{subject} [#{ticket_id}]"
    return subject
