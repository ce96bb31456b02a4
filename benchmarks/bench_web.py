"""Live events to 200 clients: publication to a Chromium page's DOM, lost events, scope leaks.

A center of 1,000 agents (one floor, 10 campaigns of 5 teams of 20, each
campaign with its supervisor, each team with its lead) runs on the virtual
backend with its web app served by uvicorn on a loopback port. A producer
changes agents' states 50 times a second through the runtime's own commands
(``set_ready`` / ``set_not_ready``, acting as the agent), round the floor.

Two hundred clients follow ``/api/events``: one page in Debian's Chromium,
signed in as the floor manager (who sees every event), holding a 1,000-row
table whose row it writes on each ``acd.agent_state_changed``; and 199 httpx
streams in a child process, with bearer tokens: 100 as the floor manager
(wall screens), 10 supervisors, 50 team leads and 39 agents. The latency of
an event is the page's clock after its row is written minus the event's
``at`` (the center's clock, set to the wall clock just before each command:
the time it was published). Afterwards every client's received ids are
compared with the event log: an event a person may see and did not get is
lost, one they got and may not see is a scope leak. Who may see what is
decided here from the org's shape and the roles' reach
(``org.PERMISSIONS``), not by the web layer's own filter.

The baseline is the bare app of ``shared/notes/web.md`` (Starlette and
sse-starlette over an in-memory list, no store, no auth, no scope), served
the same way in the same process, under the same load: 1,000 rows, the same
page, 199 httpx streams, 50 events/s. The ratio is our p95 over its p95.

Run: ``.venv/bin/python benchmarks/bench_web.py`` (about 2 minutes; needs
Debian's ``/usr/bin/chromium`` and the web and test extras).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import attrs
import httpx
import uvicorn
from playwright.async_api import Browser, async_playwright
from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from callcenter_sdk import ManualClock
from callcenter_sdk.acd import Agent, AgentState, AgentStateChanged, Membership, Queue
from callcenter_sdk.ivr import FlowBuilder, ToQueue
from callcenter_sdk.media import VirtualBackend
from callcenter_sdk.org import (
    PERMISSIONS,
    Action,
    Campaign,
    ContactCenter,
    Direction,
    Floor,
    Org,
    Organisation,
    Person,
    Role,
    Scope,
    Team,
)
from callcenter_sdk.runtime import CallCenter, CallCenterConfig, Seat, open_call_center
from callcenter_sdk.store import Accounts, create_store
from callcenter_sdk.web import create_app

CHROMIUM = "/usr/bin/chromium"
CAMPAIGNS, TEAMS, AGENTS = 10, 5, 20
"""Campaigns on the floor, teams per campaign, agents per team: 1,000 agents."""
FLOOR_MANAGER = "fm"
PASSWORD = "a bench passphrase"  # noqa: S105 - the benchmark's own account
STATE_CHANGED = AgentStateChanged.kind

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>bench</title></head>
<body><table id="agents"><tbody></tbody></table><script>
"use strict";
const AGENTS = %(agents)s, rows = {}, body = document.querySelector("#agents tbody");
for (const id of AGENTS) {
  const tr = document.createElement("tr");
  tr.innerHTML = "<th></th><td></td><td></td><td></td>";
  tr.cells[0].textContent = id;
  body.append(tr);
  rows[id] = tr;
}
window.samples = [];
window.opened = false;
window.lastSeq = 0;
const source = new EventSource(%(path)s);
source.onopen = () => { window.opened = true; };
source.addEventListener(%(kind)s, (message) => {
  const data = JSON.parse(message.data);
  const row = rows[data.agent_id];
  row.cells[1].textContent = data.state;
  row.cells[2].textContent = data.reason || "";
  row.cells[3].textContent = new Date(data.at * 1000).toLocaleTimeString();
  const now = performance.timeOrigin + performance.now();
  const seq = Number(message.lastEventId);
  window.samples.push([seq, now - data.at * 1000]);
  window.lastSeq = seq;
});
</script></body></html>"""
"""The measured page: a row per agent, three cells written per event, then the time read."""


# -- the org and who may see what ----------------------------------------------------------
@attrs.frozen
class Place:
    """Where an agent sits: their campaign and team."""

    campaign: str
    team: str


def build_org() -> tuple[Org, dict[str, Place]]:
    """The benchmark's floor, and each agent's place in it."""
    people = [
        Person(id="dir", role=Role.DIRECTOR),
        Person(id="adm", role=Role.ADMINISTRATOR),
        Person(id=FLOOR_MANAGER, role=Role.FLOOR_MANAGER),
    ]
    campaigns, teams = [], []
    places: dict[str, Place] = {}
    for k in range(CAMPAIGNS):
        kid = f"k{k}"
        people.append(Person(id=f"{kid}-sup", role=Role.SUPERVISOR))
        campaigns.append(
            Campaign(
                id=kid,
                organisation="client",
                floor="f1",
                direction=Direction.INBOUND,
                activity="support",
                seats=range(k * 100 + 1, k * 100 + 101),
            )
        )
        for t in range(TEAMS):
            tid = f"{kid}-t{t}"
            agents = [f"{tid}-a{a:02d}" for a in range(AGENTS)]
            people.append(Person(id=f"{tid}-tl", role=Role.TEAM_LEAD))
            people += [Person(id=a, role=Role.AGENT) for a in agents]
            places |= {a: Place(kid, tid) for a in agents}
            teams.append(
                Team(
                    id=tid,
                    campaign=kid,
                    supervisor=f"{kid}-sup",
                    team_lead=f"{tid}-tl",
                    agents=agents,
                )
            )
    org = Org(
        organisations=[Organisation("client")],
        centers=[
            ContactCenter("lyon", seats=CAMPAIGNS * 100, director="dir", administrators=["adm"])
        ],
        floors=[Floor("f1", "lyon", manager=FLOOR_MANAGER)],
        campaigns=campaigns,
        teams=teams,
        people=people,
    )
    return org, places


def may_see_state(person: str, agent: str, places: dict[str, Place]) -> bool:
    """Whether ``person`` may see ``agent``'s state, from the org's shape (the oracle)."""
    if person == agent:
        relation, role = Scope.SELF, Role.AGENT
    elif person == FLOOR_MANAGER:
        relation, role = Scope.FLOOR, Role.FLOOR_MANAGER
    elif person.endswith("-sup"):
        inside = places[agent].campaign == person.removesuffix("-sup")
        relation, role = (Scope.CAMPAIGN if inside else Scope.OUTSIDE), Role.SUPERVISOR
    elif person.endswith("-tl"):
        inside = places[agent].team == person.removesuffix("-tl")
        relation, role = (Scope.TEAM if inside else Scope.OUTSIDE), Role.TEAM_LEAD
    else:
        relation, role = Scope.OUTSIDE, Role.AGENT
    return relation <= PERMISSIONS[role][Action.VIEW_KPIS]


def stream_people(places: dict[str, Place], count: int) -> list[str]:
    """Who the httpx streams are: wall screens of the floor, supervisors, leads, agents."""
    agents = sorted(places)
    mix = (
        [FLOOR_MANAGER] * 100
        + [f"k{k}-sup" for k in range(CAMPAIGNS)]
        + [f"k{k}-t{t}-tl" for k in range(CAMPAIGNS) for t in range(TEAMS)]
        + [agents[(i * 7919) % len(agents)] for i in range(count)]
    )
    return mix[:count]


# -- serving and measuring -----------------------------------------------------------------
@contextlib.asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port; yield its URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve)
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event
            await anyio.sleep(0.02)
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
        server.should_exit = True
        with anyio.move_on_after(5):
            while server.started:  # noqa: ASYNC110
                await anyio.sleep(0.05)
        tg.cancel_scope.cancel()


@attrs.define
class Run:
    """What one run measured."""

    page: list[tuple[int, float]]
    """(event id, latency in ms) for each event the page showed."""
    streams: list[list[int]]
    """The event ids each httpx stream received, in order."""
    stream_latencies: list[float]
    cpu_percent: float
    """The serving process's CPU while producing, in % of one core."""
    streams_cpu_percent: float
    produce_seconds: float


async def measure(
    browser: Browser,
    url: str,
    *,
    path: str,
    kind: str,
    agents: Sequence[str],
    tokens: Sequence[str],
    login: tuple[str, str] | None,
    produce: Callable[[], Awaitable[int]],
) -> Run:
    """Open the page and the streams, run ``produce`` (it returns the last event id), drain."""
    spec = {"url": url, "path": path, "kind": kind, "tokens": list(tokens)}
    child = await anyio.open_process(
        [sys.executable, __file__, "--streams"], stdin=-1, stdout=-1, stderr=None
    )
    assert child.stdin is not None
    assert child.stdout is not None
    lines = _lines(child.stdout)
    await child.stdin.send((json.dumps(spec) + "\n").encode())
    assert await anext(lines) == "ready"
    # The page connects last: its stream is the last one woken (the worst place).
    context = await browser.new_context()
    if login is not None:
        answer = await context.request.post(
            f"{url}/api/login", data={"person": login[0], "password": login[1]}
        )
        assert answer.ok, await answer.text()
    page = await context.new_page()
    html = PAGE % {
        "agents": json.dumps(list(agents)),
        "path": json.dumps(path),
        "kind": json.dumps(kind),
    }
    await page.route(
        f"{url}/__bench__", lambda route: route.fulfill(body=html, content_type="text/html")
    )
    await page.goto(f"{url}/__bench__")
    await page.wait_for_function("window.opened")
    cpu, wall = time.process_time(), time.monotonic()
    last = await produce()
    produced = time.monotonic() - wall
    cpu_percent = 100 * (time.process_time() - cpu) / produced
    with contextlib.suppress(Exception):  # a page that lost events never sees the last
        await page.wait_for_function(f"window.lastSeq >= {last}", timeout=15_000)
    await anyio.sleep(2.0)  # the streams' share of the drain (a benchmark, not a test)
    await child.stdin.send(b"stop\n")
    result = json.loads(await anext(lines))
    await child.wait()
    samples = [(int(s), float(ms)) for s, ms in await page.evaluate("window.samples")]
    await context.close()
    return Run(
        page=samples,
        streams=result["received"],
        stream_latencies=result["latencies"],
        cpu_percent=cpu_percent,
        streams_cpu_percent=result["cpu_percent"],
        produce_seconds=produced,
    )


async def _lines(stream: anyio.abc.ByteReceiveStream) -> AsyncIterator[str]:
    buffer = b""
    async for chunk in stream:
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            yield line.decode()


async def paced(rate: float, seconds: float, step: Callable[[int], Awaitable[None]]) -> None:
    """Call ``step(n)`` ``rate`` times a second for ``seconds``, on a fixed schedule."""
    start = time.monotonic()
    for n in range(round(rate * seconds)):
        await anyio.sleep(max(0.0, start + n / rate - time.monotonic()))
        await step(n)


# -- the baseline: the bare app of shared/notes/web.md --------------------------------------
class Bare:
    """An in-memory log and an SSE endpoint: no store, no auth, no scope."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.changed = anyio.Event()

    def publish(self, data: str) -> int:
        """Append ``data`` and wake every stream; return its id."""
        self.log.append(data)
        self.changed.set()
        self.changed = anyio.Event()
        return len(self.log)

    async def events(self, request: Request) -> Response:
        """The stream: from ``Last-Event-ID`` or from now, then live."""
        cursor = int(request.headers.get("last-event-id") or len(self.log))

        async def stream() -> AsyncIterator[dict[str, str]]:
            nonlocal cursor
            while True:
                wait = self.changed
                while cursor < len(self.log):
                    cursor += 1
                    yield {"id": str(cursor), "event": "agent", "data": self.log[cursor - 1]}
                await wait.wait()

        return EventSourceResponse(stream(), ping=15)


async def run_baseline(browser: Browser, args: argparse.Namespace, agents: list[str]) -> Run:
    """Run the load through the bare app."""
    bare = Bare()
    app = Starlette(routes=[Route("/events", bare.events)])

    async def produce() -> int:
        async def step(n: int) -> None:
            agent = agents[(n * 7919) % len(agents)]
            state = "ready" if n % 2 else "not_ready"
            bare.publish(json.dumps({"agent_id": agent, "state": state, "at": time.time()}))

        await paced(args.rate, args.seconds, step)
        return len(bare.log)

    async with serve(app) as url:
        return await measure(
            browser,
            url,
            path="/events",
            kind="agent",
            agents=agents,
            tokens=[""] * (args.clients - 1),
            login=None,
            produce=produce,
        )


# -- our app ----------------------------------------------------------------------------------
def center_config(org: Org, places: dict[str, Place]) -> CallCenterConfig:
    """The floor's center: one queue per campaign, every agent seated with a phone."""
    flow = FlowBuilder("bench", start="q").node("q", ToQueue(queue="k0")).build()
    seats = [
        Seat(
            agent=Agent(id=a, memberships=[Membership(places[a].campaign)]),
            device=f"sip:{a}@phones",
        )
        for a in sorted(places)
    ]
    return CallCenterConfig(
        flow=flow,
        queues=[Queue(name=f"k{k}") for k in range(CAMPAIGNS)],
        seats=seats,
        announce=False,
        org=org,
        campaigns={f"k{k}": f"k{k}" for k in range(CAMPAIGNS)},
    )


async def run_ours(
    browser: Browser, args: argparse.Namespace, org: Org, places: dict[str, Place], folder: Path
) -> tuple[Run, dict[int, str], list[str]]:
    """Run the load through a real center and its app.

    Returns the run, the window's state changes (event id → agent) and the
    person of each httpx stream.
    """
    agents = sorted(places)
    config = center_config(org, places)
    clock = ManualClock(time.time())
    store = create_store(f"sqlite:///{folder / 'center.sqlite3'}")
    accounts = Accounts(store)
    accounts.set_password(FLOOR_MANAGER, PASSWORD, at=clock.now())
    people = stream_people(places, args.clients - 1)
    tokens = [accounts.create_token(p, at=clock.now(), label="bench") for p in people]
    async with open_call_center(
        VirtualBackend(clock), config, store=store, clock=clock, run_timers=False
    ) as center:
        app = create_app(center, accounts=accounts)
        await center.writer.flush()
        first = center.log.last_seq()

        async def produce() -> int:
            await paced(args.rate, args.seconds, lambda n: toggle(center, clock, agents, n))
            await center.writer.flush()
            return center.log.last_seq()

        async with serve(app) as url:
            run = await measure(
                browser,
                url,
                path="/api/events",
                kind=STATE_CHANGED,
                agents=agents,
                tokens=tokens,
                login=(FLOOR_MANAGER, PASSWORD),
                produce=produce,
            )
        window = {
            row.seq: row.event.agent_id
            for row in center.log.read(after=first)
            if isinstance(row.event, AgentStateChanged)
        }
        others = [row.event.kind for row in center.log.read(after=first)]
        extra = sorted({k for k in others if k != STATE_CHANGED})
        if extra:
            print(f"other events in the window (not counted): {extra}")
    return run, window, people


async def toggle(center: CallCenter, clock: ManualClock, agents: list[str], n: int) -> None:
    """Change the state of the n-th agent of the round, as that agent, published now."""
    agent = agents[(n * 7919) % len(agents)]
    clock.set(max(clock.now(), time.time()))
    if center.engine.agent_status(agent).state is AgentState.READY:
        await center.set_not_ready(agent, "break", actor=agent)
    else:
        await center.set_ready(agent, actor=agent)


# -- figures ------------------------------------------------------------------------------------
def percentiles(values: Sequence[float]) -> tuple[float, float, float]:
    """p50, p95 and p99 (nearest rank), in the values' unit."""
    if not values:
        return (float("nan"),) * 3
    ranked = sorted(values)

    def rank(p: float) -> float:
        return ranked[min(len(ranked) - 1, max(0, round(p * len(ranked)) - 1))]

    return rank(0.50), rank(0.95), rank(0.99)


def judge(
    received: Sequence[int], person: str, window: dict[int, str], places: dict[str, Place]
) -> tuple[int, int, int]:
    """Lost, leaked and repeated events of one client against the log's window."""
    got = [s for s in received if s in window]
    seen = set(got)
    due = {s for s, agent in window.items() if may_see_state(person, agent, places)}
    return len(due - seen), len(seen - due), len(got) - len(seen)


def report(
    args: argparse.Namespace,
    *,
    base: Run,
    ours: Run,
    window: dict[int, str],
    people: list[str],
    places: dict[str, Place],
    load: tuple[float, ...],
) -> None:
    """Print the figures, the ratio, and the JSON line last."""
    lost = leaks = repeats = 0
    clients = [(FLOOR_MANAGER, [s for s, _ in ours.page]), *zip(people, ours.streams, strict=True)]
    for person, received in clients:
        lo, le, re = judge(received, person, window, places)
        lost, leaks, repeats = lost + lo, leaks + le, repeats + re
    base_lost = sum(
        len(set(range(1, round(args.rate * args.seconds) + 1)) - set(r))
        for r in [[s for s, _ in base.page], *base.streams]
    )
    p50, p95, p99 = percentiles([ms for _, ms in ours.page])
    b50, b95, b99 = percentiles([ms for _, ms in base.page])
    s50, s95, s99 = percentiles(ours.stream_latencies)
    t50, t95, t99 = percentiles(base.stream_latencies)
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 cores)")
    print(
        f"{len(places)} agents, {args.clients} live-event clients, {args.rate:g} events/s "
        f"for {args.seconds:g} s"
    )
    for name, run, (a, b, c), (d, e, f), lost_n in (
        (
            "baseline (bare Starlette + sse-starlette)",
            base,
            (b50, b95, b99),
            (t50, t95, t99),
            base_lost,
        ),
        ("callcenter_sdk.web (store, auth, scope)", ours, (p50, p95, p99), (s50, s95, s99), lost),
    ):
        print(f"{name}:")
        print(
            f"  page (Chromium, publish -> DOM): p50 {a:.1f} ms, p95 {b:.1f} ms, p99 {c:.1f} ms, "
            f"{len(run.page)} events shown"
        )
        print(f"  199 httpx streams: p50 {d:.1f} ms, p95 {e:.1f} ms, p99 {f:.1f} ms; lost {lost_n}")
        print(
            f"  server CPU {run.cpu_percent:.0f} % of a core, streams' process "
            f"{run.streams_cpu_percent:.0f} %, producing took {run.produce_seconds:.1f} s"
        )
    print(
        f"ours: {len(window)} state changes in the window, lost {lost}, scope leaks {leaks}, "
        f"repeated {repeats}"
    )
    ratio = p95 / b95 if b95 else float("nan")
    print(f"ratio, page p95 ours / baseline: {ratio:.2f}")
    print(
        json.dumps(
            {
                "agents": len(places),
                "sse_clients": args.clients,
                "events_per_s": args.rate,
                "seconds": args.seconds,
                "p50_ms": round(p50, 1),
                "p95_ms": round(p95, 1),
                "p99_ms": round(p99, 1),
                "lost_events": lost,
                "scope_leaks": leaks,
                "repeated_events": repeats,
                "streams_p95_ms": round(s95, 1),
                "baseline_p50_ms": round(b50, 1),
                "baseline_p95_ms": round(b95, 1),
                "baseline_p99_ms": round(b99, 1),
                "baseline_lost_events": base_lost,
                "ratio_p95": round(ratio, 2),
                "server_cpu_percent": round(ours.cpu_percent),
                "baseline_server_cpu_percent": round(base.cpu_percent),
                "load_average_before": round(load[0], 2),
            }
        )
    )


async def main(args: argparse.Namespace) -> None:
    """The baseline, then ours, in one Chromium; then the figures."""
    org, places = build_org()
    load = os.getloadavg()
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=CHROMIUM)
        with tempfile.TemporaryDirectory(dir=args.store_dir) as folder:
            base = await run_baseline(browser, args, sorted(places))
            ours, window, people = await run_ours(browser, args, org, places, Path(folder))
        await browser.close()
    report(args, base=base, ours=ours, window=window, people=people, places=places, load=load)


# -- --feed: the first stage alone ---------------------------------------------------------------
async def feed_lag(
    args: argparse.Namespace, org: Org, places: dict[str, Place], folder: Path
) -> list[float]:
    """Publication -> the live feed holds the event (written and read back), in ms.

    The same center and load as the full run, no HTTP client: the stage the
    store decides (the writer's commit, the feed's read of the log).
    """
    agents = sorted(places)
    config = center_config(org, places)
    clock = ManualClock(time.time())
    store = create_store(f"sqlite:///{folder / 'center.sqlite3'}")
    lags: list[float] = []
    async with open_call_center(
        VirtualBackend(clock), config, store=store, clock=clock, run_timers=False
    ) as center:
        app = create_app(center, accounts=Accounts(store))
        feed = app.state.api.feed
        async with app.router.lifespan_context(app), anyio.create_task_group() as tg:
            await center.writer.flush()

            async def follow(after: int) -> None:
                while True:
                    await feed.wait(after)
                    now = time.time()
                    for entry in await feed.since(after):
                        lags.append((now - entry.event.at) * 1000)
                        after = entry.seq

            tg.start_soon(follow, feed.head)
            await paced(args.rate, args.seconds, lambda n: toggle(center, clock, agents, n))
            await center.writer.flush()
            with anyio.move_on_after(5):
                while len(lags) < round(args.rate * args.seconds):  # noqa: ASYNC110
                    await anyio.sleep(0.05)
            tg.cancel_scope.cancel()
    store.close()
    return lags


async def feed_main(args: argparse.Namespace) -> None:
    """``--feed``: the store on disk (``--store-dir``) against tmpfs, one after the other."""
    org, places = build_org()
    runs = {}
    tmpfs_dir = "/dev/shm"  # noqa: S108 - a private temporary directory is made inside
    for name, where in (("disk", args.store_dir), ("tmpfs", tmpfs_dir)):
        with tempfile.TemporaryDirectory(dir=where) as folder:
            runs[name] = percentiles(await feed_lag(args, org, places, Path(folder)))
        p50, p95, p99 = runs[name]
        figures = f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms"
        print(f"publish -> feed, store on {name}: {figures}")
    disk, tmpfs = runs["disk"], runs["tmpfs"]
    print(
        json.dumps(
            {
                "agents": len(places),
                "events_per_s": args.rate,
                "seconds": args.seconds,
                "feed_p50_ms": round(disk[0], 1),
                "feed_p95_ms": round(disk[1], 1),
                "feed_p99_ms": round(disk[2], 1),
                "tmpfs_feed_p95_ms": round(tmpfs[1], 1),
                "ratio_p95_disk_tmpfs": round(disk[1] / tmpfs[1], 2) if tmpfs[1] else None,
                "load_average_before": round(os.getloadavg()[0], 2),
            }
        )
    )


# -- the child process: 199 httpx streams ------------------------------------------------------
async def streams() -> None:
    """Read the spec on stdin, open every stream, say ready, record until told to stop."""
    spec = json.loads(await anyio.to_thread.run_sync(sys.stdin.readline))
    tokens: list[str] = spec["tokens"]
    received: list[list[int]] = [[] for _ in tokens]
    latencies: list[float] = []
    opened = 0
    all_open = anyio.Event()
    limits = httpx.Limits(
        max_connections=len(tokens) + 10, max_keepalive_connections=len(tokens) + 10
    )

    async def follow(client: httpx.AsyncClient, i: int) -> None:
        nonlocal opened
        headers = {"Authorization": f"Bearer {tokens[i]}"} if tokens[i] else {}
        async with client.stream("GET", spec["path"], headers=headers) as answer:
            answer.raise_for_status()
            opened += 1
            if opened == len(tokens):
                all_open.set()
            event = seq = data = ""
            async for line in answer.aiter_lines():
                if line.startswith("id:"):
                    seq = line[3:].strip()
                elif line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data = line[5:].strip()
                elif not line and data:
                    if event == spec["kind"]:
                        received[i].append(int(seq))
                        latencies.append(time.time() * 1000 - json.loads(data)["at"] * 1000)
                    event = seq = data = ""

    timeout = httpx.Timeout(30, read=None)
    async with (
        httpx.AsyncClient(base_url=spec["url"], limits=limits, timeout=timeout) as client,
        anyio.create_task_group() as tg,
    ):
        for i in range(len(tokens)):
            tg.start_soon(follow, client, i)
        await all_open.wait()
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        cpu, wall = time.process_time(), time.monotonic()
        await anyio.to_thread.run_sync(sys.stdin.readline)
        cpu_percent = 100 * (time.process_time() - cpu) / (time.monotonic() - wall)
        tg.cancel_scope.cancel()
    out = {"received": received, "latencies": latencies, "cpu_percent": cpu_percent}
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to produce")
    parser.add_argument("--rate", type=float, default=50.0, help="events per second")
    parser.add_argument("--clients", type=int, default=200, help="the page and the streams")
    parser.add_argument(
        "--store-dir", default=None, help="where the center's SQLite file goes (a temp dir)"
    )
    parser.add_argument(
        "--feed",
        action="store_true",
        help="only publication -> the live feed (no browser, no HTTP), disk against tmpfs",
    )
    parser.add_argument("--streams", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    arguments = _arguments()
    if arguments.streams:
        anyio.run(streams)
    elif arguments.feed:
        anyio.run(feed_main, arguments)
    else:
        anyio.run(main, arguments)
