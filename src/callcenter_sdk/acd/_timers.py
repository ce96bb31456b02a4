"""Deadlines: offer time-outs, wrap-up ends, missed-offer rests, and each contact's own timers.

:class:`Timers` holds :meth:`~callcenter_sdk.acd.Engine.tick`, which fires
every deadline due, and what each contact deadline does. Timers are set on
one heap by the other inputs and carry a token, so a deadline made stale
by a later input is skipped rather than removed.

.. versionadded:: 0.1
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, cast

from ._actions import Action, Announce
from ._agent import AgentBook
from ._events import AgentState, ContactRelaxed
from ._queue import ContactBook, ContactPhase, OfferBook, QueueBook
from ._routing import (
    _ANNOUNCE,
    _DELAY,
    _MAXWAIT,
    _NOAGENT,
    _OFFER,
    _PENALTY,
    _RELAX,
    _RETRY,
    _RING,
    _WRAP,
    MISS_DELAY,
    Router,
)

__all__ = ["Timers"]

# Enum members as module constants: in CPython 3.11 reading one off its class
# goes through the enum metaclass's __getattr__ hook (about 150 ns, against
# about 10 for a global), and the hot path reads several per state change.
_READY = AgentState.READY
_ENDED = ContactPhase.ENDED
_OFFERING = ContactPhase.OFFERING

_W = ContactPhase.WAITING


class Timers(Router):
    """Deadline inputs of :class:`~callcenter_sdk.acd.Engine` (internal)."""

    # Defined by sibling mixins of Engine; declared here for the type checker only.
    if TYPE_CHECKING:

        def _give_up(self, c: ContactBook, reason: str) -> None: ...
        def _miss(self, o: OfferBook, *, outcome: str, reason: str = "") -> None: ...
        def _after_work(self, a: AgentBook, reason: str, queue: str) -> None: ...
        def _clear_wrap(self, a: AgentBook) -> None: ...

    def next_deadline(self) -> float | None:
        """When :meth:`tick` next has something to do, or ``None``.

        The time-outs of offers already answered, rescinded or missed are
        dropped from the top of the heap here: each accepted offer leaves one
        behind, and a driver woken for it would tick for nothing.
        """
        timers, offers = self._timers, self._offers
        while timers:
            top = timers[0]
            if top[2] != _OFFER or top[3].id in offers:  # an _OFFER timer holds an OfferBook
                return top[0]
            heapq.heappop(timers)
        return None

    def tick(self) -> list[Action]:  # noqa: PLR0912 - one branch per kind of timer
        """Fire every timer due at the clock's time (offer timeouts, wrap-up, max wait...)."""
        now = self._begin()
        timers = self._timers
        while timers and timers[0][0] <= now:
            _, _, kind, obj, token = heapq.heappop(timers)
            if kind == _OFFER:
                offer = cast("OfferBook", obj)
                if offer.id in self._offers:
                    self._miss(offer, outcome="no-answer")
            elif kind == _WRAP:
                a = cast("AgentBook", obj)
                if a.wrap_token == token and a.wrap:
                    self._clear_wrap(a)
                    self._after_work(a, "wrap-up-ended", "")
            elif kind == _DELAY:
                a = cast("AgentBook", obj)
                if a.delay_token == token and a.reason == MISS_DELAY:
                    self._set_presence(a, _READY, "ready")
                    if not a.active:
                        a.idle_since = now
                    self._refresh(a, "missed-offer-delay-ended")
                    self._serve_agent(a)
            elif kind == _NOAGENT:
                q = cast("QueueBook", obj)
                if q.agentless_token == token and q.agentless_since is not None:
                    self._no_agent(q)
            elif kind == _RING:
                c = cast("ContactBook", obj)
                if c.round == token and c.phase is _OFFERING:
                    self._ring_more(c)
            else:
                c = cast("ContactBook", obj)
                if c.enter_token == token and c.phase is not _ENDED:
                    self._contact_timer(c, kind)
        return self._flush()

    def _no_agent(self, q: QueueBook) -> None:
        """The queue has had no available member for its no-agent timeout: callers leave.

        mod_callcenter's ``max-wait-time-with-no-agent``: every waiting caller
        leaves, or with a grace (``…-time-reached``) each one once they waited
        the timeout plus the grace; the timer comes back for the next one.
        """
        cfg = q.config
        limit = (cfg.no_agent_timeout or 0.0) + cfg.no_agent_grace
        now = self._now
        grace = cfg.no_agent_grace > 0
        later: float | None = None
        for c in q.waiting_contacts():
            if c.callback:
                continue  # nobody on the line: a callback waits for the next agent
            due = c.entered_at + limit
            if not grace or due <= now:
                self._give_up(c, "no-agent")
            elif later is None or due < later:
                later = due
        if later is not None:
            self._timer(later, _NOAGENT, q, q.agentless_token)

    def _contact_timer(self, c: ContactBook, kind: int) -> None:
        if kind == _MAXWAIT:
            self._max_wait(c)
        elif kind == _ANNOUNCE:
            self._announce(c)
        elif kind == _PENALTY:
            self._change_penalties(c)
        elif kind == _RETRY:
            self._end_retry(c)
        else:
            self._relax(c)

    def _step_if_due(self, c: ContactBook) -> None:
        """A ringing contact's range or needs widened: a due progressive step rings now."""
        if c.queue.due.get(c) == c.round:
            self._ring_more(c)

    def _change_penalties(self, c: ContactBook) -> None:
        """Apply ``c``'s next penalty rule (``queuerules.conf``'s ``penaltychange``)."""
        if c.phase is not _W and c.phase is not _OFFERING:
            return
        if c.pstep >= len(c.prules) or c.entered_at + c.prules[c.pstep].after > self._now:
            return  # tier-rule-no-agent-no-wait applied this rule early already
        rule = c.prules[c.pstep]
        c.pstep += 1
        waiting = c.phase is _W
        if waiting:
            self._unwait(c)
        c.low, c.high = rule.apply(c.low, c.high)
        c.lift = rule.raise_to(c.lift)
        self._require(c, c.reqs)
        if waiting:
            self._wait(c)
        if c.pstep < len(c.prules):
            self._timer(c.entered_at + c.prules[c.pstep].after, _PENALTY, c, c.enter_token)
        if waiting:
            self._serve_contact(c)
        else:
            self._step_if_due(c)

    def _end_retry(self, c: ContactBook) -> None:
        """The pause between offer rounds (``Queue.retry``) is over: offer the contact again."""
        if not c.held:
            return
        c.held = False
        if c.phase is not _W:
            return
        self._unwait(c)
        self._require(c, c.reqs)
        self._wait(c)
        self._serve_contact(c)

    def _announce(self, c: ContactBook) -> None:
        q = c.queue
        every = q.config.announce_every
        if every is None or c.callback:  # nobody on the line to tell
            return
        if c.phase is _W:
            position = q.position(c)
            self._out.append(
                Announce(
                    contact_id=c.contact.id,
                    queue=q.name,
                    position=position,
                    estimated_wait=q.estimated_wait(position),
                )
            )
        if c.phase is _W or c.phase is _OFFERING:
            self._timer(self._now + every, _ANNOUNCE, c, c.enter_token)

    def _max_wait(self, c: ContactBook) -> None:
        if c.callback:
            return  # nobody is on the line to run out of patience
        if c.phase is _W:
            self._give_up(c, "max-wait")
        elif c.phase is _OFFERING and c.queue.config.max_wait_cuts_offer:
            # timeoutpriority = app: the queue's timeout cuts the ringing short.
            freed = [self._rescind(o, "max-wait") for o in list(c.offers.values())]
            c.queue.ringing -= 1
            self._give_up(c, "max-wait")
            for a in freed:
                self._serve_agent(a)
        elif c.phase is _OFFERING:
            c.expired = True

    def _relax(self, c: ContactBook) -> None:
        if c.phase is not _W and c.phase is not _OFFERING:
            return
        step = c.steps[c.step]
        c.step += 1
        waiting = c.phase is _W
        if waiting:
            self._unwait(c)
        self._require(c, step.requirements)
        if waiting:
            self._wait(c)
        self._publish(
            ContactRelaxed(
                at=self._now,
                contact_id=c.contact.id,
                queue=c.queue.name,
                step=c.step,
                requirements=tuple(f"{r.skill}>={r.min_level}" for r in c.reqs),
            )
        )
        if c.step < len(c.steps):
            self._timer(c.entered_at + c.steps[c.step].after, _RELAX, c, c.enter_token)
        if waiting:
            self._serve_contact(c)
        else:
            self._step_if_due(c)
