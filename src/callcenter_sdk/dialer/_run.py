"""What a campaign run produced: its attempts, the agents' intervals, its leads.

.. versionadded:: 0.1
"""

from __future__ import annotations

import attrs

from ..kpi import AgentInterval, ContactRecord, DropRate, DropRegime, drop_rate, occupancy
from ._model import Attempt, Campaign
from ._scheduler import LeadScheduler

__all__ = ["CampaignRun"]


@attrs.frozen(kw_only=True)
class CampaignRun:
    """What a simulated campaign produced.

    Attributes:
        campaign: The campaign run.
        start: When dialling started (seconds since the epoch).
        end: When dialling stopped.
        attempts: Every dial with its contact record, in dial order.
        intervals: Every agent's state intervals.
        scheduler: The lead scheduler after the run (lead statuses, histories).
        events: How many events were published.
    """

    campaign: Campaign
    start: float
    end: float
    attempts: list[Attempt]
    intervals: list[AgentInterval]
    scheduler: LeadScheduler
    events: int

    @property
    def records(self) -> list[ContactRecord]:
        """The contact records of every attempt."""
        return [a.record for a in self.attempts]

    def drop_rate(self, regime: DropRegime | str | None = None) -> DropRate:
        """The drop rate by the KPI module's definition (the campaign's regime by default)."""
        c = self.campaign
        kind = c.regime if regime is None else DropRegime(regime)
        return drop_rate(
            self.records,
            kind,
            now=self.end + 1.0,
            campaign=c.name,
            connect_limit_s=c.connect_limit_s,
            amd_false_positive_rate=c.amd_false_positive_rate if kind is DropRegime.OFCOM else None,
        )

    def occupancy(self) -> float | None:
        """Agent occupancy over the dialling period (handling over handling + available)."""
        return occupancy(self.intervals, start=self.start, end=self.end)
