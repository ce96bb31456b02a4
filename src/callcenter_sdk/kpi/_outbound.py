"""Outbound KPIs: contact, right-party and conversion rates, and the dialer's drop rate.

Attempts are outbound records that have finished (any outcome but
``WAITING``). A **live answer** is a person picking up (``live_answer``, or an
``ANSWERED``/``DROPPED`` outcome when the flag is unknown).

Dropped (abandoned) calls of predictive dialing, under two regimes:

* **US FCC** (47 CFR 64.1200(a)(7)): at most 3 % of calls answered by a live
  person, per campaign, measured over 30 days. A call is abandoned when the
  person is not connected to a live agent within 2 s of the end of their
  greeting. Rate = dropped / live-answered.
* **UK Ofcom** (persistent misuse policy): at most 3 % of live calls, per
  campaign, per 24 hours, with the same 2-second rule, and the count must
  include a reasoned estimate of answering-machine-detection (AMD) false
  positives: live people whom AMD took for a machine and hung up on. With
  ``F = amd_false_positive_rate * machine-classified calls``,
  rate = ``(dropped + F) / (live answered + F)``.

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
import math
from collections import defaultdict
from collections.abc import Iterable

import attrs

from .._errors import ValidationError
from ._records import ContactRecord, Direction, Outcome, member

__all__ = [
    "DropRate",
    "DropRegime",
    "OutboundBase",
    "contact_rate",
    "conversion_rate",
    "drop_rate",
    "drop_rates",
    "right_party_rate",
]

DAY_S = 86_400.0


class OutboundBase(enum.StrEnum):
    """The denominator of an outbound rate; always given explicitly, never implied.

    ``ATTEMPTS`` (every finished dial), ``LIVE`` (live answers), ``RIGHT_PARTY``
    (the intended person reached), ``HANDLED`` (connected to an agent).
    """

    ATTEMPTS = "attempts"
    LIVE = "live"
    RIGHT_PARTY = "right_party"
    HANDLED = "handled"


class DropRegime(enum.StrEnum):
    """Which regulator's definition of the dropped-call rate to apply."""

    FCC = "fcc"
    OFCOM = "ofcom"


def _attempts(records: Iterable[ContactRecord]) -> list[ContactRecord]:
    return [
        r for r in records if r.direction is Direction.OUTBOUND and r.outcome is not Outcome.WAITING
    ]


def _base(rows: list[ContactRecord], base: OutboundBase) -> list[ContactRecord]:
    if base is OutboundBase.ATTEMPTS:
        return rows
    if base is OutboundBase.LIVE:
        return [r for r in rows if r.is_live_answer]
    if base is OutboundBase.RIGHT_PARTY:
        return [r for r in rows if r.right_party]
    return [r for r in rows if r.outcome is Outcome.ANSWERED]


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def contact_rate(records: Iterable[ContactRecord]) -> float | None:
    """Live answers over attempts: how often dialling reaches a person."""
    rows = _attempts(records)
    return _ratio(sum(1 for r in rows if r.is_live_answer), len(rows))


def right_party_rate(records: Iterable[ContactRecord], *, per: OutboundBase | str) -> float | None:
    """Right-party contacts over the chosen base (``ATTEMPTS`` or ``LIVE`` usually)."""
    rows = _base(_attempts(records), member(OutboundBase, "per", per, ValidationError))
    return _ratio(sum(1 for r in rows if r.right_party), len(rows))


def conversion_rate(records: Iterable[ContactRecord], *, per: OutboundBase | str) -> float | None:
    """Converted contacts over an explicit base.

    Conversion rates are quoted against very different bases (per dial, per
    live contact, per decision-maker reached, per handled call), so ``per`` is
    required. Example: 100 attempts, 40 live, 25 right party, 5 sales give
    0.05 per attempt, 0.125 per live answer and 0.2 per right-party contact.
    """
    rows = _base(_attempts(records), member(OutboundBase, "per", per, ValidationError))
    return _ratio(sum(1 for r in rows if r.converted), len(rows))


@attrs.frozen(kw_only=True)
class DropRate:
    """The dropped-call rate of one campaign over one regulatory window.

    Attributes:
        regime: FCC or Ofcom.
        campaign: The campaign measured (``None`` for records without one).
        window_start: Start of the window (inclusive), seconds.
        window_end: End of the window (exclusive), seconds.
        dropped: Live-answered calls not connected to an agent within the limit,
            plus the AMD false-positive estimate under Ofcom.
        live: Live-answered calls, plus the AMD false-positive estimate under Ofcom.
        rate: ``dropped / live``, or ``None`` without live calls.
        limit: The regulatory ceiling (0.03).
    """

    regime: DropRegime
    campaign: str | None
    window_start: float
    window_end: float
    dropped: float
    live: float
    rate: float | None
    limit: float = 0.03

    @property
    def compliant(self) -> bool:
        """True when the rate is at most the limit (or there were no live calls)."""
        return self.rate is None or self.rate <= self.limit


def _window(regime: DropRegime) -> float:
    return 30 * DAY_S if regime is DropRegime.FCC else DAY_S


def drop_rate(
    records: Iterable[ContactRecord],
    regime: DropRegime | str,
    *,
    now: float,
    campaign: str | None = None,
    connect_limit_s: float = 2.0,
    amd_false_positive_rate: float | None = None,
) -> DropRate:
    """The dropped-call rate of ``campaign`` over the regime's window ending at ``now``.

    FCC: calls dialled in the 30 days before ``now``; Ofcom: in the 24 hours
    before ``now``, and ``amd_false_positive_rate`` (the estimated share of
    machine-classified calls that were really people) is required. Example
    (Ofcom): 1,000 live answers, 20 of them dropped, 400 machine detections and a
    5 % false-positive estimate give ``(20 + 20) / (1000 + 20) = 3.92 %``: not
    compliant, although the FCC figure would be 2 %.
    """
    kind = member(DropRegime, "regime", regime, ValidationError)
    if not math.isfinite(connect_limit_s) or connect_limit_s < 0:
        raise ValidationError(f"connect_limit_s must be >= 0, got {connect_limit_s!r}")
    if kind is DropRegime.OFCOM:
        if amd_false_positive_rate is None:
            raise ValidationError("Ofcom's drop rate needs amd_false_positive_rate (may be 0)")
        if not 0 <= amd_false_positive_rate <= 1:
            raise ValidationError(
                f"amd_false_positive_rate must be in [0, 1], got {amd_false_positive_rate!r}"
            )
    start = now - _window(kind)
    rows = [r for r in _attempts(records) if r.campaign == campaign and start <= r.arrived_at < now]
    live = [r for r in rows if r.is_live_answer]
    dropped = float(sum(1 for r in live if (r.connect_delay_s or 0.0) > connect_limit_s))
    live_count = float(len(live))
    if kind is DropRegime.OFCOM and amd_false_positive_rate is not None:
        estimate = amd_false_positive_rate * sum(1 for r in rows if r.outcome is Outcome.MACHINE)
        dropped += estimate
        live_count += estimate
    return DropRate(
        regime=kind,
        campaign=campaign,
        window_start=start,
        window_end=now,
        dropped=dropped,
        live=live_count,
        rate=dropped / live_count if live_count > 0 else None,
    )


def drop_rates(
    records: Iterable[ContactRecord],
    regime: DropRegime | str,
    *,
    now: float,
    connect_limit_s: float = 2.0,
    amd_false_positive_rate: float | None = None,
) -> dict[str | None, DropRate]:
    """:func:`drop_rate` for every campaign that has outbound records, by campaign."""
    by_campaign: dict[str | None, list[ContactRecord]] = defaultdict(list)
    for r in _attempts(records):
        by_campaign[r.campaign].append(r)
    return {
        name: drop_rate(
            rows,
            regime,
            now=now,
            campaign=name,
            connect_limit_s=connect_limit_s,
            amd_false_positive_rate=amd_false_positive_rate,
        )
        for name, rows in by_campaign.items()
    }
