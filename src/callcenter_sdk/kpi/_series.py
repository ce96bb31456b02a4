"""Numerical kernels of the Erlang formulas, in log space.

Two sums carry all of Erlang B, C and A:

* the inverse Erlang B function ``1/B(n, a) = sum_{m=0..n} (a^m/m!) / (a^n/n!)``,
  computed by the recursion ``1/B(n) = 1 + (n/a) / B(n-1)`` with a running
  power-of-two rescale so that it never overflows, even at 10,000 agents;
* the queue series of M/M/n+M, ``S(x, y) = sum_{k>=0} y^k / ((x+1)(x+2)...(x+k))``
  (Kummer's ``M(1, x+1, y)``; ``S = x e^y y^-x gamma(x, y)`` with the lower
  incomplete gamma), where ``x = n*mu/theta`` and ``y = lambda/theta``. Its terms
  rise until ``k = y - x`` and then fall like a Gaussian, so the sum starts at
  the peak (its logarithm from ``lgamma``) and walks both ways until the terms
  no longer change the total: ``O(sqrt(max(x, y)))`` terms, never an overflow
  and never a factorial.

These are private: the public formulas live in :mod:`._erlang`.
"""

from __future__ import annotations

import math

import attrs

__all__ = ["QueueSums", "digamma", "log_inv_erlang_b", "logaddexp", "queue_sums"]

_EPS = 1e-17
_RESCALE_AT = 2.0**600
_RESCALE_LOG = 600 * math.log(2.0)


def logaddexp(p: float, q: float) -> float:
    """Return ``log(exp(p) + exp(q))`` without overflow."""
    if p == -math.inf:
        return q
    if q == -math.inf:
        return p
    hi, lo = (p, q) if p >= q else (q, p)
    return hi + math.log1p(math.exp(lo - hi))


def log_inv_erlang_b(agents: int, load: float) -> float:
    """Return ``log(1/B(agents, load))`` by the stable inverse recursion.

    ``1/B(0) = 1`` and ``1/B(n) = 1 + (n/a)/B(n-1)``: every step adds positive
    terms, so rounding errors do not grow; a rescale by ``2**-600`` whenever the
    value passes ``2**600`` keeps it finite for any number of agents.
    """
    if agents == 0:
        return 0.0
    if load == 0.0:
        return math.inf
    if load < agents * 1e-100:
        # (n / a) alone could overflow: step in log space instead.
        log_inv = 0.0
        log_load = math.log(load)
        for n in range(1, agents + 1):
            log_inv = logaddexp(0.0, log_inv + math.log(n) - log_load)
        return log_inv
    inv = 1.0
    one = 1.0
    log_scale = 0.0
    for n in range(1, agents + 1):
        inv = one + inv * n / load
        if inv > _RESCALE_AT:
            inv /= _RESCALE_AT
            one /= _RESCALE_AT
            log_scale += _RESCALE_LOG
    return log_scale + math.log(inv)


def digamma(z: float) -> float:
    """Return the digamma function psi(z) for z > 0 (recurrence then asymptotic series)."""
    result = 0.0
    while z < 8.0:
        result -= 1.0 / z
        z += 1.0
    inv2 = 1.0 / (z * z)
    series = inv2 * (
        1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (1.0 / 240 - inv2 / 132)))
    )
    return result + math.log(z) - 0.5 / z - series


@attrs.frozen
class QueueSums:
    """Sums over the waiting states of M/M/n+M, all scaled by ``exp(-log_scale)``.

    With ``p_k = y^k / prod_{j=1..k}(x+j)`` (so ``p_0 = 1``):

    Attributes:
        log_scale: The logarithm of the common scale (the largest term).
        s: ``sum_{k>=0} p_k``, i.e. ``S(x, y)``.
        s_minus_1: ``sum_{k>=1} p_k`` (``S - 1`` without cancellation).
        k_mean: ``sum_k k p_k`` (the mean queue length times ``S``).
        h_sum: ``sum_{k>=1} p_k H_k`` with ``H_k = sum_{j=1..k} 1/(x+j)``.
    """

    log_scale: float
    s: float
    s_minus_1: float
    k_mean: float
    h_sum: float

    @property
    def log_s(self) -> float:
        """``log S(x, y)``."""
        return self.log_scale + math.log(self.s)


def _peak(x: float, y: float) -> int:
    if y <= x:
        return 0
    return int(y - x)


def queue_sums(x: float, y: float, *, moments: bool = False) -> QueueSums:
    """Sum the M/M/n+M queue series from its largest term outwards.

    ``moments`` adds ``k_mean`` and ``h_sum`` (needed for the abandonment
    probability and the ASA of answered contacts); without it they are zero.
    """
    top = _peak(x, y)
    log_scale = (
        0.0 if top == 0 else top * math.log(y) + math.lgamma(x + 1) - math.lgamma(x + top + 1)
    )
    h_top = digamma(x + top + 1) - digamma(x + 1) if moments and top > 0 else 0.0
    up = 0.0
    down = 0.0
    k_mean = float(top)
    h_sum = h_top
    # Walk upwards from the peak: terms only fall.
    term = 1.0
    h = h_top
    k = top
    while True:
        k += 1
        term *= y / (x + k)
        up += term
        if moments:
            h += 1.0 / (x + k)
            k_mean += k * term
            h_sum += h * term
        if term < _EPS * (1.0 + up):
            break
    # Walk downwards to k = 0: terms only fall there too.
    term = 1.0
    h = h_top
    k = top
    while k > 0:
        term *= (x + k) / y
        if moments:
            h -= 1.0 / (x + k)
        k -= 1
        down += term
        if moments:
            k_mean += k * term
            h_sum += h * term
        if term < _EPS * (1.0 + up + down):
            break
    s = 1.0 + up + down
    # With the peak at p_0 = 1 the upward walk is exactly S - 1 (no cancellation);
    # otherwise p_1 > 1, so S > 2 and subtracting p_0 loses nothing.
    s_minus_1 = up if top == 0 else s - math.exp(-log_scale)
    return QueueSums(log_scale, s, s_minus_1, k_mean, h_sum)
