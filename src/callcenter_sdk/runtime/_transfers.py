"""Transfers: back to a queue, blind to an outside number, attended after a consultation.

An attended transfer to an agent is the ACD's transfer offer ringing the
colleague: the consultation is that offer being talked over, completing it
accepts the offer and cancelling declines it. The consultation's legs are
followed here until the caller is joined to the target or taken back.
"""

from __future__ import annotations

import contextlib

from .._clock import Clock
from .._errors import NotFoundError, StateError, ValidationError
from .._events import EventStream
from ..acd import Offer
from ..cti import DialPurpose, OutboundGuard
from ..media import (
    CallAnswered,
    CallEnded,
    CallEvent,
    ConsultationState,
    MediaBackend,
    consult,
)
from ._access import Access
from ._book import CallBook
from ._calls import _RECOVERABLE, AgentLeg, Call, Consult, Phase, dial_uri, hang_up
from ._config import CallCenterConfig
from ._engine_port import EnginePort
from ._events import CallTransferred
from ._seating import Seating

__all__: list[str] = []

_CONSULTING = (ConsultationState.DIALLING, ConsultationState.TALKING)


class Transfers:
    """The agent's transfers of a connected caller, and the consultations they hold.

    Attributes:
        consults: The consultations by the target's leg.
        transfer_offers: The consultations by the ACD's transfer offer.
    """

    def __init__(
        self,
        *,
        config: CallCenterConfig,
        backend: MediaBackend,
        book: CallBook,
        port: EnginePort,
        access: Access,
        outbound: OutboundGuard,
        seating: Seating,
        clock: Clock,
        events: EventStream,
    ) -> None:
        self.config = config
        self.backend = backend
        self.book = book
        self.port = port
        self.access = access
        self.outbound = outbound
        self.seating = seating
        self.clock = clock
        self.events = events
        self.consults: dict[str, Consult] = {}
        self.transfer_offers: dict[str, Consult] = {}

    async def transfer(self, contact_id: str, queue: str, *, actor: str) -> None:
        """Send a connected caller back to ``queue`` (another skill); the agent leaves the call.

        The agent's leg is hung up, the caller hears hold music again and the
        ACD offers them to an agent of ``queue``.

        Raises:
            PermissionDenied: ``actor`` may not handle that contact.
        """
        self.access.on_contact(actor, contact_id, operation="transfer")
        caller, _leg, agent_call = self._talking(contact_id)
        caller.agent_leg = None
        caller.move(Phase.QUEUED)
        self.book.agent_legs.pop(agent_call, None)
        with contextlib.suppress(*_RECOVERABLE):
            await self.backend.unbridge(caller.leg, agent_call)
            await self.backend.hangup(agent_call)
            await self.backend.start_music_on_hold(caller.leg, self.config.hold_music)
        await self.port.transfer(contact_id, queue)

    def _talking(self, contact_id: str) -> tuple[Call, AgentLeg, str]:
        caller = self.book.call(contact_id)
        leg = caller.agent_leg
        if caller.phase is not Phase.CONNECTED or leg is None or leg.call_id is None:
            raise StateError(f"contact {contact_id!r} is not connected to an agent")
        if caller.consult is not None:
            raise StateError(f"contact {contact_id!r} is in an attended transfer already")
        return caller, leg, leg.call_id

    async def blind_transfer(self, contact_id: str, number: str, *, actor: str) -> None:
        """Transfer a connected caller to an external number (SIP REFER); the agent leaves.

        The dial plan (:attr:`CallCenterConfig.dial_plan`) decides first. Once
        the far end accepts, the caller's leg ends (reason ``transferred``) and
        the contact completes as usual; if it refuses, the caller stays with
        the agent.

        Raises:
            PermissionDenied: ``actor`` may not handle that contact.
            DialPlanDenied: The outbound policy refuses ``number`` (not a
                phone number, denied or not allowed, over a cap).
            StateError: The contact is not talking to an agent.
        """
        self.access.on_contact(actor, contact_id, operation="blind_transfer")
        caller, _leg, _call = self._talking(contact_id)
        uri = dial_uri(
            self.outbound,
            self.config.dial_plan,
            number,
            DialPurpose.TRANSFER,
            actor=caller.agent_id,
            contact_id=contact_id,
        )
        await self.backend.transfer(caller.leg, uri)
        self._transferred(caller, number, attended=False, outcome="requested")

    async def attended_transfer(
        self,
        contact_id: str,
        *,
        actor: str,
        to_agent: str | None = None,
        number: str | None = None,
    ) -> None:
        """Consult another agent (or an external number) while the caller hears hold music.

        The target's phone rings (beside the caller's leg, in the same media
        worker); when it answers, the two agents talk. Then
        :meth:`complete_transfer` joins the caller and the target and drops the
        first agent, or :meth:`cancel_transfer` takes the caller back.

        An agent target goes through the ACD's ``Engine.transfer_to_agent``:
        they must be ready with a free slot, the ACD offers them the contact
        (the consultation is that offer ringing and being talked over, so it
        lasts at most the queue's ``offer_timeout``), completing accepts it
        (``acd.contact_transferred``; the first agent goes to wrap-up, the
        contact continues with the colleague), cancelling declines it.

        Raises:
            PermissionDenied: ``actor`` may not handle that contact.
            ValidationError: Neither or both of ``to_agent`` and ``number``.
            NotFoundError: ``to_agent`` has no seat.
            DialPlanDenied: The outbound policy refuses ``number``.
            StateError: The contact is not talking to an agent, or the target agent
                is not ready or has no free slot.
        """
        self.access.on_contact(actor, contact_id, operation="attended_transfer")
        caller, _leg, agent_call = self._talking(contact_id)
        if (to_agent is None) == (number is None):
            raise ValidationError("attended_transfer needs exactly one of to_agent and number")
        offer: Offer | None = None
        if to_agent is not None:
            uri, target = self.seating.device(to_agent), to_agent
            actions = self.port.engine.transfer_to_agent(contact_id, to_agent)
            # The offer's ringing is the consultation's call: ours to place.
            offers = [a for a in actions if isinstance(a, Offer) and a.agent_id == to_agent]
            offer = offers[0] if offers else None
            await self.port.perform([a for a in actions if a not in offers])
        else:
            assert number is not None  # noqa: S101 - checked above
            uri = dial_uri(
                self.outbound,
                self.config.dial_plan,
                number,
                DialPurpose.TRANSFER,
                actor=caller.agent_id,
                contact_id=contact_id,
            )
            target = number
        try:
            consultation = await consult(
                self.backend,
                caller=caller.leg,
                agent=agent_call,
                target_uri=uri,
                hold_music=self.config.hold_music,
                caller_id=caller.caller_id or None,
            )
        except _RECOVERABLE:
            if offer is not None:
                with contextlib.suppress(NotFoundError, StateError):
                    await self.port.reject(offer.offer_id, "media")
            raise
        record = Consult(caller, caller.agent_id, target, to_agent, consultation, offer)
        caller.consult = record
        self.consults[consultation.target] = record
        if offer is not None:
            self.transfer_offers[offer.offer_id] = record

    async def complete_transfer(self, contact_id: str, *, actor: str) -> None:
        """Join the caller and the consulted target; the first agent's leg hangs up.

        The first agent's part of the contact ends (wrap-up follows). An agent
        target's acceptance goes to the ACD and the contact continues with
        them; an external target and the caller stay on the line until one of
        them hangs up.

        Raises:
            PermissionDenied: ``actor`` may not handle that contact.
            StateError: No attended transfer with an answered target.
        """
        self.access.on_contact(actor, contact_id, operation="complete_transfer")
        caller = self.book.call(contact_id)
        record = caller.consult
        if record is None or record.consultation.state is not ConsultationState.TALKING:
            raise StateError(f"contact {contact_id!r} has no answered consultation to complete")
        leg = caller.agent_leg
        if leg is not None and leg.call_id is not None:
            self.book.agent_legs.pop(leg.call_id, None)
        caller.agent_leg = None
        caller.consult = None
        target_call = record.consultation.target
        self.consults.pop(target_call, None)
        offer = record.offer
        if offer is not None:  # the colleague's leg becomes the contact's agent leg
            self.transfer_offers.pop(offer.offer_id, None)
            colleague = AgentLeg(offer, call_id=target_call, answered=True)
            self.book.agent_legs[target_call] = colleague
            caller.agent_leg = colleague
            self.book.offers[offer.offer_id] = colleague
        await record.consultation.complete()
        self._transferred(caller, record.target, attended=True, outcome="completed")
        if offer is not None:
            await self.port.accept(offer.offer_id)
            return
        self.consults[target_call] = record  # an external party: ours to follow
        caller.consult = record
        caller.move(Phase.TRANSFERRED)
        with contextlib.suppress(NotFoundError, StateError):
            await self.port.hangup(contact_id)

    async def cancel_transfer(self, contact_id: str, *, actor: str) -> None:
        """Give up an attended transfer: the target's leg hangs up, the caller is back.

        Raises:
            PermissionDenied: ``actor`` may not handle that contact.
            StateError: No attended transfer in progress.
        """
        self.access.on_contact(actor, contact_id, operation="cancel_transfer")
        caller = self.book.call(contact_id)
        record = caller.consult
        if record is None or record.consultation.state not in _CONSULTING:
            raise StateError(f"contact {contact_id!r} has no consultation to cancel")
        await self.end_consult(record, "cancelled")

    async def end_consult(self, record: Consult, outcome: str, *, rescinded: bool = False) -> None:
        """The consultation is over without a transfer: the caller goes back to the agent."""
        caller = record.caller
        caller.consult = None
        self.consults.pop(record.consultation.target, None)
        if record.consultation.state in _CONSULTING:
            with contextlib.suppress(*_RECOVERABLE):
                await record.consultation.cancel()
        self._transferred(caller, record.target, attended=True, outcome=outcome)
        offer = record.offer
        pending = self.transfer_offers.pop(offer.offer_id, None) if offer is not None else None
        if offer is not None and pending is not None and not rescinded:
            with contextlib.suppress(NotFoundError, StateError):  # declining is no missed offer
                await self.port.reject(offer.offer_id, outcome)

    def _transferred(self, caller: Call, target: str, *, attended: bool, outcome: str) -> None:
        self.events.publish(
            CallTransferred(
                at=self.clock.now(),
                contact_id=caller.contact_id,
                agent_id=caller.agent_id,
                target=target,
                attended=attended,
                outcome=outcome,
            )
        )

    async def on_consult_leg(self, record: Consult, event: CallEvent) -> None:
        consultation = record.consultation
        if isinstance(event, CallAnswered) and consultation.state is ConsultationState.DIALLING:
            try:
                await consultation.target_answered()
            except _RECOVERABLE:
                await hang_up(self.backend, consultation.target)
        elif isinstance(event, CallEnded):
            if consultation.state in _CONSULTING:  # the target refused or hung up on the agent
                talking = consultation.state is ConsultationState.TALKING
                await self.end_consult(record, "cancelled" if talking else "failed")
                return
            self.consults.pop(consultation.target, None)
            caller = record.caller
            if caller.phase is Phase.TRANSFERRED:  # the target ended the transferred call
                caller.move(Phase.DONE)
                await hang_up(self.backend, caller.leg)
