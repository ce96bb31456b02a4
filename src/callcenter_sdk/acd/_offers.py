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
from ._events import AgentState, OfferAccepted, OfferNotAnswered, OfferRejected
from ._queue import ContactBook, ContactPhase, OfferBook
from ._routing import _DELAY, MISS_DELAY, Router

__all__ = ["OfferLifecycle"]

_MISSED = "missed-offers"
_W = ContactPhase.WAITING


class OfferLifecycle(Router):
    """Offer inputs of :class:`~callcenter_sdk.acd.Engine` (internal)."""

    # Defined by sibling mixins of Engine; declared here for the type checker only.
    if TYPE_CHECKING:

        def _give_up(self, c: ContactBook, reason: str) -> None: ...
        def _connect(self, c: ContactBook) -> None: ...
        def _check_leave(self, a: AgentBook) -> None: ...
        def _hand_over(self, c: ContactBook, to: AgentBook) -> AgentBook: ...

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
            OfferAccepted(
                at=self._now,
                contact_id=c.contact.id,
                queue=q.name,
                agent_id=a.agent.id,
                offer_id=offer_id,
            )
        )
        freed = [self._rescind(other, "answered-elsewhere") for other in list(c.offers.values())]
        if c.phase is ContactPhase.CONNECTED:  # a transfer to this agent
            freed.append(self._hand_over(c, a))
        c.phase = ContactPhase.CONNECTING
        c.agent = a
        a.connected[c.contact.id] = c
        a.missed = 0
        self._refresh(a, "accepted", q.name)
        self._out.append(Connect(contact_id=c.contact.id, agent_id=a.agent.id))
        if connect and not c.callback:
            self._connect(c)
        for b in freed:
            self._serve_agent(b)
        return self._flush()

    def reject(self, offer_id: str, *, reason: str = "") -> list[Action]:
        """The agent declines the offer; it counts as a missed offer.

        Raises:
            NotFoundError: The offer is not pending.
        """
        self._begin()
        self._miss(self._pending(offer_id), rejected=True, reason=reason)
        return self._flush()

    def _miss(self, o: OfferBook, *, rejected: bool, reason: str = "") -> None:
        now = self._now
        c, a = o.contact, o.agent
        self._drop_offer(o)
        cid, aid, qname = c.contact.id, a.agent.id, c.queue.name
        if rejected:
            self._publish(
                OfferRejected(
                    at=now, contact_id=cid, queue=qname, agent_id=aid, offer_id=o.id, reason=reason
                )
            )
        else:
            self._publish(
                OfferNotAnswered(at=now, contact_id=cid, queue=qname, agent_id=aid, offer_id=o.id)
            )
            self._out.append(Rescind(offer_id=o.id, contact_id=cid, agent_id=aid))
        transfer = c.phase is ContactPhase.CONNECTED
        if not transfer:  # declining a colleague's transfer is no missed queue offer
            a.missed += 1
        if a.presence is AgentState.READY and not transfer:
            policy = self._policy
            if a.missed >= policy.max_missed_offers:
                self._set_presence(a, AgentState.NOT_READY, _MISSED)
            elif policy.missed_offer_delay > 0:
                self._set_presence(a, AgentState.NOT_READY, MISS_DELAY)
                a.delay_token += 1
                self._timer(now + policy.missed_offer_delay, _DELAY, a, a.delay_token)
        self._reindex(a)
        self._refresh(a, "offer-rejected" if rejected else "offer-not-answered", c.queue.name)
        # The freed agent chooses before the returning contact is routed, so
        # that an earlier contact of the same queue is never overtaken.
        back = not c.offers and c.phase is ContactPhase.OFFERING
        if back:
            c.phase = _W
            self._wait(c)
        if a.presence is AgentState.NOT_READY:
            self._check_leave(a)
        self._serve_agent(a)
        if back and c.phase is _W:
            if c.expired:
                self._give_up(c, "max-wait")
            else:
                self._serve_contact(c)
