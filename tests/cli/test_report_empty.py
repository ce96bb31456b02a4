"""``callcenter report`` over an empty store: an empty report, never a crash."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from callcenter_sdk.cli import main
from callcenter_sdk.reports import CONVERSATION_FIGURES, FIGURES


@pytest.fixture
def url(tmp_path: Path) -> str:
    """The URL of a database nothing was ever written to."""
    return f"sqlite:///{tmp_path / 'empty.sqlite'}"


@pytest.mark.parametrize("by", [[], ["--by", "queue", "--interval", "30min"]])
def test_every_format_gives_a_header_and_no_rows(
    url: str, by: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The table and the CSV are their header line alone, the JSON an empty list,
    the Parquet file the report's typed columns with no row; each exits 0."""
    keys = ["start", "queue"] if by else []
    assert main(["report", "--url", url, *by]) == 0
    assert capsys.readouterr().out.split() == [*keys, *FIGURES]
    assert main(["report", "--url", url, *by, "--format", "csv"]) == 0
    reader = csv.reader(io.StringIO(capsys.readouterr().out))
    assert list(reader) == [[*keys, *FIGURES]]
    assert main(["report", "--url", url, *by, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    out = tmp_path / "empty.parquet"
    assert main(["report", "--url", url, *by, "--format", "parquet", "--output", str(out)]) == 0
    table = pq.read_table(out)
    assert table.num_rows == 0
    assert table.column_names == ["start", *(["queue"] if by else []), *FIGURES]
    assert str(table.schema.field("offered").type) == "int64"
    assert str(table.schema.field("service_level").type) == "double"


def test_the_conversation_report_of_an_empty_store_is_its_header(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--conversations over nothing prints its header and exits 0."""
    assert main(["report", "--url", url, "--conversations", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == [",".join(["channel", *CONVERSATION_FIGURES])]


def test_plot_over_an_empty_store_draws_nothing_and_says_why(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--plot over an empty store exits 0, writes no picture and gives one note per picture."""
    folder = tmp_path / "pictures"
    assert main(["report", "--url", url, "--plot", str(folder)]) == 0
    assert list(folder.iterdir()) == []
    out = capsys.readouterr()
    assert out.out == ""
    assert len(out.err.splitlines()) == 5
