"""Forwarded requests: a web node's request waiting for the leader's answer.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 00:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "forwarded_requests",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("domain", sa.String(100), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("scheme", sa.String(16), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("person", sa.String(64), nullable=True),
        sa.Column("node", sa.String(64), nullable=False),
        sa.Column("client", sa.String(100), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_epoch", sa.BigInteger(), nullable=True),
        sa.Column("claimed_at", sa.Double(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("response_headers", sa.Text(), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("answered_at", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forwarded_requests")),
    )
    op.create_index(
        "ix_forwarded_requests_domain_claimed",
        "forwarded_requests",
        ["domain", "claimed_at", "created_at"],
    )
    op.create_index("ix_forwarded_requests_created_at", "forwarded_requests", ["created_at"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_forwarded_requests_created_at", table_name="forwarded_requests")
    op.drop_index("ix_forwarded_requests_domain_claimed", table_name="forwarded_requests")
    op.drop_table("forwarded_requests")
