"""Reading an e-mail: its ids, its thread, whether a robot sent it, its attachments.

Pure functions over :mod:`email` values (no I/O), so the threading and
loop rules are tested on their own and read the same in every intake.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import hashlib
import re
from email.message import EmailMessage

import attrs

from ..tickets import Attachment

__all__ = ["Mail", "is_automatic", "parse_mail", "plus_tag", "subject_tag"]

_TICKET_TAG = re.compile(r"\[#([0-9A-Za-z_-]{4,64})\]")
"""A ticket reference in a subject: ``Re: my line [#3f2a9c]``."""

_AUTOMATIC_PRECEDENCE = frozenset({"bulk", "list", "junk", "auto_reply"})


@attrs.frozen(kw_only=True)
class Mail:
    """What the center needs of a received e-mail.

    Attributes:
        message_id: Its ``Message-ID`` (one derived from its bytes when it has none).
        sender: The ``From`` address, lower-case.
        recipients: The ``To`` and ``Cc`` addresses, lower-case.
        subject: Its subject.
        text: Its plain-text body (the HTML part stripped of tags when it has no text part).
        in_reply_to: The ``In-Reply-To`` id, or ``""``.
        references: The ``References`` ids, oldest first.
        automatic: Sent by a robot (``Auto-Submitted``, bulk or list
            precedence, a mailing list): stored and queued, never answered
            automatically.
        attachments: Its attached files.
    """

    message_id: str
    sender: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    automatic: bool = False
    attachments: tuple[Attachment, ...] = ()

    @property
    def thread(self) -> tuple[str, ...]:
        """The ids this mail answers, the most direct first."""
        return tuple(dict.fromkeys(m for m in (self.in_reply_to, *reversed(self.references)) if m))


def is_automatic(message: EmailMessage) -> bool:
    """Whether a robot sent ``message`` (RFC 3834 ``Auto-Submitted``, bulk or list mail)."""
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return (
        auto != "no"
        or precedence in _AUTOMATIC_PRECEDENCE
        or "List-Id" in message
        or "X-Autoreply" in message
    )


def subject_tag(subject: str) -> str:
    """The ticket reference in ``subject`` (``[#<ticket>]``), or ``""``."""
    found = _TICKET_TAG.search(subject)
    return found.group(1) if found else ""


def plus_tag(address: str, mailbox: str) -> str:
    """The tag of a plus-address of ``mailbox`` (``support+3f2a@x`` → ``3f2a``), or ``""``."""
    local, _, domain = address.partition("@")
    base_local, _, base_domain = mailbox.lower().partition("@")
    name, plus, tag = local.partition("+")
    return tag if plus and name == base_local and domain == base_domain else ""


def _ids(value: object) -> tuple[str, ...]:
    # A folded References keeps a leading space: split, never strip-compare.
    return tuple(str(value or "").split())


def _addresses(message: EmailMessage, *headers: str) -> tuple[str, ...]:
    values = [str(v) for h in headers for v in message.get_all(h, [])]
    return tuple(addr.lower() for _, addr in email.utils.getaddresses(values) if addr)


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    content = str(body.get_content())
    if body.get_content_type() == "text/html":
        content = re.sub(r"<[^>]+>", "", content)
    return content.strip()


def _attachment(part: EmailMessage) -> Attachment:
    data = part.get_payload(decode=True)
    return Attachment(
        filename=part.get_filename() or "attachment",
        content_type=part.get_content_type(),
        data=data if isinstance(data, bytes) else b"",
    )


def parse_mail(raw: bytes) -> Mail:
    """Read the e-mail ``raw`` (its bytes as received)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)  # noqa: S101 - the default policy's class
    message_id = str(message.get("Message-ID", "")).strip()
    if not message_id:
        message_id = f"<{hashlib.sha256(raw).hexdigest()[:40]}@no-message-id>"
    attachments = tuple(_attachment(part) for part in message.iter_attachments())
    senders = _addresses(message, "From")
    return Mail(
        message_id=message_id,
        sender=senders[0] if senders else "",
        recipients=_addresses(message, "To", "Cc"),
        subject=str(message.get("Subject", "")).strip(),
        text=_text(message),
        in_reply_to=(_ids(message.get("In-Reply-To")) or ("",))[0],
        references=_ids(message.get("References")),
        automatic=is_automatic(message),
        attachments=attachments,
    )
