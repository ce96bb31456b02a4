"""Claims and tombstones for waiting contacts and callbacks; ticket versions.

Waiting contacts and callbacks get a ``state`` (``waiting``, ``claimed``,
``served``), the claim's holder and its lease expiry: a hand-over claims a
row instead of deleting it, and a served row stays as a tombstone so a
retried insert cannot bring it back. Tickets get a ``version`` for optimistic
concurrency; existing tickets start at 1.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_CLAIMED = ("waiting_contacts", "callbacks")


def upgrade() -> None:
    """Apply this revision."""
    for table in _CLAIMED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column(
                    "state",
                    sa.String(length=10),
                    server_default=sa.text("'waiting'"),
                    nullable=False,
                )
            )
            batch.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
            batch.add_column(sa.Column("claim_expires", sa.Double(), nullable=True))
        op.create_index(f"ix_{table}_state", table, ["state"])
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(
            sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )


def downgrade() -> None:
    """Revert this revision; served tombstones are deleted, claims are forgotten."""
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("version")
    for table in _CLAIMED:
        op.execute(sa.text(f"DELETE FROM {table} WHERE state = 'served'"))  # noqa: S608 - constant
        op.drop_index(f"ix_{table}_state", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("claim_expires")
            batch.drop_column("claimed_by")
            batch.drop_column("state")
