"""Initial schema: every table, and the knowledge base full-text index.

Revision ID: 0001
Revises: -
Create Date: 2026-11-25 10:16:30.049165
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_SQLITE_FTS = (
    """
    CREATE VIRTUAL TABLE kb_articles_fts USING fts5(
        question, solution, diagnostics, tags,
        content='kb_articles', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')
    """,
    """
    CREATE TRIGGER kb_articles_fts_insert AFTER INSERT ON kb_articles BEGIN
        INSERT INTO kb_articles_fts(rowid, question, solution, diagnostics, tags)
        VALUES (new.id, new.question, new.solution, new.diagnostics, new.tags);
    END
    """,
    """
    CREATE TRIGGER kb_articles_fts_delete AFTER DELETE ON kb_articles BEGIN
        INSERT INTO kb_articles_fts(kb_articles_fts, rowid, question, solution, diagnostics, tags)
        VALUES ('delete', old.id, old.question, old.solution, old.diagnostics, old.tags);
    END
    """,
    """
    CREATE TRIGGER kb_articles_fts_update
    AFTER UPDATE OF question, solution, diagnostics, tags ON kb_articles BEGIN
        INSERT INTO kb_articles_fts(kb_articles_fts, rowid, question, solution, diagnostics, tags)
        VALUES ('delete', old.id, old.question, old.solution, old.diagnostics, old.tags);
        INSERT INTO kb_articles_fts(rowid, question, solution, diagnostics, tags)
        VALUES (new.id, new.question, new.solution, new.diagnostics, new.tags);
    END
    """,
)

# Weights: the question matters most, then the tags, the diagnostics, the solution.
_POSTGRESQL_FTS = (
    """
    ALTER TABLE kb_articles ADD COLUMN search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', question), 'A')
        || setweight(to_tsvector('english', tags), 'B')
        || setweight(to_tsvector('english', diagnostics::text), 'C')
        || setweight(to_tsvector('english', solution), 'D')) STORED
    """,
    "CREATE INDEX ix_kb_articles_search ON kb_articles USING gin (search)",
)


def _full_text_index() -> None:
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_FTS if dialect == "sqlite" else _POSTGRESQL_FTS:
        op.execute(statement)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "agent_sessions",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("agent_id", sa.String(length=100), nullable=False),
        sa.Column("started_at", sa.Double(), nullable=False),
        sa.Column("ended_at", sa.Double(), nullable=True),
        sa.Column("data", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_sessions")),
    )
    op.create_index("ix_agent_sessions_agent_id", "agent_sessions", ["agent_id"])
    op.create_index(
        "uq_agent_sessions_open",
        "agent_sessions",
        ["agent_id"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )

    op.create_table(
        "customers",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("attributes", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("number", name=op.f("uq_customers_number")),
    )
    op.create_index("ix_customers_email", "customers", ["email"])

    op.create_table(
        "events",
        sa.Column("seq", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("payload", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_events")),
    )
    op.create_index("ix_events_at", "events", ["at"])
    op.create_index("ix_events_kind", "events", ["kind"])

    op.create_table(
        "kb_articles",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("solution", sa.Text(), nullable=False),
        sa.Column("diagnostics", _JSON, nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("solved", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_articles")),
    )
    op.create_table(
        "org_documents",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.Column("document", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_org_documents")),
    )
    op.create_table(
        "outbound_lists",
        sa.Column("list_id", sa.String(length=64), nullable=False),
        sa.Column("campaign", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("list_id", name=op.f("pk_outbound_lists")),
    )
    op.create_index("ix_outbound_lists_campaign", "outbound_lists", ["campaign"])

    op.create_table(
        "callbacks",
        sa.Column("callback_id", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("queue", sa.String(length=100), nullable=False),
        sa.Column("customer_id", _BIG_ID, nullable=True),
        sa.Column("requested_at", sa.Double(), nullable=False),
        sa.Column("due_at", sa.Double(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("data", _JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_callbacks_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("callback_id", name=op.f("pk_callbacks")),
    )
    op.create_index("ix_callbacks_due_at", "callbacks", ["due_at"])
    op.create_index("ix_callbacks_queue", "callbacks", ["queue"])

    op.create_table(
        "contact_records",
        sa.Column("contact_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("customer", sa.String(length=64), nullable=True),
        sa.Column("queue", sa.String(length=100), nullable=True),
        sa.Column("agent", sa.String(length=100), nullable=True),
        sa.Column("arrived_at", sa.Double(), nullable=False),
        sa.Column("answered_at", sa.Double(), nullable=True),
        sa.Column("ended_at", sa.Double(), nullable=True),
        sa.Column("data", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_contact_records")),
    )
    op.create_index("ix_contact_records_customer", "contact_records", ["customer"])
    op.create_index("ix_contact_records_arrived_at", "contact_records", ["arrived_at"])

    op.create_table(
        "customer_phones",
        sa.Column("customer_id", _BIG_ID, nullable=False),
        sa.Column("e164", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_phones_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", "e164", name=op.f("pk_customer_phones")),
    )
    op.create_index("ix_customer_phones_e164", "customer_phones", ["e164"])

    op.create_table(
        "outbound_entries",
        sa.Column("list_id", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("customer", sa.String(length=64), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("data", _JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["outbound_lists.list_id"],
            name=op.f("fk_outbound_entries_list_id_outbound_lists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("list_id", "phone", name=op.f("pk_outbound_entries")),
    )
    op.create_table(
        "outbound_attempts",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("list_id", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("outcome", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["outbound_lists.list_id"],
            name=op.f("fk_outbound_attempts_list_id_outbound_lists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_attempts")),
    )
    op.create_index("ix_outbound_attempts_list_phone", "outbound_attempts", ["list_id", "phone"])

    op.create_table(
        "tickets",
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("customer_id", _BIG_ID, nullable=True),
        sa.Column("opened_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.Column("first_response_at", sa.Double(), nullable=True),
        sa.Column("resolved_at", sa.Double(), nullable=True),
        sa.Column("closed_at", sa.Double(), nullable=True),
        sa.Column("paused_since", sa.Double(), nullable=True),
        sa.Column("paused_total", sa.Double(), nullable=False),
        sa.Column("first_response_target", sa.Double(), nullable=False),
        sa.Column("resolution_target", sa.Double(), nullable=False),
        sa.Column("warn_before", sa.Double(), nullable=False),
        sa.Column("sla_flags", _JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_tickets_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_tickets")),
    )
    op.create_index("ix_tickets_customer_id", "tickets", ["customer_id"])
    op.create_index("ix_tickets_status", "tickets", ["status"])

    op.create_table(
        "waiting_contacts",
        sa.Column("contact_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("queue", sa.String(length=100), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("customer_id", _BIG_ID, nullable=True),
        sa.Column("arrived_at", sa.Double(), nullable=False),
        sa.Column("data", _JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_waiting_contacts_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_waiting_contacts")),
    )
    op.create_index("ix_waiting_contacts_queue", "waiting_contacts", ["queue"])

    op.create_table(
        "ticket_contacts",
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("contact_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.ticket_id"],
            name=op.f("fk_ticket_contacts_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", "contact_id", name=op.f("pk_ticket_contacts")),
    )
    op.create_index("ix_ticket_contacts_contact_id", "ticket_contacts", ["contact_id"])

    op.create_table(
        "ticket_notes",
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.ticket_id"],
            name=op.f("fk_ticket_notes_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", "position", name=op.f("pk_ticket_notes")),
    )

    _full_text_index()


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE kb_articles_fts")
    op.drop_table("ticket_notes")
    op.drop_index("ix_ticket_contacts_contact_id", table_name="ticket_contacts")

    op.drop_table("ticket_contacts")
    op.drop_index("ix_waiting_contacts_queue", table_name="waiting_contacts")

    op.drop_table("waiting_contacts")
    op.drop_index("ix_tickets_status", table_name="tickets")
    op.drop_index("ix_tickets_customer_id", table_name="tickets")

    op.drop_table("tickets")
    op.drop_index("ix_outbound_attempts_list_phone", table_name="outbound_attempts")

    op.drop_table("outbound_attempts")
    op.drop_table("outbound_entries")
    op.drop_index("ix_customer_phones_e164", table_name="customer_phones")

    op.drop_table("customer_phones")
    op.drop_index("ix_contact_records_arrived_at", table_name="contact_records")
    op.drop_index("ix_contact_records_customer", table_name="contact_records")

    op.drop_table("contact_records")
    op.drop_index("ix_callbacks_queue", table_name="callbacks")
    op.drop_index("ix_callbacks_due_at", table_name="callbacks")

    op.drop_table("callbacks")
    op.drop_index("ix_outbound_lists_campaign", table_name="outbound_lists")

    op.drop_table("outbound_lists")
    op.drop_table("org_documents")
    op.drop_table("kb_articles")
    op.drop_index("ix_events_kind", table_name="events")
    op.drop_index("ix_events_at", table_name="events")

    op.drop_table("events")
    op.drop_index("ix_customers_email", table_name="customers")

    op.drop_table("customers")
    op.drop_index("uq_agent_sessions_open", table_name="agent_sessions")
    op.drop_index("ix_agent_sessions_agent_id", table_name="agent_sessions")

    op.drop_table("agent_sessions")
