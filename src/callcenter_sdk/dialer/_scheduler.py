"""The lead scheduler: which lead to dial next, and what becomes of it afterwards.

Leads wait in two heaps: those that may be dialled now, ordered by priority
then by when they became due, and those that must wait (retry delay,
recycling, calling window closed), ordered by time. Scheduled callbacks sit
apart and come first once due; a callback is owned by one agent (only they
may take it) or open to anyone. Every pick goes through the campaign's
:class:`~callcenter_sdk.dialer.Compliance` filter, so nothing the scheduler
hands out can break the rules.

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
import heapq
import itertools
import math
from collections.abc import Iterable

import attrs

from .._errors import NotFoundError, StateError, ValidationError
from ._compliance import Compliance, LeadHistory, Refusal
from ._model import CallResult, Lead

__all__ = ["Callback", "LeadScheduler", "LeadStatus"]


class LeadStatus(enum.StrEnum):
    """Where a lead stands in its campaign."""

    PENDING = "pending"
    DIALLING = "dialling"
    CALLBACK = "callback"
    DONE = "done"
    REFUSED = "refused"


@attrs.frozen(kw_only=True)
class Callback:
    """A call the customer asked for at a given time.

    Attributes:
        lead_id: The lead to call back.
        due_at: When to call (seconds since the epoch).
        agent: The agent who owns it; ``None`` means anyone may take it.
    """

    lead_id: str
    due_at: float
    agent: str | None = None


@attrs.define
class _Book:
    lead: Lead
    history: LeadHistory = attrs.Factory(LeadHistory)
    status: LeadStatus = LeadStatus.PENDING
    token: int = 0
    refusal: Refusal | None = None
    disposition: str | None = None


class LeadScheduler:
    """Hands out the next lead to dial and recycles leads by result and disposition.

    Args:
        compliance: The campaign's compliance filter (its campaign gives the
            recycling rules and dispositions).
        leads: The campaign's leads.
        now: The time the leads become due.
    """

    def __init__(self, compliance: Compliance, leads: Iterable[Lead] = (), *, now: float) -> None:
        self._compliance = compliance
        self._campaign = compliance.campaign
        self._books: dict[str, _Book] = {}
        self._ready: list[tuple[int, float, int, str, int]] = []
        self._later: list[tuple[float, int, str, int]] = []
        self._owned: dict[str, list[tuple[float, int, str, int]]] = {}
        self._open: list[tuple[float, int, str, int]] = []
        self._seq = itertools.count()
        self._by_phone: dict[str, _Book] = {}
        self.add(leads, now=now)

    @property
    def compliance(self) -> Compliance:
        """The filter every pick goes through."""
        return self._compliance

    def add(self, leads: Iterable[Lead], *, now: float) -> None:
        """Add leads, due from ``now``.

        Raises:
            ValidationError: A lead belongs to another campaign or is already known.
        """
        for lead in leads:
            if lead.campaign != self._campaign.name:
                raise ValidationError(
                    f"lead {lead.lead_id!r} is for campaign {lead.campaign!r},"
                    f" not {self._campaign.name!r}"
                )
            if lead.lead_id in self._books:
                raise ValidationError(f"lead {lead.lead_id!r} is already scheduled")
            book = _Book(lead)
            self._books[lead.lead_id] = book
            self._by_phone.clear()  # rebuilt on the next restore
            self._push_ready(book, now)

    # ------------------------------------------------------------- queries

    def lead(self, lead_id: str) -> Lead:
        """The lead ``lead_id``."""
        return self._book(lead_id).lead

    def history(self, lead_id: str) -> LeadHistory:
        """The dial history of ``lead_id``."""
        return self._book(lead_id).history

    def status(self, lead_id: str) -> LeadStatus:
        """Where ``lead_id`` stands."""
        return self._book(lead_id).status

    def refusal(self, lead_id: str) -> Refusal | None:
        """Why a refused lead was taken out of the pool, if it was."""
        return self._book(lead_id).refusal

    def counts(self) -> dict[LeadStatus, int]:
        """How many leads are in each status."""
        out = dict.fromkeys(LeadStatus, 0)
        for book in self._books.values():
            out[book.status] += 1
        return out

    def next_due(self) -> float | None:
        """The earliest time a waiting lead or callback becomes due, or ``None``."""
        times = [heap[0][0] for heap in (self._later, self._open, *self._owned.values()) if heap]
        return min(times) if times else None

    def has_ready(self) -> bool:
        """Whether some lead is in the ready heap (it may still be refused on pick)."""
        return bool(self._ready)

    # --------------------------------------------------------------- picks

    def next_lead(self, now: float, *, agent: str | None = None) -> Lead | None:
        """The next lead to dial at ``now``, marked as dialling; ``None`` if none is allowed.

        With ``agent``, that agent's due callbacks come first; then open
        callbacks; then the pool by priority. Leads the compliance filter
        refuses are put back until they may be dialled, or taken out for good.
        """
        self._release(now)
        if agent is not None:
            lead = self._pick_callback(self._owned.get(agent, []), now)
            if lead is not None:
                return lead
        lead = self._pick_callback(self._open, now)
        if lead is not None:
            return lead
        while self._ready:
            _, _, _, lead_id, token = heapq.heappop(self._ready)
            book = self._books[lead_id]
            if book.token != token or book.status is not LeadStatus.PENDING:
                continue
            if self._allowed(book, now):
                return self._start(book)
        return None

    def due_callback(self, agent: str, now: float) -> bool:
        """Whether ``agent`` owns a callback due at ``now`` (to reserve them for it)."""
        heap = self._owned.get(agent)
        while heap:
            _, _, lead_id, token = heap[0]
            book = self._books[lead_id]
            if book.token == token and book.status is LeadStatus.CALLBACK:
                return heap[0][0] <= now
            heapq.heappop(heap)
        return False

    def _pick_callback(self, heap: list[tuple[float, int, str, int]], now: float) -> Lead | None:
        while heap and heap[0][0] <= now:
            _, _, lead_id, token = heapq.heappop(heap)
            book = self._books[lead_id]
            if book.token != token or book.status is not LeadStatus.CALLBACK:
                continue
            if self._allowed(book, now, callback=heap):
                return self._start(book)
        return None

    def _allowed(
        self,
        book: _Book,
        now: float,
        *,
        callback: list[tuple[float, int, str, int]] | None = None,
    ) -> bool:
        verdict = self._compliance.check(book.lead, book.history, now)
        if verdict.allowed:
            return True
        if verdict.not_before is None:
            book.status, book.refusal = LeadStatus.REFUSED, verdict.refusal
            return False
        book.token += 1
        if callback is not None:
            heapq.heappush(
                callback, (verdict.not_before, next(self._seq), book.lead.lead_id, book.token)
            )
        else:
            heapq.heappush(
                self._later, (verdict.not_before, next(self._seq), book.lead.lead_id, book.token)
            )
        return False

    def _start(self, book: _Book) -> Lead:
        book.status = LeadStatus.DIALLING
        book.token += 1
        return book.lead

    def _release(self, now: float) -> None:
        later = self._later
        while later and later[0][0] <= now:
            due, _, lead_id, token = heapq.heappop(later)
            book = self._books[lead_id]
            if book.token == token and book.status is LeadStatus.PENDING:
                self._push_ready(book, due)

    def _push_ready(self, book: _Book, due: float) -> None:
        book.token += 1
        book.status = LeadStatus.PENDING
        item = (-book.lead.priority, due, next(self._seq), book.lead.lead_id, book.token)
        heapq.heappush(self._ready, item)

    def _push_later(self, book: _Book, due: float) -> None:
        book.token += 1
        book.status = LeadStatus.PENDING
        heapq.heappush(self._later, (due, next(self._seq), book.lead.lead_id, book.token))

    # ------------------------------------------------------------- results

    def dialled(self, lead_id: str, result: CallResult, at: float) -> None:
        """Record a dial's result; recycle the lead by the campaign's rule for it.

        A ``CONNECTED`` lead waits for :meth:`dispose` (the agent's
        disposition) and is not recycled here.

        Raises:
            StateError: The lead was not being dialled.
        """
        book = self._dialling(lead_id)
        book.history = book.history.dialled(at, dropped=result is CallResult.DROPPED)
        if result is CallResult.CONNECTED:
            return
        rule = self._campaign.recycling.get(result)
        self._recycle(book, None if rule is None else (rule.after_s, rule.max_attempts), at)

    def dispose(
        self,
        lead_id: str,
        code: str,
        at: float,
        *,
        callback_at: float | None = None,
        callback_agent: str | None = None,
    ) -> None:
        """Apply the agent's disposition ``code`` to a connected lead.

        Raises:
            ValidationError: Unknown code, or a callback disposition without ``callback_at``.
            StateError: The lead is not waiting for a disposition.
        """
        book = self._dialling(lead_id)
        if book.history.attempts == 0:
            raise StateError(f"lead {lead_id!r} has not been dialled")
        self._dispose(book, code, at, callback_at, callback_agent)

    def restore_disposition(
        self,
        lead_id: str,
        code: str,
        at: float,
        *,
        callback_at: float | None = None,
        callback_agent: str | None = None,
    ) -> None:
        """Re-apply a disposition recorded before a restart, whatever the lead's status.

        Replay dispositions in the order they were given, after
        :meth:`restore`-ing the histories: the last one decides.

        Raises:
            NotFoundError: Unknown lead.
            ValidationError: Unknown code, or a callback disposition without ``callback_at``.
        """
        self._dispose(self._book(lead_id), code, at, callback_at, callback_agent)

    def _dispose(
        self,
        book: _Book,
        code: str,
        at: float,
        callback_at: float | None,
        callback_agent: str | None,
    ) -> None:
        lead_id = book.lead.lead_id
        d = self._campaign.disposition(code)
        book.disposition = code
        if d.do_not_call:
            self._compliance.do_not_call.add(book.lead.phone, campaign=self._campaign.name)
            book.status, book.refusal = LeadStatus.REFUSED, Refusal.DO_NOT_CALL
            return
        if d.callback:
            if callback_at is None or not math.isfinite(callback_at):
                raise ValidationError(f"disposition {code!r} needs a callback time")
            self.schedule_callback(
                Callback(lead_id=lead_id, due_at=callback_at, agent=callback_agent)
            )
            return
        rule = d.recycle
        self._recycle(book, None if rule is None else (rule.after_s, rule.max_attempts), at)

    def schedule_callback(self, callback: Callback) -> None:
        """Schedule a callback for a lead that is not being dialled.

        Raises:
            NotFoundError: Unknown lead.
        """
        book = self._book(callback.lead_id)
        book.token += 1
        book.status = LeadStatus.CALLBACK
        heap = self._open if callback.agent is None else self._owned.setdefault(callback.agent, [])
        heapq.heappush(heap, (callback.due_at, next(self._seq), callback.lead_id, book.token))

    def restore(self, phone: str, history: LeadHistory) -> None:
        """Give the lead dialled at ``phone`` a history recorded before a restart.

        Raises:
            NotFoundError: No lead has that number.
        """
        if not self._by_phone:
            self._by_phone = {b.lead.phone: b for b in self._books.values()}
        book = self._by_phone.get(phone)
        if book is None:
            raise NotFoundError(f"no lead with number {phone!r}")
        book.history = history

    def release(self, lead_id: str, now: float) -> None:
        """Put back a lead handed out but never dialled (no agent after all)."""
        book = self._dialling(lead_id)
        self._push_ready(book, now)

    def defer(self, lead_id: str, until: float) -> None:
        """Put back a lead handed out but never dialled, due again at ``until``.

        For a dial the outbound policy refused for now (a cap reached).

        .. versionadded:: 0.2
        """
        self._push_later(self._dialling(lead_id), until)

    def refuse(self, lead_id: str, refusal: Refusal) -> None:
        """Take a lead handed out but never dialled out of the campaign for good.

        For a number a rule outside the compliance filter refuses (the
        outbound policy's denied ranges): it is neither dialled nor retried,
        and :meth:`refusal` says why.

        Raises:
            StateError: The lead was not handed out for dialling.

        .. versionadded:: 0.2
        """
        book = self._dialling(lead_id)
        book.status, book.refusal = LeadStatus.REFUSED, refusal

    def _recycle(self, book: _Book, rule: tuple[float, int | None] | None, at: float) -> None:
        if rule is None:
            book.status = LeadStatus.DONE
            return
        after, cap = rule
        if cap is not None and book.history.attempts >= cap:
            book.status = LeadStatus.DONE
            return
        if book.history.attempts >= self._campaign.max_attempts:
            book.status, book.refusal = LeadStatus.REFUSED, Refusal.MAX_ATTEMPTS
            return
        self._push_later(book, at + after)

    def _book(self, lead_id: str) -> _Book:
        book = self._books.get(lead_id)
        if book is None:
            raise NotFoundError(f"unknown lead {lead_id!r}")
        return book

    def _dialling(self, lead_id: str) -> _Book:
        book = self._book(lead_id)
        if book.status is not LeadStatus.DIALLING:
            raise StateError(f"lead {lead_id!r} is {book.status}, not being dialled")
        return book
