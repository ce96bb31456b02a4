"""Who may do what in the running call center: every person's operation is checked.

Each public operation of :class:`~callcenter_sdk.runtime.CallCenter` that a
person performs names that person (``actor=``) and the runtime asks
:func:`~callcenter_sdk.org.can` before anything happens:

=======================================  ==============================  ===========================
operation                                action(s)                       target
=======================================  ==============================  ===========================
``set_ready``, ``set_not_ready``,        ``CHANGE_AGENT_STATE``          the agent
``end_wrap_up``
``dispose``, ``transfer``,               ``HANDLE_CONTACTS`` and         the contact, placed with
``blind_transfer``, ``attended_          ``VIEW_CONTACTS``               the agent handling it
transfer``, ``complete_transfer``,
``cancel_transfer``
``monitor``                              ``LISTEN``, ``WHISPER`` or      the agent monitored
                                         ``BARGE`` (by mode)
=======================================  ==============================  ===========================

A contact operation needs both actions, so an agent (who may see only their
own contacts) acts only on contacts they handle, while a supervisor or team
lead acts on those of their team or campaign. A refusal raises
:class:`~callcenter_sdk.PermissionDenied` and publishes a
``runtime.permission_refused`` event (the audit trail).

Without an org (``CallCenterConfig.org`` is ``None``) the only person who may
act on an agent or a contact is that agent themself: nobody supervises, and no
agent id stands in for another.
"""

from __future__ import annotations

from collections import OrderedDict

from .._clock import Clock
from .._errors import CallCenterError, PermissionDenied
from .._events import EventStream
from ..org import Action, Org, Placement, require
from ._events import PermissionRefused

__all__: list[str] = []

_HANDLERS_KEPT = 10_000
"""Contacts whose handler is remembered after they ended (for a late disposition)."""


class Access:
    """The permission checks of one running center.

    Args:
        org: The organisation whose roles and tree decide (``None``: each
            agent may act on their own work only).
        clock: Stamps refusals.
        events: Where refusals are published.
    """

    def __init__(self, org: Org | None, *, clock: Clock, events: EventStream) -> None:
        self.org = org
        self._clock = clock
        self._events = events
        self._handlers: OrderedDict[str, str] = OrderedDict()

    def handled(self, contact_id: str, agent_id: str) -> None:
        """Remember who handles a contact (its disposition may come after it ended)."""
        self._handlers[contact_id] = agent_id
        self._handlers.move_to_end(contact_id)
        while len(self._handlers) > _HANDLERS_KEPT:
            self._handlers.popitem(last=False)

    def handler(self, contact_id: str) -> str:
        """The agent who handled ``contact_id`` last, ``""`` if none is known."""
        return self._handlers.get(contact_id, "")

    def on_agent(self, actor: str, action: Action, agent_id: str, *, operation: str) -> None:
        """Check ``actor`` may perform ``action`` on agent ``agent_id``.

        Raises:
            PermissionDenied: They may not; the refusal is an event.
        """
        self._check(actor, (action,), agent_id, operation=operation, what=f"agent {agent_id}")

    def on_contact(self, actor: str, contact_id: str, *, operation: str) -> None:
        """Check ``actor`` may act on ``contact_id`` (handle it, and see it).

        Raises:
            PermissionDenied: They may not; the refusal is an event.
        """
        handler = self.handler(contact_id)
        self._check(
            actor,
            (Action.HANDLE_CONTACTS, Action.VIEW_CONTACTS),
            handler,
            operation=operation,
            what=f"contact {contact_id}",
        )

    def _check(
        self,
        actor: str,
        actions: tuple[Action, ...],
        owner: str,
        *,
        operation: str,
        what: str,
    ) -> None:
        try:
            if not actor:
                raise PermissionDenied(f"{operation}: no actor named")
            if self.org is None:
                if actor != owner:
                    raise PermissionDenied(
                        f"{actor} may not {operation} {what}: without an org, only "
                        f"{owner or 'its agent'} may"
                    )
                return
            if not owner:
                raise PermissionDenied(f"{actor} may not {operation} {what}: nobody handles it")
            for action in actions:
                require(self.org, actor, action, Placement(person=owner))
        except PermissionDenied as exc:
            self.refused(actor, operation, what, str(exc))
            raise
        except CallCenterError as exc:  # an actor or agent the org does not know
            self.refused(actor, operation, what, str(exc))
            raise PermissionDenied(f"{actor} may not {operation} {what}: {exc}") from None

    def refused(self, actor: str, operation: str, what: str, reason: str) -> None:
        """Publish that ``actor`` was refused ``operation`` on ``what`` (the audit trail)."""
        self._events.publish(
            PermissionRefused(
                at=self._clock.now(),
                actor=actor[:64],
                operation=operation,
                target=what[:200],
                reason=reason[:500],
            )
        )
