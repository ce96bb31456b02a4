"""``callcenter leads`` and ``callcenter survey`` on a SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter_sdk import EventStream
from callcenter_sdk.cli import main
from callcenter_sdk.dialer import (
    Interview,
    load_do_not_call,
    load_leads,
    load_questionnaire,
)
from callcenter_sdk.store import Documents, EventLog, OutboundLists, create_store

SURVEY = Path(__file__).parent / "questionnaires" / "satisfaction.toml"


def test_leads_import_saves_the_list_and_reports_rejected_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Good rows land in the list with their zones; a bad one is reported on stderr, exit 1."""
    url = f"sqlite:///{tmp_path / 'cc.sqlite3'}"
    leads = tmp_path / "leads.csv"
    leads.write_text("phone,first_name\n01 42 68 53 00,Ann\nnope,Bob\n", encoding="utf-8")
    code = main(
        ["leads", "import", str(leads), "--campaign", "spring", "--list", "web", "--url", url]
    )
    assert code == 1
    captured = capsys.readouterr()
    assert "1 leads saved, 1 rejected" in captured.out
    assert f"{leads}:3:" in captured.err
    with create_store(url) as store:
        (lead,) = load_leads(OutboundLists(store), "web", campaign="spring")
    assert lead.phone == "+33142685300"
    assert lead.timezone == "Europe/Paris"
    assert lead.data == {"first_name": "Ann"}


def test_do_not_call_import_accumulates_in_the_document(tmp_path: Path) -> None:
    """Two imports, global then per campaign, end up in one saved document."""
    url = f"sqlite:///{tmp_path / 'cc.sqlite3'}"
    numbers = tmp_path / "dnc.csv"
    numbers.write_text("phone\n01 42 68 53 00\n", encoding="utf-8")
    assert main(["leads", "do-not-call", str(numbers), "--url", url]) == 0
    numbers.write_text("phone\n+44 20 7946 0000\n", encoding="utf-8")
    assert main(["leads", "do-not-call", str(numbers), "--campaign", "spring", "--url", url]) == 0
    with create_store(url) as store:
        dnc, version = load_do_not_call(Documents(store))
    assert version == 2
    assert dnc.numbers() == {"+33142685300"}
    assert dnc.numbers("spring") == {"+442079460000"}


def test_survey_check_and_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`survey check` reads the file; `survey export` writes the answers kept in the event
    log as CSV; a broken file is one error line naming the path, exit 2."""
    assert main(["survey", "check", str(SURVEY)]) == 0
    assert "7 steps, 6 questions: ok" in capsys.readouterr().out
    url = f"sqlite:///{tmp_path / 'cc.sqlite3'}"
    with create_store(url) as store:
        stream = EventStream()
        log = EventLog(store)
        log.attach(stream)
        interview = Interview(load_questionnaire(SURVEY), contact_id="c1", lead_id="l1")
        interview.next()
        stream.publish(interview.answer("yes", at=5.0))
        stream.publish(interview.answer("10", at=6.0))
        log.flush()
    out = tmp_path / "answers.csv"
    assert main(["survey", "export", str(SURVEY), "--url", url, "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").splitlines()[1] == "c1,l1,5.0,yes,,,10,,,yes"
    broken = tmp_path / "broken.toml"
    broken.write_text('name = "x"\n[[questions]]\nid = "a"\nkind = "essay"\n', encoding="utf-8")
    assert main(["survey", "check", str(broken)]) == 2
    assert "questions[0].kind" in capsys.readouterr().err


def test_campaign_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`campaign check` summarises a good file, its outbound policy included (or says the
    live dialer dials nothing without one); a broken one is an error line, exit 2."""
    good = Path(__file__).parent / "campaigns" / "spring.toml"
    assert main(["campaign", "check", str(good)]) == 0
    out = capsys.readouterr().out
    assert "campaign 'spring', predictive mode, ofcom drop rate capped at 3.0%" in out
    assert "window 09:30-20:30 (country windows: FR)" in out
    assert "dispositions: sale, call-back, think-it-over, remove-me: ok" in out
    assert "outbound: 2 allowed ranges, 10 denied" in out
    bare = tmp_path / "bare.toml"
    bare.write_text('name = "x"\nmode = "progressive"\n', encoding="utf-8")
    assert main(["campaign", "check", str(bare)]) == 0
    assert "no [outbound] table" in capsys.readouterr().out
    broken = tmp_path / "broken.toml"
    broken.write_text('name = "x"\nmode = "power"\n', encoding="utf-8")
    assert main(["campaign", "check", str(broken)]) == 2
    assert "information message" in capsys.readouterr().err
