"""The one CSV reader: the dialects spreadsheets write are read, rows stream."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter_sdk import ConfigError
from callcenter_sdk._csv import CsvError, CsvFile
from callcenter_sdk.cli import main
from callcenter_sdk.dialer import import_leads_csv, load_leads
from callcenter_sdk.store import OutboundLists, create_store

_TARGETS = ["--sl", "0.8", "--within", "20"]


@pytest.mark.parametrize(
    "content",
    [
        b"\xef\xbb\xbfqueue,start,volume,aht\nq,08:00,100,180\n",
        b"queue;start;volume;aht\nq;08:00;100;180\n",
        b"\xef\xbb\xbfQueue ; Start ; Volume ; AHT\r\nq;08:00;100;180\r\n",
    ],
)
def test_bom_and_semicolons_are_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    """Excel's "CSV UTF-8" (a BOM) and a French Excel's ``;`` read like plain CSV."""
    (tmp_path / "day.csv").write_bytes(content)
    assert main(["staff", "--forecast", str(tmp_path / "day.csv"), *_TARGETS]) == 0
    assert "total scheduled: 14 agent-intervals of 30 min (7 agent-hours)" in (
        capsys.readouterr().out
    )


def test_totals_are_per_interval_length(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """15- and 30-minute intervals are summed apart, and together in agent-hours."""
    (tmp_path / "day.csv").write_text(
        "queue,start,volume,aht,interval\nq,08:00,100,180,30\nr,08:00,50,180,15\n",
        encoding="utf-8",
    )
    assert main(["staff", "--forecast", str(tmp_path / "day.csv"), *_TARGETS]) == 0
    out = capsys.readouterr().out
    assert "total scheduled: 14 agent-intervals of 15 min, 14 agent-intervals of 30 min" in out
    assert "(10.5 agent-hours)" in out


def test_a_bom_keeps_the_lead_id_column(tmp_path: Path) -> None:
    """A BOM before the header no longer renames its first column."""
    (tmp_path / "leads.csv").write_bytes(b"\xef\xbb\xbflead_id,phone\nL7,+33612345678\n")
    result = import_leads_csv(tmp_path / "leads.csv", campaign="spring", list_id="web")
    assert [lead.lead_id for lead in result.leads] == ["L7"]


def _import_leads(tmp_path: Path, content: str, *options: str) -> list[str]:
    (tmp_path / "leads.csv").write_text(content, encoding="utf-8")
    return [
        *("leads", "import", str(tmp_path / "leads.csv"), "--campaign", "c", "--list", "l"),
        *("--url", f"sqlite:///{tmp_path / 'cc.db'}", *options),
    ]


def _stored_leads(tmp_path: Path) -> int:
    with create_store(f"sqlite:///{tmp_path / 'cc.db'}") as store:
        return len(load_leads(OutboundLists(store), "l", campaign="c"))


def test_a_zone_not_of_the_number_stops_the_import_naming_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A French number said to be in Los Angeles would be called at night: the import
    stops with exit 2, one line naming the file, the line and the column, no traceback,
    and nothing is saved (not even the good row before it)."""
    args = _import_leads(
        tmp_path, "phone,timezone\n+33612345678,Europe/Paris\n+33612345679,America/Los_Angeles\n"
    )
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        f"callcenter leads: error: {tmp_path / 'leads.csv'}:3: column 'timezone': expected a"
        " time zone of number +33612345679 (FR: Europe/Paris), got 'America/Los_Angeles'\n"
    )
    assert "Traceback" not in captured.out + captured.err
    assert _stored_leads(tmp_path) == 0


def test_a_zone_that_is_not_iana_or_a_wrong_default_stops_the_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A zone that is no IANA zone is refused at its line; a --timezone default that is
    not the number's is refused at the first row that takes it, saying it is the default."""
    assert main(_import_leads(tmp_path, "phone,timezone\n+33612345678,Mars/Olympus\n")) == 2
    err = capsys.readouterr().err
    assert ("leads.csv:2: column 'timezone': expected an IANA time zone, got 'Mars/Olympus'") in err
    # New York has its one zone; a toll-free number takes the default, and it is not American
    us = "phone\n+1 212 555 0100\n+1 800 555 0100\n"
    assert main(_import_leads(tmp_path, us, "--timezone", "Europe/Paris")) == 2
    err = capsys.readouterr().err
    assert "leads.csv:3: expected a time zone of number +18005550100 (US: America/" in err
    assert "got 'Europe/Paris' (the import's default time zone)" in err
    assert "Traceback" not in err


def test_a_lead_id_used_twice_stops_the_import_naming_both_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two rows with one lead id would merge two people's histories: exit 2, both lines
    named, nothing saved; rows only rejected (an impossible number) still exit 1."""
    content = "lead_id,phone\nL-1,+33612345678\nL-2,+33612345679\nL-1,+33612345670\n"
    assert main(_import_leads(tmp_path, content)) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        f"callcenter leads: error: {tmp_path / 'leads.csv'}:4: column 'lead_id': expected a"
        " lead id not used before (line 2 has it too), got 'L-1'\n"
    )
    assert _stored_leads(tmp_path) == 0
    assert main(_import_leads(tmp_path, "lead_id,phone\nL-1,+33612345678\nL-2,nope\n")) == 1
    assert _stored_leads(tmp_path) == 1


def test_rows_stream_before_a_later_error(tmp_path: Path) -> None:
    """Rows are handed out as they are read: a bad byte on line 3 is only met after
    line 2 was yielded, so a large file is never held in memory at once."""
    (tmp_path / "f.csv").write_bytes(b"phone,name\n1,Ann\n2,Ren\xe9\n")
    with CsvFile(tmp_path / "f.csv", required=("phone",)) as rows:
        iterator = iter(rows)
        assert next(iterator) == (2, {"phone": "1", "name": "Ann"})
        with pytest.raises(CsvError) as info:
            next(iterator)
    assert info.value.line == 3
    assert isinstance(info.value, ConfigError)
    assert "byte 0xe9 at column 6" in str(info.value)


def test_short_rows_are_padded_and_long_rows_refused(tmp_path: Path) -> None:
    """A missing trailing cell reads as empty; an extra non-empty cell is an error."""
    rows = ["a,b\n", "1\n", "1,2,3\n"]
    with CsvFile(rows, required=("a",)) as csv_rows:
        iterator = iter(csv_rows)
        assert next(iterator) == (2, {"a": "1", "b": ""})
        with pytest.raises(CsvError, match=r"<csv>:3: expected at most 2 fields"):
            next(iterator)


def test_a_column_named_twice_is_refused() -> None:
    """Two columns of the same name would hide one of them: the header is refused."""
    with pytest.raises(CsvError, match="<csv>:1: column 'phone': expected each column once"):
        CsvFile(["phone,Phone\n"]).__enter__()
