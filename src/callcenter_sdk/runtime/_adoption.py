"""A new cluster leader takes over the calls that outlived the previous one on surviving nodes.

The previous leader's center drove calls whose legs live on other nodes
(``docs/cluster.md``, media on every node). When it dies, those legs stay
up on their nodes; the new leader reads them from ``media_calls`` (nodes
whose media runs only) when its term starts, and:

* a caller **bridged** to an agent's leg, whom the log shows connected to
  that agent (and not ended), is adopted: the agent is busy with them in the
  new engine (``Engine.adopt``) and the book knows both legs, so that
  either hanging up ends the call as on a single node (the contact is
  completed, the agent goes to wrap-up, the other leg is hung up);
* a caller **waiting** in a queue (answered, on hold music), whose stored
  waiting row the ledger finds, goes back to their queue at their original
  place instead of being closed as interrupted, and hears the hold music
  again.

Legs on nodes that are down are not read: they are lost with their node
(``WorkerLost``), as before.

.. versionadded:: 0.2
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Collection

import attrs

from .._clock import Clock
from .._errors import CallCenterError
from .._events import EventStream
from ..acd import AgentState, Contact, ContactCompleted, Offer
from ..kpi import Channel
from ..media import Prompt
from ..store import LiveCall
from ._book import CallBook
from ._calls import _RECOVERABLE, AgentLeg, Call, Phase, hang_up, sip_user
from ._cluster_media import ClusterMedia, split_call_id
from ._engine_port import EnginePort
from ._takeover import InHand, Takeover
from ._term import TermStart

__all__: list[str] = []

_log = logging.getLogger(__name__)

_WAITING_STATES = frozenset({"answered", "on_hold_music"})
"""A caller leg in these states, bridged to nothing, waits (in a queue, if stored so)."""

ADOPTED = "adopted:"
"""The offer id prefix of an adopted call's agent leg (no offer of this term rang it)."""


class CallTakeover:
    """The calls on surviving nodes a new leader takes over (see the module).

    Args:
        media: The leader's media over every node.
        book: The center's book of live calls.
        port: The engine's inputs.
        clock: The runtime's clock.
        hold_music: What a caller put back in a queue hears.
        events: Where the ends of calls gone during the takeover are published.
    """

    def __init__(
        self,
        *,
        media: ClusterMedia,
        book: CallBook,
        port: EnginePort,
        clock: Clock,
        hold_music: Prompt | None,
        events: EventStream,
    ) -> None:
        self._media = media
        self._events = events
        self._book = book
        self._port = port
        self._clock = clock
        self._hold_music = hold_music
        self._calls: dict[str, LiveCall] = {}
        self.adopted: dict[str, str] = {}
        """The calls adopted, contact id -> agent."""
        self._requeued: list[str] = []

    async def read(self) -> None:
        """Read the live legs of the nodes whose media runs."""
        self._calls = {c.call_id: c for c in await self._media.live_calls()}

    @property
    def waiting(self) -> frozenset[str]:
        """Caller legs answered and bridged to nothing: the callers who may wait in a queue."""
        return frozenset(
            call_id
            for call_id, call in self._calls.items()
            if call.state in _WAITING_STATES and call.bridged_with is None
        )

    async def adopt_bridged(self, term: TermStart, takeover: Takeover) -> None:
        """Adopt each bridged pair whose caller was connected to an agent logged in.

        The log says so (its answer, not ended since), or, when the previous
        leader died before its answer was written, the offer accepted last
        or its offer in flight (``takeover.offers``): the caller is bridged,
        so that agent answered it; the answer's time is then when the node
        bridged the legs.
        """
        pairs = [
            (call, self._calls[call.bridged_with])
            for call in self._calls.values()
            if call.state == "bridged"
            and call.bridged_with is not None
            and call.bridged_with in self._calls
        ]
        if not pairs:
            return
        placed = await term.in_hand_of([caller.call_id for caller, _ in pairs])
        ringing = {offer.contact_id: offer for offer in takeover.offers}
        for caller, agent_leg in pairs:  # each pair twice, the caller first once
            cid = caller.call_id
            hand = placed.in_hand.get(cid)
            offer = ringing.get(cid)
            took = placed.accepted.get(cid)
            bridged = min(caller.updated_at, self._clock.now())
            if hand is None and took is not None:
                hand = attrs.evolve(
                    took, connected_at=bridged, entered_at=min(took.entered_at, bridged)
                )
            elif hand is None and offer is not None and cid not in placed.ended:
                hand = InHand(cid, offer.queue, offer.agent_id, bridged, min(offer.at, bridged))
            if hand is not None and cid not in self.adopted:
                await self._adopt(caller, agent_leg, hand)

    async def _adopt(self, caller: LiveCall, agent_leg: LiveCall, hand: InHand) -> None:
        engine = self._port.engine
        now = self._clock.now()
        cid = caller.call_id
        contact = Contact(id=cid, channel=Channel.VOICE, caller_id=sip_user(caller.from_uri))
        connected = min(hand.connected_at, now)
        try:
            if engine.agent_status(hand.agent_id).state is AgentState.OFFLINE:
                _log.warning("call %s left unmanaged: %s is logged out", cid, hand.agent_id)
                return
            actions = engine.adopt(
                contact,
                hand.queue,
                hand.agent_id,
                entered_at=min(hand.entered_at, connected),
                connected_at=connected,
            )
        except CallCenterError as exc:
            _log.warning("call %s not adopted at %s: %s", cid, hand.agent_id, exc)
            return
        offer = Offer(
            offer_id=f"{ADOPTED}{cid}",
            contact_id=cid,
            agent_id=hand.agent_id,
            queue=hand.queue,
            expires_at=now,
        )
        leg = AgentLeg(offer, call_id=agent_leg.call_id, answered=True)
        call = Call(
            cid,
            contact.caller_id,
            contact=contact,
            phase=Phase.CONNECTED,
            agent_leg=leg,
            agent_id=hand.agent_id,
            queue=hand.queue,
            entered_at=hand.entered_at,
        )
        call.identified.set()  # its screen pop was shown by the previous leader
        self._book.add(call)
        self._book.agent_legs[agent_leg.call_id] = leg
        self._media.adopt(cid)
        self._media.adopt(agent_leg.call_id)
        self.adopted[cid] = hand.agent_id
        await self._port.perform(actions)

    async def requeued(self, callers: list[tuple[Contact, str, float, str]]) -> None:
        """Book the callers the ledger put back in their queues, and play them hold music.

        Each is ``(contact, queue, entered_at, stored_id)``.
        """
        for contact, queue, entered_at, stored_id in callers:
            call = Call(
                contact.id,
                contact.caller_id,
                contact=contact,
                phase=Phase.QUEUED,
                queue=queue,
                entered_at=entered_at,
                stored_id=stored_id,
            )
            call.identified.set()
            self._book.add(call)
            self._requeued.append(contact.id)
            self._media.adopt(contact.id)
            with contextlib.suppress(*_RECOVERABLE):
                await self._media.start_music_on_hold(contact.id, self._hold_music)

    async def check(self) -> None:
        """End the calls taken over a leg of which ended while they were being taken over.

        Their end may have come through before the book knew them (and was
        ignored then): read the live legs again and settle those gone, as
        a hang-up (an adopted call completes, a waiting caller abandons).
        """
        if not (self.adopted or self._requeued):
            return
        alive = {c.call_id for c in await self._media.live_calls()}
        for cid in self._requeued:
            caller = self._book.get(cid)
            if cid in alive or caller is None or not caller.is_in(Phase.QUEUED):
                continue
            caller.move(Phase.DONE)
            self._book.forget(caller)
            with contextlib.suppress(CallCenterError):
                await self._port.hangup(cid)
        for cid in list(self.adopted):
            call = self._book.get(cid)
            leg = call.agent_leg if call is not None else None
            if call is None or leg is None or leg.call_id is None:
                continue
            if cid in alive and leg.call_id in alive:
                continue
            call.move(Phase.DONE)
            await hang_up(self._media, leg.call_id)
            await hang_up(self._media, cid)
            self._book.agent_legs.pop(leg.call_id, None)
            self._book.forget(call)
            with contextlib.suppress(CallCenterError):
                await self._port.hangup(cid)

    async def close_gone(
        self, term: TermStart, kept: Collection[str], device: Callable[[str], str]
    ) -> list[str]:
        """Log the end of the calls the log left connected whose callers are gone; return them.

        A call connected in the previous term can end while no leader runs
        (the caller hangs up during a takeover, on a node whose media runs
        on), or be lost with its node: nothing is left to adopt, and no
        leader will see its end. Each such contact still in an agent's hand
        in the log (not adopted, not in the book, not in ``kept``: the
        written work the ledger adopted or put back) is completed at that
        agent, once, at the term's start (the hang-up's own time is not
        searched for: the node's records are not indexed by call), so the
        reports count it handled instead of leaving it open for ever. The
        agent's leg left behind on the caller's node (dialled to their
        ``device``, answered, bridged to nothing now) is hung up.
        """
        placed = await term.every_in_hand()
        now = self._clock.now()
        gone: list[str] = []
        for cid, hand in placed.in_hand.items():
            if cid in self.adopted or cid in kept or cid in self._calls:
                continue
            if self._book.get(cid) is not None:
                continue
            await self._hang_up_left(cid, hand.agent_id, device)
            self._events.publish(
                ContactCompleted(
                    at=now,
                    contact_id=cid,
                    queue=hand.queue,
                    agent_id=hand.agent_id,
                    talk_time=max(0.0, now - hand.connected_at),
                    hold_time=0.0,
                )
            )
            gone.append(cid)
        if gone:
            _log.warning("calls ended while no leader ran, completed at the takeover: %s", gone)
        return gone

    async def _hang_up_left(self, caller: str, agent_id: str, device: Callable[[str], str]) -> None:
        """Hang up the leg ``agent_id``'s phone was left on beside ``caller``'s node, if any."""
        try:
            uri = device(agent_id)
        except CallCenterError:
            return  # no phone now: nothing of theirs was dialled
        node, _ = split_call_id(caller)
        for call_id, call in list(self._calls.items()):
            left = (
                call.node == node
                and not call.from_uri  # dialled by a center, not a caller
                and call.to_uri == uri
                and call.state == "answered"
                and call.bridged_with is None
                and self._book.get(call_id) is None
                and call_id not in self._book.agent_legs
            )
            if left:
                del self._calls[call_id]
                await hang_up(self._media, call_id)
                return
