"""The hotline: an inbound technical-support center, live over SIP on this machine.

Run it (about two minutes; ``make demo`` does the same)::

    python examples/hotline/main.py --duration 120

What runs, all on 127.0.0.1:

* the call center: a pool of pjsua2 media workers behind a redirecting front
  door (one public SIP address), serving two clients of ``org.toml`` at
  once: FibreNet's hotline with the IVR of ``flow.toml`` (customer number,
  then 1 internet / 2 TV / 3 billing / 0 other / 9 call me back) and
  StreamTV's line 3900 with its own (``streamtv.toml``); skills-based ACD
  queues with hold music and announcements, a CTI screen pop from
  ``customers.csv``, a ticket per answered call with knowledge-base
  suggestions from ``kb.toml``, wrap-up and dispositions; callbacks the IVR
  promised, called back through the dial plan; tickets escalated to a
  level-2 technician through the back-office queue;
* the people (:class:`~callcenter_sdk.runtime.SipCrowd`): callers and agents'
  desk phones, each a real SIP user agent in two more pjsua2 pools.

Every event goes to a SQLite event log; live figures are printed every few
seconds and the final KPI report is computed from the stored events. Without
pjsua2 (``pip install pjsua2-python``) the same hotline runs on the virtual
backend in virtual time.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import importlib.util
import random
import sys
import tempfile
import tomllib
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import anyio

from callcenter_sdk import BackendUnavailableError, ManualClock, WallClock
from callcenter_sdk.acd import Agent, Capacity, Membership, Queue
from callcenter_sdk.cti import import_customers_csv
from callcenter_sdk.ivr import load_flow
from callcenter_sdk.kb import Article
from callcenter_sdk.kpi import Channel
from callcenter_sdk.media import (
    MediaPool,
    VirtualBackend,
    create_media_pool,
    create_redirect_front,
)
from callcenter_sdk.org import load_org
from callcenter_sdk.runtime import (
    AgentDesks,
    CallCenter,
    CallCenterConfig,
    CallCenterReport,
    DialPlan,
    Habits,
    InboundNumber,
    LiveTally,
    Seat,
    SipCrowd,
    VirtualCrowd,
    call_center_report,
    open_call_center,
    run_virtual,
)
from callcenter_sdk.store import Store, create_store

HERE = Path(__file__).parent

# Something to run beside the center while it works (the web server of
# `callcenter demo --web`): entered once the center is open and seeded.
WebHook = Callable[[CallCenter, Store], AbstractAsyncContextManager[object]]

# 1. Queues: one per skill, plus "general" for everything else. Answer 80 % within
#    20 s; an agent has 12 s to pick up; 6 s of wrap-up; an announcement every 30 s.
QUEUES = [
    Queue(name=name, offer_timeout=12.0, wrap_up=6.0, announce_every=30.0)
    for name in ("internet", "tv", "billing", "general", "streamtv")
]

# Two clients in one center (org.toml): each queue serves one client's campaign;
# StreamTV's customers dial 3900 and hear StreamTV's own IVR.
CAMPAIGNS = {
    "internet": "fibrenet-support",
    "tv": "fibrenet-support",
    "billing": "fibrenet-support",
    "general": "fibrenet-support",
    "streamtv": "streamtv-support",
}
STREAMTV = "3900"

# How the simulated people behave: a fifth of the callers dial StreamTV's
# number; one in ten known callers asks the IVR to be called back (key 9).
HABITS = Habits(lines={"hotline": 0.8, STREAMTV: 0.2}, callback=0.1)

# 2. Agents and their skills (levels 1-5). Everyone also takes "general" calls.
AGENTS = {
    "agent1": {"internet": 5, "tv": 2},
    "agent2": {"internet": 4, "billing": 1},
    "agent3": {"tv": 5, "internet": 2},
    "agent4": {"billing": 5},
    "agent5": {"billing": 3, "tv": 3, "streamtv": 4},
    "agent6": {"internet": 3, "tv": 3, "billing": 3, "streamtv": 3},
}

# The technical service (level 2): takes tickets escalated by the agents, two at a time,
# from the back-office queue; no calls.
TECHNICIANS = {"tech1": {"level-2": 4}}
BACK_OFFICE = Queue(name="back-office", channels=[Channel.TICKET], offer_timeout=30.0, wrap_up=2.0)

# 3. What the knowledge base is searched with for each IVR topic.
TOPICS = {
    "internet": "internet connection slow",
    "tv": "tv signal channels",
    "billing": "bill payment",
    "other": "moving subscription",
}


def seats(device: Callable[[int, str], str]) -> list[Seat]:
    """The agents, each with the SIP URI of their desk phone."""
    return [
        Seat(
            agent=Agent(
                id=agent_id,
                skills=skills,
                memberships=[Membership(q) for q in [*skills, "general"]],
            ),
            device=device(index, agent_id),
        )
        for index, (agent_id, skills) in enumerate(AGENTS.items())
    ] + [
        Seat(
            agent=Agent(
                id=agent_id,
                skills=skills,
                memberships=[Membership(BACK_OFFICE.name)],
                capacity=Capacity(limits={Channel.TICKET: 2}),
            ),
            device=device(len(AGENTS) + index, agent_id),
        )
        for index, (agent_id, skills) in enumerate(TECHNICIANS.items())
    ]


def configure(device: Callable[[int, str], str], gateway: str) -> CallCenterConfig:
    """The whole call center's configuration; callbacks are dialled through ``gateway``."""
    return CallCenterConfig(
        flow=load_flow(HERE / "flow.toml"),
        queues=[*QUEUES, BACK_OFFICE],
        seats=seats(device),
        topics=TOPICS,
        back_office=BACK_OFFICE.name,
        org=load_org(HERE / "org.toml"),
        campaigns=CAMPAIGNS,
        numbers=[
            InboundNumber(
                number=STREAMTV, campaign="streamtv-support", flow=load_flow(HERE / "streamtv.toml")
            )
        ],
        # callbacks go to French numbers only (the customers' phones), at most 3 an hour each
        dial_plan=DialPlan(allowed=[r"\+33\d{9}"], gateway=gateway),
    )


def seed(center: CallCenter) -> list[str]:
    """Load the customer directory and the knowledge base; return the customer numbers."""
    report = import_customers_csv(center.directory, HERE / "customers.csv")
    with (HERE / "kb.toml").open("rb") as handle:
        for article in tomllib.load(handle)["articles"]:
            center.knowledge.add(Article(**article))
    with (HERE / "customers.csv").open(encoding="utf-8") as handle:
        accounts = [line.split(",")[0] for line in list(handle)[1:] if line.strip()]
    assert report.saved == len(accounts)  # noqa: S101 - the shipped file is clean
    return accounts


def phones() -> dict[str, str]:
    """Customer number -> phone, from ``customers.csv``: the number each customer calls from.

    Callers' phones send it as their caller id, so the CTI identifies them by
    phone before they type anything.
    """
    with (HERE / "customers.csv").open(encoding="utf-8", newline="") as handle:
        return {row["number"]: row["phone"] for row in csv.DictReader(handle) if row["phone"]}


@contextlib.contextmanager
def open_store(db: str | None) -> Iterator[Store]:
    """The SQLite store: ``db`` if given, else a file in a temporary directory."""
    if db is not None:
        Path(db).parent.mkdir(parents=True, exist_ok=True)
        yield create_store(f"sqlite:///{db}")
        return
    with tempfile.TemporaryDirectory(prefix="hotline-") as folder:
        yield create_store(f"sqlite:///{folder}/hotline.sqlite")


async def _wallboard(
    center: CallCenter, tally: LiveTally, start: float, out: Callable[[str], None], every: float
) -> None:
    while True:
        await anyio.sleep(every)
        out(f"[{center.clock.now() - start:5.0f} s] {tally.figures().line()}")


@contextlib.asynccontextmanager
async def live_center(store: Store) -> AsyncIterator[tuple[CallCenter, str, MediaPool, MediaPool]]:
    """The call center on pjsua2, and the phones of the people who use it.

    Six media workers (4 calls each) sit behind the front door; callers'
    phones are a pool of 3 workers, agents' desk phones a pool of 2.
    """
    async with (
        create_media_pool(6, max_new_calls_per_second=10) as center_pool,
        create_redirect_front(center_pool) as front,
        create_media_pool(3, max_new_calls_per_second=10) as caller_phones,
        create_media_pool(2, max_new_calls_per_second=10) as agent_phones,
    ):
        desks = agent_phones.workers

        def device(index: int, agent_id: str) -> str:
            return f"sip:{agent_id}@{desks[index % len(desks)].address}"

        # the customers' phones are the callers' pool: the center calls back through it
        config = configure(device, f"sip:{{number}}@{caller_phones.workers[0].address}")
        async with open_call_center(center_pool, config, store=store, clock=WallClock()) as center:
            yield center, front.address, caller_phones, agent_phones


async def run_live(
    duration: float,
    *,
    store: Store,
    habits: Habits,
    rng: random.Random,
    out: Callable[[str], None],
    every: float = 5.0,
    record_dir: str | None = None,
    web: WebHook | None = None,
) -> CallCenterReport:
    """Run the hotline over real SIP for ``duration`` seconds and return its report."""
    async with live_center(store) as (center, address, caller_phones, agent_phones):
        accounts = seed(center)
        async with _beside(web, center, store), anyio.create_task_group() as tg:
            desks = AgentDesks(center, habits, rng, tg, real_time=True)
            for agent_id in [*AGENTS, *TECHNICIANS]:
                await center.set_ready(agent_id, actor=agent_id)
            tally = LiveTally(center)
            tg.start_soon(_wallboard, center, tally, center.clock.now(), out, every)
            crowd = SipCrowd(
                center,
                address=address,
                caller_phones=caller_phones,
                agent_phones=agent_phones,
                accounts=accounts,
                habits=habits,
                rng=rng,
                record_dir=record_dir,
                phones=phones(),
            )
            out(
                f"call center at sip:hotline@{address}; {len(AGENTS)} agents ready; "
                f"callers arrive for {duration:g} s"
            )
            await crowd.run(duration)
            with anyio.move_on_after(30):  # the last hang-ups reach the center; wrap-ups end
                await center.wait_idle()
                await desks.settle()
            out(f"[{'end':>7}] {tally.figures().line()}")
            desks.stop()
            tg.cancel_scope.cancel()
        return await call_center_report(center)


async def run_virtual_time(
    duration: float,
    *,
    store: Store,
    habits: Habits,
    rng: random.Random,
    out: Callable[[str], None],
    every: float = 5.0,
    web: WebHook | None = None,
) -> CallCenterReport:
    """Run the same hotline on the virtual backend, in virtual time."""
    clock = ManualClock(0.0)
    backend = VirtualBackend(clock)
    gateway = "sip:{number}@customers"
    config = configure(lambda _index, agent_id: f"sip:{agent_id}@desk", gateway)
    async with open_call_center(
        backend, config, store=store, clock=clock, run_timers=False
    ) as center:
        accounts = seed(center)
        async with _beside(web, center, store), anyio.create_task_group() as tg:
            desks = AgentDesks(center, habits, rng, tg, real_time=False)
            for agent_id in [*AGENTS, *TECHNICIANS]:
                await center.set_ready(agent_id, actor=agent_id)
            tally = LiveTally(center)
            crowd = VirtualCrowd(
                backend,
                center,
                devices={s.agent.id: s.device for s in config.seats},
                accounts=accounts,
                habits=habits,
                rng=rng,
                phones=phones(),
                gateway=gateway,
            )
            crowd.schedule(duration)
            while clock.now() < duration + 60:  # arrivals stop at `duration`; calls finish
                await run_virtual(center, backend, every)
                out(f"[{clock.now():5.0f} s] {tally.figures().line()}")
                if clock.now() >= duration and not backend.calls:
                    break
            desks.stop()
            tg.cancel_scope.cancel()
        return await call_center_report(center)


def _beside(
    web: WebHook | None, center: CallCenter, store: Store
) -> AbstractAsyncContextManager[object]:
    return web(center, store) if web is not None else contextlib.nullcontext()


def pjsua2_available() -> bool:
    """Whether the pjsua2 SIP stack can be imported here."""
    return importlib.util.find_spec("pjsua2") is not None


async def run(
    duration: float = 120.0,
    *,
    virtual: bool | None = None,
    db: str | None = None,
    seed_value: int = 1,
    out: Callable[[str], None] = print,
    every: float = 5.0,
    record_dir: str | None = None,
    habits: Habits | None = None,
    web: WebHook | None = None,
) -> CallCenterReport:
    """Run the hotline and print its live figures and final report.

    Args:
        duration: Seconds during which callers arrive; calls on the line then finish.
        virtual: Force the virtual backend (True) or SIP (False); default:
            SIP when pjsua2 is available.
        db: SQLite file to keep the store in (default: a temporary file).
        seed_value: Seed of the callers' and agents' random choices.
        out: Where lines are printed.
        every: Seconds between live figure lines.
        record_dir: Over SIP, each agent records what they hear there.
        habits: How the simulated people behave.
        web: Runs beside the center while it works (``callcenter demo --web``).
    """
    rng = random.Random(seed_value)
    habits = habits or HABITS
    if virtual is None:
        virtual = not pjsua2_available()
        if virtual:
            out(
                "pjsua2 is not installed (pip install pjsua2-python): running the same hotline "
                "on the virtual backend, in virtual time"
            )
    report: CallCenterReport | None = None
    if not virtual:
        try:
            with open_store(db) as store:
                report = await run_live(
                    duration,
                    store=store,
                    habits=habits,
                    rng=rng,
                    out=out,
                    every=every,
                    record_dir=record_dir,
                    web=web,
                )
        except BackendUnavailableError as exc:
            out(
                f"pjsua2 cannot be used here ({exc}): running the same hotline on the "
                "virtual backend, in virtual time"
            )
    if report is None:
        with open_store(db) as store:
            report = await run_virtual_time(
                duration, store=store, habits=habits, rng=rng, out=out, every=every, web=web
            )
    out("")
    out("Hotline report (from the stored event log)")
    for line in report.lines():
        out(f"  {line}")
    return report


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the hotline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of arrivals (120)")
    parser.add_argument("--virtual", action="store_true", help="virtual backend, virtual time")
    parser.add_argument("--db", help="SQLite file to keep (default: a temporary one)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    args = parser.parse_args(argv)
    anyio.run(
        lambda: run(
            args.duration, virtual=True if args.virtual else None, db=args.db, seed_value=args.seed
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
