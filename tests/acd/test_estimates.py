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

from hypothesis import given
from hypothesis import strategies as st

from callcenter_sdk import EventStream, ManualClock, acd
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


@given(
    before=st.integers(min_value=0, max_value=6),
    paused=st.integers(min_value=0, max_value=3),
    busy=st.integers(min_value=0, max_value=3),
)
def test_the_wait_told_before_arrival_is_the_wait_announced_on_arrival(
    before: int, paused: int, busy: int
) -> None:
    """Whatever the queue holds and however many of its agents are paused or busy
    (a ready one would take the newcomer at once, with no wait to tell),
    ``expected_wait(queue)`` (what an IVR tells a caller before the queue) equals the
    estimated wait of the contact that then arrives (what the queue announces)."""
    clock = ManualClock()
    engine = acd.Engine(clock=clock, events=EventStream())
    engine.add_queue(acd.Queue(name="q", offer_timeout=1e6))
    agents = [f"a{i}" for i in range(paused + busy)]
    for agent in agents:
        engine.add_agent(acd.Agent(id=agent, skills={"q": 1}, memberships=[acd.Membership("q")]))
        engine.login(agent)
    for agent in agents[:busy]:  # each takes a contact and stays on it
        engine.set_ready(agent)
        engine.arrive(acd.Contact(id=f"busy-{agent}"), "q")
    for i in range(before):
        engine.arrive(acd.Contact(id=f"w{i}"), "q")
    told = engine.expected_wait("q")
    engine.arrive(acd.Contact(id="newcomer"), "q")
    assert engine.estimated_wait("newcomer") == told
