"""Simulated contacts per second: our simulator on the real ACD versus ciw.

Both simulate the same M/M/N+M call center (exponential arrivals, handle
times and patience, one erlang per agent) at 50, 150, 1,000 and 2,000 agents,
about 12,000 contacts per run. The figure is simulated contacts per second of
the process's CPU time (``time.process_time``: on a shared machine,
wall-clock time mostly measures the other jobs), best of the rounds. ciw (a
general-purpose queueing-network simulator from PyPI) is the baseline run in
the same process, its rounds interleaved with ours (ours first in even
rounds, ciw first in odd ones) so that a change in the machine's load hits
both alike. Each side's time includes getting its records out: our
``simulate()`` folds the engine's events into contact records, ciw's
``get_all_records()`` is timed with its run. At 150 agents both results are
also compared with Erlang A, to show they simulate the same system. One
untimed round of each, at the first size, runs before anything is timed.

Counting the same thing on both sides:

- contacts are every customer who arrived in the window, including those
  still waiting or talking when it ends (ciw's ``get_all_records()`` leaves
  those out unless asked with ``include_incomplete=True``);
- the abandon rate and ASA are over customers arriving after a 30-minute
  warm-up (both start empty), answered or abandoned ones only, and pooled
  over every round.

Last, ``replicate()`` runs 30 replications of the 150-agent day on every
core and then in this process alone (``workers=1``); ``parallel_speedup`` is
the ratio of their wall-clock times (several processes: CPU time of this one
would not see the workers).

Run: .venv/bin/python benchmarks/bench_sim.py [--rounds N] [--no-parallel]
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import math
import os
import resource
import time
from typing import Any

from callcenter_sdk.acd import Queue
from callcenter_sdk.kpi import ErlangA, Outcome
from callcenter_sdk.sim import (
    AgentGroup,
    Exponential,
    Poisson,
    QueueLoad,
    Scenario,
    replicate,
    simulate,
)

AHT = 180.0
PATIENCE = 120.0
AGENTS = 150
CONTACTS = 12_000  # per run, at every size
WARMUP = 1800.0
ROUNDS = 10  # at 150 agents; 3 at the other sizes
SIZES = (50, 150, 1000, 2000)
REPLICATIONS = 30


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


class _Side:
    """One simulator's best round and pooled KPIs at one size."""

    def __init__(self) -> None:
        self.best = float("inf")
        self.contacts = 0
        self.tally = _Tally()

    def add(self, elapsed: float, contacts: int, waits: list[float], abandoned: int) -> None:
        if elapsed < self.best:
            self.best, self.contacts = elapsed, contacts
        self.tally.add(waits, abandoned)

    @property
    def rate(self) -> float:
        return self.contacts / self.best


def scenario(agents: int) -> Scenario:
    """The M/M/N+M day at one erlang per agent, about 12,000 contacts."""
    rate = agents / AHT
    return Scenario(
        loads=(
            QueueLoad(
                queue=Queue(name="support"),
                arrivals=Poisson(rate),
                handle_time=Exponential(AHT),
                patience=Exponential(PATIENCE),
            ),
        ),
        agents=(AgentGroup(prefix="a", count=agents, memberships=("support",)),),
        duration=CONTACTS / rate,
        short_abandon_s=0.0,
    )


def ours_round(day: Scenario, seed: int, side: _Side) -> None:
    """One round of our simulator, records included."""
    gc.collect()  # the previous round's garbage is not this round's cost
    start = time.process_time()
    result = simulate(day, seed=seed)
    elapsed = time.process_time() - start
    late = [r for r in result.records if r.arrived_at >= WARMUP]
    side.add(
        elapsed,
        len(result.records),
        [
            r.answered_at - r.arrived_at
            for r in late
            if r.outcome is Outcome.ANSWERED and r.answered_at is not None
        ],
        sum(r.outcome is Outcome.ABANDONED for r in late),
    )


def ciw_round(ciw: Any, agents: int, seed: int, side: _Side) -> None:
    """One round of ciw on the same day, its record extraction included."""
    rate = agents / AHT
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=rate)],
        service_distributions=[ciw.dists.Exponential(rate=1 / AHT)],
        number_of_servers=[agents],
        reneging_time_distributions=[ciw.dists.Exponential(rate=1 / PATIENCE)],
    )
    ciw.seed(seed)
    gc.collect()
    start = time.process_time()
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(CONTACTS / rate)
    # Every arrival, those still in the system at the end included.
    everyone: list[Any] = sim.get_all_records(include_incomplete=True)
    elapsed = time.process_time() - start
    late = [r for r in everyone if r.arrival_date >= WARMUP]
    side.add(
        elapsed,
        len(everyone),
        [r.waiting_time for r in late if r.record_type == "service"],
        sum(r.record_type == "renege" for r in late),
    )


def compare(ciw: Any, agents: int, rounds: int) -> tuple[_Side, _Side | None]:
    """Both simulators at one size, rounds interleaved."""
    day = scenario(agents)
    mine, theirs = _Side(), (_Side() if ciw is not None else None)
    for seed in range(rounds):
        steps = [functools.partial(ours_round, day, seed, mine)]
        if theirs is not None:
            steps.append(functools.partial(ciw_round, ciw, agents, seed, theirs))
        for step in steps if seed % 2 == 0 else reversed(steps):
            step()
    return mine, theirs


def _cpu() -> float:
    """CPU seconds of this process and of its finished children."""
    own, children = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def parallel_speedup(replications: int = REPLICATIONS) -> dict[str, float]:
    """Wall-clock and CPU seconds of ``replicate()`` on every core and on one, best of two.

    The runs alternate (all, one, one, all) so a change in the machine's load
    hits both alike.
    """
    day = scenario(AGENTS)
    best = {"parallel": math.inf, "serial": math.inf}
    cpu = {"parallel": math.inf, "serial": math.inf}
    for name in ("parallel", "serial", "serial", "parallel"):
        gc.collect()
        start, cpu_start = time.perf_counter(), _cpu()
        replicate(day, replications, workers=None if name == "parallel" else 1)
        best[name] = min(best[name], time.perf_counter() - start)
        cpu[name] = min(cpu[name], _cpu() - cpu_start)
    return {
        "parallel_s": best["parallel"],
        "serial_s": best["serial"],
        "parallel_cpu_s": cpu["parallel"],
        "serial_cpu_s": cpu["serial"],
    }


def _line(name: str, fig: dict[str, float], n: int, seconds: float) -> str:
    return (
        f"{name:<15} abandon {fig['abandon_rate']:.4f} "
        f"(runs {fig['abandon_min']:.4f}..{fig['abandon_max']:.4f})  ASA {fig['asa']:5.2f} s  "
        f"{n} contacts in {seconds:.3f} s = {n / seconds:,.0f} contacts/s"
    )


def main() -> None:
    """Run both at every size, then the replications; print the figures and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="rounds at 150 agents")
    parser.add_argument("--no-parallel", action="store_true", help="skip the replications")
    args = parser.parse_args()
    try:
        import ciw  # noqa: PLC0415 - optional baseline
    except ImportError:
        ciw = None
        print("ciw is not installed (pip install ciw): no baseline")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rate = AGENTS / AHT
    model = ErlangA(arrival_rate=rate, aht=AHT, agents=AGENTS, patience=PATIENCE)
    print(
        f"M/M/N+M at one erlang per agent: AHT {AHT:g} s, patience {PATIENCE:g} s, "
        f"~{CONTACTS:,} contacts per run; speed: best round in CPU time, records included"
    )
    out: dict[str, object] = {}
    sides: dict[int, tuple[_Side, _Side | None]] = {}
    # One untimed round of each first: the first run in a fresh interpreter
    # pays one-time costs (the adaptive interpreter specialising, the
    # allocator's first arenas) that would otherwise land on the first size.
    compare(ciw, SIZES[0], 1)
    for agents in SIZES:
        rounds = args.rounds if agents == AGENTS else max(2, args.rounds // 3)
        mine, theirs = sides[agents] = compare(ciw, agents, rounds)
        print(f"\n{agents} agents, {rounds} rounds interleaved")
        if agents == AGENTS:
            print(f"{'Erlang A':<15} abandon {model.p_abandon:.4f}  ASA {model.asa:5.2f} s")
        print(_line("callcenter_sdk", mine.tally.figures(), mine.contacts, mine.best))
        if theirs is not None:
            print(_line("ciw", theirs.tally.figures(), theirs.contacts, theirs.best))
            print(f"{'ratio':<15} {mine.rate / theirs.rate:.2f}x ciw")
    mine, theirs = sides[AGENTS]
    fig = mine.tally.figures()
    out.update(
        contacts=mine.contacts,
        contacts_per_s=round(mine.rate),
        ciw_contacts_per_s=round(theirs.rate) if theirs else None,
        ratio=round(mine.rate / theirs.rate, 2) if theirs else None,
    )
    for agents in SIZES:
        if agents != AGENTS:
            a_mine, a_theirs = sides[agents]
            out[f"ratio_{agents}"] = round(a_mine.rate / a_theirs.rate, 2) if a_theirs else None
    out["flat_2000"] = round(sides[2000][0].rate / mine.rate, 2)
    out["contacts_per_s_by_agents"] = {str(a): round(s[0].rate) for a, s in sides.items()}
    out["ciw_contacts_per_s_by_agents"] = {
        str(a): round(s[1].rate) if s[1] else None for a, s in sides.items()
    }
    out.update(
        erlang_a_abandon=round(model.p_abandon, 4),
        erlang_a_asa=round(model.asa, 2),
        abandon=round(fig["abandon_rate"], 4),
        asa=round(fig["asa"], 2),
    )
    if theirs is not None:
        out.update(
            ciw_abandon=round(theirs.tally.figures()["abandon_rate"], 4),
            ciw_asa=round(theirs.tally.figures()["asa"], 2),
        )
    if not args.no_parallel:
        cores = len(os.sched_getaffinity(0))
        par = parallel_speedup()
        speedup = par["serial_s"] / par["parallel_s"]
        print(
            f"\nreplicate(): {REPLICATIONS} replications of the {AGENTS}-agent day, "
            f"wall clock, best of 2: {cores} workers {par['parallel_s']:.2f} s "
            f"(CPU {par['parallel_cpu_s']:.2f} s), one process {par['serial_s']:.2f} s "
            f"(CPU {par['serial_cpu_s']:.2f} s) = {speedup:.2f}x"
        )
        out.update(parallel_speedup=round(speedup, 2), cores=cores)
        out.update({k: round(v, 2) for k, v in par.items()})
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
