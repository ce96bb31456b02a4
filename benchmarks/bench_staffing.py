"""Interval staffing of 96 intervals x 100 queues under Erlang C and Erlang A.

Run: ``.venv/bin/python benchmarks/bench_staffing.py``

* ours: :func:`callcenter_sdk.kpi.staffing_table` (80 % within 20 s, occupancy
  at most 0.85, shrinkage 0.3), Erlang C and Erlang A (patience per queue).
* pyworkforce (if importable): ``pyworkforce.queuing.ErlangC.required_positions``
  on the same 9,600 intervals; every difference in raw or scheduled agents is
  counted and explained. pyworkforce has no Erlang A for Python 3.11 (0.5.1 is
  the newest release installable here), so Erlang A is compared with:
* a direct baseline written here, independent of the library: the truncated
  birth-death chain of M/M/n+M summed state by state for P(wait), the tagged
  caller's answer probability summed position by position, and a linear scan
  of ``n`` from ``floor(a / 2)``; and the same for Erlang C (M/M/n sums, scan
  from ``floor(a) + 1``). Run on every 25th queue (384 intervals), since it is
  slow, against ours timed on the same intervals.

The last line is one JSON object.
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from fractions import Fraction
from typing import Any

import attrs

from callcenter_sdk.kpi import IntervalForecast, StaffingTargets, staffing_table

QUEUES = 100
INTERVALS = 96
INTERVAL_S = 900.0
SL, WITHIN, MAX_OCC, SHRINKAGE = 0.8, 20.0, 0.85, 0.3
BASELINE_QUEUES = 4


def forecast() -> list[IntervalForecast]:
    """A day of 15-minute intervals per queue: a double-hump profile, random sizes."""
    rng = random.Random(4)
    out = []
    for q in range(QUEUES):
        peak = rng.uniform(10, 400)
        aht = rng.choice([180, 240, 300, 360, 420])
        patience = rng.choice([60, 120, 180, 300])
        for i in range(INTERVALS):
            hour = i / 4
            shape = math.exp(-((hour - 11) ** 2) / 6) + 0.8 * math.exp(-((hour - 15) ** 2) / 5)
            volume = round(peak * (0.02 + shape) * rng.uniform(0.9, 1.1))
            out.append(
                IntervalForecast(
                    queue=f"q{q:03d}",
                    start=i * INTERVAL_S,
                    volume=volume,
                    aht=aht,
                    interval_s=INTERVAL_S,
                    patience=patience,
                )
            )
    return out


def direct_erlang_a_staffing(fc: IntervalForecast) -> int:
    """Smallest n meeting the targets, from the birth-death chain, state by state.

    A caller finding k others waiting moves k -> k-1 -> ... -> answered at rate
    ``n mu + j theta`` with j ahead and hangs up at rate ``theta``; the chance
    of an answer within t comes from that killed pure-death chain by
    uniformization (a Poisson mixture of its jump chain), started from the
    stationary distribution of the number waiting.
    """
    lam = float(fc.arrival_rate)
    if lam == 0 or fc.patience is None:
        return 0
    mu, theta = 1.0 / fc.aht, 1.0 / fc.patience
    n = max(1, math.floor(lam * fc.aht / 2))
    while not _direct_meets(lam, mu, theta, n):
        n += 1
    return n


def _direct_meets(lam: float, mu: float, theta: float, n: int) -> bool:
    # Stationary distribution, in log space from state 0, truncated far out.
    logs = [0.0]
    for state in range(1, n + 1):
        logs.append(logs[-1] + math.log(lam / (state * mu)))
    k = 0
    while True:
        k += 1
        logs.append(logs[-1] + math.log(lam / (n * mu + k * theta)))
        if k > 20 and logs[-1] < max(logs) - 45:
            break
    top = max(logs)
    probs = [math.exp(v - top) for v in logs]
    total = math.fsum(probs)
    ahead = [p / total for p in probs[n:]]
    queue_len = math.fsum(j * p for j, p in enumerate(ahead))
    carried = (lam - theta * queue_len) / mu  # arrivals minus abandonment
    if carried / n > MAX_OCC:
        return False
    size = len(ahead)
    rate = n * mu + size * theta + theta
    vec, served, acc = list(ahead), 0.0, 0.0
    poisson = math.exp(-rate * WITHIN)
    step = 0
    while step <= rate * WITHIN + 12 * math.sqrt(rate * WITHIN + 1) + 20:
        acc += poisson * served
        new = [0.0] * size
        for j, p in enumerate(vec):
            move = (n * mu + j * theta) / rate
            if j == 0:
                served += p * move
            else:
                new[j - 1] += p * move
            new[j] += p * (1.0 - move - theta / rate)
        vec = new
        step += 1
        poisson *= rate * WITHIN / step
    answered = (1.0 - math.fsum(ahead)) + acc
    return answered >= SL


def direct_erlang_c_staffing(fc: IntervalForecast) -> int:
    """Smallest n meeting the targets from the M/M/n stationary sums, scanning n upwards.

    ``P(wait)`` is the geometric tail of the chain over its total, summed state by
    state in log space; the service level is ``1 - P(wait) exp(-(n - a) t / AHT)``.
    """
    lam = float(fc.arrival_rate)
    if lam == 0:
        return 0
    load = lam * fc.aht
    n = math.floor(load) + 1
    while True:
        logs = [0.0]
        for state in range(1, n + 1):
            logs.append(logs[-1] + math.log(load / state))
        top = max(logs)
        weights = [math.exp(v - top) for v in logs]
        tail = weights[-1] / (1 - load / n)
        p_wait = tail / (math.fsum(weights[:-1]) + tail)
        sl = 1 - p_wait * math.exp(-(n - load) * WITHIN / fc.aht)
        if sl >= SL and load / n <= MAX_OCC:
            return n
        n += 1


def pyworkforce_rows(fcs: list[IntervalForecast]) -> list[dict[str, Any]] | None:
    """Return pyworkforce's Erlang C answer for every interval, or None if it is not installed."""
    try:
        from pyworkforce.queuing import (  # noqa: PLC0415
            ErlangC as PwfErlangC,
        )
    except ImportError:
        return None
    out = []
    for fc in fcs:
        if fc.volume == 0:
            out.append({"raw_positions": 0, "positions": 0})
            continue
        model = PwfErlangC(
            transactions=fc.volume,
            aht=fc.aht / 60,
            asa=WITHIN / 60,
            interval=int(fc.interval_s / 60),
            shrinkage=SHRINKAGE,
        )
        out.append(model.required_positions(service_level=SL, max_occupancy=MAX_OCC))
    return out


def explain(ours_raw: int, ours_sched: int, theirs: dict[str, Any], fc: IntervalForecast) -> str:
    """Say why pyworkforce differs on one interval."""
    exact_load = fc.arrival_rate * Fraction(fc.aht)
    float_load = (fc.volume / (fc.interval_s / 60)) * (fc.aht / 60)  # as pyworkforce computes it
    if theirs["raw_positions"] != ours_raw:
        exact_bound = math.ceil(exact_load / Fraction(repr(MAX_OCC)))
        if ours_raw == exact_bound and theirs["raw_positions"] == math.ceil(float_load / MAX_OCC):
            return "occupancy bound ceil(load / max_occupancy) rounded in floating point"
        return "raw differs"
    if theirs["positions"] == math.ceil(ours_raw / (1 - SHRINKAGE)) != ours_sched:
        return "scheduled = ceil(raw / (1 - shrinkage)) rounded in floating point"
    return "scheduled differs"


def main() -> int:
    """Run the benchmark and print figures, then one JSON line."""
    fcs = forecast()
    targets = StaffingTargets(
        service_level=SL, within=WITHIN, max_occupancy=MAX_OCC, shrinkage=SHRINKAGE
    )
    c_forecasts = [attrs.evolve(fc, patience=None) for fc in fcs]

    t0 = time.perf_counter()
    rows_c = staffing_table(c_forecasts, targets)
    erlang_c_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    rows_a = staffing_table(fcs, targets)
    erlang_a_s = time.perf_counter() - t0
    n = len(fcs)
    print(f"intervals: {n} ({QUEUES} queues x {INTERVALS})")
    print(f"ours Erlang C: {erlang_c_s:.3f} s ({erlang_c_s / n * 1e6:.0f} us/interval)")
    print(f"ours Erlang A: {erlang_a_s:.3f} s ({erlang_a_s / n * 1e6:.0f} us/interval)")
    print(
        f"agent-intervals: Erlang C {sum(r.staffing.raw for r in rows_c)}, "
        f"Erlang A {sum(r.staffing.raw for r in rows_a)}"
    )

    result: dict[str, Any] = {
        "intervals": n,
        "erlang_c_s": round(erlang_c_s, 4),
        "erlang_a_s": round(erlang_a_s, 4),
        "python": sys.version.split()[0],
    }

    t0 = time.perf_counter()
    theirs = pyworkforce_rows(c_forecasts)
    pwf_s = time.perf_counter() - t0
    if theirs is None:
        print("pyworkforce: not installed (pip install pyworkforce); Erlang C comparison skipped")
        result["pyworkforce"] = None
    else:
        reasons: dict[str, int] = {}
        for ours, other, fc in zip(rows_c, theirs, c_forecasts, strict=True):
            st = ours.staffing
            if (st.raw, st.scheduled) != (other["raw_positions"], other["positions"]):
                why = explain(st.raw, st.scheduled, other, fc)
                reasons[why] = reasons.get(why, 0) + 1
        print(f"pyworkforce Erlang C: {pwf_s:.3f} s; ours is {pwf_s / erlang_c_s:.1f}x faster")
        print(f"  intervals that differ: {sum(reasons.values())} of {n}")
        for why, count in sorted(reasons.items()):
            print(f"    {count:5d}  {why}")
        print("  pyworkforce Erlang A: not available for Python 3.11 (0.5.1 has Erlang C only)")
        result["pyworkforce_erlang_c_s"] = round(pwf_s, 4)
        result["pyworkforce_differences"] = reasons

    for model, pool, direct_fn in (
        ("c", c_forecasts, direct_erlang_c_staffing),
        ("a", fcs, direct_erlang_a_staffing),
    ):
        subset = [fc for fc in pool if int(fc.queue[1:]) % (QUEUES // BASELINE_QUEUES) == 0]
        t0 = time.perf_counter()
        ours_subset = [r.staffing.raw for r in staffing_table(subset, targets)]
        ours_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        direct = [direct_fn(fc) for fc in subset]
        direct_s = time.perf_counter() - t0
        mismatches = sum(1 for a, b in zip(ours_subset, direct, strict=True) if a != b)
        print(
            f"direct birth-death Erlang {model.upper()} baseline on {len(subset)} intervals: "
            f"{direct_s:.3f} s against ours {ours_s:.3f} s on the same intervals "
            f"(x{direct_s / ours_s:.1f})"
        )
        print(f"  raw agents that differ from it: {mismatches} of {len(subset)}")
        result[f"direct_erlang_{model}_intervals"] = len(subset)
        result[f"direct_erlang_{model}_s"] = round(direct_s, 3)
        result[f"direct_erlang_{model}_mismatches"] = mismatches
        result[f"erlang_{model}_speedup_vs_direct"] = round(direct_s / ours_s, 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
