"""Accuracy of the announced estimated wait against simulated M/M/N traffic.

The estimator is ``position × AHT / available agents``. For a first-come
first-served queue whose N agents are all busy, the k-th contact in line waits
for k departures at rate N / AHT, so its expected wait is exactly k × AHT / N:
the estimate should be unbiased on average and follow the real waits. The
test drives the real engine with Poisson arrivals and exponential handle times
(a fixed seed, so it is deterministic) and compares.
"""

from __future__ import annotations

import heapq
import random
import statistics

from callcenter_sdk import acd
from callcenter_sdk.testing import AcdHarness

AGENTS = 10
AHT = 180.0
LOAD = 0.95
CALLS = 4000


def _simulate(seed: int) -> list[tuple[float, float]]:
    """(announced EWT, actual wait) of every contact that had to queue."""
    rng = random.Random(seed)
    h = AcdHarness(policy=acd.RoutingPolicy(aht_smoothing=0.02))
    h.queue("q", initial_handle_time=AHT)
    for i in range(AGENTS):
        h.agent(f"a{i}")
    announced: dict[str, float] = {}
    happenings: list[tuple[float, int, str]] = []
    t = 0.0
    for n in range(CALLS):
        t += rng.expovariate(LOAD * AGENTS / AHT)
        heapq.heappush(happenings, (t, n, f"c{n}"))
    seq = CALLS

    def perform(actions: list[acd.Action], now: float) -> None:
        nonlocal seq
        for action in actions:
            if isinstance(action, acd.Announce):
                announced.setdefault(action.contact_id, action.estimated_wait)
            elif isinstance(action, acd.Offer):
                perform(h.engine.accept(action.offer_id), now)
                seq += 1
                end = now + rng.expovariate(1 / AHT)
                heapq.heappush(happenings, (end, seq, "hangup:" + action.contact_id))

    while happenings:
        now, _, what = heapq.heappop(happenings)
        h.clock.set(now)
        if what.startswith("hangup:"):
            perform(h.engine.hangup(what.removeprefix("hangup:")), now)
        else:
            perform(h.arrive(what), now)
    waits = {e.contact_id: e.waited for e in h.capture.of(acd.ContactConnected)}
    return [(announced[c], w) for c, w in waits.items() if w > 0]


def _ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    for rank, index in enumerate(order):
        ranks[index] = float(rank)
    return ranks


def test_estimated_wait_is_unbiased_and_follows_real_waits() -> None:
    """Over queued contacts the mean estimate is within 15 % of the mean real wait and
    the estimates rank the waits well (Spearman > 0.8): position matters, as it should."""
    pairs = _simulate(seed=11)
    assert len(pairs) > CALLS // 4  # enough contacts had to queue for a verdict
    predicted = [p for p, _ in pairs]
    actual = [w for _, w in pairs]
    bias = statistics.fmean(predicted) / statistics.fmean(actual)
    assert 0.85 < bias < 1.15, bias
    rho = statistics.correlation(_ranks(predicted), _ranks(actual))
    assert rho > 0.8, rho
