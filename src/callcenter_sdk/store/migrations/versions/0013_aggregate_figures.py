"""Interval aggregates: a summary cell keeps its report row's figures, packed, in its own index.

The report by 15 minutes and queue reads the summary cells one for one
(migration 0010), sixteen columns each, and works the ratios out again every
time: the database driver's call per value and the rows' arithmetic were
most of the report. A summary cell now also stores its row's figures
(``figures``: a binary value packed by ``callcenter_sdk.reports``; ``NULL``
on the other levels), and an index of the summary cells alone, by start and
queue, holds them, so the report reads three values per row from that index
and never visits the table (the level is in the index too: without it,
SQLite visits each row's table page to check it, pages scattered once
catch-ups have rewritten the cells many times). The cells are a cache of
the event log: they are forgotten here and the next catch-up folds the log
again, figures included.

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-06 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
# 0012 was set aside for another change and did not exist when this one was written:
# a 0012 written later revises 0011 and this one is then moved to revise it (one head)
down_revision = "0011"
branch_labels = None
depends_on = None

_WHERE = "level = 'summary'"


def upgrade() -> None:
    """Apply this revision."""
    op.execute("DELETE FROM interval_aggregates")
    op.execute("DELETE FROM interval_aggregate_state")
    op.add_column("interval_aggregates", sa.Column("figures", sa.LargeBinary(), nullable=True))
    op.create_index(
        "ix_interval_aggregates_summaries",
        "interval_aggregates",
        ["level", "start", "queue", "figures"],
        sqlite_where=sa.text(_WHERE),
        postgresql_where=sa.text(_WHERE),
    )


def downgrade() -> None:
    """Revert this revision (the cells stay: their columns are all 0011 reads)."""
    op.drop_index("ix_interval_aggregates_summaries", table_name="interval_aggregates")
    with op.batch_alter_table("interval_aggregates") as batch:
        batch.drop_column("figures")
