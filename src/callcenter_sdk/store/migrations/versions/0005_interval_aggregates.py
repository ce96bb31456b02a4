"""Interval aggregates: the report's figures per 15 minutes, kept as events are written.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-11 10:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_KEYS = (("queue", 100), ("campaign", 100), ("organisation", 100), ("channel", 20))
_COUNTS = (
    "offered",
    "answered",
    "abandoned",
    "answered_within",
    "abandoned_within",
    "short_abandons",
    "handled",
)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "interval_aggregates",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("start", sa.Double(), nullable=False),
        *(sa.Column(name, sa.String(length=size), nullable=False) for name, size in _KEYS),
        sa.Column("team", sa.String(length=100), nullable=False),
        sa.Column("agent", sa.String(length=100), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in _COUNTS),
        sa.Column("longest_wait", sa.Double(), nullable=True),
        sa.Column("sums", _json(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interval_aggregates")),
    )
    op.create_index("ix_interval_aggregates_level_start", "interval_aggregates", ["level", "start"])
    op.create_table(
        "interval_aggregate_state",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("epoch_seq", sa.BigInteger(), nullable=False),
        sa.Column("frozen_before", sa.Double(), nullable=True),
        sa.Column("threshold_s", sa.Double(), nullable=False),
        sa.Column("short_abandon_s", sa.Double(), nullable=False),
        sa.Column("carry", _json(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_interval_aggregate_state")),
    )


def downgrade() -> None:
    """Revert this revision: the aggregates go (a rebuild from the event log restores them)."""
    op.drop_table("interval_aggregate_state")
    op.drop_index("ix_interval_aggregates_level_start", table_name="interval_aggregates")
    op.drop_table("interval_aggregates")
