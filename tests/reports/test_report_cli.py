"""``callcenter report`` over a stored simulated day: formats, grouping, errors."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import matplotlib.image as mpimg
import pyarrow.parquet as pq
import pytest

from callcenter_sdk.cli import main
from callcenter_sdk.dialer import AnswerRecorded, CallResult
from callcenter_sdk.kpi import IntervalState
from callcenter_sdk.reports import agent_day, drop_rates_through_day, survey_answers
from callcenter_sdk.store import EventLog, create_store

from .days import dialled_day, scenario, simulated_day

SVG = "http://www.w3.org/2000/svg"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file holding a simulated two-hour day on two queues, and a dialer's day."""
    path = tmp_path_factory.mktemp("report") / "day.sqlite"
    events, _ = simulated_day(scenario(queues=2, agents=4), seed=7)
    with create_store(f"sqlite:///{path}") as store:
        EventLog(store).extend(events)
        EventLog(store).extend(dialled_day(3)[0])
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


def _svg(path: Path) -> ET.Element:
    root = ET.fromstring(path.read_text(encoding="utf-8"))  # noqa: S314 - our own file
    assert root.tag == f"{{{SVG}}}svg"
    return root


def _groups(root: ET.Element, prefix: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{{{SVG}}}g") if g.get("id", "").startswith(prefix)]


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = mpimg.imread(path)
    return image.shape[1], image.shape[0]


def test_plot_draws_the_five_pictures_as_png_and_svg(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--plot DIR writes all five pictures, each as a PNG and an SVG, and prints their paths."""
    folder = tmp_path / "pictures"
    assert main(["report", "--url", url, "--plot", str(folder)]) == 0
    names = sorted(p.name for p in folder.iterdir())
    kinds = ("agent_timeline", "drop_rate", "service_level", "staffing_curve", "survey")
    assert names == sorted(f"{k}.{x}" for k in kinds for x in ("png", "svg"))
    out = capsys.readouterr()
    assert sorted(out.out.split()) == [str(folder / n) for n in names]
    assert out.err == ""
    for kind in kinds:
        width, height = _png_size(folder / f"{kind}.png")
        assert width == 800
        assert height >= 200
        _svg(folder / f"{kind}.svg")


def test_the_pictures_show_the_stored_day(url: str, tmp_path: Path) -> None:
    """The agents' timeline has a bar for every stored stretch of a state of the
    day; the drop-rate line has a point per half hour of dialling, against the
    3 % cap, ending at the day's drop rate of the busiest campaign; the survey
    has a bar per answer given, counted with the last answer of each call."""
    folder = tmp_path / "pictures"
    assert main(["report", "--url", url, "--plot", str(folder)]) == 0
    with create_store(url) as store:
        day, intervals = agent_day(store)
        campaign, rates = drop_rates_through_day(store, step=1800.0)
        answers = survey_answers(store)
    assert day == 0.0
    assert {iv.agent for iv in intervals} == {"a1", "a2", "a3", "a4"}
    spans = _groups(_svg(folder / "agent_timeline.svg"), "span-")
    drawn = [
        iv
        for iv in intervals
        if iv.state is not IntervalState.OFFLINE and (iv.end or 0.0) > iv.start
    ]
    assert len(spans) == len(drawn) > 8
    assert {g.get("id") for g in spans} == {f"span-{iv.state}" for iv in drawn}

    events, placed = dialled_day(3)
    assert campaign == "renewals"
    assert [r.window_end for r in rates] == [1800.0 * k for k in range(1, 5)]
    for rate in rates:
        before = [result for at, result in placed if at < rate.window_end]
        live = [r for r in before if r in (CallResult.CONNECTED, CallResult.DROPPED)]
        dropped = sum(r is CallResult.DROPPED for r in live)
        assert (rate.dropped, rate.live) == (dropped, len(live))
    root = _svg(folder / "drop_rate.svg")
    (line,) = _groups(root, "drop-rate")
    assert len(list(line.iter(f"{{{SVG}}}use"))) == sum(r.rate is not None for r in rates) == 4
    assert len(_groups(root, "legal-cap")) == 1

    last: dict[tuple[str, str], str] = {}
    for e in events:
        if isinstance(e, AnswerRecorded):
            last[(e.question, e.contact_id)] = e.value
    expected = Counter((q, v) for (q, _), v in last.items())
    assert {(q, v): n for q, per in answers.items() for v, n in per.items()} == expected
    assert list(answers["satisfaction"]) == sorted(answers["satisfaction"])
    bars = _groups(_svg(folder / "survey.svg"), "answer")
    assert len(bars) == len(expected) == 7


def test_without_data_a_picture_is_left_out_with_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store with only a dialer's day draws the drop rate and the survey, and
    says in one line each that the other three have no data."""
    url = f"sqlite:///{tmp_path / 'dialer.sqlite'}"
    with create_store(url) as store:
        EventLog(store).extend(dialled_day(5)[0])
    folder = tmp_path / "pictures"
    assert main(["report", "--url", url, "--plot", str(folder)]) == 0
    assert sorted(p.stem for p in folder.iterdir()) == ["drop_rate"] * 2 + ["survey"] * 2
    notes = capsys.readouterr().err.splitlines()
    assert [line.split(": ")[2] for line in notes] == [
        "service_level",
        "staffing_curve",
        "agent_timeline",
    ]
    assert all(line.startswith("callcenter report: not drawn: ") for line in notes)


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
