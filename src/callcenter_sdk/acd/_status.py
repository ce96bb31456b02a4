"""Read-only snapshots of agents, contacts and queues.

:class:`StatusQueries` holds the :class:`~callcenter_sdk.acd.Engine`
queries; none changes the books or reads the clock except
:meth:`~callcenter_sdk.acd.Engine.queue_status` (for the oldest wait).

.. versionadded:: 0.1
"""

from __future__ import annotations

from .._errors import StateError
from ._agent import AgentStatus
from ._events import AgentState
from ._model import Contact
from ._queue import ContactPhase, ContactStatus, QueueStatus
from ._routing import Router

__all__ = ["StatusQueries"]

_W = ContactPhase.WAITING


class StatusQueries(Router):
    """Queries of :class:`~callcenter_sdk.acd.Engine` (internal)."""

    def agent_status(self, agent_id: str) -> AgentStatus:
        """A snapshot of one agent."""
        a = self._agent(agent_id)
        return AgentStatus(
            agent_id=agent_id,
            state=a.state,
            presence=a.presence,
            # A pause asked during work shows at once, though the state waits for the work.
            reason=a.reason if a.presence is AgentState.NOT_READY else a.shown,
            on_hold=a.on_hold,
            offers=tuple(a.offers),
            contacts=tuple(a.connected),
            wrap_up=tuple(a.wrap),
            wrap_up_until=a.wrap_until if a.wrap else None,
            missed=a.missed,
            load=dict(a.load),
            logout_pending=a.leaving is not None,
            on_demand=a.on_demand,
        )

    def can_take(self, agent_id: str, contact: Contact) -> bool:
        """Whether the agent is ready with a free slot for ``contact``'s channel."""
        return self._agent(agent_id).can_take(contact.channel)

    def contact_status(self, contact_id: str) -> ContactStatus:
        """A snapshot of one live contact.

        Raises:
            NotFoundError: The contact has ended or never existed.
        """
        c = self._contact(contact_id)
        return ContactStatus(
            contact_id=contact_id,
            queue=c.queue.name,
            phase=c.phase,
            entered_at=c.entered_at,
            agent_id=c.agent.agent.id if c.agent is not None else None,
            offers=tuple(o.agent.agent.id for o in c.offers.values()),
            on_hold=c.hold_since is not None,
            requirements=c.reqs,
            callback=c.callback,
            min_penalty=c.low,
            max_penalty=c.high,
            resting=c.held,
            raise_penalty=c.lift,
        )

    def live_contacts(self) -> list[str]:
        """Ids of every contact still in the ACD."""
        return list(self._contacts)

    def waiting_contacts(self, queue: str) -> list[str]:
        """Ids of ``queue``'s waiting contacts in service order (O(n log n))."""
        return [c.contact.id for c in self._queue(queue).waiting_contacts()]

    def waiting_count(self, queue: str) -> int:
        """How many contacts wait in ``queue`` (O(1))."""
        return self._queue(queue).waiting

    def position(self, contact_id: str) -> int:
        """1-based position of a waiting contact in its queue (O(n)).

        Raises:
            StateError: The contact is not waiting.
        """
        c = self._contact(contact_id)
        if c.phase is not _W:
            raise StateError(f"contact {contact_id!r} is {c.phase}, not waiting")
        return c.queue.position(c)

    def estimated_wait(self, contact_id: str) -> float:
        """Estimated seconds until answer: ``position × AHT / available agents``."""
        c = self._contact(contact_id)
        return c.queue.estimated_wait(self.position(contact_id))

    def expected_wait(self, queue: str) -> float:
        """What a contact arriving in ``queue`` now would be told: its :meth:`estimated_wait`.

        The same estimator (``position × AHT / available agents``) at the
        position a newcomer would take, so an IVR's wait branch and the
        queue's first announcement agree.
        """
        q = self._queue(queue)
        return q.estimated_wait(q.waiting + 1)

    def average_handle_time(self, queue: str) -> float:
        """The moving-average handle time the estimate uses for ``queue``."""
        return self._queue(queue).aht

    def queue_status(self, queue: str) -> QueueStatus:
        """A snapshot of ``queue`` (O(n): the oldest contact is found by a scan)."""
        q = self._queue(queue)
        now = self._clock.now()
        entered = [c.entered_at for sub in q.subs.values() for c in sub.contacts()]
        return QueueStatus(
            queue=queue,
            waiting=q.waiting,
            oldest_wait=max(0.0, now - min(entered)) if entered else 0.0,
            logged_in=q.logged_in,
            available=q.available,
            average_handle_time=q.aht,
            estimated_wait=q.estimated_wait(q.waiting + 1),
        )

    def queue_names(self) -> list[str]:
        """Names of every queue, in the order added."""
        return list(self._queues)

    def agent_ids(self) -> list[str]:
        """Ids of every agent, in the order added."""
        return list(self._agents)
