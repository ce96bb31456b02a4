"""Lead lists: CSV import with E.164 numbers and time zones, do-not-call imports, the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter_sdk import ConfigError, EventStream
from callcenter_sdk.cti import OutboundPolicy
from callcenter_sdk.dialer import (
    AnswerRecorded,
    CallResult,
    Campaign,
    Compliance,
    Disposition,
    DoNotCallList,
    InformationMessage,
    LeadScheduler,
    LeadStatus,
    PowerPacer,
    conversion_by,
    import_do_not_call,
    import_leads_csv,
    load_do_not_call,
    load_leads,
    record_attempt,
    restore_dispositions,
    restore_histories,
    save_do_not_call,
    save_leads,
    save_run,
    stored_answers,
    zone_of_number,
)
from callcenter_sdk.kpi import OutboundBase
from callcenter_sdk.sim import OutcomeModel, simulate_campaign
from callcenter_sdk.store import ContactRecords, Documents, EventLog, OutboundLists, Store
from callcenter_sdk.testing import sample_leads

CSV = """phone,first_name,timezone,priority,consent,lead_id
01 42 68 53 00,Ann,,2,yes,
+44 20 7946 0000,Bob,,,,
+1 312 555 0100,Cy,,,no,c-3
+1 555 555 0100,Dee,,,,
+1 555 555 0101,Eve,America/Denver,,,
01 42 68 53 00,Ann again,,,,
not a number,Zed,,,,
+33 1 42 68 53 01,Fay,,high,,
+33 1 42 68 53 02,Gus,,,maybe,
"""


def test_csv_import_normalises_numbers_and_finds_time_zones() -> None:
    """Local numbers become E.164; zones come from the column, else the number, else the
    default; ambiguous zones, duplicates, impossible numbers and bad values are reported."""
    result = import_leads_csv(CSV.splitlines(), campaign="spring", list_id="web", region="FR")
    by_phone = {lead.phone: lead for lead in result.leads}
    assert list(by_phone) == ["+33142685300", "+442079460000", "+13125550100", "+15555550101"]
    ann = by_phone["+33142685300"]
    assert (ann.timezone, ann.country, ann.priority, ann.consent) == ("Europe/Paris", "FR", 2, True)
    assert ann.lead_id == "web-2"
    assert ann.data == {"first_name": "Ann"}
    assert by_phone["+442079460000"].timezone == "Europe/London"
    assert by_phone["+13125550100"].timezone == "America/Chicago"
    assert by_phone["+13125550100"].consent is False
    assert by_phone["+13125550100"].lead_id == "c-3"
    assert by_phone["+15555550101"].timezone == "America/Denver"
    reasons = dict(result.rejected)
    assert set(reasons) == {5, 7, 8, 9, 10}
    assert "time zones" in reasons[5]
    assert "already" in reasons[7]
    assert "phone number" in reasons[8]
    assert "priority" in reasons[9]
    assert "consent" in reasons[10]
    with_default = import_leads_csv(
        CSV.splitlines(), campaign="spring", list_id="web", timezone="America/New_York"
    )
    assert len(with_default.leads) == 5


def test_csv_import_with_the_campaigns_policy_reports_premium_and_foreign_numbers() -> None:
    """Given the campaign's outbound policy, the import rejects (with their lines) a French
    premium number, a satellite number and a number outside the allowed ranges, so a bad
    list is reported when loaded rather than refused one dial at a time."""
    rows = ["phone", "01 42 68 53 00", "08 99 12 34 56", "+882 12345678", "+44 20 7946 0000"]
    policy = OutboundPolicy(allowed=[r"\+33\d{9}", r"\+882\d+"])  # +882 stays denied
    result = import_leads_csv(rows, campaign="spring", list_id="web", policy=policy)
    assert [lead.phone for lead in result.leads] == ["+33142685300"]
    reasons = dict(result.rejected)
    assert set(reasons) == {3, 4, 5}
    assert "denied range" in reasons[3]
    assert "denied range" in reasons[4]
    assert "not allowed" in reasons[5]
    without = import_leads_csv(rows, campaign="spring", list_id="web", timezone="UTC")
    assert len(without.leads) == 4  # without the policy, the premium numbers would load


def test_csv_import_needs_a_phone_column(tmp_path: Path) -> None:
    """A file without a phone column is a ConfigError naming the file."""
    path = tmp_path / "leads.csv"
    path.write_text("number,name\n1,Ann\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="phone column") as info:
        import_leads_csv(path, campaign="spring", list_id="x")
    assert info.value.file == str(path)


def test_zone_of_number() -> None:
    """A French number has one zone; an unknown US area code has none."""
    assert zone_of_number("+33142685300") == ("Europe/Paris", "FR")
    assert zone_of_number("+15555550100")[0] is None


def test_do_not_call_import_global_and_per_campaign() -> None:
    """Numbers are normalised before joining the list; impossible ones are reported."""
    dnc = DoNotCallList()
    added, rejected = import_do_not_call(
        ["phone", "01 42 68 53 00", "nope", "+44 20 7946 0000"], dnc, campaign="spring"
    )
    assert added == 2
    assert [line for line, _ in rejected] == [3]
    assert dnc.numbers("spring") == {"+33142685300", "+442079460000"}
    assert dnc.numbers() == frozenset()


def test_leads_round_trip_through_the_store_and_histories_survive_a_restart(store: Store) -> None:
    """Saved leads load back equal; recorded attempts rebuild attempt counts and drops so a
    new scheduler refuses what the old one would have."""
    lists = OutboundLists(store)
    leads = import_leads_csv(CSV.splitlines(), campaign="spring", list_id="web").leads
    assert save_leads(lists, leads, at=0.0) == 4
    loaded = load_leads(lists, "web", campaign="spring")
    assert sorted(loaded, key=lambda lead: lead.phone) == sorted(leads, key=lambda lead: lead.phone)
    info = InformationMessage(company="ACME", callback_number="+33142685300")
    campaign = Campaign(
        name="spring",
        mode="predictive",
        information=info,
        regime="ofcom",
        max_attempts=3,
        dispositions=(Disposition(code="sale", converted=True),),
    )
    run = simulate_campaign(
        campaign,
        leads,
        agents=1,
        start=1_795_600_000.0,
        duration=600.0,
        model=OutcomeModel(live=1.0, machine=0.0, busy=0.0, invalid=0.0),
        seed=1,
        pacer=PowerPacer(4),  # predictive would not drop with no headroom; power does
    )
    assert {a.result for a in run.attempts} == {CallResult.CONNECTED, CallResult.DROPPED}
    save_run(lists, ContactRecords(store), run)
    assert all(ContactRecords(store).get(r.contact_id) == r for r in run.records)
    fresh = LeadScheduler(Compliance(campaign), loaded, now=run.end)
    assert restore_histories(lists, "web", fresh) == len({a.lead_id for a in run.attempts})
    for attempt in run.attempts:
        history = fresh.history(attempt.lead_id)
        assert history.attempts == run.scheduler.history(attempt.lead_id).attempts
        if attempt.result is CallResult.DROPPED:
            assert history.last_drop_at == attempt.record.arrived_at


def test_do_not_call_lists_and_answers_persist(store: Store) -> None:
    """The do-not-call document saves and loads with its version; survey answers written to
    the event log come back as AnswerRecorded events."""
    documents = Documents(store)
    dnc, version = load_do_not_call(documents)
    assert version == 0
    assert len(dnc) == 0
    dnc.add("+33142685300")
    dnc.add("+442079460000", campaign="spring")
    assert save_do_not_call(documents, dnc, at=1.0, expected_version=0) == 1
    again, version = load_do_not_call(documents)
    assert version == 1
    assert again.blocks("+33142685300", "any")
    assert again.numbers("spring") == {"+442079460000"}
    stream = EventStream()
    log = EventLog(store)
    log.attach(stream)
    answer = AnswerRecorded(
        at=2.0, questionnaire="s", contact_id="c1", lead_id="l1", question="q", value="yes"
    )
    stream.publish(answer)
    log.flush()
    assert stored_answers(log) == [answer]


def test_conversion_by_campaign_agent_and_list() -> None:
    """Conversion per list and per agent uses the KPI module's rate over each group."""
    info = InformationMessage(company="ACME", callback_number="+33142685300")
    campaign = Campaign(
        name="spring",
        mode="progressive",
        information=info,
        dispositions=(Disposition(code="sale", converted=True), Disposition(code="no")),
    )
    run = simulate_campaign(
        campaign,
        sample_leads(400, campaign="spring", lists=("web", "partner")),
        agents=4,
        start=1_795_600_000.0,
        duration=3600.0,
        model=OutcomeModel(dispositions={"sale": 1, "no": 3}),
        seed=2,
    )
    by_list = conversion_by(run.attempts, "list", per=OutboundBase.ATTEMPTS)
    assert set(by_list) == {"web", "partner"}
    for list_id, rate in by_list.items():
        mine = [a for a in run.attempts if a.list_id == list_id]
        assert rate == sum(1 for a in mine if a.record.converted) / len(mine)
    by_agent = conversion_by(run.attempts, "agent", per="handled")
    agents = {a for a in by_agent if a is not None}
    assert agents == {f"agent-{n}" for n in range(1, 5)}
    overall = conversion_by(run.attempts, "campaign", per="handled")["spring"]
    assert overall is not None
    assert 0 < overall < 1
    with pytest.raises(ValueError, match="grouped by"):
        conversion_by(run.attempts, "team", per="handled")  # type: ignore[arg-type]


def test_dispositions_survive_a_restart_through_the_event_log(store: Store) -> None:
    """A campaign's events go to the event log; a new scheduler given the recorded attempts
    and the logged dispositions puts every disposed lead back where the old one had it: sales
    finished, callbacks scheduled for their owner, 'remove me' refused."""
    info = InformationMessage(company="ACME", callback_number="+33142685300")
    campaign = Campaign(
        name="spring",
        mode="progressive",
        information=info,
        dispositions=(
            Disposition(code="sale", converted=True),
            Disposition(code="later", callback=True),
            Disposition(code="remove-me", do_not_call=True),
        ),
    )
    leads = sample_leads(300, campaign="spring", lists=("web",))
    stream = EventStream()
    log = EventLog(store, durable=False)
    log.attach(stream)
    run = simulate_campaign(
        campaign,
        leads,
        agents=3,
        start=1_795_600_000.0,
        duration=1800.0,
        model=OutcomeModel(live=0.6, dispositions={"sale": 1, "later": 1, "remove-me": 1}),
        seed=3,
        events=stream,
    )
    log.flush()
    lists = OutboundLists(store)
    save_leads(lists, leads, at=0.0)
    for attempt in run.attempts:
        record_attempt(lists, attempt)
    fresh = LeadScheduler(Compliance(campaign, DoNotCallList()), leads, now=run.end)
    restore_histories(lists, "web", fresh)
    disposed = {a.lead_id for a in run.attempts if a.record.disposition is not None}
    assert restore_dispositions(log, fresh) == len(disposed) > 0
    statuses = {fresh.status(lead_id) for lead_id in disposed}
    assert statuses == {LeadStatus.DONE, LeadStatus.CALLBACK, LeadStatus.REFUSED}
    for lead_id in disposed:
        assert fresh.status(lead_id) is run.scheduler.status(lead_id)
    assert fresh.compliance.do_not_call.numbers("spring") == (
        run.scheduler.compliance.do_not_call.numbers("spring")
    )
