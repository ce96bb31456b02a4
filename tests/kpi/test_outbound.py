"""Outbound KPIs: explicit denominators and the FCC and Ofcom drop rates."""

from __future__ import annotations

import pytest

from callcenter_sdk import ValidationError
from callcenter_sdk.kpi import (
    ContactRecord,
    DropRegime,
    OutboundBase,
    contact_rate,
    conversion_rate,
    drop_rate,
    drop_rates,
    right_party_rate,
)

DAY = 86_400.0


def dial(
    i: int, outcome: str, *, at: float = 0.0, campaign: str = "spring", **kw: object
) -> ContactRecord:
    """One outbound attempt."""
    answered_at = kw.pop("answered_at", None)
    return ContactRecord(
        contact_id=f"d{i}",
        direction="outbound",
        outcome=outcome,
        arrived_at=at,
        answered_at=answered_at,  # type: ignore[arg-type]
        ended_at=at + 60,
        campaign=campaign,
        **kw,  # type: ignore[arg-type]
    )


def test_conversion_needs_and_uses_an_explicit_base() -> None:
    """100 attempts, 40 live, 25 right party, 5 sales: 5 %, 12.5 %, 20 % by base."""
    records = []
    for i in range(100):
        if i < 40:
            records.append(
                dial(
                    i,
                    "answered",
                    answered_at=5.0,
                    greeting_ended_at=4.0,
                    right_party=i < 25,
                    converted=i < 5,
                )
            )
        else:
            records.append(dial(i, "no_answer"))
    assert contact_rate(records) == pytest.approx(0.4)
    assert right_party_rate(records, per="attempts") == pytest.approx(0.25)
    assert right_party_rate(records, per=OutboundBase.LIVE) == pytest.approx(25 / 40)
    assert conversion_rate(records, per="attempts") == pytest.approx(0.05)
    assert conversion_rate(records, per="live") == pytest.approx(0.125)
    assert conversion_rate(records, per="right_party") == pytest.approx(0.2)
    assert conversion_rate(records, per="handled") == pytest.approx(0.125)
    assert conversion_rate([], per="attempts") is None
    with pytest.raises(ValidationError, match="is not one of: attempts"):
        conversion_rate(records, per="calls")


def ofcom_example(now: float) -> list[ContactRecord]:
    """1,000 live answers (20 dropped: 12 never connected, 8 after 3 s), 400 machines."""
    records = []
    for i in range(1000):
        at = now - 3600 - i
        if i < 12:
            records.append(dial(i, "dropped", at=at, greeting_ended_at=at + 10))
        elif i < 20:
            records.append(
                dial(i, "answered", at=at, greeting_ended_at=at + 10, answered_at=at + 13)
            )
        else:
            records.append(
                dial(i, "answered", at=at, greeting_ended_at=at + 10, answered_at=at + 11.5)
            )
    records += [dial(2000 + i, "machine", at=now - 7200) for i in range(400)]
    return records


def test_fcc_and_ofcom_regimes_worked_example() -> None:
    """FCC counts 20/1000 = 2 %; Ofcom adds 5 % of 400 machine calls: 40/1020 = 3.92 %."""
    now = 40 * DAY
    records = ofcom_example(now)
    fcc = drop_rate(records, "fcc", now=now, campaign="spring")
    assert (fcc.dropped, fcc.live) == (20, 1000)
    assert fcc.rate == pytest.approx(0.02)
    assert fcc.compliant
    ofcom = drop_rate(
        records, DropRegime.OFCOM, now=now, campaign="spring", amd_false_positive_rate=0.05
    )
    assert ofcom.rate == pytest.approx(40 / 1020)
    assert not ofcom.compliant
    # A 3.5 s connect limit would forgive the 8 late connections.
    lenient = drop_rate(records, "fcc", now=now, campaign="spring", connect_limit_s=3.5)
    assert lenient.dropped == 12


def test_windows_differ_between_regimes() -> None:
    """A drop 2 days ago counts for the FCC's 30 days but not Ofcom's 24 hours."""
    now = 40 * DAY
    old = dial(1, "dropped", at=now - 2 * DAY, campaign="spring")
    fine = dial(2, "answered", at=now - 60, answered_at=now - 55, greeting_ended_at=now - 56)
    fcc = drop_rate([old, fine], "fcc", now=now, campaign="spring")
    ofcom = drop_rate([old, fine], "ofcom", now=now, campaign="spring", amd_false_positive_rate=0)
    assert fcc.rate == pytest.approx(0.5)
    assert ofcom.rate == 0.0
    assert drop_rate([], "fcc", now=now).rate is None
    assert drop_rate([], "fcc", now=now).compliant


def test_drop_rates_by_campaign_and_errors() -> None:
    """Each campaign is measured on its own; Ofcom without an AMD estimate is refused."""
    now = 10 * DAY
    records = [
        dial(1, "dropped", at=now - 10, campaign="a"),
        dial(2, "answered", at=now - 10, answered_at=now - 5, campaign="b"),
    ]
    rates = drop_rates(records, "fcc", now=now)
    assert rates["a"].rate == 1.0
    assert rates["b"].rate == 0.0
    with pytest.raises(ValidationError, match="amd_false_positive_rate"):
        drop_rate(records, "ofcom", now=now)
    with pytest.raises(ValidationError):
        drop_rate(records, "ofcom", now=now, amd_false_positive_rate=2)
