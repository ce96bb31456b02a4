"""The outbound policy: ranges, patterns and caps every dial of the center passes."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter_sdk import EventStream, ManualClock, ValidationError
from callcenter_sdk.cti import (
    DENIED_BY_DEFAULT,
    DialPurpose,
    OutboundDenied,
    OutboundGuard,
    OutboundPolicy,
    OutboundRefused,
)

FRANCE = OutboundPolicy(allowed=[r"\+33[1-9]\d{8}"])
ANYWHERE = OutboundPolicy(allowed=[r"\+\d+"])


@pytest.mark.parametrize(
    "number",
    [
        "+88212345678",  # international networks
        "+881612345678",  # Iridium
        "+870773123456",  # Inmarsat
        "+19005551234",  # US premium
        "+449098765432",  # UK premium
        "0899123456",  # French premium, written nationally
        "+979123456789",  # international premium rate
    ],
)
def test_premium_and_satellite_ranges_are_denied_even_when_a_pattern_allows_them(
    number: str,
) -> None:
    """The default denied ranges win over an allow-everything pattern."""
    with pytest.raises(OutboundDenied) as refused:
        ANYWHERE.judge(number)
    assert refused.value.reason == "denied"


def test_nothing_is_dialled_without_an_allowed_pattern() -> None:
    """A policy that names no allowed pattern refuses an ordinary landline."""
    with pytest.raises(OutboundDenied, match="allowed: none") as refused:
        OutboundPolicy().judge("+33142685300")
    assert refused.value.reason == "not-allowed"


def test_numbers_are_judged_in_e164_whatever_their_writing() -> None:
    """National and international writings of one number get the same E.164 answer."""
    assert FRANCE.judge("01 42 68 53 00") == "+33142685300"
    assert FRANCE.judge("0033 1 42 68 53 00") == "+33142685300"
    with pytest.raises(OutboundDenied):
        FRANCE.judge("+44 20 7946 0000")


def test_bad_policies_are_refused_when_built() -> None:
    """A pattern that is not a regex, or a cap below one, is a ValidationError."""
    with pytest.raises(ValidationError, match="not a regex"):
        OutboundPolicy(allowed=["+33("])
    with pytest.raises(ValidationError, match="per_hour"):
        OutboundPolicy(per_hour=0)


def test_a_refusal_is_an_event_naming_who_asked_and_why() -> None:
    """The guard publishes OutboundRefused with the purpose, reason, actor and contact."""
    events = EventStream(keep=True)
    guard = OutboundGuard(FRANCE, clock=ManualClock(), events=events)
    with pytest.raises(OutboundDenied):
        guard.check("+88212345678", DialPurpose.CALLBACK, actor="ivr", contact_id="c1")
    [event] = list(events)
    assert isinstance(event, OutboundRefused)
    assert (event.number, event.purpose, event.reason) == ("+88212345678", "callback", "denied")
    assert (event.actor, event.contact_id) == ("ivr", "c1")


def test_asking_without_counting_leaves_the_caps_untouched() -> None:
    """``count=False`` answers whether a dial would pass without spending the cap."""
    guard = OutboundGuard(attrs.evolve(FRANCE, per_number_per_hour=1), clock=ManualClock())
    for _ in range(3):
        guard.check("+33142685300", DialPurpose.CALLBACK, count=False)
    assert guard.dialled("+33142685300") == 0
    guard.check("+33142685300", DialPurpose.CALLBACK)
    with pytest.raises(OutboundDenied, match="1 times in the last hour"):
        guard.check("+33142685300", DialPurpose.CALLBACK, count=False)


@given(
    gaps=st.lists(st.floats(min_value=0, max_value=1200), min_size=1, max_size=60),
    numbers=st.lists(st.integers(min_value=0, max_value=3), min_size=60, max_size=60),
    per_number=st.integers(min_value=1, max_value=4),
    per_hour=st.integers(min_value=1, max_value=10),
)
def test_no_sliding_hour_ever_holds_more_dials_than_the_caps(
    gaps: list[float], numbers: list[int], per_number: int, per_hour: int
) -> None:
    """Over any sequence of dial attempts, every hour-long window respects both caps.

    And the guard refuses only when a cap would be broken: an attempt is
    allowed exactly when the dials already in the last hour leave room.
    """
    clock = ManualClock()
    policy = OutboundPolicy(allowed=[r"\+\d+"], per_number_per_hour=per_number, per_hour=per_hour)
    guard = OutboundGuard(policy, clock=clock)
    allowed: list[tuple[float, str]] = []
    for gap, which in zip(gaps, numbers, strict=False):
        clock.advance(gap)
        number = f"+3314268530{which}"
        now = clock.now()
        recent = [(t, n) for t, n in allowed if t > now - 3600]
        room = len(recent) < per_hour and sum(n == number for _, n in recent) < per_number
        try:
            guard.check(number, DialPurpose.CAMPAIGN)
        except OutboundDenied:
            assert not room
        else:
            assert room
            allowed.append((now, number))
    for start, _ in allowed:
        window = [n for t, n in allowed if start <= t < start + 3600]
        assert len(window) <= per_hour
        assert all(window.count(n) <= per_number for n in set(window))


def test_the_default_ranges_are_all_regular_expressions() -> None:
    """Every default denied range compiles and matches only E.164-shaped strings."""
    policy = OutboundPolicy(allowed=[r"\+\d+"])
    assert policy.denied == DENIED_BY_DEFAULT
    assert all(pattern.startswith(r"\+") for pattern in DENIED_BY_DEFAULT)
