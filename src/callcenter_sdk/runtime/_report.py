"""Figures of a running call center: live counters and the final report from the event log."""

from __future__ import annotations

import collections
import contextlib
from collections.abc import Iterable, Mapping

import anyio.to_thread
import attrs

from .._errors import CallCenterError
from .._events import Event
from ..acd import (
    AgentState,
    ContactAbandoned,
    ContactCallbackRequested,
    ContactConnected,
    ContactEnteredQueue,
    records_from_events,
)
from ..cti import CustomerIdentified
from ..kpi import (
    AgentInterval,
    Channel,
    ContactRecord,
    ConversationRecord,
    KpiReport,
    first_response_service_level,
    first_response_time,
    group_records,
    kpi_report,
    messages_per_conversation,
    resolution_time,
)
from ..media import CallIncoming
from ..org import Org
from ..tickets import TicketEscalated, TicketOpened, TicketStatus, TicketStatusChanged
from ._app import CallCenter
from ._events import (
    AgentLegFailed,
    CallbackMade,
    ContactDisposed,
    IvrCompleted,
    MessageReceived,
    ReplySent,
    ScreenPopDelivered,
)

__all__ = [
    "FIRST_RESPONSE_S",
    "CallCenterReport",
    "ConversationFigures",
    "LiveFigures",
    "LiveTally",
    "call_center_report",
    "conversation_records",
    "report_from_events",
]


@attrs.frozen(kw_only=True)
class LiveFigures:
    """A snapshot for a wallboard line.

    Attributes:
        at: The clock's time.
        in_ivr: Calls in the IVR.
        queued: Callers waiting (or ringing an agent).
        talking: Callers connected to an agent.
        ready: Agents ready.
        busy: Agents ringing or on a call.
        wrap_up: Agents in wrap-up.
        offered: Contacts that entered a queue so far.
        answered: Contacts connected so far.
        abandoned: Contacts that hung up while queued so far.
        service_level: Answered within the threshold over answered plus
            abandoned so far (``None`` before the first).
    """

    at: float
    in_ivr: int
    queued: int
    talking: int
    ready: int
    busy: int
    wrap_up: int
    offered: int
    answered: int
    abandoned: int
    service_level: float | None

    def line(self) -> str:
        """One wallboard line."""
        sl = "  n/a" if self.service_level is None else f"{100 * self.service_level:4.0f}%"
        return (
            f"ivr {self.in_ivr:2}  queue {self.queued:2}  talking {self.talking:2}"
            f" | agents ready {self.ready:2} busy {self.busy:2} wrap {self.wrap_up:2}"
            f" | offered {self.offered:3} answered {self.answered:3}"
            f" abandoned {self.abandoned:3}  SL {sl}"
        )


class LiveTally:
    """Running counts of a call center's queue events, for :meth:`figures`.

    Args:
        center: The call center to watch (subscribes at once).
        threshold: The service-level threshold in seconds.
    """

    def __init__(self, center: CallCenter, *, threshold: float = 20.0) -> None:
        self._center = center
        self._threshold = threshold
        self.offered = self.answered = self.abandoned = self.within = 0
        self.unsubscribe = center.subscribe(self._see)

    def _see(self, _seq: int, event: Event) -> None:
        if isinstance(event, ContactEnteredQueue):
            self.offered += 1
        elif isinstance(event, ContactConnected):
            self.answered += 1
            self.within += event.waited <= self._threshold
        elif isinstance(event, ContactAbandoned):
            self.abandoned += 1

    def figures(self) -> LiveFigures:
        """The figures now."""
        center = self._center
        ended = self.answered + self.abandoned
        return LiveFigures(
            at=center.clock.now(),
            in_ivr=center.callers_in_ivr,
            queued=center.callers("queued"),
            talking=center.callers("connected"),
            ready=center.agents_in(AgentState.READY),
            busy=center.agents_in(AgentState.RESERVED, AgentState.BUSY),
            wrap_up=center.agents_in(AgentState.WRAP_UP),
            offered=self.offered,
            answered=self.answered,
            abandoned=self.abandoned,
            service_level=self.within / ended if ended else None,
        )


def _minutes(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds / 60:.1f} min"


@attrs.frozen(kw_only=True)
class ConversationFigures:
    """The KPIs of one channel's written conversations (see :mod:`callcenter_sdk.kpi`).

    Attributes:
        conversations: How many.
        first_response: Mean seconds to the first answer.
        service_level: Share first answered within ``threshold``.
        threshold: The first-response threshold, in seconds.
        resolution: Mean seconds to resolution.
        messages: Mean messages per conversation.

    .. versionadded:: 0.2
    """

    conversations: int
    first_response: float | None
    service_level: float | None
    threshold: float
    resolution: float | None
    messages: float | None

    def line(self) -> str:
        """One report line."""
        sl = "n/a" if self.service_level is None else f"{100 * self.service_level:.0f} %"
        per = "n/a" if self.messages is None else f"{self.messages:.1f}"
        return (
            f"{self.conversations} conversations, first response {_minutes(self.first_response)}"
            f" ({sl} within {self.threshold:.0f} s), resolution {_minutes(self.resolution)},"
            f" {per} messages each"
        )


@attrs.frozen(kw_only=True)
class CallCenterReport:
    """The end-of-run report, computed from the stored event log.

    Attributes:
        kpi: Offered, answered, abandoned, SL, ASA, AHT, occupancy (KPI calculators)
            of the live contacts (back-office tickets are counted apart).
        calls: Inbound calls that reached the media backend.
        ivr_abandons: Callers who hung up in the IVR.
        screen_pops: Screen pops delivered to agents.
        identified: Contacts whose customer the CTI identified.
        tickets: Tickets opened.
        agent_leg_failures: Agent devices that refused, failed or did not answer.
        dispositions: Dispositions recorded, by code.
        events: Events read from the log.
        escalated: Tickets escalated to level 2.
        back_office: Escalated tickets offered through the back-office queue.
        back_office_done: Of those, worked by a level-2 agent (answered).
        callbacks: Callbacks promised (the callback key in the queue, or an
            IVR callback node), each keeping its place in a queue.
        callbacks_made: Callbacks whose customer was reached and talked to an agent.
        by_client: Per client organisation: (offered, answered, abandoned), when
            the records know their organisation.
        conversations: Per written channel: its conversations' KPIs
            (:class:`ConversationFigures`).
    """

    kpi: KpiReport
    calls: int
    ivr_abandons: int
    screen_pops: int
    identified: int
    tickets: int
    agent_leg_failures: int
    dispositions: dict[str, int]
    events: int
    escalated: int = 0
    back_office: int = 0
    back_office_done: int = 0
    callbacks: int = 0
    callbacks_made: int = 0
    by_client: dict[str, tuple[int, int, int]] = attrs.field(factory=dict)
    conversations: dict[str, ConversationFigures] = attrs.field(factory=dict)

    def lines(self) -> list[str]:
        """The report as aligned terminal lines."""
        codes = ", ".join(f"{k} {v}" for k, v in sorted(self.dispositions.items())) or "none"
        return [
            f"calls received     {self.calls}",
            f"IVR abandons       {self.ivr_abandons}",
            *self.kpi.lines(),
            f"screen pops        {self.screen_pops} ({self.identified} callers identified)",
            f"tickets opened     {self.tickets}",
            f"agent no-answers   {self.agent_leg_failures} (busy, refused or unanswered rings)",
            f"dispositions       {codes}",
            f"escalated to L2    {self.escalated} tickets, {self.back_office_done} worked",
            f"callbacks          {self.callbacks} promised, {self.callbacks_made} made",
            *(
                f"client {name:<11} offered {o} answered {a} abandoned {ab}"
                for name, (o, a, ab) in sorted(self.by_client.items())
            ),
            *(
                f"{name:<18} {figures.line()}"
                for name, figures in sorted(self.conversations.items())
            ),
            f"events stored      {self.events}",
        ]


async def call_center_report(
    center: CallCenter, *, threshold: float = 20.0, short_abandon: float = 5.0
) -> CallCenterReport:
    """Write what the event log still buffers, read it back and compute the report from it."""
    await center.writer.flush()
    events = [logged.event for logged in await anyio.to_thread.run_sync(center.log.read)]
    return report_from_events(
        events,
        now=center.clock.now(),
        threshold=threshold,
        short_abandon=short_abandon,
        org=center.config.org,
        campaigns=center.config.campaigns,
    )


def call_center_records(
    events: Iterable[Event],
    *,
    org: Org | None = None,
    campaigns: Mapping[str, str] | None = None,
) -> tuple[list[ContactRecord], list[AgentInterval]]:
    """Contact records folded from a center's events, with who and for whom.

    On top of :func:`~callcenter_sdk.acd.records_from_events`, each record
    gets its disposition (``runtime.contact_disposed``), the team of the
    agent who handled it (from ``org``), its campaign — the one its queue
    serves (``campaigns``, queue -> campaign id, as in
    :attr:`CallCenterConfig.campaigns`), else the handling agent's team's — and
    the client organisation that ordered that campaign. So
    ``kpi.group_records(records, by=("organisation", "team"))`` gives
    per-client and per-team figures straight from the event log.
    """
    events = list(events)
    records, intervals = records_from_events(events)
    disposed = {e.contact_id: e.disposition for e in events if isinstance(e, ContactDisposed)}
    served = campaigns or {}
    out = []
    for record in records:
        team = record.team
        campaign = served.get(record.queue or "") or record.campaign
        if org is not None and record.agent is not None:
            with contextlib.suppress(CallCenterError):
                home = org.team_of(record.agent)
                if home is not None:
                    team = home.id
                    campaign = campaign or home.campaign
        organisation = record.organisation
        if org is not None and campaign is not None:
            with contextlib.suppress(CallCenterError):
                organisation = org.campaign(campaign).organisation
        out.append(
            attrs.evolve(
                record,
                team=team,
                campaign=campaign,
                organisation=organisation,
                disposition=disposed.get(record.contact_id, record.disposition),
            )
        )
    return out, intervals


_WRITTEN = frozenset({Channel.EMAIL, Channel.CHAT, Channel.SMS, Channel.SOCIAL})
"""The channels whose contacts are written conversations."""

FIRST_RESPONSE_S: Mapping[Channel, float] = {
    Channel.EMAIL: 3600.0,
    Channel.SMS: 900.0,
    Channel.SOCIAL: 900.0,
    Channel.CHAT: 60.0,
}
"""Default first-response thresholds of the report, by channel (seconds)."""


@attrs.define
class _Conversation:
    channel: Channel
    arrived_at: float
    queue: str
    messages: int = 0
    first: float | None = None
    resolved: float | None = None


def conversation_records(events: Iterable[Event]) -> list[ConversationRecord]:
    """The written conversations (e-mail, chat, SMS, social) of a center's events.

    A conversation starts when its contact first enters a queue, counts every
    customer message (``runtime.message_received``) and agent reply
    (``runtime.reply_sent``), is first answered by the first reply, and is
    resolved when its ticket is (``ticket.status_changed`` to resolved).
    See :mod:`callcenter_sdk.kpi` for the KPIs over them.

    .. versionadded:: 0.2
    """
    found: dict[str, _Conversation] = {}
    by_ticket: dict[str, list[_Conversation]] = collections.defaultdict(list)
    for e in events:
        if isinstance(e, ContactEnteredQueue) and e.channel in _WRITTEN:
            found.setdefault(e.contact_id, _Conversation(e.channel, e.since, e.queue))
        elif isinstance(e, MessageReceived) and e.contact_id in found:
            talk = found[e.contact_id]
            talk.messages += 1
            if e.ticket_id and talk not in by_ticket[e.ticket_id]:
                by_ticket[e.ticket_id].append(talk)
        elif isinstance(e, ReplySent) and e.contact_id in found:
            talk = found[e.contact_id]
            talk.messages += 1
            talk.first = e.at if talk.first is None else talk.first
        elif isinstance(e, TicketStatusChanged) and e.target is TicketStatus.RESOLVED:
            for talk in by_ticket.get(e.ticket_id, ()):
                talk.resolved = e.at if talk.resolved is None else talk.resolved
    return [
        ConversationRecord(
            contact_id=contact_id,
            channel=talk.channel,
            arrived_at=talk.arrived_at,
            first_response_at=None if talk.first is None else max(talk.arrived_at, talk.first),
            resolved_at=None if talk.resolved is None else max(talk.arrived_at, talk.resolved),
            messages=max(1, talk.messages),
            queue=talk.queue,
        )
        for contact_id, talk in found.items()
    ]


def group_conversations(
    records: Iterable[ConversationRecord],
) -> dict[Channel, list[ConversationRecord]]:
    """Conversations by channel."""
    groups: dict[Channel, list[ConversationRecord]] = collections.defaultdict(list)
    for record in records:
        groups[record.channel].append(record)
    return dict(groups)


def report_from_events(
    events: Iterable[Event],
    *,
    now: float,
    threshold: float = 20.0,
    short_abandon: float = 5.0,
    org: Org | None = None,
    campaigns: Mapping[str, str] | None = None,
) -> CallCenterReport:
    """Compute a :class:`CallCenterReport` from events (in log order)."""
    events = list(events)
    records, intervals = call_center_records(events, org=org, campaigns=campaigns)
    start = min((e.at for e in events), default=now)
    kinds = collections.Counter(type(e) for e in events)
    dispositions = collections.Counter(
        e.disposition for e in events if isinstance(e, ContactDisposed)
    )
    work = [r for r in records if r.channel is Channel.TICKET]
    conversations = {}
    for channel, rows in group_conversations(conversation_records(events)).items():
        threshold = FIRST_RESPONSE_S.get(channel, 3600.0)
        conversations[channel.value] = ConversationFigures(
            conversations=len(rows),
            first_response=first_response_time(rows),
            service_level=first_response_service_level(rows, threshold=threshold, now=now),
            threshold=threshold,
            resolution=resolution_time(rows),
            messages=messages_per_conversation(rows),
        )
    # a callback asked in the queue and one the IVR stored both enter their queue as one
    promised = kinds[ContactCallbackRequested]
    by_client = {
        str(key[0]): (len(rows), sum(r.answered for r in rows), sum(r.abandoned for r in rows))
        for key, rows in group_records(
            [r for r in records if r.organisation and r.channel is not Channel.TICKET],
            by=("organisation",),
        ).items()
    }
    return CallCenterReport(
        kpi=kpi_report(
            [r for r in records if r.channel is not Channel.TICKET],  # back office: below
            intervals,
            threshold_s=threshold,
            short_abandon_s=short_abandon,
            start=start,
            end=now,
            now=now,
        ),
        calls=kinds[CallIncoming],
        ivr_abandons=sum(1 for e in events if isinstance(e, IvrCompleted) and e.by_caller),
        screen_pops=kinds[ScreenPopDelivered],
        identified=kinds[CustomerIdentified],
        tickets=kinds[TicketOpened],
        agent_leg_failures=kinds[AgentLegFailed],
        dispositions=dict(dispositions),
        events=len(events),
        escalated=kinds[TicketEscalated],
        back_office=len(work),
        back_office_done=sum(1 for r in work if r.answered),
        callbacks=promised,
        callbacks_made=kinds[CallbackMade],
        by_client=by_client,
        conversations=conversations,
    )
