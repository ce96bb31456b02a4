"""The dialer's durable facts in the store: lists, attempts, answers, do-not-call lists.

The store already has tables for outbound lists, their numbers and every dial
attempt (:class:`~callcenter_sdk.store.OutboundLists`); a lead's time zone,
country, consent and script data ride in its entry's JSON data. Survey answers
are events (:class:`AnswerRecorded`) and live in the event log with everything
else. Do-not-call lists are one configuration document, saved with optimistic
concurrency so two supervisors never overwrite each other's additions.
After a restart, :func:`restore_histories` rebuilds every lead's attempts,
last dial and last drop from the recorded attempts, so caps and delays hold
across crashes, and :func:`restore_dispositions` replays the agents'
dispositions (kept in the event log as :class:`LeadDisposed` events), and
:func:`restore_pacer` replays the attempts into a new pacer, so the drop
budget of the current regulatory period still counts the earlier drops.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .._errors import NotFoundError
from ..store import (
    ContactRecords,
    Documents,
    EventLog,
    OutboundAttempt,
    OutboundEntry,
    OutboundLists,
)
from ._compliance import DoNotCallList, LeadHistory
from ._events import AnswerRecorded, LeadDisposed
from ._model import Attempt, CallResult, Lead
from ._pacing import Pacer
from ._run import CampaignRun
from ._scheduler import LeadScheduler

__all__ = [
    "DO_NOT_CALL_DOCUMENT",
    "load_do_not_call",
    "load_leads",
    "record_attempt",
    "restore_dispositions",
    "restore_histories",
    "restore_pacer",
    "save_do_not_call",
    "save_leads",
    "save_run",
    "stored_answers",
]

DO_NOT_CALL_DOCUMENT = "dialer/do-not-call"
"""The key of the do-not-call document in :class:`~callcenter_sdk.store.Documents`."""


def save_leads(lists: OutboundLists, leads: Iterable[Lead], *, at: float) -> int:
    """Save leads into their lists (created as needed); numbers already there are kept.

    Returns how many leads were handed to the store.
    """
    by_list: dict[str, list[OutboundEntry]] = {}
    campaign_of: dict[str, str] = {}
    for lead in leads:
        list_id = lead.list_id or lead.campaign
        campaign_of.setdefault(list_id, lead.campaign)
        by_list.setdefault(list_id, []).append(
            OutboundEntry(
                phone=lead.phone,
                customer=lead.customer,
                priority=lead.priority,
                data={
                    "lead_id": lead.lead_id,
                    "timezone": lead.timezone,
                    "country": lead.country,
                    "consent": lead.consent,
                    "data": dict(lead.data),
                },
            )
        )
    for list_id, entries in by_list.items():
        lists.create(list_id, campaign=campaign_of[list_id], name=list_id, at=at)
        lists.add(list_id, *entries)
    return sum(len(e) for e in by_list.values())


def load_leads(lists: OutboundLists, list_id: str, *, campaign: str) -> list[Lead]:
    """The leads of a stored list, highest priority first."""
    out = []
    for entry in lists.entries(list_id):
        data: dict[str, Any] = entry.data
        out.append(
            Lead(
                lead_id=str(data.get("lead_id") or f"{list_id}-{entry.phone}"),
                phone=entry.phone,
                campaign=campaign,
                list_id=list_id,
                timezone=str(data.get("timezone") or "UTC"),
                country=str(data.get("country") or ""),
                priority=entry.priority,
                consent=data.get("consent"),
                customer=entry.customer,
                data=dict(data.get("data") or {}),
            )
        )
    return out


def record_attempt(lists: OutboundLists, attempt: Attempt) -> None:
    """Record one dial attempt in its list, committed on return."""
    lists.record_attempt(
        attempt.list_id,
        OutboundAttempt(
            phone=attempt.phone, at=attempt.record.arrived_at, outcome=attempt.result.value
        ),
    )


def save_run(lists: OutboundLists, records: ContactRecords, run: CampaignRun) -> None:
    """Store what a simulated campaign did: every attempt in its list, every contact record.

    The run's events are not written here: attach the store's ``EventLog`` to
    the stream given to ``simulate_campaign`` so it sees them as they happen.
    """
    for attempt in run.attempts:
        record_attempt(lists, attempt)
    records.save(*run.records)


def restore_histories(lists: OutboundLists, list_id: str, scheduler: LeadScheduler) -> int:
    """Give the scheduler's leads of ``list_id`` their recorded dial histories.

    Returns how many leads had attempts. Numbers the scheduler does not know
    are skipped.
    """
    histories: dict[str, LeadHistory] = {}
    for attempt in lists.attempts(list_id):
        history = histories.get(attempt.phone, LeadHistory())
        histories[attempt.phone] = history.dialled(
            attempt.at, dropped=attempt.outcome == CallResult.DROPPED.value
        )
    restored = 0
    for phone, history in histories.items():
        try:
            scheduler.restore(phone, history)
        except NotFoundError:
            continue
        restored += 1
    return restored


def restore_pacer(lists: OutboundLists, list_ids: Iterable[str], pacer: Pacer) -> int:
    """Replay the recorded attempts of a campaign's lists into a new pacer, oldest first.

    A restarted :class:`Dialer` starts with a fresh pacer: without this, its
    drop budget would forget the drops of the current regulatory period and
    the cap would no longer hold over the period, and its periods would be
    counted from the restart instead of the campaign's first call. Each
    attempt is observed with the time it was dialled (``placed_at``), so it
    counts for its own period, and the live-answer rate is learnt again.
    Call it before the dialer places its first call. Returns how many
    attempts were replayed.

    .. versionadded:: 0.2
    """
    stored = sorted(
        (attempt for list_id in list_ids for attempt in lists.attempts(list_id)),
        key=lambda attempt: attempt.at,
    )
    for attempt in stored:
        pacer.observe(CallResult(attempt.outcome), placed_at=attempt.at)
    return len(stored)


def restore_dispositions(log: EventLog, scheduler: LeadScheduler) -> int:
    """Re-apply the dispositions kept in the event log to the scheduler's leads, in order.

    Sales stay finished, callbacks are scheduled again with their owner, and
    "do not call" requests rejoin the campaign's list. Call it after
    :func:`restore_histories`. Returns how many dispositions were applied;
    those of other campaigns or unknown leads are skipped.
    """
    campaign = scheduler.compliance.campaign.name
    applied = 0
    for logged in log.read(kinds=[LeadDisposed.kind]):
        event = logged.event
        if not isinstance(event, LeadDisposed) or event.campaign != campaign:
            continue
        try:
            scheduler.restore_disposition(
                event.lead_id,
                event.code,
                event.at,
                callback_at=event.callback_at,
                callback_agent=event.callback_agent or None,
            )
        except NotFoundError:
            continue
        applied += 1
    return applied


def stored_answers(log: EventLog, *, after: int = 0) -> list[AnswerRecorded]:
    """Every survey answer written to the event log after sequence ``after``."""
    return [
        e.event
        for e in log.read(after=after, kinds=[AnswerRecorded.kind])
        if isinstance(e.event, AnswerRecorded)
    ]


def save_do_not_call(
    documents: Documents, do_not_call: DoNotCallList, *, at: float, expected_version: int | None
) -> int:
    """Save the do-not-call lists; return the document's new version.

    Raises:
        StateError: Someone saved the lists since ``expected_version``.
    """
    content = {
        "global": sorted(do_not_call.numbers()),
        "campaigns": {c: sorted(do_not_call.numbers(c)) for c in do_not_call.campaigns()},
    }
    return documents.put(
        DO_NOT_CALL_DOCUMENT, content, at=at, expected_version=expected_version
    ).version


def load_do_not_call(documents: Documents) -> tuple[DoNotCallList, int]:
    """The saved do-not-call lists and their version (empty lists and 0 when never saved)."""
    try:
        document = documents.get(DO_NOT_CALL_DOCUMENT)
    except NotFoundError:
        return DoNotCallList(), 0
    dnc = DoNotCallList(document.content.get("global", ()))
    for campaign, numbers in document.content.get("campaigns", {}).items():
        for phone in numbers:
            dnc.add(phone, campaign=campaign)
    return dnc, document.version
