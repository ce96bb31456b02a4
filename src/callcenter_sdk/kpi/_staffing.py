"""Staffing: the fewest agents that meet service targets, and what to schedule.

:func:`required_agents` searches the smallest ``n`` whose Erlang C (or, given a
patience, Erlang A) figures meet every target given: a service level
(answered within ``within`` seconds over offered), a maximum ASA, a maximum
abandonment rate and a maximum occupancy. These figures are monotone in
``n``, so the search gallops from a starting guess and then bisects; the
interval staffing table feeds each interval the previous interval's answer,
so most intervals cost two or three evaluations.

Rounding is exact where a wrong integer would be visible: the occupancy bound
``ceil(load / max_occupancy)``, the stability bound ``n > load`` and the
scheduled headcount ``ceil(raw / (1 - shrinkage))`` are computed with
:class:`fractions.Fraction` from the decimal a float was written as (``0.2``
means one fifth, not the binary double nearest to it), so ``8 / (1 - 0.2)``
schedules 10 agents, never 11.

:func:`square_root_staffing` gives the Halfin-Whitt approximation
``n = ceil(a + beta sqrt(a))`` for comparison.

.. versionadded:: 0.1
"""

from __future__ import annotations

import decimal
import functools
import math
from collections.abc import Callable, Iterable
from fractions import Fraction

import attrs

from .._errors import ValidationError
from ._erlang import ErlangA, ErlangC

__all__ = [
    "IntervalForecast",
    "Staffing",
    "StaffingRow",
    "StaffingTargets",
    "exact",
    "garnett_p_wait",
    "halfin_whitt_p_wait",
    "required_agents",
    "scheduled_agents",
    "square_root_staffing",
    "staffing_table",
]

Number = int | float | Fraction | decimal.Decimal


def exact(value: Number) -> Fraction:
    """Return ``value`` as an exact fraction, reading a float as the decimal it prints as.

    ``exact(0.2) == Fraction(1, 5)``: the shortest decimal that round-trips is
    what the user wrote, whereas the binary double is slightly above it.
    """
    if isinstance(value, bool):
        raise ValidationError(f"expected a number, got {value!r}")
    if isinstance(value, float):
        return _exact_float(value)
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int | decimal.Decimal):
        return Fraction(value)
    raise ValidationError(f"expected a number, got {value!r}")


@functools.lru_cache(maxsize=1024)
def _exact_float(value: float) -> Fraction:
    if not math.isfinite(value):
        raise ValidationError(f"expected a finite number, got {value!r}")
    return Fraction(repr(value))


def scheduled_agents(raw: int, shrinkage: Number) -> int:
    """Agents to schedule so that ``raw`` remain after shrinkage: ``ceil(raw / (1 - shrinkage))``.

    Exact rational arithmetic: ``scheduled_agents(8, 0.2) == 10`` and
    ``scheduled_agents(7, 0.3) == 10``.
    """
    s = exact(shrinkage)
    if not 0 <= s < 1:
        raise ValidationError(f"shrinkage must be in [0, 1), got {shrinkage!r}")
    if raw < 0:
        raise ValidationError(f"raw agents must be >= 0, got {raw!r}")
    return math.ceil(Fraction(raw) / (1 - s))


@attrs.frozen(kw_only=True)
class StaffingTargets:
    """What a staffing must achieve; ``None`` means "no such target".

    Attributes:
        service_level: Fraction of offered contacts to answer within ``within``.
        within: The service-level threshold in seconds (``T`` in "80/20").
        max_asa: Highest acceptable average speed of answer, seconds.
        max_abandon: Highest acceptable abandonment probability (Erlang A only).
        max_occupancy: Highest acceptable occupancy, so agents are not burnt out.
        shrinkage: Fraction of paid time not on the phones (breaks, training,
            absence), used for the scheduled headcount.
    """

    service_level: float | None = None
    within: float | None = None
    max_asa: float | None = None
    max_abandon: float | None = None
    max_occupancy: float | None = None
    shrinkage: float = 0.0

    def __attrs_post_init__(self) -> None:
        if (self.service_level is None) != (self.within is None):
            raise ValidationError("service_level and within go together (e.g. 0.8 within 20 s)")
        _fraction_in("service_level", self.service_level, open_low=True)
        _fraction_in("max_abandon", self.max_abandon, open_low=True)
        _fraction_in("max_occupancy", self.max_occupancy, open_low=True)
        for name in ("within", "max_asa"):
            value = getattr(self, name)
            if value is not None and (not math.isfinite(value) or value < 0):
                raise ValidationError(f"{name} must be a finite number >= 0, got {value!r}")
        if not 0 <= exact(self.shrinkage) < 1:
            raise ValidationError(f"shrinkage must be in [0, 1), got {self.shrinkage!r}")
        if all(
            v is None
            for v in (self.service_level, self.max_asa, self.max_abandon, self.max_occupancy)
        ):
            raise ValidationError(
                "give at least one target: service_level/within, max_asa, max_abandon"
                " or max_occupancy"
            )


def _fraction_in(name: str, value: float | None, *, open_low: bool) -> None:
    if value is None:
        return
    low_ok = value > 0 if open_low else value >= 0
    if not (math.isfinite(value) and low_ok and value <= 1):
        raise ValidationError(f"{name} must be in (0, 1], got {value!r}")


@attrs.frozen(kw_only=True)
class Staffing:
    """The answer of :func:`required_agents`: how many agents and what they achieve.

    Attributes:
        raw: Agents needed on the phones (the smallest ``n`` meeting every target).
        scheduled: Agents to schedule, ``ceil(raw / (1 - shrinkage))``.
        load: Offered load in erlangs.
        model: ``"erlang_c"`` or ``"erlang_a"``.
        service_level: Achieved answered-within-``within`` over offered, or
            ``None`` without a service-level target.
        asa: Achieved average speed of answer (answered contacts), seconds.
        p_wait: Achieved probability of waiting.
        p_abandon: Achieved abandonment probability (0 under Erlang C).
        occupancy: Achieved occupancy.
        binding: The targets ``raw - 1`` agents would miss (``"stability"`` when
            Erlang C needs more agents than the load); empty when ``raw`` is 0.
    """

    raw: int
    scheduled: int
    load: float
    model: str
    service_level: float | None
    asa: float
    p_wait: float
    p_abandon: float
    occupancy: float
    binding: tuple[str, ...]


def _model(rate: float, aht: float, n: int, patience: float | None) -> ErlangC | ErlangA:
    if patience is None:
        return ErlangC(rate, aht, n)
    return ErlangA(rate, aht, n, patience)


def _misses(model: ErlangC | ErlangA, targets: StaffingTargets) -> tuple[str, ...]:
    missed: list[str] = []
    if (
        targets.service_level is not None
        and targets.within is not None
        and model.service_level(targets.within) < targets.service_level
    ):
        missed.append("service_level")
    if targets.max_asa is not None and model.asa > targets.max_asa:
        missed.append("asa")
    if (
        targets.max_abandon is not None
        and isinstance(model, ErlangA)
        and model.p_abandon > targets.max_abandon
    ):
        missed.append("abandon")
    if (
        targets.max_occupancy is not None
        and isinstance(model, ErlangA)
        and model.occupancy > targets.max_occupancy
    ):
        missed.append("occupancy")
    return tuple(missed)


def _smallest(meets: Callable[[int], bool], low: int, guess: int, high: int) -> int:
    """Smallest ``n`` in ``[low, high]`` with ``meets(n)``, for a monotone ``meets``."""
    g = min(max(low, guess), high)
    if meets(g):
        good, step = g, 1
        bad = low - 1
        while good > low:
            cand = max(low, good - step)
            if meets(cand):
                good, step = cand, step * 2
            else:
                bad = cand
                break
    else:
        bad, step = g, 1
        while True:
            if bad >= high:
                raise ValidationError(f"no staffing up to {high} agents meets the targets")
            cand = min(high, bad + step)
            if meets(cand):
                good = cand
                break
            bad, step = cand, step * 2
    while good - bad > 1:
        mid = (good + bad) // 2
        if meets(mid):
            good = mid
        else:
            bad = mid
    return good


def required_agents(
    arrival_rate: Number,
    aht: Number,
    *,
    service_level: float | None = None,
    within: float | None = None,
    max_asa: float | None = None,
    max_abandon: float | None = None,
    max_occupancy: float | None = None,
    shrinkage: float = 0.0,
    patience: float | None = None,
    targets: StaffingTargets | None = None,
    start: int | None = None,
    max_agents: int | None = None,
) -> Staffing:
    """Return the smallest number of agents meeting every target, and the scheduled headcount.

    Erlang C is used unless ``patience`` (mean seconds a caller waits before
    hanging up) is given, which selects Erlang A; under Erlang A the answer may
    be below the offered load. Give the targets as keywords or as one
    :class:`StaffingTargets`. ``start`` is a guess that only speeds the search
    up; ``max_agents`` bounds it (default ``10 * load + 100``).

    Example: 100 calls per half hour (``Fraction(100, 1800)`` per second) with AHT
    180 s is 10 erlangs; 80 % within 20 s under Erlang C needs 14 agents
    (service level 0.888; 13 give 0.796). With a mean patience of 60 s
    (Erlang A) 12 agents suffice.
    """
    loose = (service_level, within, max_asa, max_abandon, max_occupancy)
    if targets is not None and (any(v is not None for v in loose) or shrinkage):
        raise ValidationError("give the targets either as keywords or as targets=, not both")
    if targets is None:
        targets = StaffingTargets(
            service_level=service_level,
            within=within,
            max_asa=max_asa,
            max_abandon=max_abandon,
            max_occupancy=max_occupancy,
            shrinkage=shrinkage,
        )
    if targets.max_abandon is not None and patience is None:
        raise ValidationError("max_abandon needs a patience (Erlang A): Erlang C never abandons")
    rate_q, aht_q = exact(arrival_rate), exact(aht)
    if rate_q < 0 or aht_q <= 0:
        raise ValidationError(f"need arrival_rate >= 0 and aht > 0, got {arrival_rate}, {aht}")
    load_q = rate_q * aht_q
    rate, aht_f, load = float(rate_q), float(aht_q), float(load_q)
    # Erlang C: stability (n > a) and occupancy (a / n <= cap) bound n exactly from below.
    stable_low = occupancy_low = 0
    if patience is None and load_q > 0:
        stable_low = math.floor(load_q) + 1
        if targets.max_occupancy is not None:
            occupancy_low = math.ceil(load_q / exact(targets.max_occupancy))

    models: dict[int, ErlangC | ErlangA] = {}

    def model_at(n: int) -> ErlangC | ErlangA:
        if n not in models:
            models[n] = _model(rate, aht_f, n, patience)
        return models[n]

    def misses(n: int) -> tuple[str, ...]:
        missed = _misses(model_at(n), targets)
        if n < stable_low:
            missed = ("stability", *missed)
        if n < occupancy_low:
            missed = (*missed, "occupancy")
        return missed

    low = max(stable_low, occupancy_low)
    if max_agents is None:
        max_agents = max(low, math.ceil(10 * load) + 100)
    if start is None:
        start = math.ceil(load + math.sqrt(load))
    raw = _smallest(lambda n: not misses(n), low, start, max_agents) if load_q > 0 else 0
    model = model_at(raw)
    binding = misses(raw - 1) if raw > 0 else ()
    return Staffing(
        raw=raw,
        scheduled=scheduled_agents(raw, targets.shrinkage),
        load=load,
        model="erlang_c" if patience is None else "erlang_a",
        service_level=None if targets.within is None else model.service_level(targets.within),
        asa=model.asa,
        p_wait=model.p_wait,
        p_abandon=model.p_abandon if isinstance(model, ErlangA) else 0.0,
        occupancy=model.occupancy,
        binding=binding,
    )


def halfin_whitt_p_wait(beta: float) -> float:
    """Halfin-Whitt approximation of the probability of waiting at ``n = a + beta sqrt(a)``.

    ``P(wait) ~ 1 / (1 + beta Phi(beta) / phi(beta))`` for ``beta > 0`` (1 at ``beta <= 0``).
    """
    if beta <= 0:
        return 1.0
    cdf = 0.5 * (1.0 + math.erf(beta / math.sqrt(2.0)))
    pdf = math.exp(-beta * beta / 2.0) / math.sqrt(2.0 * math.pi)
    return 1.0 / (1.0 + beta * cdf / pdf)


def _hazard(x: float) -> float:
    """The standard normal hazard rate ``phi(x) / (1 - Phi(x))``."""
    if x > 30.0:
        return x + 1.0 / x
    pdf = math.exp(-x * x / 2.0) / math.sqrt(2.0 * math.pi)
    return pdf / (0.5 * math.erfc(x / math.sqrt(2.0)))


def garnett_p_wait(beta: float, aht: float, patience: float) -> float:
    """Garnett-Mandelbaum-Reiman approximation of Erlang A's probability of waiting.

    At ``n = a + beta sqrt(a)`` (``beta`` may be negative), with
    ``r = sqrt(theta / mu) = sqrt(AHT / patience)``:
    ``P(wait) ~ 1 / (1 + r h(beta / r) / h(-beta))``, ``h`` the normal hazard
    rate. As patience grows it becomes :func:`halfin_whitt_p_wait`.
    """
    if aht <= 0 or patience <= 0:
        raise ValidationError("aht and patience must be > 0")
    r = math.sqrt(aht / patience)
    return 1.0 / (1.0 + r * _hazard(beta / r) / _hazard(-beta))


def square_root_staffing(
    load: float, p_wait: float, *, aht: float | None = None, patience: float | None = None
) -> int:
    """Square-root staffing ``ceil(a + beta sqrt(a))``, for comparison with the exact search.

    ``beta`` solves :func:`halfin_whitt_p_wait` ``(beta) = p_wait`` (Erlang C),
    or :func:`garnett_p_wait` ``(beta, aht, patience) = p_wait`` when both
    ``aht`` and ``patience`` are given (Erlang A; ``beta`` may then be
    negative). Within two agents of the exact answer for loads of 10 to 1,000
    erlangs (tested); :func:`required_agents` is exact.
    """
    if not 0 < p_wait <= 1:
        raise ValidationError(f"p_wait must be in (0, 1], got {p_wait!r}")
    if (aht is None) != (patience is None):
        raise ValidationError("give both aht and patience (Erlang A), or neither (Erlang C)")
    approx: Callable[[float], float] = halfin_whitt_p_wait
    lo, hi = 0.0, 40.0
    if aht is not None and patience is not None:
        approx = functools.partial(garnett_p_wait, aht=aht, patience=patience)
        lo = -40.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if approx(mid) > p_wait:
            lo = mid
        else:
            hi = mid
    return max(0, math.ceil(load + hi * math.sqrt(load)))


@attrs.frozen(kw_only=True)
class IntervalForecast:
    """The forecast of one queue for one interval.

    Attributes:
        queue: The queue's name.
        start: Start of the interval, seconds (e.g. since midnight).
        volume: Contacts expected in the interval.
        aht: Expected average handle time, seconds.
        interval_s: Interval length, seconds (900, 1800 or 3600).
        patience: Mean caller patience in seconds; given, Erlang A is used.
    """

    queue: str
    start: float
    volume: float
    aht: float
    interval_s: float = 1800.0
    patience: float | None = None

    @property
    def arrival_rate(self) -> Fraction:
        """Contacts per second, exact: ``volume / interval_s``."""
        return exact(self.volume) / exact(self.interval_s)


@attrs.frozen
class StaffingRow:
    """One line of a staffing table.

    Attributes:
        forecast: The interval's forecast.
        staffing: What it needs.
    """

    forecast: IntervalForecast
    staffing: Staffing


def staffing_table(
    forecasts: Iterable[IntervalForecast], targets: StaffingTargets
) -> list[StaffingRow]:
    """Staff every interval of a forecast (96 intervals x many queues).

    Each queue's previous answer seeds the next interval's search at the same
    square-root safety margin ``(n - a) / sqrt(a)``, since load changes
    smoothly through a day.
    """
    beta: dict[str, float] = {}
    rows: list[StaffingRow] = []
    for fc in forecasts:
        rate = fc.arrival_rate
        load = float(rate * exact(fc.aht))
        guess = None
        if fc.queue in beta and load > 0:
            guess = max(0, round(load + beta[fc.queue] * math.sqrt(load)))
        staffing = required_agents(rate, fc.aht, targets=targets, patience=fc.patience, start=guess)
        if load > 0:
            beta[fc.queue] = (staffing.raw - load) / math.sqrt(load)
        rows.append(StaffingRow(fc, staffing))
    return rows
