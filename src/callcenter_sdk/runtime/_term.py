"""A cluster leader's first steps in its term: what the previous term left, resolved.

When a center opens as a cluster member (``open_call_center(elector=)``) it
reads the end of the previous terms from the shared event log (see
:mod:`._takeover` for the rules), writes ``runtime.term_started``, rescinds
the offers left in flight and, once the waiting contacts are back in their
queues, gives the continuing agents their states back (``docs/cluster.md``).

.. versionadded:: 0.2
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Sequence

from .._clock import Clock
from .._errors import CallCenterError
from .._events import Event, EventStream
from ..acd import AgentState, OfferRescinded
from ..store import AgentSession, EventLog, LeaseLost, WaitingContactRecord
from ._cluster import Elector
from ._engine_port import EnginePort
from ._events import TermStarted
from ._ledger import Ledger, seen_as
from ._takeover import (
    CONTACT_KINDS,
    KINDS,
    TAKEOVER,
    History,
    InHandReader,
    Takeover,
    read_takeover,
)

__all__: list[str] = []

_log = logging.getLogger(__name__)

PAGE = 2_000
"""Events a takeover reads back from the log at a time."""

FILTERED = 1_000
"""At most this many contacts are looked for by the database's filter (see ``_walk``)."""

CLOCK_SKEW = 60.0
"""Seconds nodes' clocks may disagree (sessions and events carry their writer's clock)."""


class TermStart:
    """Begins a leader's term on what the log says the previous one left.

    Args:
        elector: This node's elector (it leads now).
        port: The engine's inputs.
        ledger: The promises (the agents' open sessions are read from it).
        log: The shared event log.
        log_end: Its last sequence number before this center published
            anything: every event of the previous terms is at or before it.
        queues: The queues whose offer time-outs bound how far back an offer
            may still be in flight.
        clock: The runtime's clock.
        events: Where the term's first events are published.
    """

    def __init__(
        self,
        *,
        elector: Elector,
        port: EnginePort,
        ledger: Ledger,
        log: EventLog,
        log_end: int,
        queues: Iterable[str],
        clock: Clock,
        events: EventStream,
    ) -> None:
        self._elector = elector
        self._port = port
        self._ledger = ledger
        self._log = log
        self._log_end = log_end
        self._queues = tuple(queues)
        self._clock = clock
        self._events = events
        self._work_since: float | None = None  # see History.work_since

    async def begin(self) -> Takeover:
        """Mark the term, end the offers the last one left in flight, return what it left.

        Raises:
            LeaseLost: This node no longer leads.
        """
        elector = self._elector
        lease = elector.lease
        if lease is None:
            raise LeaseLost(elector.domain, None, None, f"{elector.node} no longer leads")
        sessions = await self._ledger.read(self._ledger.sessions.open_sessions)
        takeover = Takeover(agents={}, offers=())
        if sessions:  # an offer rings a logged-in agent: with no session open, none is in flight
            takeover = read_takeover(await self._history(sessions))
        now = self._clock.now()
        self._events.publish(
            TermStarted(
                at=now,
                node=elector.node,
                domain=elector.domain,
                epoch=lease.epoch,
                offers_in_flight=len(takeover.offers),
                agents_resumed=len({s.agent_id for s in sessions} & takeover.agents.keys()),
            )
        )
        for offer in takeover.offers:  # no outcome in the log: the old term's, rescinded
            self._events.publish(
                OfferRescinded(
                    at=now,
                    contact_id=offer.contact_id,
                    queue=offer.queue,
                    agent_id=offer.agent_id,
                    offer_id=offer.offer_id,
                    reason=TAKEOVER,
                )
            )
        return takeover

    async def _history(self, sessions: list[AgentSession]) -> list[Event]:
        """The end of the previous terms' log a takeover reads, in order (see ``History``).

        Read back from this term's start a page at a time, never further
        than the oldest open session's start, and stopped as soon as every
        continuing agent's last idle state and every offer that may still
        be in flight are in: the cost follows the agents and the offers of
        the last minutes, not the length of the log.
        """
        engine = self._port.engine
        timeout = max((engine.queue_config(q).offer_timeout for q in self._queues), default=0.0)
        history = History(
            (s.agent_id for s in sessions),
            horizon=self._clock.now() - timeout - 2 * CLOCK_SKEW,
        )
        since = min(s.started_at for s in sessions) - CLOCK_SKEW
        events: list[Event] = []

        def feed(event: Event) -> bool:
            events.append(event)
            return history.feed(event)

        await self._walk(feed, KINDS, since)
        self._work_since = history.work_since
        events.reverse()
        return events

    async def _walk(
        self,
        feed: Callable[[Event], bool],
        kinds: Sequence[str],
        since: float,
        contacts: Collection[str] = (),
    ) -> None:
        """Feed the previous terms' events of ``kinds`` to ``feed``, newest first.

        Back to ``since`` at most, a page at a time, until ``feed`` returns
        ``True``; only the events of ``contacts`` when given (the database
        filters them: up to :data:`FILTERED` contacts, else all are read).
        """
        before = self._log_end + 1
        only = contacts if len(contacts) <= FILTERED else ()
        while True:
            page = await self._ledger.read(
                self._log.read_back,
                before=before,
                limit=PAGE,
                kinds=kinds,
                since=since,
                contacts=only,
            )
            for logged in page:
                if feed(logged.event):
                    return
            if len(page) < PAGE:
                return
            before = page[-1].seq

    async def in_hand(self, rows: Sequence[WaitingContactRecord]) -> InHandReader:
        """Where the log last left each stored written contact of ``rows`` (see ``InHandReader``).

        Read back no further than the later of the oldest row's arrival and
        the oldest open session's start: a contact is connected after it
        arrived, and only to an agent logged in then; one whose agent's
        session has closed since is queued again anyway.
        """
        if not rows:
            return InHandReader(())
        oldest_row = min(row.arrived_at for row in rows)
        return await self.in_hand_of([seen_as(row) for row in rows], since=oldest_row)

    async def in_hand_of(
        self, contacts: Sequence[str], *, since: float | None = None
    ) -> InHandReader:
        """Where the log last left ``contacts`` (see ``InHandReader``).

        Read back no further than the oldest open session's start, the
        continuing agents' earliest last idle state (found by :meth:`begin`:
        an agent is busy while a contact is connected to them, so what they
        hold came after it), and ``since`` when given: a contact in hand was
        connected to an agent logged in then; one whose agent's session has
        closed since is not theirs any more anyway. One not placed by then
        is taken as waiting.
        """
        if not contacts:
            return InHandReader(contacts)
        return await self._place(InHandReader(contacts), contacts, since)

    async def every_in_hand(self) -> InHandReader:
        """Every contact the log shows in an agent's hand when the term starts.

        Read back as :meth:`in_hand_of` does, with no contact named: to the
        later of the oldest open session's start and the continuing agents'
        earliest last idle state. Empty when no session is open.
        """
        return await self._place(InHandReader((), every=True), (), None)

    async def _place(
        self, reader: InHandReader, contacts: Sequence[str], since: float | None
    ) -> InHandReader:
        """Feed ``reader`` the log back to the bounds :meth:`in_hand_of` says."""
        sessions = await self._ledger.read(self._ledger.sessions.open_sessions)
        if not sessions:
            return reader
        bounds = [min(s.started_at for s in sessions), since, self._work_since]
        oldest = max(b for b in bounds if b is not None)
        await self._walk(reader.feed, CONTACT_KINDS, oldest - CLOCK_SKEW, contacts)
        return reader

    async def resume(
        self, takeover: Takeover, agents: Iterable[str], working: Collection[str] = ()
    ) -> None:
        """Give ``agents`` (their sessions continue) the state the log last showed them in.

        An agent of ``working`` has work in hand this leader adopted: they go on
        in the presence they had when it came (``Takeover.working``).
        """
        engine = self._port.engine
        for agent_id in agents:
            states = takeover.working if agent_id in working else takeover.agents
            resume = states.get(agent_id)
            if resume is None:
                continue
            try:
                if engine.agent_status(agent_id).state is AgentState.OFFLINE:
                    continue  # not seated again (its position is gone)
                if resume.state is AgentState.READY:
                    await self._port.set_ready(agent_id)
                elif resume.reason:
                    await self._port.set_not_ready(agent_id, resume.reason)
            except CallCenterError as exc:  # an agent no longer in the configuration
                _log.warning("agent %s not resumed as %s: %s", agent_id, resume.state, exc)
