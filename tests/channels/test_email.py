"""The e-mail channel against a real Dovecot, a real SMTP relay and the center's own listener."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol, cast

import aiosmtplib
import anyio
import anyio.to_thread
import pytest
from imapclient import IMAPClient

from callcenter_sdk import ManualClock
from callcenter_sdk.acd import Agent, Capacity, Contact, Membership, Queue
from callcenter_sdk.channels import (
    Center,
    EmailChannel,
    EmailSettings,
    ImapIntake,
    ImapSettings,
    SmtpIntake,
    open_smtp_intake,
)
from callcenter_sdk.ivr import FlowBuilder, ToQueue
from callcenter_sdk.kpi import Channel
from callcenter_sdk.media import VirtualBackend
from callcenter_sdk.runtime import CallCenter, CallCenterConfig, Seat, open_call_center, run_virtual
from callcenter_sdk.store import Store, temporary_store
from callcenter_sdk.tickets import MessageDirection, TicketMessages

from .conftest import DOMAIN, PASSWORD, Dovecot, Relay, open_relay

if not hasattr(CallCenter, "receive"):
    pytest.skip(
        "the runtime's desk-work seam (CallCenter.receive, add_channel, reply) is not in"
        " this checkout yet",
        allow_module_level=True,
    )

SUPPORT = f"support@{DOMAIN}"
CUSTOMER = f"customer@{DOMAIN}"
pytestmark = pytest.mark.slow


class DeskCenter(Center, Protocol):
    """The center's desk-work operations these tests use (typed apart from the runtime
    version the checkout holds)."""

    def add_channel(self, adapter: EmailChannel) -> None: ...
    async def receive(self, contact: Contact, queue: str) -> None: ...
    async def reply(self, contact_id: str, text: str, *, actor: str) -> str: ...
    async def accept(self, agent_id: str, *, actor: str) -> str: ...
    async def set_ready(self, agent_id: str, *, actor: str) -> None: ...
    async def dispose(self, contact_id: str, disposition: str, *, actor: str) -> None: ...


def _config() -> CallCenterConfig:
    alice = Agent(
        id="alice",
        skills={"mail": 3},
        memberships=[Membership("mail")],
        capacity=Capacity(limits={Channel.VOICE: 1, Channel.EMAIL: 2}),
    )
    return CallCenterConfig(
        flow=FlowBuilder("mail", start="q").node("q", ToQueue(queue="mail")).build(),
        queues=[Queue(name="mail", channels=[Channel.EMAIL], offer_timeout=600.0, wrap_up=1.0)],
        seats=[Seat(agent=alice, device="sip:alice@phones")],
        announce=False,
    )


async def until(predicate: Callable[[], bool]) -> None:
    """Wait until ``predicate()`` holds (a condition, checked often), failing after 30 s."""
    with anyio.fail_after(30):
        while not predicate():  # noqa: ASYNC110 - mailboxes and tickets offer no event
            await anyio.sleep(0.05)


def _mail(subject: str, text: str, *, to: str = SUPPORT, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Carla Customer <{CUSTOMER}>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="customer.test")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message


def _inbox(dovecot: Dovecot, user: str) -> list[EmailMessage]:
    """Every mail in ``user``'s INBOX, oldest first (read by IMAP as a mail client does)."""
    import email
    import email.policy

    with IMAPClient("127.0.0.1", port=dovecot.port, ssl=False) as client:
        client.login(user, PASSWORD)
        client.select_folder("INBOX", readonly=True)
        ids = client.search(["ALL"])
        fetched = client.fetch(ids, ["BODY.PEEK[]"]) if ids else {}
        found = []
        for uid in sorted(fetched):
            parsed = email.message_from_bytes(fetched[uid][b"BODY[]"], policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            found.append(parsed)
        return found


@asynccontextmanager
async def _center(
    store: Store, relay: Relay, dovecot: Dovecot | None = None
) -> AsyncIterator[tuple[DeskCenter, VirtualBackend, EmailChannel, SmtpIntake, ImapIntake]]:
    clock = ManualClock(1_000.0)
    backend = VirtualBackend(clock)
    settings = EmailSettings(address=SUPPORT, queue="mail", smtp_port=relay.port)
    async with (
        open_call_center(backend, _config(), store=store, clock=clock, run_timers=False) as live,
        anyio.create_task_group() as tg,
    ):
        center = cast("DeskCenter", live)
        channel = EmailChannel(center, TicketMessages(store), settings)
        center.add_channel(channel)
        imap = ImapIntake(
            channel,
            ImapSettings(
                host="127.0.0.1",
                port=dovecot.port if dovecot else 1,
                user="support",
                password=PASSWORD,
                tls=False,
                check_every=5.0,
                max_backoff=1.0,
            ),
        )
        if dovecot is not None:
            tg.start_soon(imap.run)
        async with open_smtp_intake(channel, port=0) as smtp:
            yield center, backend, channel, smtp, imap
        tg.cancel_scope.cancel()


async def test_a_mail_is_answered_in_its_thread_and_the_answer_joins_the_ticket(
    dovecot: Dovecot,
) -> None:
    """A customer's mail reaches the support mailbox in Dovecot; the IMAP intake queues it
    with a new ticket and the customer gets an automatic acknowledgement naming it;
    Alice takes it at her desktop and answers; the answer lands in the customer's
    mailbox with In-Reply-To and References on her mail and the ticket in the
    subject; the customer's answer to it, sent to the center's SMTP listener with a
    PDF, joins the same ticket (attachment stored), and so do a mail naming the
    ticket only in its subject and one sent to support+<ticket>@."""
    with temporary_store() as store:
        async with (
            open_relay(dovecot) as relay,
            _center(store, relay, dovecot) as (center, backend, channel, smtp, imap),
        ):
            messages = channel.intake.messages
            first = _mail("My line is down", "No dial tone since this morning.")
            await aiosmtplib.send(first, hostname="127.0.0.1", port=relay.port)
            await until(lambda: _handed_over(messages, first["Message-ID"]))
            assert imap.fetched == 1
            (ticket,) = center.tickets.active()
            assert ticket.subject == "My line is down"
            await until(lambda: len(_inbox(dovecot, "customer")) == 1)
            (ack,) = _inbox(dovecot, "customer")
            assert ack["Auto-Submitted"] == "auto-replied"
            assert f"[#{ticket.ticket_id}]" in str(ack["Subject"])
            assert ack["In-Reply-To"] == first["Message-ID"]

            await center.set_ready("alice", actor="alice")
            await run_virtual(cast("CallCenter", center), backend, 1.0)
            contact_id = await center.accept("alice", actor="alice")
            sent = await center.reply(contact_id, "We reset your line.", actor="alice")
            await until(lambda: len(_inbox(dovecot, "customer")) == 2)
            answer = _inbox(dovecot, "customer")[1]
            assert answer["Message-ID"] == sent
            assert answer["In-Reply-To"] == first["Message-ID"]
            assert str(answer["References"]).split() == [first["Message-ID"]]
            assert str(answer["Subject"]) == f"Re: My line is down [#{ticket.ticket_id}]"
            assert answer["Auto-Submitted"] is None
            await center.dispose(contact_id, "solved", actor="alice")

            again = _mail(
                str(answer["Subject"]),
                "It works, thanks. The bill is attached.",
                In_Reply_To=sent,
                References=f"{first['Message-ID']} {sent}",
            )
            again.add_attachment(b"%PDF-1.4 bill", maintype="application", subtype="pdf",
                                 filename="bill.pdf")  # fmt: skip
            await aiosmtplib.send(again, hostname="127.0.0.1", port=smtp.port)
            by_subject = _mail(f"Another thing [#{ticket.ticket_id}]", "And my modem?")
            await aiosmtplib.send(by_subject, hostname="127.0.0.1", port=smtp.port)
            plus = _mail("no reference", "Also this.", to=f"support+{ticket.ticket_id}@{DOMAIN}")
            await aiosmtplib.send(plus, hostname="127.0.0.1", port=smtp.port)
            assert smtp.accepted == 3

            conversation = messages.of_ticket(ticket.ticket_id)
            inbound = [m for m in conversation if m.direction is MessageDirection.INBOUND]
            assert [m.message_id for m in inbound] == [
                first["Message-ID"],
                again["Message-ID"],
                by_subject["Message-ID"],
                plus["Message-ID"],
            ]
            assert all(m.handed_over for m in inbound)
            (pdf,) = inbound[1].attachments
            assert (pdf.filename, pdf.content_type, pdf.data) == (
                "bill.pdf",
                "application/pdf",
                b"%PDF-1.4 bill",
            )
            assert [m.author for m in conversation if m.direction is MessageDirection.OUTBOUND] == [
                "",
                "alice",
            ]
            assert len(center.tickets.active()) == 1  # reopened, not a second ticket
            assert center.tickets.get(ticket.ticket_id).first_response_at is not None
            assert len(_inbox(dovecot, "customer")) == 2  # no acknowledgement for replies


async def test_an_auto_reply_storm_is_cut(dovecot: Dovecot) -> None:
    """Ten new conversations from one address get three acknowledgements (the hourly
    limit), not ten; mails marked Auto-Submitted, Precedence: bulk or sent by a list
    are queued with their tickets but never acknowledged."""
    with temporary_store() as store:
        async with (
            open_relay(dovecot) as relay,
            _center(store, relay) as (
                center,
                _backend,
                channel,
                smtp,
                _imap,
            ),
        ):
            robots = [
                _mail("Out of office", "I am away.", Auto_Submitted="auto-replied"),
                _mail("Newsletter", "News.", Precedence="bulk"),
                _mail("List digest", "Digest.", List_Id="<news.lists.example>"),
            ]
            for message in robots:
                await aiosmtplib.send(message, hostname="127.0.0.1", port=smtp.port)
            for n in range(10):
                message = _mail(f"Question {n}", "Hello?")
                await aiosmtplib.send(message, hostname="127.0.0.1", port=smtp.port)
            assert smtp.accepted == 13
            assert len(center.tickets.active()) == 13
            await until(lambda: len(_inbox(dovecot, "customer")) >= 3)
            assert channel.intake.messages.automatic_since(CUSTOMER, 0.0) == 3
            acknowledged = {str(m["Subject"]).split(" [#")[0] for m in _inbox(dovecot, "customer")}
            assert acknowledged == {"Re: Question 0", "Re: Question 1", "Re: Question 2"}


async def test_a_crash_between_fetch_and_flag_loses_nothing_and_stores_once(
    dovecot: Dovecot,
) -> None:
    """A center fetched a mail and stored it but died before flagging it seen (the
    mail is still unseen in Dovecot); the next center on the same store fetches it
    again, recognises it, flags it, and holds exactly one ticket, one stored message
    and one waiting contact for it — which Alice then takes."""
    raw_mail = _mail("Lost?", "Please do not lose me.")
    with temporary_store() as store:
        async with open_relay(dovecot) as relay:
            dovecot.save("support", raw_mail.as_bytes())
            async with _center(store, relay) as (_c, _b, channel, _smtp, _imap):
                taken = await channel.deliver(raw_mail.as_bytes())  # fetched, stored... crash
            async with _center(store, relay, dovecot) as (center, backend, channel, _s, imap):
                await until(lambda: imap.fetched == 1)
                await until(lambda: _unseen(dovecot) == 0)
                (ticket,) = center.tickets.active()
                assert ticket.ticket_id == taken.ticket_id
                assert len(channel.intake.messages.of_ticket(ticket.ticket_id)) == 2  # + ack
                await center.set_ready("alice", actor="alice")
                await run_virtual(cast("CallCenter", center), backend, 1.0)
                assert await center.accept("alice", actor="alice") == taken.contact_id
                with pytest.raises(Exception, match="no desk work"):
                    await center.accept("alice", actor="alice")


def _handed_over(messages: TicketMessages, message_id: str) -> bool:
    stored = messages.get(message_id)
    return stored is not None and stored.handed_over


def _unseen(dovecot: Dovecot) -> int:
    with IMAPClient("127.0.0.1", port=dovecot.port, ssl=False) as client:
        client.login("support", PASSWORD)
        client.select_folder("INBOX", readonly=True)
        return len(client.search(["UNSEEN"]))
