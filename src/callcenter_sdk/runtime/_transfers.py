"""Transfers: back to a queue, blind to an outside number, attended after a consultation.

An attended transfer to an agent is the ACD's transfer offer ringing the
colleague: the consultation is that offer being talked over, completing it
accepts the offer and cancelling declines it. The consultation's legs are
followed here until the caller is joined to the target or taken back.
"""

from __future__ import annotations

import contextlib

from .._errors import NotFoundError, StateError, ValidationError
from ..acd import Offer
from ..cti import DialPurpose
from ..media import CallAnswered, CallEnded, CallEvent, ConsultationState, consult
from ._base import _CenterBase
from ._calls import _RECOVERABLE, _AgentLeg, _Caller, _Consult
from ._events import CallTransferred

__all__: list[str] = []

_CONSULTING = (ConsultationState.DIALLING, ConsultationState.TALKING)


class _Transfers(_CenterBase):
    """The agent's transfers of a connected caller, and the consultations they hold."""

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
        caller.phase = "queued"
        self._agent_legs.pop(agent_call, None)
        with contextlib.suppress(*_RECOVERABLE):
            await self.backend.unbridge(caller.leg, agent_call)
            await self.backend.hangup(agent_call)
            await self.backend.start_music_on_hold(caller.leg, self.config.hold_music)
        await self._acd(self.engine.transfer, contact_id, queue)

    def _talking(self, contact_id: str) -> tuple[_Caller, _AgentLeg, str]:
        caller = self._caller(contact_id)
        leg = caller.agent_leg
        if caller.phase != "connected" or leg is None or leg.call_id is None:
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
        uri = self._dial_uri(
            number, DialPurpose.TRANSFER, actor=caller.agent_id, contact_id=contact_id
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
            seat = self._seats.get(to_agent)
            if seat is None:
                raise NotFoundError(f"no seat for agent {to_agent!r}")
            uri, target = seat.device, to_agent
            actions = self.engine.transfer_to_agent(contact_id, to_agent)
            # The offer's ringing is the consultation's call: ours to place.
            offers = [a for a in actions if isinstance(a, Offer) and a.agent_id == to_agent]
            offer = offers[0] if offers else None
            self._wake.set()
            await self._perform([a for a in actions if a not in offers])
        else:
            assert number is not None  # noqa: S101 - checked above
            uri = self._dial_uri(
                number, DialPurpose.TRANSFER, actor=caller.agent_id, contact_id=contact_id
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
                    await self._acd(self.engine.reject, offer.offer_id, reason="media")
            raise
        record = _Consult(caller, caller.agent_id, target, to_agent, consultation, offer)
        caller.consult = record
        self._consults[consultation.target] = record
        if offer is not None:
            self._transfer_offers[offer.offer_id] = record

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
        caller = self._caller(contact_id)
        record = caller.consult
        if record is None or record.consultation.state is not ConsultationState.TALKING:
            raise StateError(f"contact {contact_id!r} has no answered consultation to complete")
        leg = caller.agent_leg
        if leg is not None and leg.call_id is not None:
            self._agent_legs.pop(leg.call_id, None)
        caller.agent_leg = None
        caller.consult = None
        target_call = record.consultation.target
        self._consults.pop(target_call, None)
        offer = record.offer
        if offer is not None:  # the colleague's leg becomes the contact's agent leg
            self._transfer_offers.pop(offer.offer_id, None)
            colleague = _AgentLeg(offer, call_id=target_call, answered=True)
            self._agent_legs[target_call] = colleague
            caller.agent_leg = colleague
            self._offers[offer.offer_id] = colleague
        await record.consultation.complete()
        self._transferred(caller, record.target, attended=True, outcome="completed")
        if offer is not None:
            await self._acd(self.engine.accept, offer.offer_id, connect=False)
            return
        self._consults[target_call] = record  # an external party: ours to follow
        caller.consult = record
        caller.phase = "transferred"
        with contextlib.suppress(NotFoundError, StateError):
            await self._acd(self.engine.hangup, contact_id)

    async def cancel_transfer(self, contact_id: str, *, actor: str) -> None:
        """Give up an attended transfer: the target's leg hangs up, the caller is back.

        Raises:
            PermissionDenied: ``actor`` may not handle that contact.
            StateError: No attended transfer in progress.
        """
        self.access.on_contact(actor, contact_id, operation="cancel_transfer")
        caller = self._caller(contact_id)
        record = caller.consult
        if record is None or record.consultation.state not in _CONSULTING:
            raise StateError(f"contact {contact_id!r} has no consultation to cancel")
        await self._end_consult(record, "cancelled")

    async def _end_consult(
        self, record: _Consult, outcome: str, *, rescinded: bool = False
    ) -> None:
        """The consultation is over without a transfer: the caller goes back to the agent."""
        caller = record.caller
        caller.consult = None
        self._consults.pop(record.consultation.target, None)
        if record.consultation.state in _CONSULTING:
            with contextlib.suppress(*_RECOVERABLE):
                await record.consultation.cancel()
        self._transferred(caller, record.target, attended=True, outcome=outcome)
        offer = record.offer
        pending = self._transfer_offers.pop(offer.offer_id, None) if offer is not None else None
        if offer is not None and pending is not None and not rescinded:
            with contextlib.suppress(NotFoundError, StateError):  # declining is no missed offer
                await self._acd(self.engine.reject, offer.offer_id, reason=outcome)

    def _transferred(self, caller: _Caller, target: str, *, attended: bool, outcome: str) -> None:
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

    async def _on_consult_leg(self, record: _Consult, event: CallEvent) -> None:
        consultation = record.consultation
        if isinstance(event, CallAnswered) and consultation.state is ConsultationState.DIALLING:
            try:
                await consultation.target_answered()
            except _RECOVERABLE:
                await self._hangup(consultation.target)
        elif isinstance(event, CallEnded):
            if consultation.state in _CONSULTING:  # the target refused or hung up on the agent
                talking = consultation.state is ConsultationState.TALKING
                await self._end_consult(record, "cancelled" if talking else "failed")
                return
            self._consults.pop(consultation.target, None)
            caller = record.caller
            if caller.phase == "transferred":  # the target ended the transferred call
                caller.phase = "done"
                await self._hangup(caller.leg)
