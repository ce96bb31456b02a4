"""The headline KPI report of contacts and agent intervals, live or simulated.

.. versionadded:: 0.1
.. versionchanged:: 0.2
   :attr:`KpiReport.short_abandoned` and :attr:`KpiReport.short_abandon_s`;
   the abandon rate's line says how many abandons it leaves out.

.. versionchanged:: 0.2
   Moved from :mod:`callcenter_sdk.sim` to :mod:`callcenter_sdk.kpi`: the
   runtime's report and the simulator's both use it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import attrs

from ._agents import occupancy
from ._contacts import abandon_rate, aht, asa, average_wait, offered, service_level
from ._records import AgentInterval, ContactRecord, Outcome

__all__ = ["KpiReport", "kpi_report"]


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


@attrs.frozen(kw_only=True)
class KpiReport:
    """The headline figures of a set of contacts and agent intervals.

    Undefined ratios (no contact offered, no call answered) are ``nan``, so
    reports can be averaged over replications with NaNs dropped.

    Attributes:
        offered: Contacts that entered a queue.
        answered: Contacts connected to an agent.
        abandoned: Contacts whose caller hung up before being connected.
        service_level: Answered within the threshold over offered
            (:attr:`callcenter_sdk.kpi.ServiceLevelVariant.OFFERED`).
        threshold_s: The service-level threshold in seconds.
        abandon_rate: Abandoned over offered, short abandons excluded.
        short_abandoned: The abandons left out of :attr:`abandon_rate`
            because the caller waited less than :attr:`short_abandon_s`.
        short_abandon_s: The short-abandon threshold in seconds (0: none
            is left out).
        asa: Average speed of answer of answered contacts, in seconds.
        average_wait: Average wait of every offered contact, in seconds.
        aht: Average handle time (talk + hold + wrap-up), in seconds.
        occupancy: Handling time over handling plus ready time.
    """

    offered: int
    answered: int
    abandoned: int
    service_level: float
    threshold_s: float
    abandon_rate: float
    asa: float
    average_wait: float
    aht: float
    occupancy: float
    short_abandoned: int = 0
    short_abandon_s: float = 0.0

    def as_dict(self) -> dict[str, float]:
        """Return the figures as a plain mapping (for JSON and confidence intervals)."""
        return {k: float(v) for k, v in attrs.asdict(self).items()}

    def lines(self) -> list[str]:
        """Render the report as aligned lines for a terminal."""

        def pct(v: float) -> str:
            return "n/a" if math.isnan(v) else f"{100 * v:.1f} %"

        def sec(v: float) -> str:
            return "n/a" if math.isnan(v) else f"{v:.1f} s"

        return [
            f"offered            {self.offered}",
            f"answered           {self.answered}",
            f"abandoned          {self.abandoned}",
            f"service level      {pct(self.service_level)} within {self.threshold_s:g} s",
            f"abandon rate       {pct(self.abandon_rate)} ({self._abandons()})",
            f"ASA                {sec(self.asa)}",
            f"average wait       {sec(self.average_wait)}",
            f"AHT                {sec(self.aht)}",
            f"occupancy          {pct(self.occupancy)}",
        ]

    def _abandons(self) -> str:
        """Say what the abandon rate counts, so 0 % beside 2 abandoned reads right."""
        if self.short_abandon_s <= 0:
            return f"{self.abandoned} abandoned, short abandons counted"
        short = "short abandon" if self.short_abandoned == 1 else "short abandons"
        return (
            f"{self.abandoned} abandoned, {self.short_abandoned} {short}"
            f" under {self.short_abandon_s:g} s left out"
        )


def kpi_report(
    records: Iterable[ContactRecord],
    intervals: Sequence[AgentInterval],
    *,
    threshold_s: float = 20.0,
    short_abandon_s: float = 5.0,
    start: float = -math.inf,
    end: float = math.inf,
    now: float | None = None,
) -> KpiReport:
    """Compute a :class:`KpiReport` from contact records and agent intervals.

    Args:
        records: The contacts to report on.
        intervals: The agents' state intervals (for occupancy).
        threshold_s: The service-level threshold.
        short_abandon_s: Abandons quicker than this are left out of the
            abandon rate.
        start: Start of the window occupancy is measured over.
        end: End of that window.
        now: Where intervals still open stop (the end of a run); ``None``
            ignores open intervals.
    """
    rows = offered(records)
    abandons = [r for r in rows if r.outcome is Outcome.ABANDONED]
    return KpiReport(
        offered=len(rows),
        answered=sum(1 for r in rows if r.answered_at is not None),
        abandoned=len(abandons),
        service_level=_nan(service_level(rows, threshold_s)),
        threshold_s=threshold_s,
        abandon_rate=_nan(abandon_rate(rows, short_abandon_s=short_abandon_s)),
        asa=_nan(asa(rows)),
        average_wait=_nan(average_wait(rows)),
        aht=_nan(aht(rows)),
        occupancy=_nan(occupancy(intervals, start=start, end=end, now=now)),
        short_abandoned=sum(1 for r in abandons if (r.wait_s or 0.0) < short_abandon_s),
        short_abandon_s=short_abandon_s,
    )
