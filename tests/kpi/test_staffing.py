"""Staffing: minimality, exact rounding, the interval table and square-root staffing."""

from __future__ import annotations

import math
from fractions import Fraction

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter_sdk import ValidationError
from callcenter_sdk.kpi import (
    ErlangA,
    ErlangC,
    IntervalForecast,
    StaffingTargets,
    erlang_c,
    exact,
    garnett_p_wait,
    halfin_whitt_p_wait,
    required_agents,
    scheduled_agents,
    square_root_staffing,
    staffing_table,
)


@attrs.frozen
class Case:
    """One staffing problem drawn by hypothesis."""

    lam: float
    aht: float
    patience: float | None
    sl: float | None
    within: float
    max_asa: float | None
    max_abandon: float | None


def meets(n: int, case: Case) -> bool:
    """Evaluate the targets directly on the model (the test's own reading of the rules)."""
    lam, aht = case.lam, case.aht
    if case.patience is None:
        if n <= lam * aht:
            return False
        model: ErlangC | ErlangA = ErlangC(lam, aht, n)
    else:
        model = ErlangA(lam, aht, n, case.patience)
        if case.max_abandon is not None and model.p_abandon > case.max_abandon:
            return False
    if case.sl is not None and model.service_level(case.within) < case.sl:
        return False
    return case.max_asa is None or model.asa <= case.max_asa


def test_worked_example() -> None:
    """10 erlangs at 80/20: 14 agents under Erlang C (13 miss), 12 under Erlang A."""
    rate = Fraction(100, 1800)
    c = required_agents(rate, 180, service_level=0.8, within=20)
    assert c.raw == 14
    assert c.binding == ("service_level",)
    assert round(c.service_level or 0, 3) == 0.888
    assert ErlangC(float(rate), 180, 13).service_level(20) < 0.8
    a = required_agents(rate, 180, service_level=0.8, within=20, patience=60)
    assert a.raw == 12
    assert a.model == "erlang_a"
    with_shrinkage = required_agents(rate, 180, service_level=0.8, within=20, shrinkage=0.3)
    assert with_shrinkage.scheduled == 20  # ceil(14 / 0.7) = 20 exactly


def _case(
    *,
    lam: float,
    aht: float,
    patience: float | None,
    sl: float | None,
    within: float,
    max_asa: float | None,
    max_abandon: float | None,
) -> Case:
    if patience is None:
        max_abandon = None
    if sl is None and max_asa is None and max_abandon is None:
        sl = 0.8
    return Case(lam, aht, patience, sl, within, max_asa, max_abandon)


cases = st.builds(
    _case,
    lam=st.floats(min_value=0.001, max_value=1.0),
    aht=st.floats(min_value=20, max_value=900),
    patience=st.one_of(st.none(), st.floats(min_value=5, max_value=1200)),
    sl=st.one_of(st.none(), st.floats(min_value=0.5, max_value=0.99)),
    within=st.floats(min_value=0, max_value=120),
    max_asa=st.one_of(st.none(), st.floats(min_value=1, max_value=300)),
    max_abandon=st.one_of(st.none(), st.floats(min_value=0.01, max_value=0.3)),
)


@settings(max_examples=80, deadline=None)
@given(case=cases, start=st.one_of(st.none(), st.integers(min_value=0, max_value=2000)))
def test_staffing_is_minimal(case: Case, start: int | None) -> None:
    """The raw count meets every target and one agent fewer misses one, from any guess."""
    staffing = required_agents(
        case.lam,
        case.aht,
        service_level=case.sl,
        within=None if case.sl is None else case.within,
        max_asa=case.max_asa,
        max_abandon=case.max_abandon,
        patience=case.patience,
        start=start,
    )
    assert meets(staffing.raw, case)
    assert staffing.raw == 0 or not meets(staffing.raw - 1, case)
    assert staffing.binding or staffing.raw == 0


@settings(max_examples=200)
@given(
    raw=st.integers(min_value=0, max_value=100_000),
    percent=st.integers(min_value=0, max_value=99),
    hundredths=st.integers(min_value=0, max_value=99),
)
def test_scheduled_rounding_is_exact(raw: int, percent: int, hundredths: int) -> None:
    """Scheduled is the least S with S (1 - s) >= raw, for shrinkage typed as a decimal."""
    text = f"0.{percent:02d}{hundredths:02d}"
    shrinkage = float(text)
    s = Fraction(text)
    scheduled = scheduled_agents(raw, shrinkage)
    assert scheduled * (1 - s) >= raw
    assert scheduled == 0 or (scheduled - 1) * (1 - s) < raw


def test_float_traps_are_avoided() -> None:
    """21 / (1 - 0.3) and 57 / 0.57 are whole numbers; float division would round up wrongly."""
    assert math.ceil(21 / (1 - 0.3)) == 31  # the trap itself
    assert scheduled_agents(21, 0.3) == 30
    assert scheduled_agents(9, 0.55) == 20
    assert scheduled_agents(7, 0.3) == 10
    assert math.ceil(0.3 * 190 / 0.57) == 101  # the trap itself: 57 / 0.57 is 100
    capped = required_agents(0.3, 190, max_occupancy=0.57)
    assert capped.raw == 100
    assert capped.occupancy == pytest.approx(0.57)
    assert capped.binding == ("occupancy",)
    assert exact(0.2) == Fraction(1, 5)


def test_erlang_a_may_staff_below_the_load() -> None:
    """Impatient callers leave, so a loose abandonment target needs fewer agents than erlangs."""
    staffing = required_agents(0.5, 300, max_abandon=0.2, patience=30)
    assert staffing.raw < 150
    assert staffing.p_abandon <= 0.2
    assert ErlangA(0.5, 300, staffing.raw - 1, 30).p_abandon > 0.2


def test_no_traffic_needs_no_agents() -> None:
    """A silent interval needs zero agents, whatever the targets."""
    staffing = required_agents(0, 300, service_level=0.8, within=20)
    assert (staffing.raw, staffing.scheduled, staffing.binding) == (0, 0, ())


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"service_level": 0.8},
        {"service_level": 1.5, "within": 20},
        {"max_abandon": 0.05},
        {"service_level": 0.8, "within": 20, "shrinkage": 1.0},
        {"max_asa": 0.0},
    ],
)
def test_bad_targets_raise(kwargs: dict[str, float]) -> None:
    """Missing, contradictory, out-of-range or unreachable targets are a ValidationError."""
    with pytest.raises(ValidationError):
        required_agents(0.1, 300, **kwargs)  # type: ignore[arg-type]


def test_targets_are_given_one_way() -> None:
    """Keyword targets and a StaffingTargets together are ambiguous, so refused."""
    targets = StaffingTargets(max_asa=30)
    assert required_agents(0.1, 300, targets=targets).asa <= 30
    with pytest.raises(ValidationError, match="not both"):
        required_agents(0.1, 300, targets=targets, max_asa=10)


@pytest.mark.parametrize("load", [10.0, 50.0, 400.0])
@pytest.mark.parametrize("patience", [60.0, 180.0, 1800.0])
def test_garnett_square_root_staffing_is_close_to_erlang_a(load: float, patience: float) -> None:
    """The QED approximation of Erlang A lands within two agents of the exact answer."""
    aht = 180.0
    for alpha in (0.8, 0.5, 0.2, 0.05):
        exact_n = next(
            n for n in range(5000) if ErlangA(load / aht, aht, n, patience).p_wait <= alpha
        )
        approx_n = square_root_staffing(load, alpha, aht=aht, patience=patience)
        assert abs(approx_n - exact_n) <= 2, (alpha, exact_n, approx_n)
    # Very patient callers: Garnett's formula becomes Halfin-Whitt's.
    assert garnett_p_wait(1.0, aht, 1e9) == pytest.approx(halfin_whitt_p_wait(1.0), rel=1e-3)


def test_square_root_staffing_is_close_to_erlang_c() -> None:
    """Halfin-Whitt's n = a + beta sqrt(a) lands within two agents of the exact answer."""
    assert halfin_whitt_p_wait(0) == 1.0
    assert square_root_staffing(10, 0.2) == 14  # the docs' example
    assert halfin_whitt_p_wait(2.0) < halfin_whitt_p_wait(1.0) < 1.0
    for load in (10.0, 50.0, 200.0, 1000.0):
        for alpha in (0.5, 0.2, 0.05):
            exact_n = next(n for n in range(1, 5000) if erlang_c(n, load) <= alpha)
            approx_n = square_root_staffing(load, alpha)
            assert abs(approx_n - exact_n) <= 2, (load, alpha, exact_n, approx_n)


@settings(max_examples=15, deadline=None)
@given(
    volumes=st.lists(st.floats(min_value=0, max_value=400), min_size=1, max_size=12),
    patience=st.one_of(st.none(), st.floats(min_value=20, max_value=600)),
)
def test_table_matches_row_by_row_staffing(volumes: list[float], patience: float | None) -> None:
    """The warm-started table gives exactly what a cold search gives for every interval."""
    targets = StaffingTargets(service_level=0.8, within=20, max_asa=60, shrinkage=0.25)
    forecasts = [
        IntervalForecast(
            queue=q, start=i * 900.0, volume=v, aht=240, interval_s=900, patience=patience
        )
        for q in ("sales", "support")
        for i, v in enumerate(volumes)
    ]
    rows = staffing_table(forecasts, targets)
    assert [r.forecast for r in rows] == forecasts
    for row in rows:
        cold = required_agents(
            row.forecast.arrival_rate, row.forecast.aht, targets=targets, patience=patience
        )
        assert row.staffing == cold


def test_forecast_rate_is_exact() -> None:
    """The rate volume / interval stays exact: 90 calls in 1800 s at 300 s AHT is 15 erlangs."""
    fc = IntervalForecast(queue="q", start=0, volume=90, aht=300)
    assert fc.arrival_rate == Fraction(1, 20)
    staffing = staffing_table([fc], StaffingTargets(max_occupancy=0.75))[0].staffing
    assert staffing.raw == 20  # 15 / 0.75 exactly
    assert attrs.evolve(fc, volume=0).arrival_rate == 0
