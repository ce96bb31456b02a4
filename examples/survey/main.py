"""Survey: an outbound satisfaction survey, its questionnaire and a CSV of the results.

Globex Energy has the Lyon center's outbound floor call its customers with a
short satisfaction questionnaire. The campaign and its team of interviewers
come from the organisation file (``examples/org/acme.toml``); this example
runs one morning of it on the library:

1. read the campaign rules (``campaign.toml``, with the number ranges it may
   dial), the questionnaire (``questionnaire.toml``), the customer list and
   the do-not-call list;
2. save them in a SQLite store;
3. run the campaign in virtual time on the real ACD engine: a progressive
   pacer places one call per free interviewer, each number passing the
   campaign's outbound policy first, a simulated telephone network
   answers, and each customer who agrees is interviewed question by
   question, every answer stored as an event;
4. report: calls and outcomes, drop rate (FCC and Ofcom), occupancy, survey
   completion with its denominators, and the distribution of every answer
   read back from the store; export one CSV row per completed survey.

Run it (a few seconds)::

    .venv/bin/python examples/survey/main.py --hours 4

The SQLite file (``survey.db`` in the data directory, see
:func:`callcenter_sdk.data_dir`, by default) is recreated on each run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

from callcenter_sdk import Event, EventStream, data_dir
from callcenter_sdk.dialer import (
    AnswerRecorded,
    CallResult,
    CallResulted,
    CampaignRun,
    DoNotCallList,
    Interview,
    Lead,
    LeadDisposed,
    Question,
    QuestionKind,
    Questionnaire,
    export_answers_csv,
    import_do_not_call,
    import_leads_csv,
    load_campaign,
    load_questionnaire,
    save_do_not_call,
    save_leads,
    save_run,
    stored_answers,
)
from callcenter_sdk.kpi import OutboundBase, conversion_rate, occupancy
from callcenter_sdk.org import load_org
from callcenter_sdk.sim import LogNormal, OutcomeModel, simulate_campaign
from callcenter_sdk.store import ContactRecords, Documents, EventLog, OutboundLists, create_store

HERE = Path(__file__).parent

# 1. The campaign is configuration; its team is the organisation's.
CAMPAIGN = load_campaign(HERE / "campaign.toml")
ORG = load_org(HERE.parent / "org" / "acme.toml")
TEAM = [person.id for person in ORG.agents_of_campaign(CAMPAIGN.name)]

# 2. How the numbers behave, and how conversations end: six customers in ten
#    reached answer the survey.
NETWORK = OutcomeModel(
    live=0.35,
    machine=0.15,
    busy=0.06,
    invalid=0.02,
    talk=LogNormal(200.0, 80.0),
    dispositions={
        "completed": 6.0,
        "refused": 2.0,
        "call-back": 1.0,
        "not-customer": 0.7,
        "remove-me": 0.3,
    },
)

# A Wednesday morning, 08:00 UTC: 09:00 in Paris and Berlin, 08:00 in London
# (whose customers wait an hour), 03:00 in New York (not called this morning).
START = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC).timestamp()

COMMENTS = (
    "The app keeps logging me out.",
    "My last bill was wrong twice.",
    "Very friendly agents on the phone.",
    "Please send the bills by email only.",
    "Prices went up too fast this year.",
)


def customer_answer(question: Question, given: Mapping[str, str], rng: random.Random) -> str | None:
    """What a simulated customer answers to ``question`` (``None``: nothing to add).

    The answers hang together: unhappy customers recommend less and think of
    leaving more often.
    """
    if question.id == "satisfied":
        return rng.choices("12345", weights=(6, 10, 24, 38, 22))[0]
    satisfied = int(given.get("satisfied", "3"))
    if question.id == "recommend":
        return str(min(10, max(0, 2 * satisfied + rng.randint(-2, 1))))
    if question.id == "channels":
        return ",".join(rng.sample(question.choices, k=rng.choice((1, 1, 2, 3))))
    if question.id == "switching":
        return "yes" if rng.random() < (0.5 if satisfied <= 2 else 0.1) else "no"
    if question.id == "comment":
        return rng.choice(COMMENTS) if rng.random() < 0.3 else None
    return rng.choice(question.choices)  # "why": what disappointed them


class Interviewers:
    """The interviewers' desktops: a customer who agrees answers the questionnaire.

    The simulation decides how each conversation ends; when it ends as
    ``completed``, the interviewer has walked the whole questionnaire with the
    customer, and every answer is published as an ``AnswerRecorded`` event
    (the store's event log keeps it). Other endings record no answer.
    """

    def __init__(
        self, survey: Questionnaire, leads: Sequence[Lead], events: EventStream, seed: int
    ) -> None:
        self.survey, self.events = survey, events
        self.leads = {lead.lead_id: lead for lead in leads}
        self.rng = random.Random(seed)
        self.on_line: dict[str, tuple[str, float]] = {}
        events.subscribe(self.notice)

    def notice(self, _seq: int, event: Event) -> None:
        """Follow each call from the moment it is put through to its disposition."""
        if isinstance(event, CallResulted) and event.result is CallResult.CONNECTED:
            self.on_line[event.lead_id] = (event.call_id, event.at)
        elif isinstance(event, LeadDisposed):
            call_id, since = self.on_line.pop(event.lead_id)
            if event.code == "completed":
                self.interview(call_id, self.leads[event.lead_id], since, event.at)

    def interview(self, call_id: str, lead: Lead, since: float, until: float) -> None:
        """Ask every question in turn, as routed by the answers; publish each answer."""
        interview = Interview(self.survey, contact_id=call_id, lead_id=lead.lead_id, data=lead.data)
        pause = (until - since) / (len(self.survey.questions) + 1)
        at = since
        while (question := interview.current) is not None:
            at += pause
            said = None
            if question.kind is not QuestionKind.INFO:
                said = customer_answer(question, interview.answers, self.rng)
            if said is None:
                interview.next()  # read out the introduction; no comment to note
            else:
                self.events.publish(interview.answer(said, at=at))


def import_customers() -> tuple[list[Lead], DoNotCallList]:
    """The customers to call (one list) and the numbers never to call."""
    imported = import_leads_csv(
        HERE / "customers.csv",
        campaign=CAMPAIGN.name,
        list_id="customers-2026",
        region="FR",
        policy=CAMPAIGN.outbound,  # numbers outside campaign.toml's [outbound] are refused
    )
    refused = f", {len(imported.rejected)} rows refused" if imported.rejected else ""
    print(f"customers.csv: {len(imported.leads)} customers{refused}")
    do_not_call = DoNotCallList()
    added, _ = import_do_not_call(HERE / "do-not-call.csv", do_not_call)
    print(f"do-not-call.csv: {added} numbers")
    return list(imported.leads), do_not_call


def rate(part: float, whole: float) -> str:
    """``part / whole`` as a percentage, ``n/a`` when ``whole`` is 0."""
    return f"{100 * part / whole:5.1f} %" if whole else "  n/a"


def report_dialling(run: CampaignRun) -> None:
    """Outcomes, drops under both regulators, and each interviewer's occupancy."""
    outcomes = Counter(a.result.value for a in run.attempts)
    total = len(run.attempts)
    print(f"\n{total} calls placed:")
    for outcome, count in outcomes.most_common():
        print(f"  {outcome:10} {count:5}  {rate(count, total)}")
    fcc, ofcom = run.drop_rate("fcc"), run.drop_rate("ofcom")
    print(
        f"Dropped calls: {fcc.dropped:g} of {fcc.live:g} live answers"
        f" (FCC {rate(fcc.dropped, fcc.live)}; Ofcom, machines counted,"
        f" {rate(ofcom.dropped, ofcom.live)}; cap 3 %)"
    )
    statuses = run.scheduler.counts()
    print("Customers: " + ", ".join(f"{n} {s.value}" for s, n in statuses.items() if n))
    print(f"Occupancy of the team: {100 * (run.occupancy() or 0.0):.1f} %")
    per_agent: defaultdict[str, list[bool]] = defaultdict(list)
    for record in run.records:
        if record.agent is not None:
            per_agent[record.agent].append(bool(record.converted))
    for agent, surveys in sorted(per_agent.items()):
        mine = [i for i in run.intervals if i.agent == agent]
        busy = occupancy(mine, start=run.start, end=run.end) or 0.0
        print(
            f"  {agent:11} {sum(surveys):3} completed of {len(surveys):3} reached,"
            f" occupancy {100 * busy:.1f} %"
        )


def report_answers(run: CampaignRun, survey: Questionnaire, answers: list[AnswerRecorded]) -> None:
    """Completion over each base, then every question's answers from the store."""
    records = run.records
    completed = sum(1 for r in records if r.converted)
    print(f"\nSurveys completed: {completed}")
    for base in OutboundBase:
        print(f"  per {base.value:12} {100 * (conversion_rate(records, per=base) or 0.0):5.1f} %")
    given: defaultdict[str, list[str]] = defaultdict(list)
    for answer in answers:
        given[answer.question].append(answer.value)
    for question in survey.questions:
        values = given[question.id]
        if question.kind is QuestionKind.INFO:
            continue
        print(f"{question.id} ({len(values)} answers): {question.text}")
        if question.kind is QuestionKind.TEXT:
            for text, count in Counter(values).most_common(3):
                print(f"  {count:4}  {text}")
            continue
        if question.kind is QuestionKind.MULTI_CHOICE:
            values = [v for value in values for v in value.split(",")]
        options = sorted(question.allowed_answers() or set(values), key=_numeric_first)
        counts = Counter(values)
        for option in options:
            print(
                f"  {option:17} {counts[option]:4}  {rate(counts[option], len(given[question.id]))}"
            )
    scores = [int(v) for v in given["recommend"]]
    if scores:
        promoters = sum(1 for s in scores if s >= 9) / len(scores)
        detractors = sum(1 for s in scores if s <= 6) / len(scores)
        print(f"Net promoter score: {100 * (promoters - detractors):+.0f}")
        print(f"Mean satisfaction: {statistics.mean(int(v) for v in given['satisfied']):.2f} / 5")


def _numeric_first(option: str) -> tuple[int, float, str]:
    return (0, float(option), "") if option.isdigit() else (1, 0.0, option)


def fresh_database(path: Path) -> str:
    """The SQLAlchemy URL of a new SQLite file at ``path`` (an older one is removed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def main(argv: Sequence[str] | None = None) -> CampaignRun:
    """Import, call, interview, report and export; return the run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="where the database and the export go (default: $CALLCENTER_DATA_DIR,"
        " else ~/.local/share/callcenter)",
    )
    parser.add_argument("--db", type=Path, help="SQLite file (default: in the data directory)")
    parser.add_argument("--export", type=Path, help="CSV of answers (default: data directory)")
    args = parser.parse_args(argv)
    # customer data lives in the data directory (0700), never beside the code
    folder = data_dir(args.data_dir).path
    args.db = args.db or folder / "survey.db"
    args.export = args.export or folder / "survey-results.csv"

    survey = load_questionnaire(HERE / "questionnaire.toml")
    leads, do_not_call = import_customers()
    store = create_store(fresh_database(args.db))
    lists, log = OutboundLists(store), EventLog(store, durable=False)
    save_leads(lists, leads, at=START)
    save_do_not_call(Documents(store), do_not_call, at=START, expected_version=0)

    events = EventStream()
    log.attach(events)  # first subscriber: the log sees every event in order
    Interviewers(survey, leads, events, seed=args.seed)

    print(f"\n{CAMPAIGN.name}: {len(TEAM)} interviewers ({', '.join(TEAM)}), {args.hours:g} h")
    run = simulate_campaign(
        CAMPAIGN,
        leads,
        agents=TEAM,  # the organisation's interviewers log in under their own ids
        start=START,
        duration=args.hours * 3600,
        model=NETWORK,
        seed=args.seed,
        do_not_call=do_not_call,
        events=events,
    )
    log.flush()
    save_run(lists, ContactRecords(store), run)

    answers = stored_answers(log)
    report_dialling(run)
    report_answers(run, survey, answers)
    args.export.parent.mkdir(parents=True, exist_ok=True)
    with args.export.open("w", newline="", encoding="utf-8") as out:
        rows = export_answers_csv(survey, answers, out)
    print(f"\n{rows} completed surveys exported to {args.export}")
    store.close()
    return run


if __name__ == "__main__":
    main()
