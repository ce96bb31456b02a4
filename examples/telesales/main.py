"""Telesales: a predictive outbound campaign with a script and conversion tracking.

ACME Telecom offers its ADSL and VDSL customers an upgrade to fibre. This
example runs one afternoon of that campaign, end to end on the library:

1. read the campaign (``campaign.toml``) and import two lead lists (a web
   form and a partner's file) from CSV: numbers in local or international
   form are normalised to E.164, numbers outside the campaign's outbound
   policy (its ``[outbound]`` ranges; never premium or satellite) are
   refused, and each lead gets the time zone its calling window is checked in;
2. import the do-not-call list, and load the agents' script (``script.toml``);
3. save the leads and the do-not-call list in a SQLite store;
4. run the campaign in virtual time on the real ACD engine: a predictive
   pacer dials for the agents under the 3 % drop cap, a simulated telephone
   network answers (people, machines, busy lines, no answers), the agents walk
   the script with each person they reach and pick a disposition;
5. write what the agents achieved back to ACME's CRM (``crm.py``, a plugin of
   the ``callcenter_record_outcome`` hook): each sale is an order and a
   fibre installation appointment, each call-back a quote to follow up;
6. report from the stored facts: outcomes, drop rates under FCC and Ofcom,
   occupancy, and sales per campaign, agent and list with the denominator of
   each rate said out loud; export the script answers to CSV.

Run it (a few seconds)::

    .venv/bin/python examples/telesales/main.py --agents 10 --hours 3

The SQLite file (``telesales.db`` in the data directory, see
:func:`callcenter_sdk.data_dir`, by default) is recreated on each run; the
CRM's tables (``orders``, ``appointments``, ``quotes``) are in it too.

With pjsua2 installed, ``--live 6`` places six real SIP calls over
127.0.0.1 instead: the live ``Dialer`` on a pjsua2 worker pool, with
simulated customers (people who say "Hello?" and answering machines with a
long greeting, told apart by answering-machine detection on the call's
audio) and two agents' desk phones as SIP user agents.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import importlib.util
import random
import sys
import zoneinfo
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import anyio
import attrs

from callcenter_sdk import (
    Event,
    EventStream,
    ManualClock,
    MediaError,
    NotFoundError,
    PluginHost,
    WallClock,
    create_plugin_host,
    data_dir,
)
from callcenter_sdk.acd import Agent, Engine, Membership, Queue
from callcenter_sdk.cti import Outcome, OutcomeKind, WriteBackResult, write_back
from callcenter_sdk.dialer import (
    AnswerRecorded,
    Attempt,
    CallingWindow,
    CallResult,
    CallResulted,
    CampaignRun,
    Compliance,
    Dialer,
    DoNotCallList,
    Interview,
    Lead,
    LeadDisposed,
    LeadScheduler,
    Questionnaire,
    amd_detector,
    campaign_guard,
    conversion_by,
    export_answers_csv,
    import_do_not_call,
    import_leads_csv,
    load_campaign,
    load_questionnaire,
    owner_skill,
    save_do_not_call,
    save_leads,
    save_run,
    stored_answers,
)
from callcenter_sdk.ivr import prompt_path
from callcenter_sdk.kpi import (
    DropRegime,
    OutboundBase,
    contact_rate,
    conversion_rate,
    drop_rate,
    occupancy,
)
from callcenter_sdk.media import AudioFile, CallIncoming, MediaPool, Tone, create_media_pool
from callcenter_sdk.sim import LogNormal, OutcomeModel, simulate_campaign
from callcenter_sdk.store import ContactRecords, Documents, EventLog, OutboundLists, create_store

HERE = Path(__file__).parent
LISTS = {"web": HERE / "leads-web.csv", "partner": HERE / "leads-partner.csv"}


def load_beside(name: str) -> ModuleType:
    """The module ``name``.py next to this file, however this file was started.

    Run as a script, by ``runpy`` or imported by the tests, this file's folder
    is not always on ``sys.path``; loading by path always works.
    """
    spec = importlib.util.spec_from_file_location(f"telesales_{name}", HERE / f"{name}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {name}.py from {HERE}")
    module = sys.modules.setdefault(spec.name, importlib.util.module_from_spec(spec))
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:
    from examples.telesales.crm import SqliteCrm
else:
    SqliteCrm = load_beside("crm").SqliteCrm

# 1. The campaign (dial mode, drop cap, calling windows, dispositions) is
#    configuration: campaign.toml. The script the agents read is script.toml.
CAMPAIGN = load_campaign(HERE / "campaign.toml")

# 2. How the numbers behave (the simulated telephone network) and how the
#    conversations end: one live answer in three, one sale in five talks.
NETWORK = OutcomeModel(
    live=0.33,
    machine=0.17,
    busy=0.07,
    invalid=0.03,
    talk=LogNormal(170.0, 90.0),
    dispositions={
        "sale": 2.0,
        "not-interested": 5.0,
        "call-back": 1.5,
        "wrong-person": 1.0,
        "remove-me": 0.5,
    },
)

# 3. What the person answers to the script, for each way a conversation ends
#    (a tuple is a choice among its items).
PLANS = ("fibre-500", "fibre-1000", "fibre-2000")
SLOTS = ("weekday-morning", "weekday-afternoon", "saturday-morning")  # for the installation
CUSTOMER_SAYS: dict[str, dict[str, str | tuple[str, ...]]] = {
    "sale": {"holder": "yes", "interested": "yes", "plan": PLANS, "accept": "yes", "slot": SLOTS},
    "call-back": {"holder": "yes", "interested": "yes", "plan": PLANS, "accept": "no"},
    "not-interested": {
        "holder": "yes",
        "interested": "no",
        "objection": ("price", "happy-as-is", "moving", "no-time"),
    },
    "remove-me": {"holder": "yes", "interested": "no", "objection": "stop-calling"},
    "wrong-person": {"holder": "no"},
}

# 4. What the CRM is told: the monthly price of each plan (a decimal string:
#    money is never a float) and when the technicians install.
PRICES = {"fibre-500": "29.99", "fibre-1000": "39.99", "fibre-2000": "49.99"}
CURRENCY = "EUR"
WEEKDAYS, SATURDAY = frozenset(range(5)), frozenset({5})
INSTALL_SLOTS = {  # the days (Monday is 0) and the hour of each slot the script offers
    "weekday-morning": (WEEKDAYS, 9),
    "weekday-afternoon": (WEEKDAYS, 14),
    "saturday-morning": (SATURDAY, 9),
}
INSTALL_NOTICE = dt.timedelta(days=2)

# A Tuesday afternoon, 14:00 UTC: 15:00 in Paris, 09:00 in New York and
# 06:00 in Los Angeles, whose leads wait for their own 09:00.
START = dt.datetime(2026, 11, 24, 14, 0, tzinfo=dt.UTC).timestamp()


class ScriptDesk:
    """The agents' desktops: each conversation walks the script with the person reached.

    The simulation draws how a conversation ends (its disposition); the desk
    plays the script to match it — what the customer said is in
    ``CUSTOMER_SAYS`` — and publishes every answer as an ``AnswerRecorded``
    event, spread over the conversation, so the store keeps them with the
    rest of the campaign's history. What the agent achieved, read from the
    answers, is kept in ``outcomes`` for the CRM (see :func:`outcomes_of`).
    """

    def __init__(
        self, script: Questionnaire, leads: Mapping[str, Lead], events: EventStream, seed: int
    ) -> None:
        self.script, self.leads, self.events = script, leads, events
        self.rng = random.Random(seed)
        self.talking: dict[str, tuple[str, float]] = {}
        self.outcomes: list[Outcome] = []
        events.subscribe(self.on_event)

    def on_event(self, _seq: int, event: Event) -> None:
        """Note when a lead is put through; play the script when the agent disposes it."""
        if isinstance(event, CallResulted) and event.result is CallResult.CONNECTED:
            self.talking[event.lead_id] = (event.call_id, event.at)
        elif isinstance(event, LeadDisposed):
            call_id, since = self.talking.pop(event.lead_id)
            answers = self.conversation(call_id, event, since)
            for answer in answers:
                self.events.publish(answer)
            said = {answer.question: answer.value for answer in answers}
            lead = self.leads[event.lead_id]
            self.outcomes += outcomes_of(call_id, event, lead, said)

    def conversation(
        self, call_id: str, disposed: LeadDisposed, since: float
    ) -> list[AnswerRecorded]:
        """The answers the person gives on ``call_id`` before the agent picks ``disposed.code``."""
        says = CUSTOMER_SAYS[disposed.code]
        lead = self.leads[disposed.lead_id]
        interview = Interview(self.script, contact_id=call_id, lead_id=lead.lead_id, data=lead.data)
        answers: list[AnswerRecorded] = []
        step = (disposed.at - since) / (len(self.script.questions) + 1)
        while (question := interview.current) is not None:
            at = since + step * (len(interview.path) + 1)
            if question.id not in says:
                interview.next()  # an information step: the agent reads it out
                continue
            said = says[question.id]
            raw = said if isinstance(said, str) else self.rng.choice(said)
            answers.append(interview.answer(raw, at=at))
        return answers


def outcomes_of(
    call_id: str, disposed: LeadDisposed, lead: Lead, said: Mapping[str, str]
) -> list[Outcome]:
    """What the CRM must hear of one disposed call, read from the script's answers.

    A sale is an order and its installation appointment; a call-back after
    a plan was chosen is a quote to follow up on the callback's day.
    """
    plan = said.get("plan")
    if plan is None:
        return []  # no offer was made: nothing for the CRM
    outcome = functools.partial(
        Outcome,
        contact_id=call_id,
        agent_id=disposed.agent_id,
        campaign=disposed.campaign,
        disposition=disposed.code,
        at=disposed.at,
        customer=lead.customer,
        lead_id=lead.lead_id,
        phone=lead.phone,
    )
    price = {"items": (plan,), "amount": PRICES[plan], "currency": CURRENCY}
    zone = zoneinfo.ZoneInfo(lead.timezone)
    if disposed.converted:
        when = installation(said["slot"], disposed.at, zone)
        visit = {"when": when, "where": "the line's address", "what": f"{plan} installation"}
        return [
            outcome(kind=OutcomeKind.ORDER, details=price),
            outcome(kind=OutcomeKind.APPOINTMENT, details=visit),
        ]
    if disposed.callback_at is not None:
        follow_up = dt.datetime.fromtimestamp(disposed.callback_at, zone).date().isoformat()
        return [outcome(kind=OutcomeKind.QUOTE, details={**price, "follow_up": follow_up})]
    return []


def installation(slot: str, sold_at: float, zone: zoneinfo.ZoneInfo) -> str:
    """When the technician comes: the first ``slot`` after the notice, in the lead's time."""
    days, hour = INSTALL_SLOTS[slot]
    day = (dt.datetime.fromtimestamp(sold_at, zone) + INSTALL_NOTICE).date()
    while day.weekday() not in days:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=zone).isoformat()


async def write_outcomes(
    host: PluginHost, outcomes: Sequence[Outcome], events: EventStream
) -> list[WriteBackResult]:
    """Write each outcome back to the CRM plugins, in the order the agents disposed them.

    The simulation has no event loop, so this runs when the afternoon is over;
    each write's events are stamped with its disposition's virtual time.
    """
    return [
        await write_back(host, outcome, clock=ManualClock(outcome.at), events=events)
        for outcome in outcomes
    ]


def read_leads() -> tuple[list[Lead], DoNotCallList]:
    """The leads of every list and the do-not-call list, with the rows refused reported."""
    leads: list[Lead] = []
    for list_id, path in LISTS.items():
        imported = import_leads_csv(
            path, campaign=CAMPAIGN.name, list_id=list_id, region="FR", policy=CAMPAIGN.outbound
        )
        print(f"{path.name}: {len(imported.leads)} leads")
        for line, reason in imported.rejected:
            print(f"  line {line} refused: {reason}")
        leads += imported.leads
    do_not_call = DoNotCallList()
    added, rejected = import_do_not_call(HERE / "do-not-call.csv", do_not_call)
    print(f"do-not-call.csv: {added} numbers" + (f", {len(rejected)} refused" if rejected else ""))
    return leads, do_not_call


def fresh_database(path: Path) -> str:
    """The SQLAlchemy URL of a new SQLite file at ``path`` (an older one is removed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for old in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        old.unlink(missing_ok=True)
    return f"sqlite:///{path}"


def percent(value: float | None) -> str:
    """A rate for people: ``12.3 %``, or ``n/a`` without a denominator."""
    return "n/a" if value is None else f"{100 * value:.1f} %"


def print_calls(run: CampaignRun, leads: Sequence[Lead]) -> None:
    """What dialling came to, the drop rate under both regulators and occupancy."""
    results = Counter(a.result for a in run.attempts)
    print(f"\nCalls placed: {len(run.attempts)}")
    for result in CallResult:
        print(f"  {result.value:10} {results[result]:5}")
    print(f"Contact rate (live answers per attempt): {percent(contact_rate(run.records))}")
    for regime in ("fcc", "ofcom"):
        drop = run.drop_rate(regime)
        verdict = "within" if drop.compliant else "ABOVE"
        print(
            f"Drop rate, {regime.upper():5}: {percent(drop.rate)}"
            f" ({drop.dropped:g} dropped of {drop.live:g} live; {verdict} the 3 % cap)"
        )
    print(f"Agent occupancy: {percent(run.occupancy())}")
    statuses = run.scheduler.counts()
    print("Leads: " + ", ".join(f"{n} {s.value}" for s, n in statuses.items() if n))
    refused = Counter(run.scheduler.refusal(lead.lead_id) for lead in leads)
    for reason, count in sorted(refused.items(), key=lambda item: -item[1]):
        if reason is not None:
            print(f"  {count:4} not dialled now: {reason.value}")


def print_sales(run: CampaignRun, log: EventLog, script: Questionnaire) -> None:
    """Sales per campaign, list and agent, each rate with its denominator, checked in the store."""
    records = run.records
    print(f"\nSales: {sum(1 for r in records if r.converted)}")
    for base in OutboundBase:
        print(f"  per {base.value:12} {percent(conversion_rate(records, per=base))}")
    for by in ("campaign", "list", "agent"):
        print(f"By {by} (sales / calls an agent handled):")
        rates = conversion_by(run.attempts, by, per=OutboundBase.HANDLED)
        for key in sorted((k for k in rates if k is not None), key=lambda k: (len(k), k)):
            mine = [a.record for a in run.attempts if group_of(a, by) == key]
            sold = sum(1 for r in mine if r.converted)
            talks = sum(1 for r in mine if r.answered_at is not None)
            line = f"  {key:20} {sold:4} / {talks:4}  {percent(rates[key]):>7}"
            if by == "agent":
                busy = occupancy(
                    [i for i in run.intervals if i.agent == key], start=run.start, end=run.end
                )
                line += f"   occupancy {percent(busy)}"
            print(line)

    # The same sales, counted again from what the store kept: the agents'
    # dispositions and the answers to the script's closing question.
    logged = [e.event for e in log.read(kinds=[LeadDisposed.kind])]
    disposed = sum(1 for e in logged if isinstance(e, LeadDisposed) and e.converted)
    scripted = sum(1 for answers in answers_by_call(log).values() if script.converted(answers))
    print(f"In the store: {disposed} sale dispositions, {scripted} scripts ending in an order")


def print_crm(crm: SqliteCrm, written: Sequence[WriteBackResult]) -> None:
    """What reached the CRM, counted in its own tables, and what did not."""
    kinds = Counter(result.outcome.kind for result in written if result.references)
    rows = crm.counts()
    print(
        f"\nWritten back to the CRM: {kinds[OutcomeKind.ORDER]} orders,"
        f" {kinds[OutcomeKind.APPOINTMENT]} appointments, {kinds[OutcomeKind.QUOTE]} quotes"
    )
    print("  in its tables: " + ", ".join(f"{n} {table}" for table, n in rows.items()))
    unfinished = [result for result in written if result.unfinished]
    for result in unfinished:
        print(f"  NOT written: {result.outcome.key} ({', '.join(result.unfinished)})")


def group_of(attempt: Attempt, by: str) -> str | None:
    """The campaign, list or agent an attempt counts for."""
    if by == "list":
        return attempt.list_id
    return attempt.record.agent if by == "agent" else attempt.record.campaign


def answers_by_call(log: EventLog) -> dict[str, dict[str, str]]:
    """The stored script answers, by call then question."""
    calls: dict[str, dict[str, str]] = {}
    for answer in stored_answers(log):
        calls.setdefault(answer.contact_id, {})[answer.question] = answer.value
    return calls


# ---------------------------------------------------------------- --live

LIVE_AGENTS = ("ann", "bob")


def line_is_busy(lead_id: str, seed: int) -> bool:
    """One customer's line in four is busy, the same ones for the same seed."""
    return random.Random(f"{seed}:{lead_id}").random() < 0.25


def answers_machine(lead_id: str, seed: int) -> bool:
    """One free line in three is answered by a machine, the same ones for the same seed."""
    return random.Random(f"{seed}:{lead_id}:machine").random() < 1 / 3


HELLO = Tone((300,), duration=0.4)  # a person picks up: "Hello?", then waits
GREETING = AudioFile(str(prompt_path("en", "callback_offer")))  # a machine's long greeting


async def customers_and_desk_phones(phones: MediaPool, seed: int) -> None:
    """The far end of the real SIP calls: the customers and the agents' desk phones.

    Agents' phones pick up at once. A customer's line is busy one time in
    four; otherwise it rings a second and either a person answers ("Hello?",
    then a pause, then they talk a few seconds) or an answering machine does
    (a five-second spoken greeting), which the dialer's detector must spot.
    """
    rng = random.Random(seed)

    async def answer(call_id: str, machine: bool) -> None:
        with contextlib.suppress(MediaError, NotFoundError):  # the dialer hung up first
            await anyio.sleep(1.0)
            await phones.answer(call_id)
            await phones.play(call_id, GREETING if machine else HELLO)
            await anyio.sleep(10.0 if machine else rng.uniform(5.0, 7.0))
            await phones.hangup(call_id)

    async with anyio.create_task_group() as tg:
        async for event in phones.events():
            if not isinstance(event, CallIncoming):
                continue
            who = event.to_uri.split("sip:", 1)[-1].split("@")[0]  # "<sip:ann@...>"
            if who in LIVE_AGENTS:
                await phones.answer(event.call_id)
            elif line_is_busy(who, seed):
                await phones.hangup(event.call_id, status_code=486)
            else:
                tg.start_soon(answer, event.call_id, answers_machine(who, seed))


def dispose_finished(dialer: Dialer, rng: random.Random) -> None:
    """The agents' desktops: each finished conversation gets its disposition."""
    codes, weights = list(NETWORK.dispositions), list(NETWORK.dispositions.values())
    for call_id in dialer.awaiting_disposition():
        code = rng.choices(codes, weights)[0]
        later = time_now() + 3600 if code == "call-back" else None
        dialer.dispose(call_id, code, callback_at=later)


async def agents_at_their_desks(
    dialer: Dialer, rng: random.Random, desk: ScriptDesk, crm: PluginHost
) -> None:
    """Dispose finished conversations as they come, until cancelled.

    What each call achieved (read by the desk from the script as it was
    disposed) is written back to the CRM at once; a write under way when the
    run stops still finishes, within its budget.
    """
    while True:
        dispose_finished(dialer, rng)
        while desk.outcomes:
            with anyio.CancelScope(shield=True):
                await write_back(crm, desk.outcomes.pop(0), events=desk.events)
        await anyio.sleep(0.2)


def time_now() -> float:
    """The wall clock (the live dialer's time)."""
    return WallClock().now()


async def run_live(
    calls: int, script: Questionnaire, seed: int, crm: SqliteCrm | None = None
) -> list[Attempt]:
    """``calls`` real SIP calls over 127.0.0.1 through two pjsua2 worker pools.

    The call center's pool originates the customers' calls and the agents'
    legs and bridges them; a second pool plays the customers and the agents'
    desk phones (customers on one worker, desk phones on the other).
    Progressive dialling with two agents keeps every worker within pjsua2's
    four calls. Each answer is screened by answering-machine detection on
    its audio (:func:`amd_detector`) before it may reach an agent. Calling
    hours are lifted so the demo runs at any time of day. Sales and quotes
    are written back to ``crm`` as the agents dispose them.
    """
    clock, rng = WallClock(), random.Random(seed)
    campaign = attrs.evolve(
        CAMPAIGN,
        mode="progressive",
        window=CallingWindow(start="00:00", end="23:59"),
        country_windows={},
    )
    leads = list(import_leads_csv(LISTS["web"], campaign=campaign.name, list_id="web").leads)
    leads = leads[:calls]
    events, all_done = EventStream(), anyio.Event()
    desk = ScriptDesk(script, {lead.lead_id: lead for lead in leads}, events, seed=seed)
    crm_host = create_plugin_host(plugins=[] if crm is None else [crm])
    engine = Engine(clock=clock, events=events)
    engine.add_queue(Queue(name=campaign.name, wrap_up=1.0))
    for aid in LIVE_AGENTS:
        member = Membership(campaign.name)
        engine.add_agent(Agent(id=aid, skills={owner_skill(aid): 1}, memberships=(member,)))
        engine.login(aid)
        engine.set_ready(aid)
    with anyio.fail_after(60 + 10 * calls):
        async with create_media_pool(2) as phones, create_media_pool(2) as center:
            customers, desks = (worker.address for worker in phones.workers)
            dialer = Dialer(
                backend=center,
                engine=engine,
                clock=clock,
                campaign=campaign,
                scheduler=LeadScheduler(Compliance(campaign), leads, now=clock.now()),
                guard=campaign_guard(campaign, clock=clock, events=events),  # [outbound]
                agent_uris={aid: f"sip:{aid}@{desks}" for aid in LIVE_AGENTS},
                number_uri=lambda lead: f"sip:{lead.lead_id}@{customers}",
                events=events,
                information_prompt=Tone((440, 480)),
                machine_detector=amd_detector(center),
                on_attempt=lambda _: all_done.set() if len(dialer.attempts) >= calls else None,
            )
            async with anyio.create_task_group() as tg:
                tg.start_soon(customers_and_desk_phones, phones, seed)
                tg.start_soon(agents_at_their_desks, dialer, rng, desk, crm_host)
                tg.start_soon(functools.partial(dialer.run, until=clock.now() + 60.0, tick_s=0.2))
                await all_done.wait()  # every lead dialled, every conversation disposed
                tg.cancel_scope.cancel()
    return dialer.attempts


def print_live(attempts: Sequence[Attempt], crm: SqliteCrm) -> None:
    """Each real call and what came of it."""
    print(f"\n{len(attempts)} real SIP calls:")
    for a in attempts:
        r = a.record
        talk = f", {r.talk_s:.1f} s with {r.agent}" if r.agent else ""
        print(
            f"  {a.lead_id} {a.phone}: {a.result.value}{talk}"
            + (f" -> {r.disposition}" if r.disposition else "")
        )
    records = [a.record for a in attempts]
    end = max(r.ended_at or r.arrived_at for r in records) + 1.0
    drop = drop_rate(records, DropRegime.FCC, now=end, campaign=CAMPAIGN.name)
    print(f"Drop rate (FCC): {percent(drop.rate)}; sales: {sum(1 for r in records if r.converted)}")
    print(f"CRM tables in {crm.path}: " + ", ".join(f"{n} {t}" for t, n in crm.counts().items()))


def main(argv: Sequence[str] | None = None) -> CampaignRun | None:
    """Import, dial, report; return the run for whoever wants to look further."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--hours", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="where the database and the export go (default: $CALLCENTER_DATA_DIR,"
        " else ~/.local/share/callcenter)",
    )
    parser.add_argument("--db", type=Path, help="SQLite file (default: in the data directory)")
    parser.add_argument("--export", type=Path, help="CSV of answers (default: data directory)")
    parser.add_argument(
        "--live", type=int, metavar="CALLS", help="place CALLS real SIP calls instead (pjsua2)"
    )
    args = parser.parse_args(argv)
    # customer data lives in the data directory (0700), never beside the code
    folder = data_dir(args.data_dir).path
    args.db = args.db or folder / "telesales.db"
    args.export = args.export or folder / "telesales-script.csv"

    script = load_questionnaire(HERE / "script.toml")
    if args.live:
        args.db.parent.mkdir(parents=True, exist_ok=True)
        crm = SqliteCrm(args.db)  # rows are added to the CRM's tables of the last run's file
        print_live(anyio.run(run_live, args.live, script, args.seed, crm), crm)
        return None
    leads, do_not_call = read_leads()

    store = create_store(fresh_database(args.db))
    lists, log = OutboundLists(store), EventLog(store, durable=False)
    save_leads(lists, leads, at=START)
    save_do_not_call(Documents(store), do_not_call, at=START, expected_version=0)

    # Every event of the run — the ACD's, the dialer's, the script's answers — is logged.
    events = EventStream()
    log.attach(events)
    desk = ScriptDesk(script, {lead.lead_id: lead for lead in leads}, events, seed=args.seed)

    print(f"\nDialling {CAMPAIGN.name} ({CAMPAIGN.mode}), {args.agents} agents, {args.hours:g} h")
    run = simulate_campaign(
        CAMPAIGN,
        leads,
        agents=args.agents,
        start=START,
        duration=args.hours * 3600,
        model=NETWORK,
        seed=args.seed,
        do_not_call=do_not_call,
        events=events,
    )
    log.flush()
    save_run(lists, ContactRecords(store), run)

    # ACME's CRM keeps its tables in the same SQLite file; any other
    # callcenter_record_outcome plugin installed would be written to as well.
    crm = SqliteCrm(args.db)
    written = anyio.run(write_outcomes, create_plugin_host(plugins=[crm]), desk.outcomes, events)
    log.flush()

    print_calls(run, leads)
    print_sales(run, log, script)
    print_crm(crm, written)
    args.export.parent.mkdir(parents=True, exist_ok=True)
    with args.export.open("w", newline="", encoding="utf-8") as out:
        rows = export_answers_csv(script, stored_answers(log), out)
    print(f"\nScript answers of {rows} conversations written to {args.export}")
    print(f"Everything above is stored in {args.db}")
    store.close()
    return run


if __name__ == "__main__":
    main()
