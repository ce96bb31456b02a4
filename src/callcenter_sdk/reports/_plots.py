"""Pictures of the figures: service level and volume, staffing, agents' day, drop rate.

People would rather look at a service-level curve than read a table. These
functions draw with matplotlib (the ``reports`` extra) on
:class:`~matplotlib.figure.Figure` objects of their own — never ``pyplot``,
whose global state a server or a test run would share — in one fixed style
(:data:`STYLE`: the DejaVu Sans matplotlib ships, a fixed size and DPI, no
date in the files), so the same figures give the same pixels on every
machine and image-comparison tests can guard them.

.. versionadded:: 0.2
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, TextIO

from .._errors import ConfigError, ValidationError
from ..kpi import AgentInterval, DropRate, ErlangC, IntervalState, StaffingRow
from ._report import Report

__all__ = [
    "STYLE",
    "agent_timeline",
    "drop_rate_chart",
    "save_figure",
    "save_svg",
    "service_level_chart",
    "staffing_curve",
    "survey_chart",
]

STYLE: Final[Mapping[str, Any]] = {
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "figure.figsize": (8.0, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "svg.hashsalt": "callcenter_sdk",
    "svg.fonttype": "path",
    "path.simplify": False,
}
"""The matplotlib settings every picture is drawn with."""

_SERVED = "#1f77b4"
_TARGET = "#d62728"
_PLAN = "#7f7f7f"
_STATE_COLOURS: Final[Mapping[IntervalState, str]] = {
    IntervalState.NOT_READY: "#ff7f0e",
    IntervalState.READY: "#2ca02c",
    IntervalState.RESERVED: "#bcbd22",
    IntervalState.BUSY: "#1f77b4",
    IntervalState.WRAP_UP: "#9467bd",
}


def _matplotlib() -> Any:
    try:
        import matplotlib  # noqa: PLC0415 - optional: the reports extra
    except ImportError as exc:
        raise ConfigError(
            "<command line>",
            ("--plot",),
            "matplotlib installed for pictures (pip install 'callcenter_sdk[reports]')",
        ) from exc
    return matplotlib


@contextmanager
def _style() -> Iterator[Any]:
    mpl = _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 - optional
    from matplotlib.figure import Figure  # noqa: PLC0415

    def figure() -> Any:
        fig = Figure()
        FigureCanvasAgg(fig)  # Agg whatever backend the process chose: no display, no GUI
        return fig

    with mpl.rc_context(dict(STYLE)):
        yield figure


def _clock(start: float) -> str:
    return dt.datetime.fromtimestamp(start, dt.UTC).strftime("%H:%M")


def service_level_chart(
    report: Report,
    *,
    plan: Sequence[StaffingRow] = (),
    target: float | None = 0.8,
    title: str = "Service level and volume by interval",
) -> Any:
    """Contacts offered (bars) and service level (line) by interval, against a plan.

    Args:
        report: A report by interval (its rows' ``start``); rows of one
            interval are added up (a report by queue shows the center).
        plan: The staffing plan's rows (:func:`callcenter_sdk.kpi.staffing_table`);
            their forecast volume (of every queue of an interval, added up) is
            drawn as a step line over the bars, matched by interval start
            (seconds since midnight UTC, as the forecasts count).
        target: The service-level target, drawn as a dashed line (``None``: none).
        title: The figure's title.

    Returns:
        A :class:`matplotlib.figure.Figure`.

    Raises:
        ValidationError: The report is not by interval.
    """
    if report.interval is None:
        raise ValidationError("a service-level chart needs a report by interval")
    offered: dict[float, int] = {}
    within: dict[float, float] = {}
    for row in report.rows:
        start = row.start if row.start is not None else 0.0  # by interval: always there
        offered[start] = offered.get(start, 0) + row.offered
        within[start] = within.get(start, 0.0) + (row.service_level or 0.0) * row.offered
    starts = sorted(offered)
    with _style() as figure:
        fig = figure()
        volume = fig.add_subplot()
        xs = list(range(len(starts)))
        volume.bar(
            xs,
            [offered[s] for s in starts],
            color=_SERVED,
            alpha=0.35,
            label="offered",
            gid="offered",  # the SVG's ids: tests count them
        )
        if plan:
            forecast: dict[float, float] = {}
            for planned in plan:  # the queues' forecasts of an interval add up, as the rows do
                at = planned.forecast.start
                forecast[at] = forecast.get(at, 0.0) + planned.forecast.volume
            ys = [forecast.get(s % 86_400.0, math.nan) for s in starts]
            volume.step(xs, ys, where="mid", color=_PLAN, label="forecast", gid="forecast")
        volume.set_ylabel("contacts")
        volume.set_xticks(xs, [_clock(s) for s in starts], rotation=90)
        level = volume.twinx()
        sl = [within[s] / offered[s] if offered[s] else math.nan for s in starts]
        level.plot(xs, sl, color=_SERVED, marker="o", label="service level", gid="service-level")
        if target is not None:
            level.axhline(target, color=_TARGET, linestyle="--", label=f"target {target:.0%}")
        volume.set_ylim(0.0, 1.3 * max([*offered.values(), 1]))  # headroom for the legend
        level.set_ylim(0.0, 1.3)
        level.set_yticks([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
        level.set_ylabel("service level")
        level.grid(False)
        handles = [*volume.get_legend_handles_labels()[0], *level.get_legend_handles_labels()[0]]
        level.legend(handles=handles, loc="upper left", ncols=4)
        fig.suptitle(title)
        fig.tight_layout()
        return fig


def staffing_curve(
    arrival_rate: float,
    aht: float,
    *,
    agents: Sequence[int] | None = None,
    threshold_s: float = 20.0,
    target: float | None = 0.8,
    title: str = "Staffing curve (Erlang C)",
) -> Any:
    """Service level and ASA against the number of agents, from :class:`kpi.ErlangC`.

    Args:
        arrival_rate: Contacts per second.
        aht: Average handle time, seconds.
        agents: The agent counts drawn (from the first stable count to 15
            past it by default).
        threshold_s: The service-level threshold T.
        target: The service-level target, drawn dashed (``None``: none).
        title: The figure's title.

    Returns:
        A :class:`matplotlib.figure.Figure`.
    """
    if agents is None:
        first = math.floor(arrival_rate * aht) + 1
        agents = range(first, first + 16)
    models = [ErlangC(arrival_rate=arrival_rate, aht=aht, agents=n) for n in agents]
    with _style() as figure:
        fig = figure()
        ax = fig.add_subplot()
        counts = [m.agents for m in models]
        ax.plot(
            counts,
            [m.service_level(threshold_s) for m in models],
            marker="o",
            color=_SERVED,
            label=f"service level ({threshold_s:g} s)",
            gid="service-level",
        )
        if target is not None:
            ax.axhline(target, color=_TARGET, linestyle="--", label=f"target {target:.0%}")
        ax.set_ylim(0.0, 1.05)
        ax.set_xlabel("agents")
        ax.set_ylabel("service level")
        asa = ax.twinx()
        asa.plot(counts, [m.asa for m in models], marker="s", color=_PLAN, label="ASA", gid="asa")
        asa.set_ylabel("ASA, seconds")
        asa.set_yscale("log")
        asa.grid(False)
        handles = [*ax.get_legend_handles_labels()[0], *asa.get_legend_handles_labels()[0]]
        ax.legend(handles=handles, loc="center right")
        fig.suptitle(f"{title}: {arrival_rate * 3600:g} contacts/h, AHT {aht:g} s")
        fig.tight_layout()
        return fig


def agent_timeline(
    intervals: Sequence[AgentInterval],
    *,
    start: float,
    end: float,
    title: str = "Agent states",
) -> Any:
    """One bar per agent across ``[start, end)``, coloured by state (offline left blank).

    Args:
        intervals: The agents' state intervals (``records_from_events``'s second
            list); an open interval runs to ``end``.
        start: The first second drawn (e.g. midnight UTC of the day).
        end: The first second not drawn.
        title: The figure's title.

    Returns:
        A :class:`matplotlib.figure.Figure`.
    """
    if end <= start:
        raise ValidationError("a timeline needs end after start")
    agents = sorted({i.agent for i in intervals})
    row = {agent: n for n, agent in enumerate(agents)}
    spans: dict[IntervalState, list[tuple[int, float, float]]] = {}
    for interval in intervals:
        lo = max(interval.start, start)
        hi = min(end if interval.end is None else interval.end, end)
        if hi > lo and interval.state in _STATE_COLOURS:
            spans.setdefault(interval.state, []).append((row[interval.agent], lo, hi))
    with _style() as figure:
        fig = figure()
        fig.set_figheight(max(2.0, 1.0 + 0.3 * len(agents)))
        ax = fig.add_subplot()
        for state, colour in _STATE_COLOURS.items():
            for n, lo, hi in spans.get(state, ()):
                ax.broken_barh(
                    [((lo - start) / 3600, (hi - lo) / 3600)],
                    (n - 0.4, 0.8),
                    color=colour,
                    gid=f"span-{state}",  # the SVG's id: tests count them
                )
            ax.bar(0, 0, color=colour, label=str(state).replace("_", " "))  # the legend's key
        ax.set_yticks(range(len(agents)), agents)
        ax.invert_yaxis()
        ax.set_xlim(0.0, (end - start) / 3600)
        ax.set_xlabel(f"hours from {dt.datetime.fromtimestamp(start, dt.UTC):%Y-%m-%d %H:%M} UTC")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
        fig.suptitle(title)
        fig.tight_layout()
        return fig


def drop_rate_chart(rates: Sequence[DropRate], *, title: str = "Dialer drop rate") -> Any:
    """The dialer's drop rate through the day (at the end of each window) against the legal cap.

    Args:
        rates: Drop rates measured through the day (``kpi.drop_rate`` at
            successive ``now``), in time order; those without live calls are gaps.
        title: The figure's title.

    Returns:
        A :class:`matplotlib.figure.Figure`.
    """
    with _style() as figure:
        fig = figure()
        ax = fig.add_subplot()
        xs = [_clock(r.window_end) for r in rates]
        ys = [math.nan if r.rate is None else 100 * r.rate for r in rates]
        ax.plot(xs, ys, marker="o", color=_SERVED, label="drop rate", gid="drop-rate")
        limits = {r.limit for r in rates}
        for limit in sorted(limits):
            ax.axhline(
                100 * limit,
                color=_TARGET,
                linestyle="--",
                label=f"legal cap {limit:.0%}",
                gid="legal-cap",
            )
        regimes = sorted({str(r.regime) for r in rates})
        ax.set_ylabel(f"dropped over live calls, % ({', '.join(regimes)})")
        ax.set_ylim(0.0, max([5.0, *(y * 1.2 for y in ys if not math.isnan(y))]))
        ax.tick_params(axis="x", rotation=90)
        ax.legend(loc="upper left")
        fig.suptitle(title)
        fig.tight_layout()
        return fig


def survey_chart(answers: Mapping[str, Mapping[str, int]], *, title: str = "Survey answers") -> Any:
    """How the answers to each question are distributed: one bar chart per question.

    The counts are plain values, so any source can draw: count the
    ``dialer.AnswerRecorded`` events of a questionnaire (the last answer of a
    call wins, as ``dialer.export_answers_csv`` has it) by question and value.

    Args:
        answers: Per question (in the order drawn), the calls per answer (in
            the order drawn: a scale in its own order, not by count).
        title: The figure's title.

    Returns:
        A :class:`matplotlib.figure.Figure`.

    Raises:
        ValidationError: No question.
    """
    if not answers:
        raise ValidationError("a survey chart needs at least one question")
    with _style() as figure:
        fig = figure()
        columns = min(3, len(answers))
        rows = math.ceil(len(answers) / columns)
        fig.set_figheight(max(2.5, 2.5 * rows))
        for n, (question, counts) in enumerate(answers.items(), start=1):
            ax = fig.add_subplot(rows, columns, n)
            total = sum(counts.values())
            labels = list(counts)
            ax.barh(labels, [counts[a] for a in labels], color=_SERVED, gid="answer")
            for y, label in enumerate(labels):
                share = counts[label] / total if total else 0.0
                ax.annotate(f" {counts[label]} ({share:.0%})", (counts[label], y), va="center")
            ax.invert_yaxis()
            ax.set_xlim(0.0, 1.35 * max([*counts.values(), 1]))
            ax.set_title(f"{question} (n = {total})")
        fig.suptitle(title)
        fig.tight_layout()
        return fig


def save_figure(fig: Any, path: str | Path) -> Path:
    """Write a figure as PNG or SVG (by the file's suffix), with no date in it.

    Raises:
        ValidationError: Another suffix.
    """
    path = Path(path)
    kind = path.suffix.lower().lstrip(".")
    if kind not in ("png", "svg"):
        raise ValidationError(f"pictures are .png or .svg, not {path.name!r}")
    metadata: dict[str, str | None] = {"Software": None} if kind == "png" else {"Date": None}
    with _style():
        fig.savefig(path, format=kind, metadata=metadata)
    return path


def save_svg(fig: Any, out: TextIO) -> None:
    """Write a figure as SVG text to ``out`` (to inline it in a page), with no date in it."""
    with _style():
        fig.savefig(out, format="svg", metadata={"Date": None})
