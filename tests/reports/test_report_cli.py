"""``callcenter report`` over a stored simulated day: formats, grouping, errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from callcenter_sdk.cli import main
from callcenter_sdk.store import EventLog, create_store

from .days import scenario, simulated_day


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file holding a simulated two-hour day on two queues."""
    path = tmp_path_factory.mktemp("report") / "day.sqlite"
    events, _ = simulated_day(scenario(queues=2, agents=4), seed=7)
    with create_store(f"sqlite:///{path}") as store:
        EventLog(store).extend(events)
    return f"sqlite:///{path}"


def test_csv_json_and_parquet_hold_the_same_rows(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """By queue and hour, the CSV, the JSON and the Parquet file have the same
    rows and figures, and the offered contacts add up across them."""
    args = ["report", "--url", url, "--by", "queue", "--interval", "60min"]
    assert main([*args, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert main([*args, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    out = tmp_path / "day.parquet"
    assert main([*args, "--format", "parquet", "--output", str(out)]) == 0
    table = pq.read_table(out).to_pylist()
    assert len(rows) == len(data) == len(table) >= 4
    assert [int(r["offered"]) for r in rows] == [r["offered"] for r in data]
    assert [r["offered"] for r in table] == [r["offered"] for r in data]
    assert data[0]["start"] == "1970-01-01T00:00:00Z"
    assert sum(r["offered"] for r in data) > 100


def test_the_table_and_a_clear_error(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The terminal table has a header and a line per queue; a bad --from is one
    line on stderr and exit code 2, no traceback."""
    assert main(["report", "--url", url, "--by", "queue"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["queue", "offered", "answered"]
    assert {line.split()[0] for line in lines[1:] if line.split()[0].startswith("q")} == {
        "q0",
        "q1",
    }
    assert main(["report", "--url", url, "--from", "yesterday"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("callcenter report: error:")
    assert "Traceback" not in err
    assert main(["report", "--url", url, "--as", "someone"]) == 2


def test_plot_draws_the_pictures_as_png_and_svg(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--plot DIR writes the service-level chart and the busiest half hour's staffing curve,
    each as a PNG and an SVG, and prints their paths."""
    folder = tmp_path / "pictures"
    assert main(["report", "--url", url, "--plot", str(folder)]) == 0
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "service_level.png",
        "service_level.svg",
        "staffing_curve.png",
        "staffing_curve.svg",
    ]
    assert capsys.readouterr().out.split() == [str(folder / n) for n in names]
    assert (folder / "service_level.png").read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in (folder / "staffing_curve.svg").read_bytes()


def test_client_page_from_the_command_line(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--client ORG --html FILE writes that client's page for the period; without the
    period it is a one-line error (exit code 2)."""
    hotline = str(Path(__file__).parents[2] / "examples" / "hotline" / "org.toml")
    page = tmp_path / "fibrenet.html"
    args = ["report", "--url", url, "--org", hotline, "--client", "fibrenet", "--html", str(page)]
    assert main([*args, "--from", "1970-01-01", "--to", "1970-01-02"]) == 0
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "<h1>FibreNet</h1>" in text
    assert "1970-01-01 00:00 – 1970-01-02 00:00 UTC" in text
    assert main(args) == 2
    assert "--from and --to" in capsys.readouterr().err
