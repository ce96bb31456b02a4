"""A caller's arrival: the IVR, the handover to a queue, the lookup while they wait.

The caller is identified by number before the IVR, so the flow can branch on
who calls. When the IVR hands them to a queue, they hear hold music, the CTI
lookup for the agent's screen pop starts, and the ACD takes the contact.

A caller of a stopped campaign (its number, or the queue their IVR chose)
hears the ``closed`` prompt and is hung up instead.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable

import anyio
import attrs
from anyio.abc import TaskGroup

from .._clock import Clock
from .._errors import CallCenterError, NotFoundError
from .._events import EventStream
from ..cti import CustomerDirectory, to_e164
from ..ivr import (
    EndCall,
    Flow,
    FlowBuilder,
    IvrDriver,
    IvrResult,
    RequestCallback,
    TransferToQueue,
    VoicemailLeft,
    find_prompt,
)
from ..media import AudioFile, CallIncoming, MediaBackend
from ._book import CallBook
from ._callbacks import Callbacks
from ._calls import _RECOVERABLE, Call, Phase, hang_up, sip_user
from ._config import CallCenterConfig, InboundNumber
from ._cti import Paperwork
from ._engine_port import EnginePort
from ._events import IvrCompleted
from ._ledger import Ledger

__all__: list[str] = []

_log = logging.getLogger(__name__)


class Arrival:
    """The IVR of each inbound call and its handover to the ACD.

    Attributes:
        ivr: The IVR driver running each call's flow.
    """

    def __init__(
        self,
        *,
        config: CallCenterConfig,
        backend: MediaBackend,
        book: CallBook,
        port: EnginePort,
        ledger: Ledger,
        directory: CustomerDirectory,
        paperwork: Paperwork,
        callbacks: Callbacks,
        task_group: TaskGroup,
        clock: Clock,
        events: EventStream,
        campaign_open: Callable[[str | None], bool] = lambda _campaign: True,
    ) -> None:
        self.config = config
        self.backend = backend
        self.book = book
        self.port = port
        self.ledger = ledger
        self.directory = directory
        self.paperwork = paperwork
        self.callbacks = callbacks
        self._tg = task_group
        self.clock = clock
        self.events = events
        self._open = campaign_open
        self._closed: set[str] = set()  # calls whose IVR chose a queue of a stopped campaign
        self._closed_flow: Flow | None = None
        self.ivr = IvrDriver(
            backend,
            config.flow,
            clock=clock,
            handover=self.handover,
            estimated_wait=self.estimated_wait,
            voicemail_dir=config.voicemail_dir,
        )

    def estimated_wait(self, queue: str) -> float | None:
        """The IVR's wait branches ask the ACD's own estimate (what the queue announces)."""
        try:
            return self.port.engine.expected_wait(queue)
        except NotFoundError:
            return None

    def number(self, dialled: str) -> InboundNumber | None:
        """The configured number the caller dialled (compared in E.164 when both are)."""
        wanted = self._normal(dialled)
        for line in self.config.numbers:
            if self._normal(line.number) == wanted:
                return line
        return None

    def _normal(self, number: str) -> str:
        try:
            return to_e164(number, self.directory.region)
        except CallCenterError:
            return number

    def arrived(self, event: CallIncoming, *, run: str) -> Call:
        """Book a new inbound call and start its IVR."""
        caller = Call(
            event.call_id,
            self.caller_id(event),
            verified=event.caller_verified,
            stored_id=f"{event.call_id}@{run}",  # leg ids repeat across runs
        )
        self.book.add(caller)
        self._tg.start_soon(self.run_ivr, event, name=f"ivr {event.call_id}")
        return caller

    async def handover(self, result: IvrResult) -> bool:
        """The IVR ended: queue the caller, store their callback or their voicemail's ticket."""
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
        caller = self.book.get(result.call_id)
        if caller is None:
            return True
        if isinstance(action, TransferToQueue | RequestCallback) and not caller.gone:
            if not self._open(self.config.campaigns.get(action.queue) or caller.campaign):
                self._closed.add(caller.leg)
                return False  # the IVR stops here; run_ivr says "closed" and hangs up
            caller.topic = topic
            caller.contact = action.contact(
                caller.contact_id,
                caller_id=str(result.variables.get("caller_id", caller.caller_id)),
                dialled=str(result.variables.get("dialled", "")),
            )
            if caller.campaign and "campaign" not in caller.contact.attributes:
                attributes = {**caller.contact.attributes, "campaign": caller.campaign}
                caller.contact = attrs.evolve(caller.contact, attributes=attributes)
            if isinstance(action, RequestCallback) and await self.callbacks.ivr_callback(
                caller, action
            ):
                return True  # stored: the IVR confirms and hangs up
            # to the queue; a callback that could not be promised waits there, with an apology
            caller.move(Phase.HANDOVER)
            caller.queue = action.queue
            caller.apologise = isinstance(action, RequestCallback)
            return not caller.apologise
        if isinstance(action, VoicemailLeft):
            self.paperwork.write_ticket(
                uuid.uuid4().hex,
                subject=action.ticket.get("subject", "Voicemail"),
                category=action.ticket.get("category", ""),
                description=f"voicemail {action.path} ({action.seconds:.0f} s)",
            )
        return True

    def closed_flow(self) -> Flow:
        """The flow of a caller to a stopped campaign: the ``closed`` prompt, then goodbye."""
        if self._closed_flow is None:
            base = self.config.flow
            self._closed_flow = (
                FlowBuilder(
                    "closed",
                    start="closed",
                    languages=base.languages,
                    language=base.language,
                    prompt_dirs=base.prompt_dirs,
                )
                .node("closed", EndCall(prompts=("closed",), reason="campaign stopped"))
                .build()
            )
        return self._closed_flow

    async def _say_closed(self, caller: Call) -> None:
        """The IVR chose a queue of a stopped campaign: say so and hang up."""
        path = find_prompt(self.config.language, "closed", self.config.flow.prompt_dirs)
        with contextlib.suppress(*_RECOVERABLE):
            if path is not None and not caller.gone:
                caller.prompt_done = anyio.Event()
                await self.backend.play(caller.leg, AudioFile(str(path)))
                with anyio.move_on_after(30):
                    await caller.prompt_done.wait()
        if not caller.gone:
            await hang_up(self.backend, caller.leg)

    def caller_id(self, event: CallIncoming) -> str:
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

    async def _flow_and_data(
        self, caller: Call, event: CallIncoming
    ) -> tuple[Flow | None, dict[str, str]]:
        """The flow the caller's number runs (``None``: the center's), and its caller data."""
        dialled = sip_user(event.to_uri)
        line = self.number(dialled)
        flow: Flow | None = None
        data = {"caller_id": caller.caller_id, "dialled": dialled}
        if line is not None:
            flow, caller.campaign = line.flow, line.campaign
            data["campaign"] = line.campaign
            if not self._open(line.campaign):
                flow = self.closed_flow()
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
        return flow, data

    async def run_ivr(self, event: CallIncoming) -> None:
        """Run the flow of the number dialled, then queue the caller it hands over."""
        caller = self.book.get(event.call_id)
        if caller is None:  # gone before its IVR started (the center is closing)
            return
        flow, data = await self._flow_and_data(caller, event)
        try:
            await self.ivr.run_call(event.call_id, data, flow=flow)
        except _RECOVERABLE as exc:
            _log.warning("IVR of %s stopped: %s", event.call_id, exc)
            await hang_up(self.backend, event.call_id)
        if event.call_id in self._closed:
            self._closed.discard(event.call_id)
            await self._say_closed(caller)
        if caller.phase is not Phase.HANDOVER or caller.contact is None or caller.gone:
            # ended in the IVR, or hung up between its end and the queue (an IVR abandon)
            self.book.calls.pop(event.call_id, None)
            return
        contact = caller.contact
        caller.move(Phase.QUEUED)
        identifying = self.book.identifying
        if len(identifying) < self.config.max_lookups:
            identifying[caller.leg] = caller.identified
            self._tg.start_soon(self.paperwork.identify, caller, name=f"cti {caller.leg}")
        else:  # a burst beyond the bound: this caller's pop shows an unknown caller
            _log.warning("%d lookups running: none for %s", len(identifying), caller.leg)
            caller.identified.set()
        with contextlib.suppress(*_RECOVERABLE):
            await self.backend.start_music_on_hold(caller.leg, self.config.hold_music)
        caller.entered_at = self.clock.now()
        # stored before the ACD sees it (written in order, off the event loop): a crash
        # while it waits closes it as interrupted instead of forgetting it
        self.ledger.queued(contact, caller.queue, caller.entered_at, stored_id=caller.stored_id)
        try:
            await self.port.arrive(contact, caller.queue)
        except CallCenterError:  # e.g. the flow names a queue the configuration lacks
            _log.exception("call %s could not join queue %r", caller.leg, caller.queue)
            self.ledger.served(caller.stored_id)
            caller.ends()
            await hang_up(self.backend, caller.leg)
            return
        if caller.apologise and caller.is_in(Phase.QUEUED):
            await self.callbacks.apologise(caller)
        elif self.config.callback_key and caller.is_in(Phase.QUEUED):
            await self.callbacks.offer_callback(caller)
