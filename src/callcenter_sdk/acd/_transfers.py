"""Transfers: blind to a queue, or attended to a named colleague.

:class:`Transfers` holds the :class:`~callcenter_sdk.acd.Engine` inputs
that move a connected contact on, and the steps that end the first agent's
part when a colleague accepts (or the customer leaves meanwhile).

.. versionadded:: 0.2
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._errors import StateError, ValidationError
from ._actions import Action
from ._agent import AgentBook
from ._contacts import _handler
from ._events import ContactCompleted, ContactTransferred
from ._queue import ContactBook, QueueBook
from ._routing import Router

__all__ = ["Transfers"]


class Transfers(Router):
    """Transfer inputs of :class:`~callcenter_sdk.acd.Engine` (internal)."""

    # Defined by sibling mixins of Engine; declared here for the type checker only.
    if TYPE_CHECKING:

        def _enter(self, c: ContactBook, q: QueueBook, since: float | None = None) -> None: ...
        def _finish(self, c: ContactBook) -> None: ...
        def _talking(self, contact_id: str) -> tuple[ContactBook, AgentBook]: ...
        def _end_work(self, c: ContactBook) -> tuple[AgentBook, float, float]: ...
        def _after_work(self, a: AgentBook, reason: str, queue: str) -> None: ...

    def transfer(self, contact_id: str, queue: str) -> list[Action]:
        """Blind-transfer a connected contact to ``queue``; the agent goes to wrap-up.

        Raises:
            StateError: The contact is not connected.
            NotFoundError: Unknown queue.
            ValidationError: The queue does not take the contact's channel.
        """
        now = self._begin()
        c, _ = self._talking(contact_id)
        target = self._queue(queue)
        if c.contact.channel not in target.config.channels:
            raise ValidationError(f"queue {queue!r} does not take {c.contact.channel} contacts")
        pending = self._cancel_transfer(c)
        source = c.queue.name
        a, talk, hold = self._end_work(c)
        self._publish(
            ContactTransferred(
                at=now,
                contact_id=contact_id,
                agent_id=a.agent.id,
                from_queue=source,
                to_queue=queue,
                talk_time=talk,
                hold_time=hold,
            )
        )
        self._after_work(a, "transferred", source)
        for b in pending:
            self._serve_agent(b)
        self._enter(c, target)
        return self._flush()

    def transfer_to_agent(self, contact_id: str, agent_id: str) -> list[Action]:
        """Offer a connected contact to one colleague (a transfer agent to agent).

        The colleague must be logged in and ready with a free slot for the
        contact's channel; queue membership and skills are not required (the
        first agent chose them). They get an ordinary
        :class:`~callcenter_sdk.acd.Offer` whose ``transfer_from`` names the
        first agent, who stays connected to the customer meanwhile (and may
        hold them). Then, as TaskRouter's and app_queue's attended transfers:

        * **accepted**: the first agent's part ends (wrap-up as after any
          contact) with a :class:`~callcenter_sdk.acd.ContactTransferred`
          whose ``to_agent`` is the colleague; the engine returns
          :class:`~callcenter_sdk.acd.Connect` for the colleague and the
          contact continues with them in the same queue visit (no second
          :class:`~callcenter_sdk.acd.ContactConnected`: it was answered
          already). The runtime bridges the customer to the colleague and,
          with ``accept(..., connect=False)``, reports :meth:`connected`.
        * **rejected or not answered** (the queue's ``offer_timeout``): the
          contact **stays with the first agent**, who is told by the
          :class:`~callcenter_sdk.acd.OfferRejected` /
          :class:`~callcenter_sdk.acd.OfferNotAnswered` event (and a
          :class:`~callcenter_sdk.acd.Rescind` for the colleague's phone on
          a time-out); the runtime takes the customer off hold. Declining a
          transfer is not a missed offer.
        * the customer hangs up, or the first agent transfers to a queue,
          meanwhile: the colleague's offer is rescinded.

        Raises:
            NotFoundError: Unknown contact or agent.
            StateError: The contact is not connected, a transfer of it is
                pending already, or the colleague is not ready or has no
                free slot.
            ValidationError: The colleague is the agent connected to it.

        .. versionadded:: 0.2
        """
        self._begin()
        c, a = self._talking(contact_id)
        b = self._agent(agent_id)
        if b is a:
            raise ValidationError(f"contact {contact_id!r} is already with {agent_id!r}")
        if c.offers:
            raise StateError(f"a transfer of contact {contact_id!r} is pending already")
        if not b.can_take(c.contact.channel):
            raise StateError(f"agent {agent_id!r} is not ready for a {c.contact.channel} contact")
        self._offer(c, [b], transfer_from=a.agent.id)
        return self._flush()

    def _hand_over(self, c: ContactBook, to: AgentBook) -> AgentBook:
        """End the first agent's part of a transfer to ``to``; return the first agent."""
        now = self._now
        q = c.queue
        a, talk, hold = self._end_work(c)
        c.hold_time = 0.0
        c.connected_at = now  # the new agent's talk time starts here
        c.transfer_from = a.agent.id
        self._publish(
            ContactTransferred(
                at=now,
                contact_id=c.contact.id,
                agent_id=a.agent.id,
                from_queue=q.name,
                to_queue=q.name,
                talk_time=talk,
                hold_time=hold,
                to_agent=to.agent.id,
            )
        )
        self._refresh(a, "transferred", q.name)
        return a

    def _cancel_transfer(self, c: ContactBook) -> list[AgentBook]:
        """Rescind a pending transfer-to-agent offer of ``c``; return the freed colleagues."""
        if not c.offers:
            return []
        return [self._rescind(o, "contact-ended") for o in list(c.offers.values())]

    def _hangup_handing_over(self, c: ContactBook) -> list[Action]:
        """The customer left while being bridged to the colleague who took the transfer."""
        b = _handler(c)
        cid, q = c.contact.id, c.queue
        del b.connected[cid]
        b.load[c.contact.channel] -= 1
        c.agent = None
        # Answered (by the first agent), so completed; the colleague never spoke: no wrap-up.
        self._publish(
            ContactCompleted(
                at=self._now,
                contact_id=cid,
                queue=q.name,
                agent_id=b.agent.id,
                talk_time=0.0,
                hold_time=0.0,
            )
        )
        self._finish(c)
        self._reindex(b)
        self._refresh(b, "contact-ended", q.name)
        self._serve_agent(b)
        return self._flush()
