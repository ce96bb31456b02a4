"""Media on every node: each node's media events, the commands addressed to it, its live calls.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "media_events",
        sa.Column("seq", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("domain", sa.String(100), nullable=False),
        sa.Column("node", sa.String(64), nullable=False),
        sa.Column("call_id", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_media_events")),
    )
    op.create_index("ix_media_events_domain_seq", "media_events", ["domain", "seq"])
    op.create_table(
        "media_commands",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("domain", sa.String(100), nullable=False),
        sa.Column("node", sa.String(64), nullable=False),
        sa.Column("op", sa.String(32), nullable=False),
        sa.Column("args", sa.Text(), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", sa.Double(), nullable=False),
        sa.Column("claimed_at", sa.Double(), nullable=True),
        sa.Column("done_at", sa.Double(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_commands")),
    )
    op.create_index(
        "ix_media_commands_node_claimed", "media_commands", ["domain", "node", "claimed_at"]
    )
    op.create_table(
        "media_calls",
        sa.Column("domain", sa.String(100), nullable=False),
        sa.Column("node", sa.String(64), nullable=False),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("bridged_with", sa.String(64), nullable=True),
        sa.Column("from_uri", sa.Text(), nullable=False),
        sa.Column("to_uri", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("domain", "node", "call_id", name=op.f("pk_media_calls")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("media_calls")
    op.drop_index("ix_media_commands_node_claimed", table_name="media_commands")
    op.drop_table("media_commands")
    op.drop_index("ix_media_events_domain_seq", table_name="media_events")
    op.drop_table("media_events")
