"""A cluster under chaos: three nodes in network namespaces, faults round-robin, nothing lost.

``python benchmarks/bench_cluster.py [--seconds 120] [--faults 12] [--agents 200] [--ttl 2]``
(as root: it makes network namespaces and a private PostgreSQL, see
``tests/cluster/netns.py``; without root it says so and exits 2).

Three node processes (this script with ``node``), each in its own
namespace, share one PostgreSQL in a fourth. Each runs an
:class:`~callcenter_sdk.runtime.Elector` (lease ``--ttl`` seconds) and, while
it leads, the center opened with ``elector=`` (offers and the event log
fenced) with its workload inside the process: chat contacts handed over
with ``center.receive`` (acknowledged, so printed as ``acked``, only once
stored) by several intake tasks, as fast as the agents take them (at most
one agent's capacity of contacts waiting per agent); ``--agents`` agents
(3 chats at once each) accept each offer made to them through the desk
operations (``accept``), hold it ``--handle`` seconds and dispose of it.

Meanwhile this process injects ``--faults`` faults, evenly spread over
``--seconds``, each on the node leading at that moment, round-robin: kill -9
(restarted once another node serves), SIGSTOP (SIGCONT once another node
serves: a stall longer than the lease), and its link to the database down
(up once another node serves). ``takeover`` is the time from the fault to
the next leader's ``serving`` line (its center open and its workload
running); each fault also says when the next leader printed ``elected``
(its lease taken: the old lease's expiry and the acquisition) and
``opened`` (``open_call_center`` done: the term's start, its reads of the
store), and ``takeover_elected_p50_s`` / ``takeover_opened_p50_s`` give
their medians (the rest, to ``serving``, is seating the agents again).
Then the intake stops, the leader drains what waits, and the store is
read:

* ``double_offers``: contacts offered while an offer of the same wait was
  open (``tests/cluster/checks.py``), from the event log;
* ``capacity_overruns``: times an agent held more than 3 chats;
* ``lost_contacts``: acknowledged contacts with no final event and not
  waiting at the end;
* ``stale_commits``: writes a deposed leader committed after the next
  term's first write (audit triggers, commit times);
* ``connected_twice``: contacts connected to an agent twice (a takeover
  gave them to a second agent);
* ``chaos_assignments_per_s``: contacts connected to an agent per second
  of leaders serving (the run less the takeovers) during the chaos. The
  workload is paced by the intake (each ``receive`` returns once its
  contact is stored), not by the leader's routing;
* ``assignments_per_s``: the leader's sustained rate of committed
  assignments, measured in a separate phase at the end, in the leader node
  process (the issue's measure): every agent made not ready, ``--burst``
  chats handed over and stored, then every agent made ready at once; the
  time until all of them were connected (each offer committed under the
  fence before the agent's desk shows it, each accepted and disposed of at
  once). ``None`` when the phase did not finish within 300 s.

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "cluster"))
import checks  # type: ignore[import-not-found]
import netns  # type: ignore[import-not-found]

DOMAIN = "bench"
QUEUE = "chat"
CAPACITY = 3


# -- a node ---------------------------------------------------------------------------------
def _say(*words: object) -> None:
    print(*words, flush=True)


async def node_main(
    url: str,
    name: str,
    *,
    ttl: float,
    agents: int,
    handle: float,
    intakes: int,
    burst: int,
    stop: Path,
) -> None:
    """Run one node until killed: stand by, or lead with the workload inside."""
    burst_file = stop.with_name("burst")
    import anyio  # noqa: PLC0415 - the driver needs none of these

    from callcenter_sdk import ManualClock, StateError  # noqa: PLC0415
    from callcenter_sdk.acd import (  # noqa: PLC0415
        Agent,
        Capacity,
        Contact,
        ContactConnected,
        ContactOffered,
        Membership,
        Queue,
    )
    from callcenter_sdk.ivr import FlowBuilder, ToQueue  # noqa: PLC0415
    from callcenter_sdk.kpi import Channel  # noqa: PLC0415
    from callcenter_sdk.media import VirtualBackend  # noqa: PLC0415
    from callcenter_sdk.runtime import (  # noqa: PLC0415
        CallCenterConfig,
        Elector,
        Seat,
        open_call_center,
        run_virtual,
    )
    from callcenter_sdk.store import Lease, Leases, create_store  # noqa: PLC0415

    config = CallCenterConfig(
        flow=FlowBuilder("bench", start="q").node("q", ToQueue(queue=QUEUE)).build(),
        queues=[Queue(name=QUEUE, channels=[Channel.CHAT], offer_timeout=60.0, wrap_up=0.0)],
        seats=[
            Seat(
                agent=Agent(
                    id=f"a{i}",
                    skills={QUEUE: 3},
                    memberships=[Membership(QUEUE)],
                    capacity=Capacity(limits={Channel.VOICE: 1, Channel.CHAT: CAPACITY}),
                ),
                device=f"sip:a{i}@phones",
            )
            for i in range(agents)
        ],
        announce=False,
    )
    store = create_store(url, upgrade=False)
    elector = Elector(
        Leases(store),
        DOMAIN,
        name,
        ttl=ttl,
        on_lost=lambda lease, reason: _say("lost", name, lease.epoch, reason.replace(" ", "_")),
    )

    async def term(lease: Lease) -> None:
        _say("elected", name, lease.epoch)
        clock = ManualClock(time.time())
        backend = VirtualBackend(clock)
        async with (
            open_call_center(
                backend, config, store=store, clock=clock, run_timers=False, elector=elector
            ) as center,
            anyio.create_task_group() as tg,
        ):
            _say("opened", name, lease.epoch)
            outstanding = 0
            burst_connected = 0  # contacts of the assignment phase connected so far
            assigned = anyio.Event()
            hold = handle
            stopping = False
            acked: list[str] = []
            send, receive = anyio.create_memory_object_stream[tuple[str, str]](100_000)

            def on_event(_seq: int, event: object) -> None:
                nonlocal burst_connected
                if isinstance(event, ContactOffered):
                    send.send_nowait((event.agent_id, event.contact_id))
                elif isinstance(event, ContactConnected) and "-burst-" in event.contact_id:
                    burst_connected += 1
                    if burst_connected >= burst:
                        assigned.set()

            center.subscribe(on_event)

            async def pace() -> None:
                last = time.monotonic()
                while True:
                    await anyio.sleep(0.05)
                    now = time.monotonic()
                    await run_virtual(center, backend, now - last)
                    last = now

            async def work(agent: str, contact: str, *, adopted: bool = False) -> None:
                nonlocal outstanding
                try:
                    # the event comes as the offer is decided; the desk shows it once the
                    # fenced batch is committed: look again until it is there, as a desk would
                    for _ in range(0 if adopted else 1000):
                        try:
                            await center.accept(agent, actor=agent, contact_id=contact)
                            break
                        except StateError:
                            await anyio.sleep(0.01)
                    else:
                        if not adopted:
                            raise StateError(f"{contact} never shown on {agent}'s desk")
                    await anyio.sleep(hold)
                    await center.dispose(contact, "solved", actor=agent)
                except Exception as exc:  # noqa: BLE001 - counted, the run goes on
                    _say("refused", name, lease.epoch, type(exc).__name__, str(exc)[:200])
                if not adopted:  # an adopted chat came from another term's intake
                    outstanding -= 1

            async def agents_work() -> None:
                async with receive:
                    async for agent, contact in receive:
                        tg.start_soon(work, agent, contact)

            async def intake(k: int) -> None:
                nonlocal outstanding
                n = 0
                while not stopping:
                    if outstanding >= agents * (CAPACITY + 1):
                        await anyio.sleep(0.01)  # as fast as the agents take them
                        continue
                    n += 1
                    contact = f"{name}-{lease.epoch}-{k}-{n}"
                    outstanding += 1
                    await center.receive(
                        Contact(id=contact, channel=Channel.CHAT, caller_id=f"{contact}@x"), QUEUE
                    )
                    acked.append(contact)

            async def each_agent(operation: Callable[[str], Coroutine[Any, Any, None]]) -> None:
                async with anyio.create_task_group() as all_at_once:
                    for i in range(agents):
                        all_at_once.start_soon(operation, f"a{i}")

            async def set_ready(agent: str) -> None:
                with contextlib.suppress(Exception):
                    await center.set_ready(agent, actor=agent)

            async def set_not_ready(agent: str) -> None:
                with contextlib.suppress(Exception):
                    await center.set_not_ready(agent, actor=agent)

            async def hand_over(k: int) -> None:
                for n in range(k, burst, intakes):
                    contact = f"{name}-{lease.epoch}-burst-{n}"
                    await center.receive(
                        Contact(id=contact, channel=Channel.CHAT, caller_id=f"{contact}@x"), QUEUE
                    )
                    acked.append(contact)

            async def run_burst() -> None:
                """``burst`` contacts waiting, every agent made ready at once: assignments/s."""
                nonlocal hold
                hold = 0.0
                await each_agent(set_not_ready)
                async with anyio.create_task_group() as handing:
                    for k in range(intakes):
                        handing.start_soon(hand_over, k)
                await center.settle()
                early = burst_connected  # 0 unless an agent could not be made not ready
                started = time.perf_counter()
                await each_agent(set_ready)
                await assigned.wait()
                took = time.perf_counter() - started
                await center.settle()  # the served contacts' rows written (not timed)
                if early:
                    _say("early", early)
                _say("burst", burst, took)

            async def report() -> None:
                nonlocal stopping
                drained = bursted = False
                while True:
                    await anyio.sleep(0.1)
                    stopping = stopping or stop.exists()  # noqa: ASYNC240 - one stat a tick
                    if acked:
                        _say("acked", *acked)
                        acked.clear()
                    if not drained and stopping and not center.engine.live_contacts():
                        await center.settle()  # the served contacts' rows written
                        _say("drained", name, lease.epoch)
                        drained = True
                    if drained and not bursted and burst_file.exists():
                        bursted = True
                        tg.start_soon(run_burst)

            tg.start_soon(pace)
            tg.start_soon(agents_work)
            tg.start_soon(report)
            for i in range(agents):  # chats in hand the term adopted: the agents finish them
                for contact in center.engine.agent_status(f"a{i}").contacts:
                    tg.start_soon(partial(work, f"a{i}", contact, adopted=True))
            await each_agent(set_ready)
            for k in range(intakes):
                tg.start_soon(intake, k)
            _say("serving", name, lease.epoch)

    async with anyio.create_task_group() as tg:
        await tg.start(elector.run)
        _say("ready", name)
        await elector.lead(term)


# -- the driver ---------------------------------------------------------------------------------
class Cluster:
    """The nodes' processes and what their lines said."""

    def __init__(self, nodes: list[Any]) -> None:
        self.nodes = nodes
        self.read = {n.name: 0 for n in nodes}
        self.acked: set[str] = set()
        self.serving: list[tuple[float, str, int]] = []  # (when seen, node, epoch)
        self.marks: dict[tuple[str, int, str], float] = {}  # (node, epoch, elected|opened)
        self.refused = 0
        self.drained = False
        self.burst: tuple[int, float] | None = None

    def poll(self) -> None:
        """Read the nodes' new lines."""
        for node in self.nodes:
            if node.process is None:
                continue
            lines = node.process.lines
            for line in lines[self.read[node.name] : len(lines)]:
                words = line.split()
                if words[0] == "acked":
                    self.acked.update(words[1:])
                elif words[0] == "serving":
                    self.serving.append((time.monotonic(), words[1], int(words[2])))
                elif words[0] in {"elected", "opened"}:
                    self.marks[words[1], int(words[2]), words[0]] = time.monotonic()
                elif words[0] == "refused":
                    self.refused += 1
                    if self.refused <= 5:
                        print(line)
                elif words[0] == "drained":
                    self.drained = True
                elif words[0] == "burst":
                    self.burst = (int(words[1]), float(words[2]))
            self.read[node.name] = len(lines)

    def leader(self) -> tuple[str, int] | None:
        """The node that served last, and its epoch."""
        self.poll()
        return None if not self.serving else self.serving[-1][1:]

    def wait_burst(self, start: Path, timeout: float) -> tuple[int, float] | None:
        """Start the leader's assignment phase; its contacts and seconds (``None``: too slow)."""
        start.touch()
        deadline = time.monotonic() + timeout
        while self.burst is None and time.monotonic() < deadline:
            self.poll()
            time.sleep(0.05)  # polling the nodes' output with a deadline
        return self.burst

    def wait_serving(self, above: int, timeout: float) -> tuple[str, int] | None:
        """Wait for a node to serve at an epoch above ``above`` (``None``: not in time)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.leader()
            if found is not None and found[1] > above:
                return found
            time.sleep(0.02)  # polling the nodes' output with a deadline
        return None


def _sessions(engine: Any) -> None:
    """Print what every database session does (why nobody takes the lease)."""
    from sqlalchemy import text  # noqa: PLC0415

    query = text(
        "SELECT application_name, state, wait_event_type, wait_event,"
        " pg_blocking_pids(pid) AS blocked_by, pid, left(query, 90) AS query"
        " FROM pg_stat_activity WHERE datname = 'bench' ORDER BY application_name"
    )
    with engine.connect() as connection:
        for row in connection.execute(query):
            print("  session:", dict(row._mapping))


@contextlib.contextmanager
def _nodes(net: Any, url_of: Any, args: argparse.Namespace, stop: Path) -> Iterator[list[Any]]:
    def command(node: Any) -> list[str]:
        return [
            sys.executable,
            str(Path(__file__).resolve()),
            "node",
            url_of(node.name),
            node.name,
            str(args.ttl),
            str(args.agents),
            str(args.handle),
            str(args.intakes),
            str(args.burst),
            str(stop),
        ]

    nodes = [netns.Node(net, k, f"n{k}", command) for k in range(1, args.nodes + 1)]
    try:
        yield nodes
    except BaseException:
        _said(nodes)
        raise
    finally:
        for node in nodes:
            node.close()


def _said(nodes: list[Any]) -> None:
    """Print what each node said last (but the contacts it acknowledged), to see why."""
    for node in nodes:
        if node.process is not None:
            print(f"--- {node.name}: exit {node.process.process.poll()}", file=sys.stderr)
            said = [line for line in node.process.lines if not line.startswith("acked")]
            print("\n".join(said[-10:]), file=sys.stderr)
            print("\n".join(node.process.errors[-25:]), file=sys.stderr)


def _ended_unconnected(log: list[Any]) -> dict[str, int]:
    """How contacts that were never connected ended (final event kind and reason), counted."""
    connected = {r.payload.get("contact_id") for r in log if r.kind == "acd.contact_connected"}
    found: dict[str, int] = {}
    for row in log:
        if row.kind in checks.ENDS and row.payload.get("contact_id") not in connected:
            key = f"{row.kind} {row.payload.get('reason', '')}".strip()
            found[key] = found.get(key, 0) + 1
    return found


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def drive(args: argparse.Namespace) -> dict[str, Any]:
    """Build the cluster, run the chaos, read the store: the figures."""
    from sqlalchemy import text  # noqa: PLC0415

    from callcenter_sdk.store import create_store  # noqa: PLC0415

    folder = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    stop = folder / "stop"
    figures: dict[str, Any] = {}
    with netns.network(args.nodes) as net, netns.postgresql(net) as server:
        server.create_database("bench")
        with netns.entered(net.web):
            create_store(server.url("bench", "bench")).close()
        engine = server.engine("bench")
        netns.install_audit(engine, net.web)
        with _nodes(net, lambda name: server.url("bench", name), args, stop) as nodes:
            cluster = Cluster(nodes)
            nodes[0].start().wait_for_line("serving n1 1", 120)
            for node in nodes[1:]:
                node.start().wait_for_line(f"ready {node.name}", 120)
            started = time.monotonic()
            every = args.seconds / (args.faults + 1)
            kinds = ("kill -9", "SIGSTOP", "partition")
            takeovers: list[float] = []
            events: list[dict[str, Any]] = []
            for i in range(args.faults):
                time.sleep(max(0.0, started + every * (i + 1) - time.monotonic()))  # the pace
                leader = cluster.leader()
                assert leader is not None
                name, epoch = leader
                node = next(n for n in nodes if n.name == name)
                kind = kinds[i % len(kinds)]
                fault = time.monotonic()
                if kind == "kill -9":
                    node.kill()
                    new = cluster.wait_serving(epoch, args.stuck)
                    node.start()
                elif kind == "SIGSTOP":
                    with node.stalled():
                        new = cluster.wait_serving(epoch, args.stuck)
                        if new is None:
                            with netns.entered(net.web):
                                _sessions(engine)
                else:
                    with node.partitioned():
                        new = cluster.wait_serving(epoch, args.stuck)
                stuck = new is None
                if new is None:  # nobody took over while the fault lasted: it is over now
                    print(f"{kind} of {name}, epoch {epoch}: nobody serves within {args.stuck} s")
                    new = cluster.wait_serving(epoch, 120)
                    if new is None:
                        raise SystemExit(f"no node served above epoch {epoch} after {kind}")
                took = cluster.serving[-1][0] - fault
                takeovers.append(took)
                phases = {
                    f"{what}_s": round(cluster.marks[new[0], new[1], what] - fault, 3)
                    for what in ("elected", "opened")
                    if (new[0], new[1], what) in cluster.marks
                }
                events.append(
                    {"fault": kind, "node": name, "epoch": epoch, "next": new, "s": took}
                    | phases
                    | ({"stuck_until_the_fault_ended": True} if stuck else {})
                )
                print(
                    f"{kind} of {name}, epoch {epoch}: {new[0]} serves {new[1]} after {took:.2f} s"
                    f" (elected after {phases.get('elected_s')} s,"
                    f" center open after {phases.get('opened_s')} s)"
                )
            time.sleep(max(0.0, started + args.seconds - time.monotonic()))
            stop.touch()
            stopped = time.monotonic()
            deadline = stopped + 120
            while not cluster.drained and time.monotonic() < deadline:
                cluster.poll()
                time.sleep(0.05)  # polling the nodes' output with a deadline
            ended = time.monotonic()
            print(f"drained: {cluster.drained} after {ended - stopped:.1f} s")
            burst = cluster.wait_burst(stop.with_name("burst"), 300) if cluster.drained else None
            print(f"assignment phase: {burst}")
            if burst is None:
                _said(nodes)
        with netns.entered(net.web), engine.connect() as connection:
            log = [
                checks.Logged(str(row.kind), row.payload)
                for row in connection.execute(text("SELECT kind, payload FROM events ORDER BY seq"))
            ]
            waiting = set(
                connection.execute(
                    text("SELECT contact_id FROM waiting_contacts WHERE state <> 'served'")
                ).scalars()
            )
        stale = netns.stale_commits(netns.commits(engine, net.web), {n.name for n in nodes})
        engine.dispose()
    shutil.rmtree(folder, ignore_errors=True)
    serving_s = (ended - started) - sum(takeovers)
    assigned = checks.assignments(log)
    lost = checks.lost_contacts(sorted(cluster.acked), log, waiting)
    kept = dict.fromkeys(cluster.acked - set(lost), "chat")  # a lost one is counted once, as lost
    figures = {
        "nodes": args.nodes,
        "seconds": args.seconds,
        "ttl_s": args.ttl,
        "agents": args.agents,
        "chaos_events": len(takeovers),
        "contacts": len(cluster.acked),
        "double_offers": len(checks.double_offers(log)),
        "capacity_overruns": len(checks.capacity_overruns(log, CAPACITY, channel_of=kept)),
        "capacity_overruns_counting_lost": len(
            checks.capacity_overruns(log, CAPACITY, channel_of=dict.fromkeys(cluster.acked, "chat"))
        ),
        "connected_twice": len(checks.connected_twice(log)),
        "ended_unconnected": _ended_unconnected(log),
        "lost_contacts": len(lost),
        "stale_commits": len(stale),
        "takeovers_only_after_the_fault_ended": sum(
            1 for e in events if e.get("stuck_until_the_fault_ended")
        ),
        "takeover_p99_s": round(_percentile(takeovers, 0.99), 3) if takeovers else None,
        "takeover_p50_s": round(_percentile(takeovers, 0.5), 3) if takeovers else None,
        **{
            f"takeover_{what}_p50_s": round(_percentile(found, 0.5), 3) if found else None
            for what in ("elected", "opened")
            for found in [[e[f"{what}_s"] for e in events if f"{what}_s" in e]]
        },
        "assignments": assigned,
        "assignments_per_s": None if burst is None else round(burst[0] / burst[1], 1),
        "assignment_phase": None if burst is None else {"contacts": burst[0], "s": burst[1]},
        "chaos_assignments_per_s": round(assigned / serving_s, 1),
        "refused_desk_operations": cluster.refused,
        "waiting_at_end": len(waiting),
        "drained": cluster.drained,
        "faults": events,
    }
    if lost:
        print("lost (first 10):", lost[:10])
    if stale:
        print("stale commits (first 5):", stale[:5])
    return figures


def main() -> int:
    """Run a node (``node ...``) or the whole benchmark."""
    if len(sys.argv) > 1 and sys.argv[1] == "node":
        import anyio  # noqa: PLC0415

        url, name, ttl, agents, handle, intakes, burst, stop = sys.argv[2:10]
        run = partial(
            node_main,
            url,
            name,
            ttl=float(ttl),
            agents=int(agents),
            handle=float(handle),
            intakes=int(intakes),
            burst=int(burst),
            stop=Path(stop),
        )
        anyio.run(run)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="how long the chaos lasts")
    parser.add_argument("--faults", type=int, default=12, help="faults injected, evenly spread")
    parser.add_argument("--nodes", type=int, default=3, help="node processes (namespaces)")
    parser.add_argument("--agents", type=int, default=200, help="agents, 3 chats at once each")
    parser.add_argument("--handle", type=float, default=0.3, help="seconds an agent holds a chat")
    parser.add_argument(
        "--intakes", type=int, default=16, help="tasks handing contacts over at once"
    )
    parser.add_argument(
        "--burst", type=int, default=900, help="contacts of the assignment phase at the end"
    )
    parser.add_argument(
        "--stuck",
        type=float,
        default=30.0,
        help="seconds a fault lasts at most when nobody takes over (then it ends)",
    )
    parser.add_argument("--ttl", type=float, default=2.0, help="the lease's ttl in seconds")
    args = parser.parse_args()
    reason = netns.missing()
    if reason is not None:
        print(f"bench_cluster: {reason}", file=sys.stderr)
        return 2
    figures = drive(args)
    for key, value in figures.items():
        if key != "faults":
            print(f"{key}: {value}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    sys.exit(main())
