"""Simulated contacts per second: our simulator on the real ACD versus ciw.

Both simulate the same M/M/N+M call center (exponential arrivals, handle
times and patience) for the same virtual duration; the figure is simulated
contacts per second of the process's CPU time (``time.process_time``:
on a shared machine, wall-clock time mostly measures the other jobs), best
of the rounds. ciw (a general-purpose queueing-network simulator from PyPI) is
the baseline run in the same process. Both results are also compared with
Erlang A, to show they simulate the same system.

Counting the same thing on both sides:

- contacts are every customer who arrived in the window, including those
  still waiting or talking when it ends (ciw's ``get_all_records()`` leaves
  those out unless asked with ``include_incomplete=True``);
- the abandon rate and ASA are over customers arriving after a 30-minute
  warm-up (both start empty), answered or abandoned ones only, and pooled
  over every round. One 4-hour run of this critically loaded system (150
  erlangs on 150 agents) is noisy: its abandon rate varies by about ±0.007
  from seed to seed, so a single run's figure says little about either
  simulator.

Run: .venv/bin/python benchmarks/bench_sim.py [--scaling]

With ``--scaling`` it also compares both at 50 to 2,000 agents with the
same load per agent: ciw's cost per contact grows with the number of
servers, ours does not.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from typing import Any

from callcenter_sdk.acd import Queue
from callcenter_sdk.kpi import ErlangA, Outcome
from callcenter_sdk.sim import AgentGroup, Exponential, Poisson, QueueLoad, Scenario, simulate

RATE = 50 / 60  # contacts per second: 50 per minute
AHT = 180.0
PATIENCE = 120.0
AGENTS = 150
DURATION = 4 * 3600.0
WARMUP = 1800.0
ROUNDS = 10
SCALING_AGENTS = (50, 150, 500, 1000, 2000)


class _Tally:
    """Answered and abandoned customers and waits, pooled over rounds."""

    def __init__(self) -> None:
        self.answered = 0
        self.abandoned = 0
        self.wait = 0.0
        self.rates: list[float] = []

    def add(self, answered_waits: list[float], abandoned: int) -> None:
        self.answered += len(answered_waits)
        self.abandoned += abandoned
        self.wait += sum(answered_waits)
        self.rates.append(abandoned / max(1, len(answered_waits) + abandoned))

    def figures(self) -> dict[str, float]:
        return {
            "abandon_rate": self.abandoned / max(1, self.answered + self.abandoned),
            "asa": self.wait / max(1, self.answered),
            "abandon_min": min(self.rates),
            "abandon_max": max(self.rates),
        }


def ours(
    agents: int = AGENTS, rate: float = RATE, duration: float = DURATION, rounds: int = ROUNDS
) -> tuple[float, int, dict[str, float]]:
    """Best time, contact count and pooled KPIs of our simulator on the scenario."""
    scenario = Scenario(
        loads=(
            QueueLoad(
                queue=Queue(name="support"),
                arrivals=Poisson(rate),
                handle_time=Exponential(AHT),
                patience=Exponential(PATIENCE),
            ),
        ),
        agents=(AgentGroup(prefix="a", count=agents, memberships=("support",)),),
        duration=duration,
        short_abandon_s=0.0,
    )
    best = float("inf")
    contacts = 0
    tally = _Tally()
    for seed in range(rounds):
        gc.collect()  # the previous round's garbage is not this round's cost
        start = time.process_time()
        result = simulate(scenario, seed=seed)
        elapsed = time.process_time() - start
        if elapsed < best:
            best, contacts = elapsed, len(result.records)
        late = [r for r in result.records if r.arrived_at >= WARMUP]
        tally.add(
            [
                r.answered_at - r.arrived_at
                for r in late
                if r.outcome is Outcome.ANSWERED and r.answered_at is not None
            ],
            sum(r.outcome is Outcome.ABANDONED for r in late),
        )
    return best, contacts, tally.figures()


def baseline(
    agents: int = AGENTS, rate: float = RATE, duration: float = DURATION, rounds: int = ROUNDS
) -> tuple[float, int, dict[str, float]] | None:
    """The same for ciw, or None when ciw is not installed."""
    try:
        import ciw  # noqa: PLC0415 - optional baseline
    except ImportError:
        return None
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=rate)],
        service_distributions=[ciw.dists.Exponential(rate=1 / AHT)],
        number_of_servers=[agents],
        reneging_time_distributions=[ciw.dists.Exponential(rate=1 / PATIENCE)],
    )
    best = float("inf")
    contacts = 0
    tally = _Tally()
    for seed in range(rounds):
        ciw.seed(seed)
        sim = ciw.Simulation(network)
        gc.collect()
        start = time.process_time()
        sim.simulate_until_max_time(duration)
        elapsed = time.process_time() - start
        # Every arrival, those still in the system at the end included.
        everyone: list[Any] = sim.get_all_records(include_incomplete=True)
        if elapsed < best:
            best, contacts = elapsed, len(everyone)
        late = [r for r in everyone if r.arrival_date >= WARMUP]
        tally.add(
            [r.waiting_time for r in late if r.record_type == "service"],
            sum(r.record_type == "renege" for r in late),
        )
    return best, contacts, tally.figures()


def _line(name: str, fig: dict[str, float], n: int, seconds: float) -> str:
    return (
        f"{name:<15} abandon {fig['abandon_rate']:.4f} "
        f"(runs {fig['abandon_min']:.4f}..{fig['abandon_max']:.4f})  ASA {fig['asa']:5.2f} s  "
        f"{n} contacts in {seconds:.3f} s = {n / seconds:,.0f} contacts/s"
    )


def scaling() -> dict[str, object]:
    """Speed against the number of agents, at the same load per agent (150 erlangs on 150).

    Each size simulates about 12,000 contacts, best of two rounds. ciw looks
    at every server for each event; our engine keeps ready agents indexed.
    """
    figures: dict[str, object] = {}
    print("\nscaling: M/M/N+M at one erlang per agent, ~12,000 contacts each, best of 2")
    print(f"{'agents':>7} {'ours/s':>9} {'ciw/s':>9} {'ratio':>6}")
    for agents in SCALING_AGENTS:
        rate = agents / AHT
        duration = 12_000 / rate
        ours_s, ours_n, _ = ours(agents, rate, duration, rounds=2)
        base = baseline(agents, rate, duration, rounds=2)
        ciw_rate = base[1] / base[0] if base is not None else None
        ratio = (ours_n / ours_s) / ciw_rate if ciw_rate else None
        print(
            f"{agents:>7} {ours_n / ours_s:>9,.0f} "
            + (f"{ciw_rate:>9,.0f} {ratio:>5.2f}x" if ciw_rate and ratio else "no ciw")
        )
        figures[f"agents_{agents}"] = {
            "contacts_per_s": round(ours_n / ours_s),
            "ciw_contacts_per_s": round(ciw_rate) if ciw_rate else None,
            "ratio": round(ratio, 2) if ratio else None,
        }
    return figures


def main() -> None:
    """Run both, print the comparison and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scaling", action="store_true", help="also compare at 50 to 2,000 agents (~2 min)"
    )
    args = parser.parse_args()
    model = ErlangA(arrival_rate=RATE, aht=AHT, agents=AGENTS, patience=PATIENCE)
    print(
        f"M/M/{AGENTS}+M: {RATE * 60:g} contacts/min, AHT {AHT:g} s, "
        f"patience {PATIENCE:g} s, {DURATION / 3600:g} h simulated, {ROUNDS} rounds "
        f"(speed: best round; KPIs: pooled after a {WARMUP / 60:g}-minute warm-up)"
    )
    print(f"{'Erlang A':<15} abandon {model.p_abandon:.4f}  ASA {model.asa:5.2f} s")
    ours_s, ours_n, ours_fig = ours()
    ours_rate = ours_n / ours_s
    print(_line("callcenter_sdk", ours_fig, ours_n, ours_s))
    out: dict[str, object] = {
        "contacts": ours_n,
        "contacts_per_s": round(ours_rate),
        "ciw_contacts_per_s": None,
        "ratio": None,
        "erlang_a_abandon": round(model.p_abandon, 4),
        "erlang_a_asa": round(model.asa, 2),
        "abandon": round(ours_fig["abandon_rate"], 4),
        "asa": round(ours_fig["asa"], 2),
    }
    base = baseline()
    if base is None:
        print("ciw is not installed (pip install ciw): no baseline")
    else:
        ciw_s, ciw_n, ciw_fig = base
        ciw_rate = ciw_n / ciw_s
        ratio = ours_rate / ciw_rate
        print(_line("ciw", ciw_fig, ciw_n, ciw_s))
        print(f"{'ratio':<15} {ratio:.2f}x ciw")
        out.update(
            ciw_contacts_per_s=round(ciw_rate),
            ratio=round(ratio, 2),
            ciw_abandon=round(ciw_fig["abandon_rate"], 4),
            ciw_asa=round(ciw_fig["asa"], 2),
        )
    if args.scaling:
        out["scaling"] = scaling()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
