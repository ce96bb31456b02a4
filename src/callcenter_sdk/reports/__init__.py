"""Reports, metrics and pictures over what the store keeps.

``callcenter report`` and the client report read the stored interval
aggregates (:class:`IntervalAggregator` keeps them up to date with the event
log); the figures use the definitions of :mod:`callcenter_sdk.kpi` and agree
with them exactly. Pictures need matplotlib and Parquet exports pyarrow
(the ``reports`` extra); so does the Prometheus ``/metrics`` app
(:func:`create_metrics_app`). The pictures' and the metrics' names are
loaded on first use, so the reports work without those libraries; so are
the OpenTelemetry traces (:class:`ContactTracer`, :func:`create_tracing`: the
``otel`` extra). What the pictures draw from the event log
(:func:`agent_day`, :func:`drop_rates_through_day`, :func:`survey_answers`)
needs neither, nor do the JSON logs (:func:`json_log_handler`,
:func:`log_events`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._aggregator import CELL_S as CELL_S
from ._aggregator import IntervalAggregator as IntervalAggregator
from ._aggregator import cells_from_records as cells_from_records
from ._aggregator import summary_cells as summary_cells
from ._client import ClientReport as ClientReport
from ._client import TicketLine as TicketLine
from ._client import client_report as client_report
from ._client import render_client_html as render_client_html
from ._client import ticket_line as ticket_line
from ._conversations import CONVERSATION_FIGURES as CONVERSATION_FIGURES
from ._conversations import ConversationReport as ConversationReport
from ._conversations import ConversationRow as ConversationRow
from ._conversations import build_conversation_report as build_conversation_report
from ._conversations import conversation_report_from_store as conversation_report_from_store
from ._exact import exact_total as exact_total
from ._exact import partials as partials
from ._logs import CONTEXT_KEYS as CONTEXT_KEYS
from ._logs import EVENTS_LOGGER as EVENTS_LOGGER
from ._logs import JsonFormatter as JsonFormatter
from ._logs import event_fields as event_fields
from ._logs import json_log_handler as json_log_handler
from ._logs import log_events as log_events
from ._report import FIGURES as FIGURES
from ._report import GROUPS as GROUPS
from ._report import INTERVALS as INTERVALS
from ._report import Report as Report
from ._report import ReportRow as ReportRow
from ._report import build_report as build_report
from ._report import cell_filter as cell_filter
from ._report import level_for as level_for
from ._report import report_from_store as report_from_store
from ._stored import agent_day as agent_day
from ._stored import dialer_records as dialer_records
from ._stored import drop_rates_through_day as drop_rates_through_day
from ._stored import survey_answers as survey_answers

if TYPE_CHECKING:
    from ._metrics import MAX_SERIES as MAX_SERIES
    from ._metrics import OUTCOMES as OUTCOMES
    from ._metrics import WAIT_BUCKETS as WAIT_BUCKETS
    from ._metrics import CenterMetrics as CenterMetrics
    from ._metrics import ClusterMetrics as ClusterMetrics
    from ._metrics import EventCounts as EventCounts
    from ._metrics import MetricsApp as MetricsApp
    from ._metrics import create_cluster_metrics_app as create_cluster_metrics_app
    from ._metrics import create_metrics_app as create_metrics_app
    from ._plots import STYLE as STYLE
    from ._plots import agent_timeline as agent_timeline
    from ._plots import drop_rate_chart as drop_rate_chart
    from ._plots import save_figure as save_figure
    from ._plots import save_svg as save_svg
    from ._plots import service_level_chart as service_level_chart
    from ._plots import staffing_curve as staffing_curve
    from ._plots import survey_chart as survey_chart
    from ._traces import TRACE_ATTRIBUTES as TRACE_ATTRIBUTES
    from ._traces import ContactTracer as ContactTracer
    from ._traces import create_tracing as create_tracing

_METRICS = frozenset(
    (
        "MAX_SERIES",
        "OUTCOMES",
        "WAIT_BUCKETS",
        "CenterMetrics",
        "ClusterMetrics",
        "EventCounts",
        "MetricsApp",
        "create_cluster_metrics_app",
        "create_metrics_app",
    )
)

_PLOTS = frozenset(
    (
        "STYLE",
        "agent_timeline",
        "drop_rate_chart",
        "save_figure",
        "save_svg",
        "service_level_chart",
        "staffing_curve",
        "survey_chart",
    )
)

_TRACES = frozenset(("TRACE_ATTRIBUTES", "ContactTracer", "create_tracing"))


def __getattr__(name: str) -> Any:
    if name in _METRICS:
        from . import _metrics  # noqa: PLC0415 - prometheus-client is optional (the extra)

        return getattr(_metrics, name)
    if name in _PLOTS:
        from . import _plots  # noqa: PLC0415 - matplotlib is optional (the extra)

        return getattr(_plots, name)
    if name in _TRACES:
        from . import _traces  # noqa: PLC0415 - opentelemetry is optional (the extra)

        return getattr(_traces, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CELL_S",
    "CONTEXT_KEYS",
    "CONVERSATION_FIGURES",
    "EVENTS_LOGGER",
    "FIGURES",
    "GROUPS",
    "INTERVALS",
    "MAX_SERIES",
    "OUTCOMES",
    "STYLE",
    "TRACE_ATTRIBUTES",
    "WAIT_BUCKETS",
    "CenterMetrics",
    "ClientReport",
    "ClusterMetrics",
    "ContactTracer",
    "ConversationReport",
    "ConversationRow",
    "EventCounts",
    "IntervalAggregator",
    "JsonFormatter",
    "MetricsApp",
    "Report",
    "ReportRow",
    "TicketLine",
    "agent_day",
    "agent_timeline",
    "build_conversation_report",
    "build_report",
    "cell_filter",
    "cells_from_records",
    "client_report",
    "conversation_report_from_store",
    "create_cluster_metrics_app",
    "create_metrics_app",
    "create_tracing",
    "dialer_records",
    "drop_rate_chart",
    "drop_rates_through_day",
    "event_fields",
    "exact_total",
    "json_log_handler",
    "level_for",
    "log_events",
    "partials",
    "render_client_html",
    "report_from_store",
    "save_figure",
    "save_svg",
    "service_level_chart",
    "staffing_curve",
    "summary_cells",
    "survey_answers",
    "survey_chart",
    "ticket_line",
]
