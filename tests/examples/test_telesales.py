"""The telesales example: a predictive campaign with a script, checked from its SQLite file."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import importlib.util
import io
import runpy
import sqlite3
import zoneinfo
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest

from callcenter_sdk.cti import OutboundDenied, OutboundRefused, OutcomeWritten, to_e164
from callcenter_sdk.dialer import (
    CallResult,
    CampaignRun,
    LeadDisposed,
    import_leads_csv,
    load_do_not_call,
    load_questionnaire,
    stored_answers,
)
from callcenter_sdk.kpi import DropRegime
from callcenter_sdk.store import (
    ContactRecords,
    Documents,
    EventLog,
    OutboundLists,
    Store,
    create_store,
)

EXAMPLE = Path(__file__).parents[2] / "examples" / "telesales"


@attrs.frozen
class Ran:
    """One run of the example: its module, result, printout and files."""

    example: dict[str, Any]
    run: CampaignRun
    out: str
    db: Path
    export: Path


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Ran:
    """The example run once as shipped (10 agents, 3 virtual hours) into a temporary dir."""
    tmp = tmp_path_factory.mktemp("telesales")
    example = runpy.run_path(str(EXAMPLE / "main.py"), run_name="telesales_example")
    db, export = tmp / "telesales.db", tmp / "script.csv"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        run = example["main"](["--db", str(db), "--export", str(export)])
    return Ran(example, run, printed.getvalue(), db, export)


@pytest.fixture
def store(ran: Ran) -> Iterator[Store]:
    """The example's SQLite file, opened again as a user would after the run."""
    with create_store(f"sqlite:///{ran.db}") as opened:
        yield opened


def test_drop_rate_stays_under_the_cap_under_both_regulators(ran: Ran) -> None:
    """Predictive dialling drops calls, but under 3 % of live calls by the FCC's and Ofcom's
    definitions (KPI module), and the printout says so."""
    for regime in DropRegime:
        drop = ran.run.drop_rate(regime)
        assert drop.rate is not None
        assert drop.dropped > 0
        assert drop.compliant, (regime, drop)
        assert f"Drop rate, {regime.value.upper():5}: {100 * drop.rate:.1f} %" in ran.out
    assert any(a.result is CallResult.DROPPED for a in ran.run.attempts)


def test_sales_agree_between_records_dispositions_and_script_answers(
    ran: Ran, store: Store
) -> None:
    """Every handled call's script answers are in the store and convert exactly when its
    record does; the event log's sale dispositions count the same sales."""
    script = load_questionnaire(EXAMPLE / "script.toml")
    answers: dict[str, dict[str, str]] = {}
    for answer in stored_answers(EventLog(store)):
        answers.setdefault(answer.contact_id, {})[answer.question] = answer.value
    handled = [r for r in ran.run.records if r.answered_at is not None]
    assert handled
    assert {r.contact_id for r in handled} == set(answers)
    for record in handled:
        assert script.converted(answers[record.contact_id]) is record.converted
    sales = [
        e.event
        for e in EventLog(store).read(kinds=[LeadDisposed.kind])
        if isinstance(e.event, LeadDisposed) and e.event.converted
    ]
    converted = sum(1 for r in ran.run.records if r.converted)
    assert len(sales) == converted > 0
    assert f"In the store: {converted} sale dispositions, {converted} scripts" in ran.out


def test_conversion_is_printed_per_list_with_its_denominator(ran: Ran) -> None:
    """Each list's line shows its sales over the calls agents handled from it."""
    for list_id in ("web", "partner"):
        mine = [a.record for a in ran.run.attempts if a.list_id == list_id]
        sold = sum(1 for r in mine if r.converted)
        talks = sum(1 for r in mine if r.answered_at is not None)
        assert f"  {list_id:20} {sold:4} / {talks:4}  {100 * sold / talks:5.1f} %" in ran.out


def test_export_has_one_row_per_conversation_with_the_script_columns(ran: Ran) -> None:
    """The CSV export has the script's answerable questions as columns, one row per call
    an agent handled, and 'converted' matching the call's record."""
    with ran.export.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    assert list(rows[0]) == [
        "contact_id",
        "lead_id",
        "answered_at",
        "holder",
        "interested",
        "objection",
        "plan",
        "accept",
        "slot",
        "converted",
    ]
    records = {r.contact_id: r for r in ran.run.records if r.answered_at is not None}
    assert len(rows) == len(records)
    for row in rows:
        assert (row["converted"] == "yes") is records[row["contact_id"]].converted


def test_no_do_not_call_number_and_no_dial_outside_its_window(ran: Ran, store: Store) -> None:
    """The stored do-not-call list holds the file's numbers; none was dialled, and every
    dial fell inside the lead's local calling window (10:00-20:00 in France)."""
    do_not_call, _ = load_do_not_call(Documents(store))
    with (EXAMPLE / "do-not-call.csv").open(encoding="utf-8") as handle:
        listed = {to_e164(row["phone"], "FR") for row in csv.DictReader(handle)}
    assert listed <= do_not_call.numbers()
    dialled = {a.phone for a in ran.run.attempts}
    assert not dialled & listed
    campaign = ran.example["CAMPAIGN"]
    leads = {lead.lead_id: lead for lead in ran.example["read_leads"]()[0]}
    for attempt in ran.run.attempts:
        lead = leads[attempt.lead_id]
        local = dt.datetime.fromtimestamp(
            attempt.record.arrived_at, zoneinfo.ZoneInfo(lead.timezone)
        )
        assert campaign.window_for(lead.country).allows(local), (lead, local)


def test_every_attempt_is_stored_in_its_list(ran: Ran, store: Store) -> None:
    """The store's outbound lists hold every lead imported and every attempt made, and each
    attempt's contact record reads back as it was."""
    lists = OutboundLists(store)
    records = ContactRecords(store)
    for attempt in ran.run.attempts[::50]:
        assert records.get(attempt.record.contact_id) == attempt.record
    for list_id, path in ran.example["LISTS"].items():
        imported = import_leads_csv(path, campaign="x", list_id=list_id)
        assert len(lists.entries(list_id)) == len(imported.leads)
        stored = lists.attempts(list_id)
        assert len(stored) == sum(1 for a in ran.run.attempts if a.list_id == list_id)


@pytest.mark.sip
@pytest.mark.skipif(
    importlib.util.find_spec("pjsua2") is None,
    reason="pjsua2 is not installed (pip install pjsua2-python)",
)
def test_live_places_real_sip_calls_that_reach_the_agents(ran: Ran, tmp_path: Path) -> None:
    """--live: six real SIP calls over loopback through pjsua2 pools; busy lines come
    back busy, answering machines (a spoken five-second greeting) are told from
    people ("Hello?" and a pause) by answering-machine detection on the call's audio
    and never reach an agent, and every person is put through to one of the two
    agents (or dropped with the message if none could be reached) and disposed; each
    sale is an order in the CRM's SQLite, written as it was disposed."""
    script = load_questionnaire(EXAMPLE / "script.toml")
    crm = ran.example["SqliteCrm"](tmp_path / "crm.db")
    attempts = anyio.run(ran.example["run_live"], 6, script, 1, crm)
    assert len(attempts) == 6
    kinds = set()
    for attempt in attempts:
        record = attempt.record
        if ran.example["line_is_busy"](attempt.lead_id, 1):
            kinds.add("busy")
            assert attempt.result is CallResult.BUSY
            continue
        if ran.example["answers_machine"](attempt.lead_id, 1):
            kinds.add("machine")
            assert attempt.result is CallResult.MACHINE
            assert record.agent is None
            continue
        kinds.add("person")
        assert attempt.result in (CallResult.CONNECTED, CallResult.DROPPED)
        if attempt.result is CallResult.CONNECTED:
            assert record.agent in ran.example["LIVE_AGENTS"]
            assert record.disposition is not None
            assert record.talk_s > 0
    assert kinds == {"busy", "machine", "person"}  # seed 1 dials all three kinds
    assert any(a.result is CallResult.CONNECTED for a in attempts)
    sold = {a.record.contact_id for a in attempts if a.record.converted}
    assert {row["contact_id"] for row in _crm_rows(crm.path, "orders")} == sold
    assert len(_crm_rows(crm.path, "appointments")) == len(sold)


def test_every_number_dialled_passes_the_campaigns_outbound_policy(ran: Ran, store: Store) -> None:
    """campaign.toml's [outbound] ranges allow every number of the lists, so nothing was
    refused (no OutboundRefused event in the store); a premium or satellite number added to
    a list would be refused by the same policy."""
    policy = ran.example["CAMPAIGN"].outbound
    assert policy is not None
    for attempt in ran.run.attempts:
        assert policy.judge(attempt.phone) == attempt.phone
    assert not list(EventLog(store).read(kinds=[OutboundRefused.kind]))
    for number in ("+33899123456", "+88212345678"):
        with pytest.raises(OutboundDenied):
            policy.judge(number)


def _crm_rows(db: Path, table: str) -> list[sqlite3.Row]:
    with contextlib.closing(sqlite3.connect(db)) as crm:
        crm.row_factory = sqlite3.Row
        return crm.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()  # noqa: S608


def test_sales_reach_the_crm_as_orders_and_installation_appointments(ran: Ran) -> None:
    """The example's CRM plugin wrote one order and one installation appointment per sale
    and one quote per call-back into the SQLite file, each row naming its call, agent, lead
    and the plan the customer chose in the script (appointments: the slot chosen, two days
    on at the earliest); each reference is in a stored event; the printout says how many."""
    store_answers: dict[str, dict[str, str]] = {}
    with create_store(f"sqlite:///{ran.db}") as store:
        for answer in stored_answers(EventLog(store)):
            store_answers.setdefault(answer.contact_id, {})[answer.question] = answer.value
        written = [e.event for e in EventLog(store).read(kinds=[OutcomeWritten.kind])]
    records = {r.contact_id: r for r in ran.run.records}
    sales = {r.contact_id for r in records.values() if r.converted}
    call_backs = {r.contact_id for r in records.values() if r.disposition == "call-back"}
    orders = _crm_rows(ran.db, "orders")
    appointments = _crm_rows(ran.db, "appointments")
    quotes = _crm_rows(ran.db, "quotes")
    assert sales
    assert call_backs
    assert [row["contact_id"] for row in orders] == [row["contact_id"] for row in appointments]
    assert {row["contact_id"] for row in orders} == sales
    assert len(orders) == len(sales)
    assert {row["contact_id"] for row in quotes} == call_backs
    assert len(quotes) == len(call_backs)
    leads = {attempt.record.contact_id: attempt.lead_id for attempt in ran.run.attempts}
    prices = ran.example["PRICES"]
    for row in [*orders, *quotes]:
        said = store_answers[row["contact_id"]]
        assert row["items"] == said["plan"]
        assert row["amount"] == prices[said["plan"]]
        assert row["agent_id"] == records[row["contact_id"]].agent
        assert row["lead_id"] == leads[row["contact_id"]]
    for row in appointments:
        when = dt.datetime.fromisoformat(row["starts_at"])
        sold = dt.datetime.fromtimestamp(row["taken_at"], when.tzinfo)  # the lead's time
        assert when.date() - sold.date() >= dt.timedelta(days=2)
        slot = store_answers[row["contact_id"]]["slot"]
        assert when.weekday() == 5 if slot == "saturday-morning" else when.weekday() < 5
        assert when.hour == (14 if slot == "weekday-afternoon" else 9)
    # every write is in the event log, with the CRM's reference of its row
    references = {
        reference
        for event in written
        if isinstance(event, OutcomeWritten)
        for _, reference in event.references
    }
    assert references == (
        {f"ORD-{row['id']:06d}" for row in orders}
        | {f"APT-{row['id']:06d}" for row in appointments}
        | {f"QUO-{row['id']:06d}" for row in quotes}
    )
    assert (
        f"Written back to the CRM: {len(orders)} orders, {len(appointments)} appointments,"
        f" {len(quotes)} quotes" in ran.out
    )
    assert "NOT written" not in ran.out
