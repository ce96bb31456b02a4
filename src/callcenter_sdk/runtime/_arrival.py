"""A caller's arrival: the IVR, the handover to a queue, the lookup while they wait.

The caller is identified by number before the IVR, so the flow can branch on
who calls. When the IVR hands them to a queue, they hear hold music, the CTI
lookup for the agent's screen pop starts, and the ACD takes the contact.
"""

from __future__ import annotations

import contextlib
import logging
import uuid

from .._errors import CallCenterError, NotFoundError
from ..cti import to_e164
from ..ivr import IvrResult, RequestCallback, TransferToQueue, VoicemailLeft
from ..media import CallIncoming
from ._callbacks import _Callbacks
from ._calls import _RECOVERABLE, sip_user
from ._events import IvrCompleted

__all__: list[str] = []

_log = logging.getLogger(__name__)


class _Arrival(_Callbacks):
    """The IVR of each inbound call and its handover to the ACD."""

    def _estimated_wait(self, queue: str) -> float | None:
        """The IVR's wait branches ask the ACD's own estimate (what the queue announces)."""
        try:
            return self.engine.expected_wait(queue)
        except NotFoundError:
            return None

    async def _handover(self, result: IvrResult) -> bool:
        action = result.action
        attributes = getattr(action, "attributes", {})
        topic = str(attributes.get("topic") or result.variables.get("topic", ""))
        queue = getattr(action, "queue", "")
        outcome = {TransferToQueue: "queue", VoicemailLeft: "voicemail"}.get(type(action), "")
        if not outcome:
            outcome = "callback" if queue else "hangup"
        by_caller = bool(getattr(action, "by_caller", False))
        self.events.publish(
            IvrCompleted(
                at=self.clock.now(),
                call_id=result.call_id,
                outcome=outcome,
                queue=queue,
                topic=topic,
                by_caller=by_caller,
                trail=result.trail,
            )
        )
        caller = self._callers.get(result.call_id)
        if caller is None:
            return True
        if isinstance(action, TransferToQueue | RequestCallback) and not caller.gone:
            caller.topic = topic
            caller.contact = action.contact(
                caller.contact_id,
                caller_id=str(result.variables.get("caller_id", caller.caller_id)),
                dialled=str(result.variables.get("dialled", "")),
            )
            if isinstance(action, RequestCallback) and await self._ivr_callback(caller, action):
                return True  # stored: the IVR confirms and hangs up
            # to the queue; a callback that could not be promised waits there, with an apology
            caller.phase = "handover"
            caller.queue = action.queue
            caller.apologise = isinstance(action, RequestCallback)
            return not caller.apologise
        if isinstance(action, VoicemailLeft):
            self._write_ticket(
                uuid.uuid4().hex,
                subject=action.ticket.get("subject", "Voicemail"),
                category=action.ticket.get("category", ""),
                description=f"voicemail {action.path} ({action.seconds:.0f} s)",
            )
        return True

    def _caller_id(self, event: CallIncoming) -> str:
        """The caller's number in E.164 when it is one, else what the From URI says.

        ``caller_number`` comes from P-Asserted-Identity or the From user; a
        national number (``0123456760``) is read in the directory's region, so
        it matches the customers' phones however either was written.
        """
        number = event.caller_number or sip_user(event.from_uri)
        try:
            return to_e164(number, self.directory.region)
        except CallCenterError:
            return number

    async def _run_ivr(self, event: CallIncoming) -> None:
        caller = self._callers.get(event.call_id)
        if caller is None:  # gone before its IVR started (the center is closing)
            return
        data = {"caller_id": caller.caller_id, "dialled": sip_user(event.to_uri)}
        data["caller_verified"] = "yes" if caller.verified else "no"
        data |= {"caller_uri": event.from_uri, "dialled_uri": event.to_uri}
        # Identify by number before the IVR, so the flow can branch on who calls
        # (``customer``, ``plan``, ``segment``) and skip asking for an account.
        with contextlib.suppress(
            CallCenterError
        ):  # off the loop: a slow database delays this call only
            known = (
                await self.ledger.read(self.directory.by_phone, caller.caller_id)
                if caller.caller_id
                else None
            )
            if known is not None:
                data |= {"customer": known.number, "customer_name": known.name}
                data |= {k: str(v) for k, v in known.attributes.items()}
        try:
            await self.ivr.run_call(event.call_id, data)
        except _RECOVERABLE as exc:
            _log.warning("IVR of %s stopped: %s", event.call_id, exc)
            await self._hangup(event.call_id)
        if caller.phase != "handover" or caller.contact is None:
            self._callers.pop(event.call_id, None)
            return
        if caller.gone:  # hung up between the IVR's end and the queue: an IVR abandon
            self._callers.pop(event.call_id, None)
            return
        contact = caller.contact
        caller.phase = "queued"
        if len(self._identifying) < self.config.max_lookups:
            self._identifying[caller.leg] = caller.identified
            self._tg.start_soon(self._identify, caller, name=f"cti {caller.leg}")
        else:  # a burst beyond the bound: this caller's pop shows an unknown caller
            _log.warning("%d lookups running: none for %s", len(self._identifying), caller.leg)
            caller.identified.set()
        with contextlib.suppress(*_RECOVERABLE):
            await self.backend.start_music_on_hold(caller.leg, self.config.hold_music)
        caller.entered_at = self.clock.now()
        # stored before the ACD sees it (written in order, off the event loop): a crash
        # while it waits closes it as interrupted instead of forgetting it
        self.ledger.queued(contact, caller.queue, caller.entered_at, stored_id=caller.stored_id)
        try:
            await self._acd(self.engine.arrive, contact, caller.queue)
        except CallCenterError:  # e.g. the flow names a queue the configuration lacks
            _log.exception("call %s could not join queue %r", caller.leg, caller.queue)
            self.ledger.served(caller.stored_id)
            caller.phase = "done"
            await self._hangup(caller.leg)
            return
        if caller.apologise and caller.phase == "queued":
            await self._apologise(caller)
        elif self.config.callback_key and caller.phase == "queued":
            await self._offer_callback(caller)
