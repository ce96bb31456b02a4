"""Queued callbacks: a waiting customer keeps their place and is called back.

:class:`Callbacks` holds the :class:`~callcenter_sdk.acd.Engine` inputs for
a *queued callback* (Amazon Connect) or *virtual hold* (Genesys).

.. versionadded:: 0.2
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._errors import StateError, ValidationError
from ._actions import Action
from ._contacts import _handler
from ._events import ContactCallbackFailed, ContactCallbackRequested
from ._queue import ContactBook, ContactPhase
from ._routing import Router

__all__ = ["Callbacks"]

_W = ContactPhase.WAITING


class Callbacks(Router):
    """Queued-callback inputs of :class:`~callcenter_sdk.acd.Engine` (internal)."""

    # Defined by sibling mixins of Engine; declared here for the type checker only.
    if TYPE_CHECKING:

        def _finish(self, c: ContactBook) -> None: ...

    def keep_place_for_callback(self, contact_id: str, number: str) -> list[Action]:
        """The waiting customer leaves the line and is called back when their turn comes.

        Known as a *queued callback* (Amazon Connect) or *virtual hold*
        (Genesys): the contact keeps its place — same arrival, priority, aging
        and relaxation steps, so the same position relative to every other
        contact — and publishes :class:`~callcenter_sdk.acd.ContactCallbackRequested`.
        It is not an abandon. From now on the queue's maximum wait, leave rules
        and announcements no longer apply to it: nobody is on the line.

        If an agent was being offered the contact, the offers are rescinded
        (reason ``"callback-requested"``, no missed offer counted) and the
        contact is offered again at once, now as a callback.

        What the runtime must do:

        1. After this call, end the caller's leg (play a confirmation first if
           wanted) **without** calling :meth:`hangup`: the contact no longer
           follows that leg, and :meth:`hangup` would now cancel the callback.
           Keep ``number`` with the contact (the store's
           :class:`~callcenter_sdk.store.CallbackRecord` makes it durable).
        2. An :class:`~callcenter_sdk.acd.Offer` whose ``callback`` is set
           rings the agent like any offer (show the number on their screen).
           Answer it with :meth:`accept` / :meth:`reject` as usual; the engine
           then returns :class:`~callcenter_sdk.acd.Connect`, and never
           connects a callback at once, whatever ``connect`` says.
        3. On ``Connect``, originate an outbound call to ``number`` and bridge
           it with the agent. When the customer answers, report
           :meth:`connected` (the contact is then an ordinary connected
           contact: hold, transfer, hang-up). When they cannot be reached
           (no answer, busy, network failure), report
           :meth:`callback_failed` with the reason; the agent is freed at once.
        4. To cancel a callback (the customer called again, an operator
           deleted it), call :meth:`hangup`.

        Args:
            contact_id: The waiting (or ringing) contact.
            number: The number to call back, as dialled by the runtime.

        Raises:
            NotFoundError: No such live contact.
            StateError: The contact is connecting or connected, or is a
                callback already.
            ValidationError: ``number`` is empty.

        .. versionadded:: 0.2
        """
        now = self._begin()
        c = self._contact(contact_id)
        if not number:
            raise ValidationError("keep_place_for_callback: the number is empty")
        phase = c.phase
        if c.callback or (phase is not _W and phase is not ContactPhase.OFFERING):
            what = "a callback already" if c.callback else phase
            raise StateError(f"contact {contact_id!r} is {what}, not waiting")
        c.callback = number
        c.expired = False
        offers = list(c.offers.values())
        if offers:
            # Back in the queue under its old (score, seq): the same place.
            c.queue.ringing -= 1
            c.phase = _W
            self._wait(c)
        q = c.queue
        self._publish(
            ContactCallbackRequested(
                at=now,
                contact_id=contact_id,
                queue=q.name,
                number=number,
                position=q.position(c),
                waited=now - c.entered_at,
            )
        )
        if offers:
            freed = [self._rescind(o, "callback-requested") for o in offers]
            # Freed agents choose first, as after a missed offer: no earlier
            # contact is overtaken.
            for a in freed:
                self._serve_agent(a)
            if c.phase is _W:
                self._serve_contact(c)
        return self._flush()

    def callback_failed(self, contact_id: str, reason: str = "no-answer") -> list[Action]:
        """The runtime could not reach the customer of an accepted callback.

        The contact ends with :class:`~callcenter_sdk.acd.ContactCallbackFailed`
        (not an abandon; its record's outcome is ``callback_failed``) and the
        agent is free at once. To try again later, the runtime may bring the
        contact back with :meth:`arrive` and then
        :meth:`keep_place_for_callback`.

        Args:
            contact_id: The callback being connected.
            reason: ``"no-answer"``, ``"busy"`` or ``"failed"``.

        Raises:
            NotFoundError: No such live contact.
            StateError: The contact is not a callback being connected.

        .. versionadded:: 0.2
        """
        self._begin()
        c = self._contact(contact_id)
        if not c.callback or c.phase is not ContactPhase.CONNECTING:
            raise StateError(f"contact {contact_id!r} is not a callback being connected")
        a = _handler(c)
        del a.connected[contact_id]
        a.load[c.contact.channel] -= 1
        c.agent = None
        self._callback_failed(c, reason, a.agent.id)
        self._finish(c)
        self._reindex(a)
        self._refresh(a, "callback-failed", c.queue.name)
        self._serve_agent(a)
        return self._flush()

    def _callback_failed(self, c: ContactBook, reason: str, agent_id: str) -> None:
        now = self._now
        self._publish(
            ContactCallbackFailed(
                at=now,
                contact_id=c.contact.id,
                queue=c.queue.name,
                number=c.callback,
                reason=reason,
                agent_id=agent_id,
                waited=now - c.entered_at,
            )
        )
