"""Cluster nodes: each node's heartbeat row (role, epoch, addresses, applied seq, health).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 00:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "cluster_nodes",
        sa.Column("domain", sa.String(100), nullable=False),
        sa.Column("node", sa.String(64), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=True),
        sa.Column("web", sa.String(200), nullable=False),
        sa.Column("media", sa.String(200), nullable=False),
        sa.Column("started_at", sa.Double(), nullable=False),
        sa.Column("last_seen", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.Column("left_at", sa.Double(), nullable=True),
        sa.Column("applied_seq", sa.BigInteger(), nullable=True),
        sa.Column("head_seq", sa.BigInteger(), nullable=False),
        sa.Column("store_ok", sa.Boolean(), nullable=False),
        sa.Column("unwritten", sa.Integer(), nullable=False),
        sa.Column("media_alive", sa.Integer(), nullable=True),
        sa.Column("media_total", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("domain", "node", name=op.f("pk_cluster_nodes")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("cluster_nodes")
