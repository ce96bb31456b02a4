"""The one CSV reader: the dialects spreadsheets write are read, rows stream."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter_sdk import ConfigError
from callcenter_sdk._csv import CsvError, CsvFile
from callcenter_sdk.cli import main
from callcenter_sdk.dialer import import_leads_csv

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


def test_a_zone_not_of_the_number_is_rejected_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A French number said to be in Los Angeles would be called at night: the row
    is rejected with its line (exit 1, like every rejected row), the others load."""
    (tmp_path / "leads.csv").write_text(
        "phone,timezone\n+33612345678,Europe/Paris\n+33612345679,America/Los_Angeles\n"
        "+33612345670,Mars/Olympus\n",
        encoding="utf-8",
    )
    args = ["leads", "import", str(tmp_path / "leads.csv"), "--campaign", "c", "--list", "l"]
    assert main([*args, "--url", f"sqlite:///{tmp_path / 'cc.db'}"]) == 1
    err = capsys.readouterr().err
    assert (
        f"{tmp_path / 'leads.csv'}:3: time zone America/Los_Angeles is not one of number"
        " +33612345679's (FR: Europe/Paris)"
    ) in err
    assert "leads.csv:4: time zone 'Mars/Olympus' is not an IANA time zone" in err


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
