"""Carrying out the ACD's decisions: ring an agent, stop ringing, bridge, announce, release.

The engine returns actions; the :class:`ActionExecutor` performs each
against the media backend and the books. An agent's phone is placed beside
the caller's leg (so the media worker can bridge them); their screen pop is
shown when it rings; the ticket opens when the two are bridged.

A cluster leader's executor has a ``fence``: before it performs a batch
that offers anything (a phone rings, a desktop shows desk work) it awaits
the fence, which commits every event published so far (the
``ContactOffered`` among them) to the event log with the check that this
node's term is still current. One commit covers the whole batch, and
batches of concurrent decisions share the writer's transactions. A refused
fence (:class:`~callcenter_sdk.store.LeaseLost`) performs nothing of the
batch: this node no longer leads, and its center is being closed. Between
the commit and the ring (a phone waits for its caller's screen pop) the
term may end: ``leading`` is asked again right before the phone is dialled
or the desk shows the offer, and a node past its term's safe end rings no
one (no other node can hold the lease before that end).
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable

import anyio
from anyio.abc import TaskGroup

from .._clock import Clock
from .._errors import NotFoundError, StateError, StoreError
from .._events import EventStream
from ..acd import Action, Announce, Connect, Divert, Offer, Release, Rescind
from ..media import MediaBackend
from ..store import LeaseLost
from ._book import CallBook
from ._callbacks import Callbacks
from ._calls import _RECOVERABLE, AgentLeg, Phase, hang_up
from ._config import CallCenterConfig
from ._cti import Paperwork
from ._desk import DeskWork
from ._engine_port import EnginePort
from ._events import AgentLegFailed
from ._seating import Seating
from ._transfers import Transfers

__all__: list[str] = []

_log = logging.getLogger(__name__)


class ActionExecutor:
    """Performs the ACD engine's actions in the running center.

    Args:
        fence: Awaited before a batch with an offer is performed (a cluster
            leader's :meth:`~callcenter_sdk.store.EventWriter.commit`);
            ``None`` on a single node, which rings at once.
        leading: Asked right before each phone rings or desk offer shows
            (a cluster leader's ``Elector.is_leader``); ``None`` on a single node.
    """

    def __init__(
        self,
        *,
        config: CallCenterConfig,
        backend: MediaBackend,
        book: CallBook,
        port: EnginePort,
        seating: Seating,
        paperwork: Paperwork,
        callbacks: Callbacks,
        transfers: Transfers,
        desk: DeskWork,
        task_group: TaskGroup,
        clock: Clock,
        events: EventStream,
        fence: Callable[[], Awaitable[None]] | None = None,
        leading: Callable[[], bool] | None = None,
    ) -> None:
        self.config = config
        self.backend = backend
        self.book = book
        self.port = port
        self.seating = seating
        self.paperwork = paperwork
        self.callbacks = callbacks
        self.transfers = transfers
        self.desk = desk
        self._tg = task_group
        self.clock = clock
        self.events = events
        self.fence = fence
        self.leading = leading
        self._fencing = 0  # batches awaiting the fence now
        self._fenced = anyio.Event()  # set (and replaced) each time one is through

    async def perform(self, actions: list[Action]) -> None:
        """Carry out ``actions`` in order (after the fence, when one offers anything)."""
        if self.fence is not None and any(isinstance(a, Offer) for a in actions):
            self._fencing += 1
            try:
                await self.fence()
            except (LeaseLost, StoreError) as exc:  # deposed, or the log closed: ring no one
                _log.warning("%d actions not performed: %s", len(actions), exc)
                return
            finally:
                self._fencing -= 1
                self._fenced.set()
                self._fenced = anyio.Event()
        for action in actions:
            if isinstance(action, Offer):
                await self._offer(action)
            elif isinstance(action, Rescind):
                await self._rescind(action)
            elif isinstance(action, Connect):
                await self._connect(action)
            elif isinstance(action, Announce):
                if self.config.announce:
                    self._tg.start_soon(self.callbacks.announce, action)
            elif isinstance(action, Release | Divert):
                caller = self.book.get(action.contact_id)
                if caller is not None:
                    caller.ends()
                    await hang_up(self.backend, caller.leg)

    @property
    def fencing(self) -> bool:
        """Whether a batch waits for the fence (its commit runs on wall time, in a thread)."""
        return self._fencing > 0

    async def fences_done(self) -> None:
        """Return once no batch waits for the fence (a driver of virtual time awaits it)."""
        while self._fencing:
            await self._fenced.wait()

    async def _rescind(self, action: Rescind) -> None:
        consulting = self.transfers.transfer_offers.get(action.offer_id)
        if consulting is not None:  # the colleague's ring timed out, or the caller left
            end = functools.partial(
                self.transfers.end_consult, consulting, "failed", rescinded=True
            )
            self._tg.start_soon(end)
        leg = self.book.offers.pop(action.offer_id, None)
        if leg is not None:
            leg.rescinded = True
            if leg.call_id is not None:
                await hang_up(self.backend, leg.call_id)

    def _may_ring(self, offer: Offer) -> bool:
        """Whether this node may still present ``offer`` (it leads, or it is a single node)."""
        if self.leading is None or self.leading():
            return True
        _log.warning("offer %s to %s not presented: this node no longer leads", offer.offer_id,
                     offer.agent_id)  # fmt: skip
        return False

    async def _offer(self, offer: Offer) -> None:
        if self.desk.holds(offer.contact_id):  # no phone rings: the desktop shows it
            if self._may_ring(offer):
                self.desk.offered(offer)
            return
        leg = AgentLeg(offer)
        self.book.offers[offer.offer_id] = leg
        caller = self.book.get(offer.contact_id)
        if caller is not None:
            with anyio.move_on_after(self.config.lookup_budget):
                await caller.identified.wait()
            self.paperwork.pop(caller, offer.agent_id)
        if leg.rescinded:
            return
        if not self._may_ring(offer):  # the term ended while the screen pop was looked up
            self.book.offers.pop(offer.offer_id, None)
            return
        try:
            caller_id = caller.caller_id if caller is not None else None
            near = None if offer.callback else offer.contact_id  # a callback's caller is gone
            device = self.seating.device(offer.agent_id)
            call_id = await self.backend.originate(device, caller_id=caller_id, near=near)
        except _RECOVERABLE as exc:
            self.book.offers.pop(offer.offer_id, None)
            self.events.publish(
                AgentLegFailed(
                    at=self.clock.now(),
                    contact_id=offer.contact_id,
                    agent_id=offer.agent_id,
                    cause=f"media: {exc}",
                )
            )
            if not leg.withdrawn():
                with contextlib.suppress(NotFoundError, StateError):
                    await self.port.reject(offer.offer_id, "media")
            return
        leg.call_id = call_id
        self.book.agent_legs[call_id] = leg
        if leg.withdrawn():
            await hang_up(self.backend, call_id)

    async def _connect(self, action: Connect) -> None:
        caller = self.book.get(action.contact_id)
        leg = caller.agent_leg if caller is not None else None
        if caller is None or leg is None or leg.call_id is None:
            return
        if caller.phase is Phase.CALLBACK:
            await self.callbacks.call_back(caller, leg.call_id)
            return
        try:
            await self.backend.stop_music_on_hold(caller.leg)
            if caller.announcing:
                await self.backend.stop_playing(caller.leg)
            await self.backend.bridge(caller.leg, leg.call_id)
        except _RECOVERABLE as exc:  # a leg is gone: its CallEnded settles the contact
            _log.info("bridging %s failed: %s", action.contact_id, exc)
            return
        try:
            await self.port.connected(action.contact_id)
        except (NotFoundError, StateError):
            return
        caller.move(Phase.CONNECTED)
        caller.agent_id = action.agent_id
        if not caller.ticket_id:  # a transferred contact keeps its ticket
            await self.paperwork.open_ticket(caller, action.agent_id)
