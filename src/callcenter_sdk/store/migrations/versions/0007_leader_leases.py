"""Leader leases: one row per routing domain, its holder, fencing epoch and expiry.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 22:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "leader_leases",
        sa.Column("domain", sa.String(100), nullable=False),
        sa.Column("holder", sa.String(64), nullable=True),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.Column("renewed_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("domain", name=op.f("pk_leader_leases")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("leader_leases")
