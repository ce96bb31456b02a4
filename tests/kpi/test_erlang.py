"""Erlang B, C and A against independent computations, and their properties.

The independent checks share no code with the library: exact birth-death
stationary sums in rational arithmetic (Erlang B and C), and for Erlang A a
truncated birth-death chain plus uniformization of the tagged caller's
journey through the queue (service level, abandoned within t, ASA).
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from callcenter_sdk import ValidationError
from callcenter_sdk.kpi import ErlangA, ErlangC, erlang_b, erlang_c

# --- independent oracles ---------------------------------------------------------


def exact_erlang_b(n: int, a: Fraction) -> Fraction:
    """B(n, a) from the M/M/n/n stationary distribution, in exact rationals."""
    weights = [Fraction(1)]
    for m in range(1, n + 1):
        weights.append(weights[-1] * a / m)
    return weights[-1] / sum(weights)


def exact_erlang_c(n: int, a: Fraction) -> Fraction:
    """C(n, a) = P(N >= n) of the M/M/n chain: geometric tail summed in closed form."""
    weights = [Fraction(1)]
    for m in range(1, n + 1):
        weights.append(weights[-1] * a / m)
    rho = a / n
    tail = weights[-1] / (1 - rho)  # sum_{k>=0} pi_n rho^k
    return tail / (sum(weights[:-1]) + tail)


def chain(lam: float, aht: float, n: int, patience: float) -> tuple[list[float], int]:
    """Stationary distribution of M/M/n+M, truncated where the tail is negligible."""
    mu, theta = 1.0 / aht, 1.0 / patience
    probs = [1.0]
    state = 0
    while True:
        state += 1
        probs.append(probs[-1] * lam / (min(state, n) * mu + max(state - n, 0) * theta))
        if state > n + 20 and probs[-1] < 1e-18 * max(probs):
            break
    total = math.fsum(probs)
    return [p / total for p in probs], n


def chain_measures(lam: float, aht: float, n: int, patience: float) -> dict[str, float]:
    """P(wait), P(abandon), mean wait of all callers from the birth-death chain alone."""
    probs, _ = chain(lam, aht, n, patience)
    p_wait = math.fsum(probs[n:])
    queue = math.fsum((k - n) * p for k, p in enumerate(probs) if k > n)
    return {
        "p_wait": p_wait,
        "p_abandon": queue / patience / lam,
        "mean_wait": queue / lam,
    }


State = tuple[list[float], float, float]


def _start(lam: float, aht: float, n: int, patience: float) -> tuple[State, float]:
    """PASTA's distribution of callers ahead, and the probability of no wait."""
    probs, _ = chain(lam, aht, n, patience)
    ahead = probs[n:]
    return (list(ahead), 0.0, 0.0), 1.0 - math.fsum(ahead)


def _propagate(state: State, n: int, aht: float, patience: float, dt: float) -> State:
    """Advance the tagged caller's chain by dt (uniformization, in short slices).

    A caller with j others ahead moves to j-1 (or to served from j = 0) at rate
    n mu + j theta and abandons at rate theta.
    """
    vec, served, abandoned = state
    mu, theta = 1.0 / aht, 1.0 / patience
    size = len(vec)
    rate = n * mu + size * theta + theta
    slices = max(1, math.ceil(rate * dt / 20))
    tau = dt / slices
    for _ in range(slices):
        out_vec = [0.0] * size
        out_served = out_abandoned = 0.0
        cur_vec, cur_served, cur_abandoned = list(vec), served, abandoned
        poisson = math.exp(-rate * tau)
        step = 0
        while True:
            for j in range(size):
                out_vec[j] += poisson * cur_vec[j]
            out_served += poisson * cur_served
            out_abandoned += poisson * cur_abandoned
            if step > rate * tau + 12 * math.sqrt(rate * tau + 1) + 20:
                break
            new = [0.0] * size
            for j, p in enumerate(cur_vec):
                move = (n * mu + j * theta) / rate
                leave = theta / rate
                if j == 0:
                    cur_served += p * move
                else:
                    new[j - 1] += p * move
                cur_abandoned += p * leave
                new[j] += p * (1.0 - move - leave)
            cur_vec = new
            step += 1
            poisson *= rate * tau / step
        vec, served, abandoned = out_vec, out_served, out_abandoned
    return vec, served, abandoned


def journey(lam: float, aht: float, n: int, patience: float, t: float) -> tuple[float, float]:
    """(answered within t, abandoned within t) over offered, from the tagged caller's chain."""
    state, no_wait = _start(lam, aht, n, patience)
    _, served, abandoned = _propagate(state, n, aht, patience, t)
    return no_wait + served, abandoned


def answered_wait_by_quadrature(lam: float, aht: float, n: int, patience: float) -> float:
    """ASA of answered callers: the integral of (answered eventually - answered by t)."""
    horizon = 40.0 * patience
    steps = 1200
    h = horizon / steps
    state, no_wait = _start(lam, aht, n, patience)
    served_by = [0.0]
    for _ in range(steps):
        state = _propagate(state, n, aht, patience, h)
        served_by.append(state[1])
    answered_end = served_by[-1]
    values = [answered_end - v for v in served_by]
    integral = (
        h
        / 3
        * (values[0] + values[-1] + 4 * math.fsum(values[1:-1:2]) + 2 * math.fsum(values[2:-1:2]))
    )
    return integral / (no_wait + answered_end)


# --- Erlang B and C -----------------------------------------------------------------


def test_worked_examples() -> None:
    """The docs' worked examples: B(2, 1) = 1/5, C(2, 1) = 1/3, C(11, 10) = 0.6821."""
    assert erlang_b(2, 1.0) == pytest.approx(0.2, rel=1e-15)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3, rel=1e-15)
    assert erlang_c(11, 10.0) == pytest.approx(float(exact_erlang_c(11, Fraction(10))), rel=1e-13)
    assert round(erlang_c(11, 10.0), 4) == 0.6821
    queue = ErlangC(100 / 1800, 180, 14)
    assert round(queue.service_level(20), 3) == 0.888
    assert round(queue.asa, 2) == 7.84


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=60),
    a=st.fractions(min_value=Fraction(1, 100), max_value=Fraction(80), max_denominator=1000),
)
def test_erlang_b_and_c_match_exact_birth_death(n: int, a: Fraction) -> None:
    """Log-space Erlang B and C agree with exact rational stationary sums to ~1e-12."""
    assert erlang_b(n, float(a)) == pytest.approx(float(exact_erlang_b(n, a)), rel=1e-12)
    expected_c = 1.0 if a >= n else float(exact_erlang_c(n, a))
    assert erlang_c(n, float(a)) == pytest.approx(expected_c, rel=1e-12)


@given(
    n=st.integers(min_value=0, max_value=10_000),
    a=st.floats(min_value=0, max_value=20_000, allow_nan=False),
)
@settings(deadline=None, max_examples=60)
def test_bounds_and_c_at_least_b(n: int, a: float) -> None:
    """0 <= B <= C <= 1 for every n up to 10,000 and any load; nothing overflows or is NaN."""
    b = erlang_b(n, a)
    c = erlang_c(n, a)
    assert 0.0 <= b <= 1.0
    assert 0.0 <= c <= 1.0
    assert c >= b or math.isclose(c, b, rel_tol=1e-12)


@given(
    n=st.integers(min_value=1, max_value=3000),
    a=st.floats(min_value=0.01, max_value=3000, allow_nan=False),
)
@settings(deadline=None, max_examples=60)
def test_monotone_in_agents(n: int, a: float) -> None:
    """Monotone in n, t and load: agents and time help, load hurts."""
    assert erlang_b(n + 1, a) <= erlang_b(n, a) * (1 + 1e-12)
    assert erlang_c(n + 1, a) <= erlang_c(n, a) * (1 + 1e-12)
    lam = a / 300
    small, big = ErlangC(lam, 300, n), ErlangC(lam, 300, n + 1)
    assert big.service_level(20) >= small.service_level(20) - 1e-12
    assert big.asa <= small.asa * (1 + 1e-12) or math.isinf(small.asa)
    # More time answers more callers; more load blocks and queues more of them.
    for t in (0.0, 5.0, 20.0, 60.0):
        assert small.service_level(t + 1) >= small.service_level(t)
    assert erlang_b(n, a * 1.01) >= erlang_b(n, a) * (1 - 1e-12)
    assert erlang_c(n, a * 1.01) >= erlang_c(n, a) * (1 - 1e-12)


def test_large_systems_stay_finite() -> None:
    """10,000 agents near full load, and tiny loads on many agents, give sane numbers."""
    c = erlang_c(10_000, 9_950.0)
    assert 0.0 < c < 1.0
    assert erlang_b(10_000, 1.0) == 0.0  # true value ~1e-35660 rounds to zero
    assert erlang_c(10_000, 1.0) == 0.0
    q = ErlangC(9_950 / 300, 300, 10_000)
    sl = q.service_level(1e6)  # rate x T is huge: no overflow, SL is 1
    assert sl == 1.0
    assert 0.0 < q.asa < math.inf


def test_unstable_and_empty_queues() -> None:
    """Load >= agents: everyone waits, SL 0, ASA infinite; no traffic: SL 1, ASA 0."""
    q = ErlangC(1.0, 10, 10)
    assert not q.stable
    assert (q.p_wait, q.service_level(20), q.asa, q.occupancy) == (1.0, 0.0, math.inf, 1.0)
    empty = ErlangC(0.0, 10, 3)
    assert (empty.p_wait, empty.service_level(0), empty.asa, empty.occupancy) == (0, 1, 0, 0)


@pytest.mark.parametrize(
    "call",
    [
        lambda: erlang_b(-1, 1.0),
        lambda: erlang_c(2, -1.0),
        lambda: erlang_b(2, math.inf),
        lambda: ErlangC(1.0, 0.0, 3),
        lambda: ErlangA(1.0, 10.0, 3, 0.0),
        lambda: ErlangC(1.0, 10.0, 30).service_level(-1),
    ],
)
def test_bad_arguments_raise_validation_error(call: object) -> None:
    """Negative agents or loads, zero AHT or patience and negative thresholds are refused."""
    with pytest.raises(ValidationError):
        call()  # type: ignore[operator]


# --- Erlang A -------------------------------------------------------------------------

erlang_a_cases = st.tuples(
    st.floats(min_value=0.005, max_value=0.5),  # arrival rate
    st.floats(min_value=30, max_value=600),  # AHT
    st.integers(min_value=1, max_value=60),  # agents
    st.floats(min_value=10, max_value=900),  # patience
)


@settings(max_examples=40, deadline=None)
@given(case=erlang_a_cases)
def test_erlang_a_matches_the_birth_death_chain(case: tuple[float, float, int, float]) -> None:
    """P(wait), P(abandon) and mean wait equal the truncated birth-death chain's."""
    lam, aht, n, patience = case
    q = ErlangA(lam, aht, n, patience)
    ref = chain_measures(lam, aht, n, patience)
    assert q.p_wait == pytest.approx(ref["p_wait"], rel=1e-9, abs=1e-15)
    assert q.p_abandon == pytest.approx(ref["p_abandon"], rel=1e-9, abs=1e-15)
    assert q.mean_wait == pytest.approx(ref["mean_wait"], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    ("lam", "aht", "n", "patience", "t"),
    [
        (0.1, 300, 30, 120, 20),
        (0.5, 180, 80, 60, 30),
        (0.2, 300, 50, 600, 20),
        (0.05, 200, 3, 30, 10),
        (0.1, 300, 25, 200, 60),  # overloaded: fewer agents than erlangs
    ],
)
def test_erlang_a_time_figures_match_uniformization(
    lam: float, aht: float, n: int, patience: float, t: float
) -> None:
    """Answered within t and abandoned within t agree with the tagged caller's chain."""
    q = ErlangA(lam, aht, n, patience)
    answered, abandoned = journey(lam, aht, n, patience, t)
    assert q.service_level(t) == pytest.approx(answered, rel=1e-9)
    assert q.abandoned_within(t) == pytest.approx(abandoned, rel=1e-9)


@pytest.mark.parametrize(
    ("lam", "aht", "n", "patience"),
    [(0.05, 200, 3, 30), (0.1, 300, 25, 200)],
)
def test_erlang_a_asa_matches_quadrature(lam: float, aht: float, n: int, patience: float) -> None:
    """The ASA of answered callers equals the integral of their wait tail."""
    q = ErlangA(lam, aht, n, patience)
    assert q.asa == pytest.approx(answered_wait_by_quadrature(lam, aht, n, patience), rel=1e-6)


def test_erlang_a_worked_example() -> None:
    """The docs' example: 10 erlangs, 12 agents, patience 60 s."""
    q = ErlangA(100 / 1800, 180, 12, 60)
    ref = chain_measures(100 / 1800, 180, 12, 60)
    assert q.p_wait == pytest.approx(ref["p_wait"], rel=1e-12)
    assert round(q.p_wait, 4) == 0.2404
    assert round(q.p_abandon, 4) == 0.0759
    assert round(q.service_level(20), 4) == 0.8603


@settings(max_examples=60, deadline=None)
@given(case=erlang_a_cases, t=st.floats(min_value=0, max_value=3600))
def test_erlang_a_bounds_and_monotonicity(case: tuple[float, float, int, float], t: float) -> None:
    """Probabilities stay in [0, 1]; SL and abandoned-within grow with t; agents help."""
    lam, aht, n, patience = case
    q = ErlangA(lam, aht, n, patience)
    more = ErlangA(lam, aht, n + 1, patience)
    for value in (q.p_wait, q.p_abandon, q.service_level(t), q.abandoned_within(t), q.occupancy):
        assert 0.0 <= value <= 1.0
    assert q.service_level(t) + q.abandoned_within(t) <= 1.0 + 1e-12
    assert q.service_level(t + 5) >= q.service_level(t) - 1e-12
    assert q.abandoned_within(t + 5) >= q.abandoned_within(t) - 1e-12
    assert q.abandoned_within(t) <= q.p_abandon
    assert q.service_level(0) == pytest.approx(1 - q.p_wait, abs=1e-12)
    assert more.p_wait <= q.p_wait * (1 + 1e-9)
    assert more.p_abandon <= q.p_abandon * (1 + 1e-9)
    assert more.service_level(t) >= q.service_level(t) - 1e-9
    assert q.mean_wait == pytest.approx(q.p_abandon * patience)


@settings(max_examples=60, deadline=None)
@given(
    lam=st.floats(min_value=0.001, max_value=2.0),
    aht=st.floats(min_value=10, max_value=900),
    n=st.integers(min_value=1, max_value=400),
)
def test_patience_equal_to_aht_makes_the_system_poisson(lam: float, aht: float, n: int) -> None:
    """With theta = mu every caller leaves at rate mu, so the number present is Poisson(a).

    Then P(wait) = P(Poisson(a) >= n) and P(abandon) = E[(X - n)+] / a.
    """
    a = lam * aht
    assume(a < 5 * n + 50)
    q = ErlangA(lam, aht, n, aht)
    pmf = [math.exp(-a)]
    k = 0
    # Sum in log space so large loads do not underflow exp(-a).
    log_pmf = [-a]
    while k < n + a + 40 * math.sqrt(a + 1) + 50:
        k += 1
        log_pmf.append(log_pmf[-1] + math.log(a) - math.log(k))
    pmf = [math.exp(v) for v in log_pmf]
    p_wait = math.fsum(pmf[n:])
    excess = math.fsum((i - n) * p for i, p in enumerate(pmf) if i > n)
    assert q.p_wait == pytest.approx(p_wait, rel=1e-9, abs=1e-300)
    assert q.p_abandon == pytest.approx(excess / a, rel=1e-9, abs=1e-300)


@settings(max_examples=60, deadline=None)
@given(
    lam=st.floats(min_value=0.01, max_value=1.0),
    aht=st.floats(min_value=30, max_value=600),
    spare=st.floats(min_value=0.05, max_value=0.5),
    t=st.floats(min_value=0, max_value=120),
)
def test_erlang_a_tends_to_erlang_c_as_patience_grows(
    lam: float, aht: float, spare: float, t: float
) -> None:
    """For a stable queue, very patient callers behave as in Erlang C."""
    a = lam * aht
    n = math.ceil(a * (1 + spare)) + 1
    c = ErlangC(lam, aht, n)
    patient = ErlangA(lam, aht, n, 1e9)
    assert patient.p_wait == pytest.approx(c.p_wait, rel=1e-4)
    assert patient.service_level(t) == pytest.approx(c.service_level(t), abs=1e-4)
    assert patient.asa == pytest.approx(c.asa, rel=1e-3, abs=1e-6)
    assert patient.p_abandon < 1e-3
    # And getting more patient only moves toward Erlang C.
    less = ErlangA(lam, aht, n, 600)
    assert less.p_wait <= patient.p_wait * (1 + 1e-9)


def test_erlang_a_large_and_extreme_inputs() -> None:
    """10,000 agents, heavy overload and huge rate x T stay finite and in range."""
    big = ErlangA(9_900 / 300, 300, 10_000, 180)
    assert 0.0 < big.p_wait < 1.0
    assert 0.0 < big.service_level(20) <= 1.0
    over = ErlangA(50.0, 300, 10_000, 300)  # 15,000 erlangs on 10,000 agents
    assert over.p_wait == pytest.approx(1.0)
    # Carried load cannot exceed the agents: about a third abandon.
    assert over.p_abandon == pytest.approx(1 - 10_000 / 15_000, rel=1e-3)
    assert over.service_level(1e7) == pytest.approx(10_000 / 15_000, rel=1e-3)
    assert over.occupancy <= 1.0
    tiny = ErlangA(1e-4, 300, 10_000, 60)
    assert tiny.p_wait == 0.0
    assert tiny.service_level(0) == 1.0


def test_erlang_a_without_agents_or_traffic() -> None:
    """No agents: everyone waits and abandons; no traffic: perfect figures."""
    none = ErlangA(0.1, 300, 0, 60)
    assert (none.p_wait, none.p_abandon, none.asa, none.mean_wait) == (1.0, 1.0, 0.0, 60.0)
    assert none.service_level(30) == 0.0
    assert none.abandoned_within(60) == pytest.approx(1 - math.exp(-1))
    idle = ErlangA(0.0, 300, 5, 60)
    assert (idle.p_wait, idle.service_level(0), idle.abandoned_within(10)) == (0.0, 1.0, 0.0)


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=10_000),
    ratio=st.floats(min_value=0.0, max_value=2.0),
    aht=st.floats(min_value=1, max_value=3600),
    patience=st.floats(min_value=1, max_value=1e5),
    t=st.floats(min_value=0, max_value=1e6),
)
def test_erlang_a_is_finite_everywhere(
    n: int, ratio: float, aht: float, patience: float, t: float
) -> None:
    """Every figure is finite and in range from 1 to 10,000 agents, at any load and t."""
    q = ErlangA(ratio * n / aht, aht, n, patience)
    sl, gone = q.service_level(t), q.abandoned_within(t)
    for value in (q.p_wait, q.p_abandon, q.occupancy, sl, gone):
        assert math.isfinite(value)
        assert 0.0 <= value <= 1.0
    assert math.isfinite(q.asa)
    assert q.asa >= 0
    assert q.mean_wait <= patience * (1 + 1e-12)
    assert sl + gone <= 1.0 + 1e-9
    # Impatient callers thin the queue: never more waiting than under Erlang C.
    c = ErlangC(ratio * n / aht, aht, n)
    assert c.p_wait >= q.p_wait * (1 - 1e-9) or not c.stable


def log_chain_measures(lam: float, aht: float, n: int, patience: float) -> tuple[float, float]:
    """P(wait) and P(abandon) from the birth-death chain summed in log space (big systems)."""
    mu, theta = 1.0 / aht, 1.0 / patience
    logs = [0.0]
    state = 0
    while True:
        state += 1
        rate = min(state, n) * mu + max(state - n, 0) * theta
        logs.append(logs[-1] + math.log(lam / rate))
        if state > n + 50 and logs[-1] < max(logs) - 50:
            break
    top = max(logs)
    probs = [math.exp(v - top) for v in logs]
    total = math.fsum(probs)
    p_wait = math.fsum(probs[n:]) / total
    queue = math.fsum((k - n) * p for k, p in enumerate(probs) if k > n) / total
    return p_wait, queue / patience / lam


@pytest.mark.parametrize(
    ("n", "ratio", "patience"),
    [(1000, 0.97, 120.0), (5000, 1.0, 300.0), (10_000, 0.99, 60.0), (10_000, 1.05, 600.0)],
)
def test_erlang_a_at_thousands_of_agents_matches_the_chain(
    n: int, ratio: float, patience: float
) -> None:
    """Up to 10,000 agents, near and above full load, Erlang A matches the chain (~1e-12)."""
    aht = 300.0
    lam = ratio * n / aht
    q = ErlangA(lam, aht, n, patience)
    p_wait, p_abandon = log_chain_measures(lam, aht, n, patience)
    assert q.p_wait == pytest.approx(p_wait, rel=1e-8)
    assert q.p_abandon == pytest.approx(p_abandon, rel=1e-8)
