"""Interval aggregates: summary cells, one per 15 minutes and queue, for the report by queue.

The report by interval and queue, the one wallboards and supervisors read
most, added up in SQL the queue cells of every campaign, client and channel
(a queue's contacts and its agents' time are at least two cells per quarter
hour). The aggregates now also keep ``"summary"`` cells, the queue cells of
one interval and queue already added up (exactly: their totals are the
partials of all their values), so that report reads one row per row it
prints. No column changes; the cells are a cache of the event log: they are
forgotten here and the next catch-up folds the log again, writing the
summary cells too.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 00:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.execute("DELETE FROM interval_aggregates")
    op.execute("DELETE FROM interval_aggregate_state")


def downgrade() -> None:
    """Revert this revision (the summary cells go; the others are what 0009 reads)."""
    op.execute("DELETE FROM interval_aggregates WHERE level = 'summary'")
