"""An offer's end: accepted, rejected or not answered (a missed offer).

:class:`OfferLifecycle` holds the :class:`~callcenter_sdk.acd.Engine`
inputs that answer an :class:`~callcenter_sdk.acd.Offer`; offers are made
and rescinded by the routing core (``_routing``). A missed offer may pause
the agent (``missed-offers``, or a short rest) and sends the contact back
to its place in the queue.

.. versionadded:: 0.1
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._errors import NotFoundError
from ._actions import Action, Connect, Rescind
from ._agent import AgentBook
from ._events import AgentState, OfferAccepted, OfferBusy, OfferNotAnswered, OfferRejected
from ._model import AutoPause
from ._queue import ContactBook, ContactPhase, OfferBook, QueueBook
from ._routing import _DELAY, _RETRY, AUTO_PAUSE, MISS_DELAY, Router
from ._unchecked import unchecked

__all__ = ["OfferLifecycle"]

# Enum members as module constants: in CPython 3.11 reading one off its class
# goes through the enum metaclass's __getattr__ hook (about 150 ns, against
# about 10 for a global), and the hot path reads several per state change.
_NOT_READY = AgentState.NOT_READY
_READY = AgentState.READY
_CONNECTED = ContactPhase.CONNECTED
_CONNECTING = ContactPhase.CONNECTING
_OFFERING = ContactPhase.OFFERING

_MISSED = "missed-offers"
ON_DEMAND = "on-demand"
"""The pause reason of an on-demand agent once they took their contact."""
_W = ContactPhase.WAITING
# Built on every answered contact, from values the engine made itself.
_new_accepted = unchecked(OfferAccepted)
_new_connect = unchecked(Connect)
_NO_ANSWER, _REJECT, _BUSY = "no-answer", "reject", "busy"
_MISS_REASONS = {
    _NO_ANSWER: "offer-not-answered",
    _REJECT: "offer-rejected",
    _BUSY: "offer-busy",
}


class OfferLifecycle(Router):
    """Offer inputs of :class:`~callcenter_sdk.acd.Engine` (internal)."""

    # Defined by sibling mixins of Engine; declared here for the type checker only.
    if TYPE_CHECKING:

        def _give_up(self, c: ContactBook, reason: str) -> None: ...
        def _connect(self, c: ContactBook) -> None: ...
        def _check_leave(self, a: AgentBook) -> None: ...
        def _hand_over(self, c: ContactBook, to: AgentBook) -> AgentBook: ...
        def _pause_in(self, a: AgentBook, q: QueueBook, reason: str) -> None: ...
        def _presence_hidden(self, a: AgentBook) -> None: ...

    def _pending(self, offer_id: str) -> OfferBook:
        o = self._offers.get(offer_id)
        if o is None:
            raise NotFoundError(f"no pending offer {offer_id!r}")
        return o

    def accept(self, offer_id: str, *, connect: bool = True) -> list[Action]:
        """The agent accepts; other offers of the contact are rescinded.

        With ``connect`` (the default) the contact is connected at once;
        otherwise the runtime bridges the call and reports :meth:`connected`.
        A queued callback is never connected at once, whatever ``connect``
        says: the runtime calls the customer and reports :meth:`connected` or
        :meth:`callback_failed`.

        Raises:
            NotFoundError: The offer is not pending (answered, rescinded, expired).
        """
        self._begin()
        o = self._pending(offer_id)
        c, a = o.contact, o.agent
        del self._offers[offer_id], c.offers[offer_id], a.offers[offer_id]
        q = c.queue
        self._publish(
            _new_accepted(
                at=self._now,
                contact_id=c.contact.id,
                queue=q.name,
                agent_id=a.agent.id,
                offer_id=offer_id,
            )
        )
        freed = (
            [self._rescind(other, "answered-elsewhere") for other in list(c.offers.values())]
            if c.offers
            else []
        )
        if c.phase is _CONNECTED:  # a transfer to this agent
            freed.append(self._hand_over(c, a))
        else:
            q.ringing -= 1
        c.phase = _CONNECTING
        c.agent = a
        a.connected[c.contact.id] = c
        a.missed = 0
        on_demand = a.on_demand
        if on_demand:  # one contact taken: no more until they are ready again
            a.on_demand = False
            self._set_presence(a, _NOT_READY, ON_DEMAND)
            self._reindex(a)
        self._refresh(a, "accepted", q.name)
        if on_demand:
            self._presence_hidden(a)
            self._check_leave(a)
        self._out.append(_new_connect(contact_id=c.contact.id, agent_id=a.agent.id))
        if connect and not c.callback:
            self._connect(c)
        for b in freed:
            self._serve_agent(b)
        return self._flush()

    def reject(self, offer_id: str, *, reason: str = "") -> list[Action]:
        """The agent declines the offer; it counts as a missed offer.

        The agent rests for :attr:`RoutingPolicy.reject_delay
        <callcenter_sdk.acd.RoutingPolicy.reject_delay>`.

        Raises:
            NotFoundError: The offer is not pending.
        """
        self._begin()
        self._miss(self._pending(offer_id), outcome=_REJECT, reason=reason)
        return self._flush()

    def busy(self, offer_id: str) -> list[Action]:
        """The agent's phone answered busy (FreeSWITCH's ``USER_BUSY``).

        Distinct from a refusal: an :class:`~callcenter_sdk.acd.OfferBusy` is
        published, the agent rests for :attr:`RoutingPolicy.busy_delay
        <callcenter_sdk.acd.RoutingPolicy.busy_delay>`, and the miss does not
        count towards ``max_missed_offers`` (the agent did not refuse).

        Raises:
            NotFoundError: The offer is not pending.

        .. versionadded:: 0.2
        """
        self._begin()
        self._miss(self._pending(offer_id), outcome=_BUSY, reason="busy")
        return self._flush()

    def _miss(self, o: OfferBook, *, outcome: str, reason: str = "") -> None:
        now = self._now
        c, a = o.contact, o.agent
        q = c.queue
        self._drop_offer(o)
        cid, aid, qname = c.contact.id, a.agent.id, q.name
        if outcome == _REJECT:
            self._publish(
                OfferRejected(
                    at=now, contact_id=cid, queue=qname, agent_id=aid, offer_id=o.id, reason=reason
                )
            )
        elif outcome == _BUSY:
            self._publish(
                OfferBusy(
                    at=now, contact_id=cid, queue=qname, agent_id=aid, offer_id=o.id, reason=reason
                )
            )
        else:
            self._publish(
                OfferNotAnswered(at=now, contact_id=cid, queue=qname, agent_id=aid, offer_id=o.id)
            )
            self._out.append(Rescind(offer_id=o.id, contact_id=cid, agent_id=aid))
        transfer = c.phase is _CONNECTED
        if not transfer and outcome != _BUSY:  # declining a colleague's transfer is no miss
            a.missed += 1
        if a.presence is _READY and not transfer:
            self._rest(a, q, outcome)
        self._reindex(a)
        self._refresh(a, _MISS_REASONS[outcome], qname)
        back = not c.offers and c.phase is _OFFERING
        if back:
            q.ringing -= 1
            c.phase = _W
            if c.expired:
                # Its maximum wait passed while the phone rang: the offer is
                # over, so the contact leaves now rather than ring again.
                self._give_up(c, "max-wait")
                back = False
            else:
                retry = q.config.retry
                if retry and outcome == _NO_ANSWER:
                    # app_queue's retry: the caller keeps their place but rests
                    # before the next round of offers.
                    c.held = True
                    self._require(c, c.reqs)
                    self._timer(now + retry, _RETRY, c, c.enter_token)
                self._wait(c)
        if a.presence is _NOT_READY:
            self._check_leave(a)
        # The freed agent chooses before the returning contact is routed, so
        # that an earlier contact of the same queue is never overtaken.
        self._serve_agent(a)
        if back and c.phase is _W:
            self._serve_contact(c)

    def _rest(self, a: AgentBook, q: QueueBook, outcome: str) -> None:
        """Pause or rest a ready agent after a missed offer of ``q``."""
        policy = self._policy
        delay = policy.delay_after(outcome)
        if a.missed >= policy.max_missed_offers:
            self._set_presence(a, _NOT_READY, _MISSED)
        elif self._pauses(outcome, q) and self._auto_pause(a, q):
            return
        elif delay > 0:
            self._set_presence(a, _NOT_READY, MISS_DELAY)
            a.delay_token += 1
            self._timer(self._now + delay, _DELAY, a, a.delay_token)

    @staticmethod
    def _pauses(outcome: str, q: QueueBook) -> bool:
        """Whether a miss ending with ``outcome`` may auto-pause (autopause, autopausebusy)."""
        return outcome == _NO_ANSWER or (outcome == _BUSY and q.config.autopause_busy)

    def _auto_pause(self, a: AgentBook, q: QueueBook) -> bool:
        """Pause ``a`` after an unanswered offer of ``q`` as its ``autopause`` says."""
        cfg = q.config
        if cfg.autopause is AutoPause.NO or self._now - a.last_call < cfg.autopause_delay:
            return False
        if cfg.autopause is AutoPause.ALL:
            self._set_presence(a, _NOT_READY, AUTO_PAUSE)
        elif a.idx in q.members:
            self._pause_in(a, q, AUTO_PAUSE)
        else:  # left the queue while its phone rang: no membership to pause, the usual rest
            return False
        return True
