"""The survey example: a progressive survey campaign, its answers and their CSV export."""

from __future__ import annotations

import contextlib
import csv
import io
import runpy
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from callcenter_sdk.cti import OutboundDenied, OutboundRefused, to_e164
from callcenter_sdk.dialer import (
    CampaignRun,
    Interview,
    LeadDisposed,
    QuestionKind,
    load_questionnaire,
    stored_answers,
)
from callcenter_sdk.kpi import DropRegime
from callcenter_sdk.store import EventLog, OutboundLists, Store, create_store

EXAMPLE = Path(__file__).parents[2] / "examples" / "survey"


@attrs.frozen
class Ran:
    """One run of the example: its globals, result, printout and files."""

    example: dict[str, Any]
    run: CampaignRun
    out: str
    db: Path
    export: Path


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Ran:
    """The example run once, shortened to two virtual hours, into a temporary dir."""
    tmp = tmp_path_factory.mktemp("survey")
    example = runpy.run_path(str(EXAMPLE / "main.py"), run_name="survey_example")
    db, export = tmp / "survey.db", tmp / "results.csv"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        run = example["main"](["--hours", "2", "--db", str(db), "--export", str(export)])
    return Ran(example, run, printed.getvalue(), db, export)


@pytest.fixture
def store(ran: Ran) -> Iterator[Store]:
    """The example's SQLite file, opened again after the run."""
    with create_store(f"sqlite:///{ran.db}") as opened:
        yield opened


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_export_has_one_row_per_completed_survey_with_the_questionnaire_columns(
    ran: Ran, store: Store
) -> None:
    """The CSV has a column per answerable question, and exactly one row per call the
    interviewer disposed as 'completed' (as kept in the event log)."""
    survey = load_questionnaire(EXAMPLE / "questionnaire.toml")
    rows = _rows(ran.export)
    assert list(rows[0]) == [
        "contact_id",
        "lead_id",
        "answered_at",
        "satisfied",
        "why",
        "recommend",
        "channels",
        "switching",
        "comment",
    ]
    completed = [
        e.event
        for e in EventLog(store).read(kinds=[LeadDisposed.kind])
        if isinstance(e.event, LeadDisposed) and e.event.code == "completed"
    ]
    assert len(completed) > 50
    assert sorted(r["lead_id"] for r in rows) == sorted(e.lead_id for e in completed)
    assert len({r["contact_id"] for r in rows}) == len(rows)
    converted = {r.contact_id for r in ran.run.records if r.converted}
    assert {r["contact_id"] for r in rows} == converted
    assert f"{len(rows)} completed surveys exported" in ran.out
    assert survey.name == "globex-satisfaction"


def test_every_exported_row_is_a_valid_walk_through_the_questionnaire(ran: Ran) -> None:
    """Replaying each row's answers through an Interview is accepted at every step, follows
    the routes (why only after a 1 or 2) and ends the questionnaire."""
    survey = load_questionnaire(EXAMPLE / "questionnaire.toml")
    for row in _rows(ran.export):
        interview = Interview(survey, contact_id=row["contact_id"], lead_id=row["lead_id"])
        while (question := interview.current) is not None:
            value = row.get(question.id, "")
            if question.kind is QuestionKind.INFO or (not value and not question.required):
                interview.next()
            else:
                interview.answer(value, at=0.0)
        assert interview.done
        assert bool(row["why"]) == (row["satisfied"] in {"1", "2"})


def test_printed_distributions_are_the_stored_answers(ran: Ran, store: Store) -> None:
    """The answer counts printed for each closed question are those in the event log."""
    stored = stored_answers(EventLog(store))
    for question in ("satisfied", "switching"):
        counts = Counter(a.value for a in stored if a.question == question)
        total = sum(counts.values())
        assert f"{question} ({total} answers)" in ran.out
        for value, count in counts.items():
            assert f"  {value:17} {count:4}  {100 * count / total:5.1f} %" in ran.out


def test_progressive_survey_never_drops_and_respects_do_not_call(ran: Ran, store: Store) -> None:
    """One call per free interviewer drops nobody under either regulator; no number of the
    do-not-call file is dialled; every attempt is stored in the customer list."""
    for regime in DropRegime:
        drop = ran.run.drop_rate(regime)
        assert drop.live > 0
        assert drop.compliant
    assert ran.run.drop_rate("fcc").dropped == 0
    with (EXAMPLE / "do-not-call.csv").open(encoding="utf-8") as handle:
        listed = {to_e164(row["phone"], "FR") for row in csv.DictReader(handle)}
    assert not {a.phone for a in ran.run.attempts} & listed
    assert len(OutboundLists(store).attempts("customers-2026")) == len(ran.run.attempts)


def test_the_organisations_team_does_the_interviews(ran: Ran) -> None:
    """The campaign's interviewers are the org file's 'survey' team, each printed with
    their completed surveys; occupancy is a real share."""
    team = ran.example["TEAM"]
    assert team == [
        f"ag.{n}" for n in ("adrien", "basma", "cedric", "diane", "eric", "fanny", "gael", "helene")
    ]
    agents = {r.agent for r in ran.run.records if r.agent is not None}
    assert agents == set(team)
    for name in team:
        assert f"  {name:11}" in ran.out
    occupancy = ran.run.occupancy()
    assert occupancy is not None
    assert 0.3 < occupancy < 1.0


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
