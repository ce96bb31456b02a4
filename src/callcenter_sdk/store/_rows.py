"""The database tables, as SQLAlchemy 2 typed ORM rows.

Rows are deliberately separate from the frozen attrs values of the domain
(:class:`~callcenter_sdk.tickets.Ticket`, :class:`~callcenter_sdk.cti.Customer`):
the domain never sees a session, lazy loading or a dirty flag, and the schema
can change (through an Alembic migration) without touching the pure core.
Repositories in this package and in ``tickets``/``kb``/``cti`` convert between
the two.

Times are float seconds from the injected clock, exactly as in events, so
records and the event log compare without conversion.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "AccountRow",
    "AgentSessionRow",
    "AggregateStateRow",
    "ApiTokenRow",
    "ArticleRow",
    "Base",
    "CallbackRow",
    "ContactRecordRow",
    "CustomerPhoneRow",
    "CustomerRow",
    "EventRow",
    "IntervalAggregateRow",
    "OrgDocumentRow",
    "OutboundAttemptRow",
    "OutboundEntryRow",
    "OutboundListRow",
    "TicketAttachmentRow",
    "TicketContactRow",
    "TicketMessageRow",
    "TicketNoteRow",
    "TicketRow",
    "WaitingContactRow",
]

# Stable constraint names make Alembic migrations identical on every database.
_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Json = JSON().with_variant(JSONB(), "postgresql")
"""JSON everywhere, JSONB (indexable, compact) on PostgreSQL."""

BigId = BigInteger().with_variant(Integer(), "sqlite")
"""A 64-bit key; on SQLite only ``INTEGER PRIMARY KEY`` is the autoincrementing rowid."""


class Base(DeclarativeBase):
    """Base of every row; its metadata is what the migrations create."""

    metadata = MetaData(naming_convention=_NAMING)
    type_annotation_map = {dict[str, Any]: Json, list[Any]: Json, float: Double()}  # noqa: RUF012


class EventRow(Base):
    """One event of the append-only log; ``seq`` orders the whole history."""

    __tablename__ = "events"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(100), index=True)
    at: Mapped[float] = mapped_column(index=True)
    payload: Mapped[dict[str, Any]]


class CustomerRow(Base):
    """A customer of the directory the CTI screen pop reads."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    attributes: Mapped[dict[str, Any]]


class CustomerPhoneRow(Base):
    """A phone number (E.164) of a customer; a household may share one."""

    __tablename__ = "customer_phones"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    e164: Mapped[str] = mapped_column(String(20), primary_key=True, index=True)


class ContactRecordRow(Base):
    """A contact's summary (a :class:`~callcenter_sdk.kpi.ContactRecord`).

    The columns hold what is searched on (customer, queue, agent, times);
    ``data`` holds the whole record so it is rebuilt field for field.
    """

    __tablename__ = "contact_records"

    contact_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(10))
    outcome: Mapped[str] = mapped_column(String(20))
    customer: Mapped[str | None] = mapped_column(String(64), index=True)
    queue: Mapped[str | None] = mapped_column(String(100))
    agent: Mapped[str | None] = mapped_column(String(100))
    arrived_at: Mapped[float] = mapped_column(index=True)
    answered_at: Mapped[float | None]
    ended_at: Mapped[float | None]
    data: Mapped[dict[str, Any]]


class WaitingContactRow(Base):
    """A non-voice contact (email, chat, SMS...) waiting in a queue.

    It must survive a crash: it is committed before the customer is told it
    was received. Handing it over claims it (``state`` ``"claimed"``, a
    holder and a lease); serving it keeps the row as a tombstone (``state``
    ``"served"``, data emptied) so a retried insert of the same id is a no-op.
    """

    __tablename__ = "waiting_contacts"

    contact_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    queue: Mapped[str] = mapped_column(String(100), index=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    arrived_at: Mapped[float]
    data: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(10), server_default=text("'waiting'"), index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claim_expires: Mapped[float | None]


class CallbackRow(Base):
    """A callback request: call this number back, not before ``due_at``.

    Claimed while it is dialled and kept as a ``"served"`` tombstone once
    made, exactly like :class:`WaitingContactRow`.
    """

    __tablename__ = "callbacks"

    callback_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    queue: Mapped[str] = mapped_column(String(100), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    requested_at: Mapped[float]
    due_at: Mapped[float] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    data: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(10), server_default=text("'waiting'"), index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claim_expires: Mapped[float | None]


class TicketRow(Base):
    """A ticket and its SLA bookkeeping (see :mod:`callcenter_sdk.tickets`).

    ``version`` is 1 on creation and grows by one per save: a save names the
    version it started from (optimistic concurrency).
    """

    __tablename__ = "tickets"

    ticket_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(30), index=True)
    priority: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(100))
    origin: Mapped[str] = mapped_column(String(20))
    level: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    opened_at: Mapped[float]
    updated_at: Mapped[float]
    first_response_at: Mapped[float | None]
    resolved_at: Mapped[float | None]
    closed_at: Mapped[float | None]
    paused_since: Mapped[float | None]
    paused_total: Mapped[float]
    first_response_target: Mapped[float]
    resolution_target: Mapped[float]
    warn_before: Mapped[float]
    sla_flags: Mapped[list[Any]]
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))


class TicketNoteRow(Base):
    """A note written on a ticket, in order."""

    __tablename__ = "ticket_notes"

    ticket_id: Mapped[str] = mapped_column(
        ForeignKey("tickets.ticket_id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[float]
    author: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean)


class TicketContactRow(Base):
    """A contact (call, email...) linked to a ticket."""

    __tablename__ = "ticket_contacts"

    ticket_id: Mapped[str] = mapped_column(
        ForeignKey("tickets.ticket_id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer)


class ArticleRow(Base):
    """A knowledge-base article; its full-text index is dialect specific.

    SQLite keeps a ``kb_articles_fts`` FTS5 table in step through triggers,
    PostgreSQL a generated ``search`` tsvector column with a GIN index; both
    are created by the migration, not declared here.
    """

    __tablename__ = "kb_articles"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    question: Mapped[str] = mapped_column(Text)
    solution: Mapped[str] = mapped_column(Text)
    diagnostics: Mapped[list[Any]]
    tags: Mapped[str] = mapped_column(Text)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    solved: Mapped[int] = mapped_column(Integer, default=0)


class OutboundListRow(Base):
    """A list of numbers to call for an outbound campaign (for the dialer)."""

    __tablename__ = "outbound_lists"

    list_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    campaign: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[float]


class OutboundEntryRow(Base):
    """A number to call in an outbound list."""

    __tablename__ = "outbound_entries"

    list_id: Mapped[str] = mapped_column(
        ForeignKey("outbound_lists.list_id", ondelete="CASCADE"), primary_key=True
    )
    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    customer: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]]


class OutboundAttemptRow(Base):
    """One dial attempt of one number of an outbound list."""

    __tablename__ = "outbound_attempts"
    __table_args__ = (Index("ix_outbound_attempts_list_phone", "list_id", "phone"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    list_id: Mapped[str] = mapped_column(ForeignKey("outbound_lists.list_id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(20))
    at: Mapped[float]
    outcome: Mapped[str] = mapped_column(String(50))


class AgentSessionRow(Base):
    """An agent's login session: from log-in to log-out (open while ``ended_at`` is null)."""

    __tablename__ = "agent_sessions"
    # at most one open session per agent, even with several runtimes racing
    __table_args__ = (
        Index(
            "uq_agent_sessions_open",
            "agent_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(String(100), index=True)
    started_at: Mapped[float]
    ended_at: Mapped[float | None]
    data: Mapped[dict[str, Any]]


class OrgDocumentRow(Base):
    """A versioned configuration document (the org tree, a campaign's settings)."""

    __tablename__ = "org_documents"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[float]
    document: Mapped[dict[str, Any]]


class AccountRow(Base):
    """A person's password: the org says who they are, this row how they prove it.

    Only a memory-hard hash is kept (``scrypt$n$r$p$salt$hash``, parameters
    inside so they can grow without a migration), never the password.
    """

    __tablename__ = "accounts"

    person_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[float]


class ApiTokenRow(Base):
    """A bearer token of an API client, kept as its SHA-256 (the token is random and long)."""

    __tablename__ = "api_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[float]
    label: Mapped[str] = mapped_column(String(100))


class TicketMessageRow(Base):
    """A message of a ticket's conversation (an e-mail, a chat line, an SMS), in or out.

    ``message_id`` is unique across channels (an e-mail's Message-ID, a
    provider's id under its name): storing a message twice writes nothing,
    which is how a message fetched again after a crash is recognised.
    """

    __tablename__ = "ticket_messages"

    message_id: Mapped[str] = mapped_column(String(320), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(
        ForeignKey("tickets.ticket_id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(10))
    at: Mapped[float]
    party: Mapped[str] = mapped_column(String(320), index=True)
    author: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    contact_id: Mapped[str] = mapped_column(String(64))
    automatic: Mapped[bool] = mapped_column(Boolean)
    handed_over: Mapped[bool] = mapped_column(Boolean)


class TicketAttachmentRow(Base):
    """A file that came with a ticket's message (an e-mail attachment), in order."""

    __tablename__ = "ticket_attachments"

    message_id: Mapped[str] = mapped_column(
        ForeignKey("ticket_messages.message_id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class IntervalAggregateRow(Base):
    """The figures of one 15-minute interval for one combination of report keys.

    ``level`` is ``"queue"`` (keys down to the channel) or ``"agent"`` (also
    the team and the agent), so a report by interval and queue reads one row
    per interval and queue however many agents worked it. Keys are ``""``
    when unknown (never ``NULL``: a group by works the same on both databases).
    ``sums`` holds each total as the exact partials of its values (see
    :mod:`callcenter_sdk.store._aggregates`), and ``total_*`` the same totals
    correctly rounded, for the database to add up (migration 0006). A
    ``"summary"`` cell also holds its report row's ``figures``, packed by
    the reports package, which a report reads through the summaries' own
    index without visiting the table (migration 0013).
    """

    __tablename__ = "interval_aggregates"
    __table_args__ = (
        Index("ix_interval_aggregates_level_start", "level", "start"),
        Index(
            "ix_interval_aggregates_summaries",
            "level",
            "start",
            "queue",
            "figures",
            sqlite_where=text("level = 'summary'"),
            postgresql_where=text("level = 'summary'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    level: Mapped[str] = mapped_column(String(10))
    start: Mapped[float]
    queue: Mapped[str] = mapped_column(String(100))
    campaign: Mapped[str] = mapped_column(String(100))
    organisation: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(20))
    team: Mapped[str] = mapped_column(String(100))
    agent: Mapped[str] = mapped_column(String(100))
    offered: Mapped[int] = mapped_column(Integer)
    answered: Mapped[int] = mapped_column(Integer)
    abandoned: Mapped[int] = mapped_column(Integer)
    answered_within: Mapped[int] = mapped_column(Integer)
    abandoned_within: Mapped[int] = mapped_column(Integer)
    short_abandons: Mapped[int] = mapped_column(Integer)
    handled: Mapped[int] = mapped_column(Integer)
    longest_wait: Mapped[float | None]
    sums: Mapped[dict[str, Any]]
    # each of sums' totals, correctly rounded (NULL: no value), for SQL to add up
    total_answered_wait: Mapped[float | None]
    total_offered_wait: Mapped[float | None]
    total_talk: Mapped[float | None]
    total_hold: Mapped[float | None]
    total_wrap: Mapped[float | None]
    total_handle: Mapped[float | None]
    total_handling: Mapped[float | None]
    total_available: Mapped[float | None]
    total_logged_in: Mapped[float | None]
    figures: Mapped[bytes | None] = mapped_column(LargeBinary)


class AggregateStateRow(Base):
    """How far the interval aggregates have folded the event log, and how.

    ``seq`` is the last event folded; events after ``epoch_seq`` are folded
    again at each catch-up (prefixed by ``carry``, the agents' states at
    ``frozen_before``); rows starting before ``frozen_before`` are final.
    """

    __tablename__ = "interval_aggregate_state"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    epoch_seq: Mapped[int] = mapped_column(BigInteger)
    frozen_before: Mapped[float | None]
    threshold_s: Mapped[float]
    short_abandon_s: Mapped[float]
    carry: Mapped[list[Any]]
