"""Contact KPIs: worked examples from docs/kpi.md, empty inputs and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter_sdk import ValidationError
from callcenter_sdk.kpi import (
    ContactRecord,
    ServiceLevelVariant,
    abandon_rate,
    aht,
    asa,
    average_hold,
    average_talk,
    average_wait,
    average_wrap,
    current_longest_wait,
    first_contact_resolution,
    longest_wait,
    resolution_rate,
    service_level,
)
from callcenter_sdk.testing import contact_records

V = ServiceLevelVariant


def answered(i: int, wait: float, talk: float = 100.0, **kw: object) -> ContactRecord:
    """An answered inbound call arriving at 1000 + 100 i."""
    at = 1000.0 + 100 * i
    return ContactRecord(
        contact_id=f"a{i}",
        outcome="answered",
        arrived_at=at,
        answered_at=at + wait,
        ended_at=at + wait + talk,
        talk_s=talk,
        **kw,  # type: ignore[arg-type]
    )


def abandoned(i: int, wait: float) -> ContactRecord:
    """An abandoned inbound call arriving at 5000 + 100 i."""
    at = 5000.0 + 100 * i
    return ContactRecord(contact_id=f"b{i}", outcome="abandoned", arrived_at=at, ended_at=at + wait)


def example() -> list[ContactRecord]:
    """The docs' example: 6 answered within 20 s, 2 later, abandons after 3 s and 40 s."""
    fast = [answered(i, w, hold_s=10.0, wrap_s=30.0) for i, w in enumerate([0, 5, 10, 15, 20, 20])]
    slow = [answered(6, 45, hold_s=10.0, wrap_s=30.0), answered(7, 75, hold_s=10.0, wrap_s=30.0)]
    noise = [
        ContactRecord(contact_id="r", outcome="rejected", arrived_at=0, ended_at=0),
        ContactRecord(contact_id="w", outcome="waiting", arrived_at=9000),
        ContactRecord(
            contact_id="o",
            direction="outbound",
            outcome="answered",
            arrived_at=0,
            answered_at=5,
            ended_at=50,
            talk_s=45,
        ),
    ]
    return [*fast, *slow, abandoned(0, 3), abandoned(1, 40), *noise]


def test_service_level_variants_worked_example() -> None:
    """The five variants on the example: 0.6, 6/9, 0.75, 0.7 and 6/9."""
    records = example()
    assert service_level(records, 20) == pytest.approx(0.6)
    assert service_level(records, 20, V.OFFERED_EXCLUDING_SHORT_ABANDONS) == pytest.approx(6 / 9)
    assert service_level(records, 20, "answered") == pytest.approx(0.75)
    assert service_level(records, 20, V.ABANDONS_MET) == pytest.approx(0.7)
    assert service_level(records, 20, V.ABANDONS_EXCLUDED) == pytest.approx(6 / 9)
    # The threshold is inclusive: two calls answered at exactly 20 s count.
    assert service_level(records, 19.999) == pytest.approx(0.4)


def test_abandon_waits_and_handle_times_worked_example() -> None:
    """Abandon rate 0.2 (1/9 without short ones), ASA 23.75, average wait 23.3, AHT 140."""
    records = example()
    assert abandon_rate(records) == pytest.approx(0.2)
    assert abandon_rate(records, short_abandon_s=5) == pytest.approx(1 / 9)
    assert asa(records) == pytest.approx((0 + 5 + 10 + 15 + 20 + 20 + 45 + 75) / 8)
    assert average_wait(records) == pytest.approx((190 + 3 + 40) / 10)
    assert longest_wait(records) == 75
    assert current_longest_wait(records, now=9030) == 30
    # The outbound handled call counts for handle times: (8 * 140 + 45) / 9.
    assert aht(records) == pytest.approx((8 * 140 + 45) / 9)
    assert average_talk(records) == pytest.approx((8 * 100 + 45) / 9)
    assert average_hold(records) == pytest.approx(80 / 9)
    assert average_wrap(records) == pytest.approx(240 / 9)


def test_empty_inputs_give_none() -> None:
    """No offered or handled contact: every ratio is None, not 0 or 1."""
    for variant in V:
        assert service_level([], 20, variant) is None
    for fn in (abandon_rate, asa, average_wait, longest_wait, aht, resolution_rate):
        assert fn([]) is None
    assert current_longest_wait([], now=0) is None
    assert first_contact_resolution([], 3600) is None
    only_short = [abandoned(0, 1)]
    assert abandon_rate(only_short, short_abandon_s=5) is None
    assert service_level(only_short, 20, V.OFFERED_EXCLUDING_SHORT_ABANDONS) is None


def test_bad_thresholds_raise() -> None:
    """Negative thresholds are refused with a ValidationError."""
    with pytest.raises(ValidationError):
        service_level(example(), -1)
    with pytest.raises(ValidationError):
        abandon_rate(example(), short_abandon_s=-5)


def test_first_contact_resolution_repeat_window() -> None:
    """A customer calling back within the window spoils the first contact's resolution."""
    day = 86_400.0
    first = answered(0, 0, customer="c1", queue="support", resolved=True)  # ends 1100
    repeat = answered(200, 0, customer="c1", queue="billing")  # arrives 21000
    other = answered(1, 0, customer="c2", queue="support", resolved=False)
    unknown = answered(2, 0)
    records = [first, repeat, other, unknown]
    # Within one day, c1's first call has a repeat; c1's repeat and c2's call do not.
    assert first_contact_resolution(records, day) == pytest.approx(2 / 3)
    assert first_contact_resolution(records, day, same_queue=True) == pytest.approx(1.0)
    assert first_contact_resolution(records, day, require_resolved=True) == pytest.approx(1 / 3)
    assert first_contact_resolution(records, 60) == pytest.approx(1.0)
    # Given now, contacts whose window has not elapsed are not judged yet.
    assert first_contact_resolution(records, day, now=1150 + day) == pytest.approx(0.0)
    assert resolution_rate(records) == pytest.approx(0.5)


@given(records=contact_records(direction="inbound"), threshold=st.floats(0, 120))
def test_service_level_properties(records: list[ContactRecord], threshold: float) -> None:
    """Bounds, the ordering of variants, and monotonicity in the threshold."""
    sl = service_level(records, threshold)
    if sl is None:
        assert all(r.outcome in ("rejected", "waiting", "callback_failed") for r in records)
        return
    assert 0 <= sl <= 1
    over_answered = service_level(records, threshold, V.ANSWERED)
    assert over_answered is None or over_answered >= sl
    met = service_level(records, threshold, V.ABANDONS_MET)
    assert met is not None
    assert met >= sl
    later = service_level(records, threshold + 10)
    assert later is not None
    assert later >= sl
    rate = abandon_rate(records)
    assert rate is not None
    assert 0 <= rate <= 1
    wait, answer = average_wait(records), asa(records)
    assert wait is not None
    longest = longest_wait(records)
    assert longest is not None
    assert wait <= longest + 1e-9
    assert answer is None or answer <= longest + 1e-9
