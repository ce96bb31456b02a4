"""What every part of the call center shares: its parts, its books and the way to the ACD.

:class:`~callcenter_sdk.runtime.CallCenter` is assembled from one mixin per
concern (CTI and tickets, callbacks, transfers, the IVR's handover, the media
events); each reads and writes the same books, declared here once so the
type checker sees them in every mixin. ``CallCenter.__init__`` fills them in.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio

from .._clock import Clock
from .._errors import NotFoundError
from .._events import EventStream
from .._plugins import PluginHost
from ..acd import Action, Engine
from ..cti import CustomerDirectory, DialPurpose, OutboundGuard
from ..ivr import IvrDriver
from ..kb import KnowledgeBase
from ..media import MediaBackend
from ..store import ContactRecords, EventLog
from ..tickets import TicketDesk, TicketRepository
from ._access import Access
from ._calls import _RECOVERABLE, _AgentLeg, _Caller, _Consult
from ._config import CallCenterConfig, Seat
from ._ledger import Ledger

if TYPE_CHECKING:
    from anyio.abc import TaskGroup

__all__: list[str] = []


class _CenterBase:
    """The books and parts of a call center, and the few moves every concern makes."""

    backend: MediaBackend
    config: CallCenterConfig
    clock: Clock
    plugins: PluginHost
    _tg: TaskGroup
    events: EventStream
    log: EventLog
    engine: Engine
    directory: CustomerDirectory
    outbound: OutboundGuard
    knowledge: KnowledgeBase
    records: ContactRecords
    tickets: TicketRepository
    desk: TicketDesk
    ledger: Ledger
    access: Access
    ivr: IvrDriver
    _seats: dict[str, Seat]
    _callers: dict[str, _Caller]
    _identifying: dict[str, anyio.Event]
    _offers: dict[str, _AgentLeg]
    _agent_legs: dict[str, _AgentLeg]
    _consults: dict[str, _Consult]
    _transfer_offers: dict[str, _Consult]
    _wake: anyio.Event
    _ticket_due: float | None
    _callback_due: float | None
    _run: str
    _closing: bool

    if TYPE_CHECKING:

        async def _perform(self, actions: list[Action]) -> None:
            """Carry out the ACD's actions (``CallCenter`` does, with every concern at hand)."""

    async def _acd(self, method: Callable[..., list[Action]], *args: Any, **kwargs: Any) -> None:
        actions = method(*args, **kwargs)
        self._wake.set()
        await self._perform(actions)

    async def _hangup(self, call_id: str) -> None:
        with contextlib.suppress(*_RECOVERABLE):
            await self.backend.hangup(call_id)

    def _dial_uri(self, number: str, purpose: DialPurpose, *, actor: str, contact_id: str) -> str:
        """The gateway URI to dial ``number`` now, once the outbound policy allows it.

        The dial counts against the policy's caps.

        Raises:
            OutboundDenied: The policy refuses; the refusal is an event.
        """
        e164 = self.outbound.check(number, purpose, actor=actor, contact_id=contact_id)
        return self.config.dial_plan.uri(e164)

    def _caller(self, contact_id: str) -> _Caller:
        caller = self._callers.get(contact_id)
        if caller is None:
            raise NotFoundError(f"no live call {contact_id!r}")
        return caller
