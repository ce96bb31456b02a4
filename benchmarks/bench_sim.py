"""Simulated contacts per second: our simulator on the real ACD versus ciw.

Both simulate the same M/M/N+M call center (exponential arrivals, handle
times and patience) for the same virtual duration; the figure is simulated
contacts per wall-clock second, best of a few rounds so a busy machine
matters less. ciw (a general-purpose queueing-network simulator from PyPI) is
the baseline run in the same process. Both results are also compared with
Erlang A, to show they simulate the same system.

Run: .venv/bin/python benchmarks/bench_sim.py
"""

from __future__ import annotations

import json
import time
from typing import Any

from callcenter_sdk.acd import Queue
from callcenter_sdk.kpi import ErlangA
from callcenter_sdk.sim import AgentGroup, Exponential, Poisson, QueueLoad, Scenario, simulate

RATE = 50 / 60  # contacts per second: 50 per minute
AHT = 180.0
PATIENCE = 120.0
AGENTS = 150
DURATION = 4 * 3600.0
ROUNDS = 3


def ours() -> tuple[float, int, dict[str, float]]:
    """Best time, contact count and KPIs of our simulator on the scenario."""
    scenario = Scenario(
        loads=(
            QueueLoad(
                queue=Queue(name="support"),
                arrivals=Poisson(RATE),
                handle_time=Exponential(AHT),
                patience=Exponential(PATIENCE),
            ),
        ),
        agents=(AgentGroup(prefix="a", count=AGENTS, memberships=("support",)),),
        duration=DURATION,
        short_abandon_s=0.0,
    )
    best = float("inf")
    contacts = 0
    figures: dict[str, float] = {}
    for seed in range(ROUNDS):
        start = time.perf_counter()
        result = simulate(scenario, seed=seed)
        elapsed = time.perf_counter() - start
        best = min(best, elapsed)
        contacts = len(result.records)
        report = result.report(20.0, warmup=1800)
        figures = {"abandon_rate": report.abandon_rate, "asa": report.asa}
    return best, contacts, figures


def baseline() -> tuple[float, int, dict[str, float]] | None:
    """The same for ciw, or None when ciw is not installed."""
    try:
        import ciw  # noqa: PLC0415 - optional baseline
    except ImportError:
        return None
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=RATE)],
        service_distributions=[ciw.dists.Exponential(rate=1 / AHT)],
        number_of_servers=[AGENTS],
        reneging_time_distributions=[ciw.dists.Exponential(rate=1 / PATIENCE)],
    )
    best = float("inf")
    contacts = 0
    figures: dict[str, float] = {}
    for seed in range(ROUNDS):
        ciw.seed(seed)
        sim = ciw.Simulation(network)
        start = time.perf_counter()
        sim.simulate_until_max_time(DURATION)
        elapsed = time.perf_counter() - start
        best = min(best, elapsed)
        records: list[Any] = sim.get_all_records()
        contacts = len(records)
        late = [r for r in records if r.arrival_date >= 1800]
        served = [r for r in late if r.record_type == "service"]
        reneged = [r for r in late if r.record_type == "renege"]
        figures = {
            "abandon_rate": len(reneged) / max(1, len(served) + len(reneged)),
            "asa": sum(r.waiting_time for r in served) / max(1, len(served)),
        }
    return best, contacts, figures


def main() -> None:
    """Run both, print the comparison and the JSON line."""
    model = ErlangA(arrival_rate=RATE, aht=AHT, agents=AGENTS, patience=PATIENCE)
    print(
        f"M/M/{AGENTS}+M: {RATE * 60:g} contacts/min, AHT {AHT:g} s, "
        f"patience {PATIENCE:g} s, {DURATION / 3600:g} h simulated"
    )
    print(f"Erlang A        abandon {model.p_abandon:.4f}  ASA {model.asa:6.2f} s")
    ours_s, ours_n, ours_fig = ours()
    ours_rate = ours_n / ours_s
    print(
        f"callcenter_sdk  abandon {ours_fig['abandon_rate']:.4f}  ASA {ours_fig['asa']:6.2f} s  "
        f"{ours_n} contacts in {ours_s:.3f} s = {ours_rate:,.0f} contacts/s"
    )
    out: dict[str, object] = {
        "contacts": ours_n,
        "contacts_per_s": round(ours_rate),
        "ciw_contacts_per_s": None,
        "ratio": None,
        "erlang_a_abandon": round(model.p_abandon, 4),
        "abandon": round(ours_fig["abandon_rate"], 4),
    }
    base = baseline()
    if base is None:
        print("ciw is not installed (pip install ciw): no baseline")
    else:
        ciw_s, ciw_n, ciw_fig = base
        ciw_rate = ciw_n / ciw_s
        ratio = ours_rate / ciw_rate
        print(
            f"ciw             abandon {ciw_fig['abandon_rate']:.4f}  ASA {ciw_fig['asa']:6.2f} s  "
            f"{ciw_n} contacts in {ciw_s:.3f} s = {ciw_rate:,.0f} contacts/s"
        )
        print(f"ratio           {ratio:.1f}x ciw")
        out.update(
            ciw_contacts_per_s=round(ciw_rate),
            ratio=round(ratio, 2),
            ciw_abandon=round(ciw_fig["abandon_rate"], 4),
        )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
