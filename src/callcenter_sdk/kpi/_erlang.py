"""Erlang B, C and A: the queueing formulas behind staffing.

All times are in seconds and rates per second. With ``lambda`` the arrival
rate, ``AHT`` the average handle time (``mu = 1/AHT``), ``n`` agents and the
offered load ``a = lambda * AHT`` (in erlangs):

* **Erlang B** (M/M/n/n, blocked calls lost): ``B(n, a) = (a^n/n!) / sum_{m<=n} a^m/m!``.
* **Erlang C** (M/M/n, callers wait forever): the probability of waiting
  ``C(n, a) = n B / (n - a (1 - B))`` for ``a < n`` (1 otherwise); service level
  ``P(W <= t) = 1 - C exp(-(n - a) t / AHT)``; ``ASA = C AHT / (n - a)``;
  occupancy ``a / n``.
* **Erlang A** (M/M/n+M, exponential patience with mean ``P``, ``theta = 1/P``):
  with ``x = n mu / theta``, ``y = lambda / theta``, ``rho = a / n`` and the
  queue series ``S(x, y) = sum_k y^k / prod_{j<=k}(x + j)`` (Mandelbaum & Zeltyn's
  ``A(x, y) = x e^y y^-x gamma(x, y)``):

  - ``P(wait) = S B / (1 - B + S B)``;
  - ``P(abandon | wait) = 1 - (1 - 1/S) / rho``;
  - offered wait tail ``P(V > t | wait) = gamma(x, y u) / gamma(x, y)`` with
    ``u = exp(-theta t)``, i.e. ``exp(-n mu t + y (1 - u)) S(x, y u) / S(x, y)``;
  - answered within ``t``: ``1 - P(wait) + P(wait) [(S - 1) - G_t (S(x, yu) - 1)] / (rho S)``
    with ``G_t = exp(-n mu t + y (1 - u))``;
  - abandoned within ``t``: ``P(wait) [1 - u P(V > t | wait)]`` minus those
    answered after waiting, within ``t``;
  - mean wait of all callers ``P(abandon) * P`` (exponential patience:
    abandonment rate ``theta E[Q]`` equals ``lambda P(abandon)``);
  - ASA of answered callers from the per-position sums (a caller with ``k``
    ahead is answered with probability ``x / (x + k + 1)``).

Every figure is computed in log space (see :mod:`._series`), stable from 1 to
10,000 agents and for any ``lambda * t``.

.. versionadded:: 0.1
"""

from __future__ import annotations

import math

import attrs

from .._errors import ValidationError
from ._series import QueueSums, log_inv_erlang_b, logaddexp, queue_sums

__all__ = ["ErlangA", "ErlangC", "erlang_b", "erlang_c"]


def _check_agents(agents: int) -> int:
    if isinstance(agents, bool) or not isinstance(agents, int) or agents < 0:  # type: ignore[redundant-expr]
        raise ValidationError(f"agents must be an integer >= 0, got {agents!r}")
    return agents


def _check_nonneg(name: str, value: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise ValidationError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _check_positive(name: str, value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        raise ValidationError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def _check_time(t: float) -> float:
    return _check_nonneg("t", t)


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability of ``agents`` servers offered ``load`` erlangs (Erlang B).

    ``B(n, a) = (a^n / n!) / sum_{m=0..n} a^m / m!``, computed with the inverse
    recursion ``1/B(n) = 1 + (n / a) / B(n - 1)`` (no factorial, no overflow).
    ``B(0, a) = 1``; ``B(n, 0) = 0`` for ``n >= 1``.

    Example: ``erlang_b(2, 1.0) == 0.2`` (``(1/2) / (1 + 1 + 1/2)``).
    """
    n = _check_agents(agents)
    a = _check_nonneg("load", load)
    return math.exp(-log_inv_erlang_b(n, a))


def _log_erlang_c(n: int, a: float, log_inv_b: float) -> float:
    # 1/C = a/n + ((n - a)/n) (1/B), summed in log space.
    return -logaddexp(math.log(a) - math.log(n), math.log1p(-a / n) + log_inv_b)


def erlang_c(agents: int, load: float) -> float:
    """Probability that a caller waits in M/M/n (Erlang C): ``C = n B / (n - a (1 - B))``.

    Equals 1 when ``load >= agents`` (the queue grows without bound) or there
    are no agents, and 0 when ``load == 0`` on at least one agent. Always at
    least :func:`erlang_b`.

    Example: ``erlang_c(2, 1.0) == 1/3``.
    """
    n = _check_agents(agents)
    a = _check_nonneg("load", load)
    if n == 0:
        return 1.0
    if a == 0.0:
        return 0.0
    if a >= n:
        return 1.0
    return math.exp(_log_erlang_c(n, a, log_inv_erlang_b(n, a)))


@attrs.frozen
class ErlangC:
    """An M/M/n queue: Poisson arrivals, exponential handling, callers never give up.

    Attributes:
        arrival_rate: Contacts per second (``lambda``).
        aht: Average handle time in seconds (talk + hold + wrap-up).
        agents: Agents taking contacts (``n``).
        load: Offered load in erlangs, ``arrival_rate * aht``.
        p_wait: Probability that a contact waits (Erlang C); 1 when unstable.
    """

    arrival_rate: float = attrs.field(converter=float)
    aht: float = attrs.field(converter=float)
    agents: int
    load: float = attrs.field(init=False)
    p_wait: float = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        _check_nonneg("arrival_rate", self.arrival_rate)
        _check_positive("aht", self.aht)
        _check_agents(self.agents)
        load = self.arrival_rate * self.aht
        object.__setattr__(self, "load", load)
        object.__setattr__(self, "p_wait", erlang_c(self.agents, load))

    @property
    def stable(self) -> bool:
        """True when the queue does not grow without bound (``load < agents`` or no traffic)."""
        return self.load == 0.0 or self.load < self.agents

    def service_level(self, t: float) -> float:
        """Fraction of contacts answered within ``t`` seconds: ``1 - C exp(-(n - a) t / AHT)``.

        0 when unstable; 1 without traffic.
        """
        t = _check_time(t)
        if self.load == 0.0:
            return 1.0
        if not self.stable:
            return 0.0
        return 1.0 - self.p_wait * math.exp(-(self.agents - self.load) * t / self.aht)

    @property
    def asa(self) -> float:
        """Average speed of answer in seconds: ``C AHT / (n - a)`` (``inf`` when unstable)."""
        if self.load == 0.0:
            return 0.0
        if not self.stable:
            return math.inf
        return self.p_wait * self.aht / (self.agents - self.load)

    @property
    def mean_wait(self) -> float:
        """Average wait of all contacts: the ASA, since every contact is answered."""
        return self.asa

    @property
    def occupancy(self) -> float:
        """Fraction of agent time spent handling: ``a / n``, at most 1 (0 without agents)."""
        if self.agents == 0:
            return 0.0
        return min(1.0, self.load / self.agents)


@attrs.frozen
class ErlangA:
    """An M/M/n+M queue: like :class:`ErlangC`, but callers hang up after an exponential patience.

    Because impatient callers leave, the queue is stable for every ``n`` and
    ``n`` may be below the offered load.

    Attributes:
        arrival_rate: Contacts per second (``lambda``).
        aht: Average handle time in seconds.
        agents: Agents taking contacts (``n``).
        patience: Mean time a caller is willing to wait, in seconds (``1/theta``).
        load: Offered load in erlangs, ``arrival_rate * aht``.
        p_wait: Probability that an arriving contact has to wait.
        p_abandon: Probability that an arriving contact hangs up before an answer.
        asa: Average wait of the contacts that are answered (0 when none are).
        mean_wait: Average wait of all contacts, answered or not (``p_abandon * patience``).
        occupancy: Carried load over agents, ``(1 - p_abandon) a / n`` (0 without agents).
    """

    arrival_rate: float = attrs.field(converter=float)
    aht: float = attrs.field(converter=float)
    agents: int
    patience: float = attrs.field(converter=float)
    load: float = attrs.field(init=False)
    p_wait: float = attrs.field(init=False)
    p_abandon: float = attrs.field(init=False)
    asa: float = attrs.field(init=False)
    mean_wait: float = attrs.field(init=False)
    occupancy: float = attrs.field(init=False)
    _sums: QueueSums | None = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        lam = _check_nonneg("arrival_rate", self.arrival_rate)
        aht = _check_positive("aht", self.aht)
        n = _check_agents(self.agents)
        patience = _check_positive("patience", self.patience)
        load = lam * aht
        self._set(load=load, sums=None)
        if lam == 0.0:
            self._set(p_wait=0.0, p_abandon=0.0, asa=0.0, mean_wait=0.0, occupancy=0.0)
            return
        if n == 0:
            self._set(p_wait=1.0, p_abandon=1.0, asa=0.0, mean_wait=patience, occupancy=0.0)
            return
        x = n * patience / aht
        y = lam * patience
        rho = load / n
        sums = queue_sums(x, y, moments=True)
        log_inv_b = log_inv_erlang_b(n, load)
        # P(wait) = 1 / (1 + (1 - B) / (S B)), with r the log of the second term.
        b = math.exp(-log_inv_b)
        r = (math.log1p(-b) if b < 1.0 else -math.inf) + log_inv_b - sums.log_s
        p_wait = _logistic(-r)
        p_ab_wait = min(1.0, sums.k_mean / (y * sums.s))
        p_abandon = p_wait * p_ab_wait
        answered = 1.0 - p_abandon
        wait_answered = p_wait * patience * sums.h_sum / (rho * sums.s)
        self._set(
            sums=sums,
            p_wait=p_wait,
            p_abandon=p_abandon,
            asa=wait_answered / answered if answered > 0.0 else 0.0,
            mean_wait=p_abandon * patience,
            occupancy=min(1.0, answered * rho),
        )

    def _set(self, **values: object) -> None:
        for name, value in values.items():
            object.__setattr__(self, "_sums" if name == "sums" else name, value)

    def _after(self, t: float) -> tuple[float, float]:
        """Return ``(answered within t | wait, P(V > t | wait))`` for a waiting caller."""
        sums = self._sums
        if sums is None:  # pragma: no cover - callers handle the no-sums cases first
            raise AssertionError("no queue sums")
        n = self.agents
        theta = 1.0 / self.patience
        x = n * self.patience / self.aht
        y = self.arrival_rate * self.patience
        rho = self.load / n
        later = queue_sums(x, y * math.exp(-theta * t))
        log_g = -n * t / self.aht - y * math.expm1(-theta * t) + later.log_scale - sums.log_scale
        g = math.exp(log_g) if log_g > -745.0 else 0.0
        answered = (sums.s_minus_1 - g * later.s_minus_1) / (rho * sums.s)
        tail = g * later.s / sums.s
        return min(max(answered, 0.0), 1.0), min(max(tail, 0.0), 1.0)

    def service_level(self, t: float) -> float:
        """Fraction of *offered* contacts answered within ``t`` seconds.

        Abandoned contacts count in the denominator and never as answered:
        ``1 - P(wait) + P(wait) P(answered within t | wait)``.
        """
        t = _check_time(t)
        if self._sums is None:
            return 1.0 if self.arrival_rate == 0.0 else 0.0
        answered, _ = self._after(t)
        return (1.0 - self.p_wait) + self.p_wait * answered

    def abandoned_within(self, t: float) -> float:
        """Fraction of offered contacts that hang up within ``t`` seconds of arriving.

        ``P(wait) (1 - exp(-theta t) P(V > t | wait) - P(answered within t | wait))``:
        a waiting caller's wait ends by ``t`` either by an answer or by hanging up.
        """
        t = _check_time(t)
        if self._sums is None:
            return 0.0 if self.arrival_rate == 0.0 else -math.expm1(-t / self.patience)
        answered, tail = self._after(t)
        left = 1.0 - math.exp(-t / self.patience) * tail - answered
        return min(max(self.p_wait * left, 0.0), self.p_abandon)


def _logistic(z: float) -> float:
    """``1 / (1 + exp(-z))`` without overflow."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
