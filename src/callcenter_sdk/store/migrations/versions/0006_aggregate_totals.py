"""Interval aggregates: each exact total also as a plain column, so reports add them up in SQL.

A report decoded every cell's JSON partials to add its totals up: most of its
time. Each total of :data:`callcenter_sdk.store.SUMS` is now also kept as the
correctly rounded float of its partials (``NULL`` when the cell has no value
for it): when one cell alone gives a group's total, the database's ``SUM`` is
that float exactly, and only groups of several contributing cells need the
partials. The cells are a cache of the event log: they are forgotten here and
the next catch-up folds the log again with the new columns.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_SUMS = (
    "answered_wait",
    "offered_wait",
    "talk",
    "hold",
    "wrap",
    "handle",
    "handling",
    "available",
    "logged_in",
)


def upgrade() -> None:
    """Apply this revision."""
    op.execute("DELETE FROM interval_aggregates")
    op.execute("DELETE FROM interval_aggregate_state")
    for name in _SUMS:
        op.add_column("interval_aggregates", sa.Column(f"total_{name}", sa.Double(), nullable=True))


def downgrade() -> None:
    """Revert this revision (the cells stay: their JSON partials are all 0005 reads)."""
    with op.batch_alter_table("interval_aggregates") as batch:
        for name in reversed(_SUMS):
            batch.drop_column(f"total_{name}")
