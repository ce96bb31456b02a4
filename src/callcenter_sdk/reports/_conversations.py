"""The conversation report: KPIs of written conversations by channel, from the stored events.

E-mail, chat, SMS and social messages are judged on the first response, the
resolution and the messages it took, not on a wait in queue (see
:mod:`callcenter_sdk.kpi`'s conversation KPIs). This report folds the event
log's conversation events (only those kinds are read) with
:func:`callcenter_sdk.runtime.conversation_records` and computes each
channel's figures with the :mod:`callcenter_sdk.kpi` calculators, so it
agrees with them exactly; ``callcenter report --conversations`` prints it.

A conversation counts in the interval of its arrival. Who asks decides what
is in it, as for the contacts' report: with ``org`` and ``viewer`` a
conversation counts only when the viewer may see the campaign of its queue
(``campaigns``), or the center when its queue serves none.

.. versionadded:: 0.2
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from .._errors import CallCenterError, ValidationError
from ..acd import ContactEnteredQueue
from ..kpi import (
    Channel,
    ConversationRecord,
    first_response_service_level,
    first_response_time,
    interval_start,
    messages_per_conversation,
    resolution_time,
)
from ..org import Action, Org, Placement, can
from ..runtime import FIRST_RESPONSE_S, MessageReceived, ReplySent, conversation_records
from ..store import Store
from ..tickets import TicketStatusChanged
from ._report import _WEEK_ORIGIN, INTERVALS
from ._stored import stored_events

__all__ = [
    "CONVERSATION_FIGURES",
    "ConversationReport",
    "ConversationRow",
    "build_conversation_report",
    "conversation_report_from_store",
]

CONVERSATION_FIGURES = (
    "conversations",
    "responded",
    "resolved",
    "first_response",
    "first_response_sl",
    "threshold",
    "resolution",
    "messages",
)
"""The columns of a conversation row after its channel."""

_KINDS = tuple(
    cls.kind for cls in (ContactEnteredQueue, MessageReceived, ReplySent, TicketStatusChanged)
)


@attrs.frozen(kw_only=True)
class ConversationRow:
    """The conversation KPIs of one channel (and interval).

    Attributes:
        start: Start of the reporting interval (``None`` when not by interval).
        keys: ``{"channel": ...}``.
        conversations: Conversations that arrived.
        responded: Of those, first answered by an agent.
        resolved: Of those, whose ticket is resolved.
        first_response: Mean seconds to the first answer (``kpi.first_response_time``).
        first_response_sl: Share first answered within ``threshold``
            (``kpi.first_response_service_level`` at the report's ``now``).
        threshold: The channel's first-response threshold, seconds.
        resolution: Mean seconds to resolution (``kpi.resolution_time``).
        messages: Mean messages per conversation (``kpi.messages_per_conversation``).
    """

    start: float | None
    keys: Mapping[str, str]
    conversations: int
    responded: int
    resolved: int
    first_response: float | None
    first_response_sl: float | None
    threshold: float
    resolution: float | None
    messages: float | None

    def as_dict(self) -> dict[str, Any]:
        """The row as one mapping: ``start``, ``channel``, then :data:`CONVERSATION_FIGURES`."""
        return {
            "start": self.start,
            **self.keys,
            **{name: getattr(self, name) for name in CONVERSATION_FIGURES},
        }


@attrs.frozen(kw_only=True)
class ConversationReport:
    """Conversation KPIs by channel (and interval), ordered by interval then channel.

    Attributes:
        interval: The interval's name (:data:`~callcenter_sdk.reports.INTERVALS`), or ``None``.
        now: When the figures are taken (unanswered conversations older than
            their threshold at ``now`` count as missed).
        rows: The groups.
    """

    interval: str | None
    now: float
    rows: tuple[ConversationRow, ...]

    by: tuple[str, ...] = ("channel",)
    counts: tuple[str, ...] = ("conversations", "responded", "resolved")

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns of :meth:`ConversationRow.as_dict`, in order."""
        return ("start", *self.by, *CONVERSATION_FIGURES)


def build_conversation_report(
    records: Sequence[ConversationRecord],
    *,
    now: float,
    interval: str | None = None,
    thresholds: Mapping[Channel, float] = FIRST_RESPONSE_S,
) -> ConversationReport:
    """Group conversation records by channel (and interval) and compute their KPIs.

    Args:
        records: The conversations (``runtime.conversation_records``).
        now: When the figures are taken.
        interval: A name of :data:`~callcenter_sdk.reports.INTERVALS`, or ``None``.
        thresholds: First-response threshold by channel, seconds (an hour
            for a channel not named).

    Raises:
        ValidationError: An unknown interval.
    """
    if interval is not None and interval not in INTERVALS:
        raise ValidationError(f"unknown interval {interval!r}; choose from {', '.join(INTERVALS)}")
    length = INTERVALS[interval] if interval is not None else None
    origin = _WEEK_ORIGIN if interval == "week" else 0.0
    groups: dict[tuple[float | None, str], list[ConversationRecord]] = {}
    for record in records:
        start = None if length is None else interval_start(record.arrived_at, length, origin)
        groups.setdefault((start, record.channel.value), []).append(record)
    rows = []
    for (start, channel), group in groups.items():
        threshold = thresholds.get(Channel(channel), 3600.0)
        rows.append(
            ConversationRow(
                start=start,
                keys={"channel": channel},
                conversations=len(group),
                responded=sum(r.first_response_at is not None for r in group),
                resolved=sum(r.resolved_at is not None for r in group),
                first_response=first_response_time(group),
                first_response_sl=first_response_service_level(group, threshold=threshold, now=now),
                threshold=threshold,
                resolution=resolution_time(group),
                messages=messages_per_conversation(group),
            )
        )
    rows.sort(key=lambda r: (-math.inf if r.start is None else r.start, r.keys["channel"]))
    return ConversationReport(interval=interval, now=now, rows=tuple(rows))


def _scope(org: Org, viewer: str, action: Action, campaigns: Mapping[str, str]) -> dict[str, bool]:
    org.person(viewer)  # an unknown viewer is a NotFoundError, not an empty report
    centers = tuple(org.centers)
    center = centers[0].id if len(centers) == 1 else None
    verdicts: dict[str, bool] = {}
    for queue in {*campaigns, ""}:
        campaign = campaigns.get(queue)
        place = Placement(campaign=campaign) if campaign else Placement(center=center)
        verdict = False
        with contextlib.suppress(CallCenterError):
            verdict = can(org, viewer, action, place)
        verdicts[queue] = verdict
    return verdicts


def conversation_report_from_store(
    store: Store,
    *,
    interval: str | None = None,
    start: float | None = None,
    end: float | None = None,
    now: float | None = None,
    org: Org | None = None,
    viewer: str | None = None,
    action: Action = Action.VIEW_KPIS,
    campaigns: Mapping[str, str] | None = None,
    thresholds: Mapping[Channel, float] = FIRST_RESPONSE_S,
) -> ConversationReport:
    """The conversation report of the conversations that arrived in ``[start, end)``.

    Args:
        store: The store whose event log is read.
        interval: A name of :data:`~callcenter_sdk.reports.INTERVALS`, or ``None``.
        start: First second reported.
        end: First second not reported.
        now: When the figures are taken (default: the last stored event's
            time, or ``end`` if earlier).
        org: The org, to scope the report to ``viewer``.
        viewer: Id of the person asking; ``None`` reports everything.
        action: ``VIEW_KPIS``, or ``EXPORT_REPORTS`` for a file.
        campaigns: Queue -> campaign id (``CallCenterConfig.campaigns``), for the scope.
        thresholds: First-response threshold by channel, seconds.

    Raises:
        ValidationError: A viewer without an org, or an unknown interval.
        NotFoundError: An unknown viewer.
    """
    queues = dict(campaigns or {})
    scope: dict[str, bool] | None = None
    if viewer is not None:
        if org is None:
            raise ValidationError("a report for a viewer needs the org that says what they see")
        scope = _scope(org, viewer, action, queues)
    events = list(stored_events(store, _KINDS))
    latest = max((e.at for e in events), default=0.0)
    if now is None:
        now = latest if end is None else min(latest, end)
    records = [
        r
        for r in conversation_records(events)
        if (start is None or r.arrived_at >= start)
        and (end is None or r.arrived_at < end)
        and (scope is None or scope.get(r.queue if r.queue in queues else "", False))
    ]
    return build_conversation_report(records, now=now, interval=interval, thresholds=thresholds)
