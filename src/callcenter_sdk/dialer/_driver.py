"""The live dialer: the pure core driven against a media backend and the ACD engine.

:class:`Dialer` places calls with :meth:`MediaBackend.originate
<callcenter_sdk.media.MediaBackend.originate>` (the pjsua2 worker pool for
real SIP, the :class:`~callcenter_sdk.media.VirtualBackend` in tests), feeds
answered calls to the campaign's ACD queue, rings the chosen agent's phone
*near* the customer's leg and bridges the two. A live person with no agent
within ``connect_limit_s`` hears the campaign's information message and is
released: a drop, recorded as such.

Every decision is the campaign core's (:class:`CampaignCore`, shared with
:func:`callcenter_sdk.sim.simulate_campaign`): the dialer feeds it media
events (:meth:`Dialer.handle`) and carries out the actions it returns on the
backend. It is a part of the real-time :class:`~callcenter_sdk.Ticker`:
ticked at :meth:`Dialer.next_deadline` (the core's timers, and a pacing
decision at least every ``tick_s``); :meth:`Dialer.run` drives it on a
ticker of its own, or on the application's. Media backends cannot tell a machine from a person:
an optional ``machine_detector`` does; otherwise every answer counts as live,
its greeting ending at the answer.

No number is dialled without an outbound policy: every lead passes the
``guard`` (an :class:`~callcenter_sdk.cti.OutboundGuard`, usually
:func:`campaign_guard` of the campaign file's ``[outbound]`` table) just
before it is dialled. A refused lead is never dialled: a number in a range
that may not be dialled takes the lead out of the campaign (``refused``,
:attr:`Refusal.OUTBOUND_POLICY`), a number over a cap is due again later.

After a restart, replay the campaign's stored attempts into the new
dialer's pacer (:func:`restore_pacer`) before it dials, so the drop budget
of the current regulatory period counts the drops of the earlier run.

.. versionadded:: 0.1
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import anyio

from .._clock import Clock
from .._errors import CallCenterError, NotFoundError
from .._events import EventStream
from .._ticker import Ticker
from ..acd import Engine, Queue
from ..cti import OutboundGuard
from ..media import CallAnswered, CallEnded, EndCause, MediaBackend, MediaEvent, Prompt
from ._actions import Bridge, CampaignAction, Dial, Hangup, PlayInformation, RingAgent
from ._campaign import CampaignCore
from ._model import Attempt, CallResult, Campaign, Lead
from ._outbound import campaign_check
from ._pacing import Pacer, PacingSnapshot
from ._scheduler import Callback, LeadScheduler

if TYPE_CHECKING:
    from anyio.abc import TaskGroup

__all__ = ["Dialer"]

_log = logging.getLogger(__name__)
_INVALID_CODES = frozenset({404, 410, 484, 485, 604})


def sip_uri(lead: Lead) -> str:
    """The default SIP URI of a lead: its E.164 number at the local gateway."""
    return f"sip:{lead.phone}@127.0.0.1"


class Dialer:
    """Runs one campaign live against a media backend and the ACD engine.

    Args:
        backend: Places and bridges the calls.
        engine: The ACD engine; the campaign's queue (named after the
            campaign) is added when missing. Agents are logged in and made
            ready by the caller, as for inbound work.
        clock: The engine's clock.
        campaign: Mode, caps and compliance rules.
        scheduler: The campaign's leads.
        guard: The outbound policy every number passes before it is dialled
            (:func:`campaign_guard` builds it from the campaign's own
            ``[outbound]`` table; a runtime may share its center-wide one).
            Refusals are published on the guard's event stream.
        agent_uris: Each agent's phone, rung when the ACD offers them a call.
        number_uri: The SIP URI to dial for a lead.
        pacer: The pacer (the campaign mode's by default).
        events: Where the dialer's events go (the engine's stream by default).
        information_prompt: What is played on a dropped call (a WAV file of
            the campaign's information message, or a tone in tests).
        caller_id: The number presented to the people called.
        on_attempt: Called with each finished :class:`Attempt` (to record it
            in the store, for instance).
        machine_detector: Answering-machine detection: awaited with the lead
            and the answered leg, true for a machine (the call is then ended
            as ``MACHINE`` and never reaches an agent); see
            :func:`amd_detector` for one that listens to the leg. Under
            :meth:`run` each detection runs in its own task. A detector that
            raises is logged and the answer counts as a person. Without one,
            every answer counts as a person. The 2-second connect limit
            starts when the detector has answered.

    .. versionchanged:: 0.2
       ``guard`` is required: no campaign dials without an outbound policy.
       The decisions are the :class:`CampaignCore`'s; the dialer is a part
       of the :class:`~callcenter_sdk.Ticker`.
    """

    def __init__(
        self,
        *,
        backend: MediaBackend,
        engine: Engine,
        clock: Clock,
        campaign: Campaign,
        scheduler: LeadScheduler,
        guard: OutboundGuard,
        agent_uris: Mapping[str, str],
        number_uri: Callable[[Lead], str] = sip_uri,
        pacer: Pacer | None = None,
        events: EventStream | None = None,
        information_prompt: Prompt | None = None,
        caller_id: str | None = None,
        on_attempt: Callable[[Attempt], object] | None = None,
        machine_detector: Callable[[Lead, str], Awaitable[bool]] | None = None,
    ) -> None:
        if campaign.name not in engine.queue_names():
            engine.add_queue(Queue(name=campaign.name))
        self._core = CampaignCore(
            engine=engine,
            clock=clock,
            campaign=campaign,
            scheduler=scheduler,
            check=campaign_check(guard, campaign),
            pacer=pacer,
            events=events,
            on_attempt=on_attempt,
        )
        self._backend, self._clock, self._guard = backend, clock, guard
        self._agent_uris = dict(agent_uris)
        self._number_uri = number_uri
        self._prompt = information_prompt
        self._caller_id = caller_id
        self._detector = machine_detector
        self._tg: TaskGroup | None = None  # run()'s, for detections in parallel
        self._ticker: Ticker | None = None  # run()'s, woken by every input
        self._tick_s = 1.0
        self._next_pace = clock.now()
        self._until = math.inf  # no pacing from then on (run()'s end)
        self._pacing = True  # until the first tick at or after _until
        self._finished: anyio.Event | None = None  # run()'s: set when done

    # ---------------------------------------------------------------- queries

    @property
    def core(self) -> CampaignCore:
        """The campaign core whose decisions the dialer carries out."""
        return self._core

    @property
    def scheduler(self) -> LeadScheduler:
        """The campaign's lead scheduler (an agent's desktop picks preview leads from it)."""
        return self._core.scheduler

    @property
    def guard(self) -> OutboundGuard:
        """The outbound policy's guard every dial passes."""
        return self._guard

    @property
    def pacer(self) -> Pacer:
        """The pacer in use."""
        return self._core.pacer

    @property
    def attempts(self) -> list[Attempt]:
        """Every finished attempt, in the order they finished."""
        return self._core.attempts

    @property
    def live_calls(self) -> int:
        """Calls placed and not finished."""
        return self._core.live_calls

    def awaiting_disposition(self) -> list[str]:
        """Calls whose conversation ended and whose agent has not disposed them yet."""
        return self._core.awaiting_disposition()

    def snapshot(self) -> PacingSnapshot:
        """What the pacer sees now: the engine's agents and the calls in flight."""
        return self._core.snapshot()

    def next_deadline(self) -> float | None:
        """When :meth:`tick` next has something to do.

        The core's timers and the engine's, and, until :meth:`run`'s end,
        the next pacing decision (at least every ``tick_s``: pacing depends
        on the time too, through calling windows, callbacks and retries).
        """
        due = self._core.next_deadline()
        if not self._pacing:
            return due
        pace = min(self._next_pace, self._until)
        return pace if due is None or pace < due else due

    # ---------------------------------------------------------------- dialling

    async def pace(self) -> int:
        """Place as many calls as the pacer asks for now; return how many were placed.

        A lead the outbound policy refuses is settled and the next one is
        tried; once the center's hourly cap refuses, nothing is placed for
        :data:`CAP_PAUSE_S` seconds.

        Raises:
            CallCenterError: The backend could not place a call (its lead,
                and those not dialled yet, are due again).
        """
        dials = self._core.pace()
        for n, dial in enumerate(dials):
            try:
                await self._place(dial)
            except CallCenterError:
                for later in dials[n + 1 :]:
                    await self._execute(self._core.dial_failed(later))
                raise
        return len(dials)

    async def dial(self, lead: Lead, *, agent: str | None = None) -> str:
        """Dial ``lead`` now (handed out by the scheduler); return the customer's leg id.

        Preview agents call this after reading the record, and agents dialling
        their own callbacks; ``agent`` names them. The agent is then held (not
        ready, reason ``preview``) until the call is answered, and the answered
        call requires their :func:`owner_skill`, so it reaches them and no one
        else; a call that fails makes them ready again.

        The number passes the outbound policy first: a refused lead is not
        dialled, the agent (if any) is not held, and the lead is settled
        (taken out of the campaign, or due again later for a cap).

        Raises:
            OutboundDenied: The outbound policy refuses the number; an
                :class:`~callcenter_sdk.cti.OutboundRefused` event was published.
            TransitionError: ``agent`` is offline.
        """
        *hold, dial = self._core.dial(lead, agent=agent)
        await self._execute(hold)
        assert isinstance(dial, Dial)  # noqa: S101 - the core's contract: the dial comes last
        return await self._place(dial)

    async def _place(self, dial: Dial) -> str:
        try:
            leg = await self._backend.originate(
                self._number_uri(dial.lead), caller_id=self._caller_id
            )
        except CallCenterError:
            await self._execute(self._core.dial_failed(dial))
            raise
        self._core.placed(dial, leg)
        self._wake()
        return leg

    # ------------------------------------------------------------------ input

    async def handle(self, event: MediaEvent) -> None:
        """React to one media event of the backend (others' legs are ignored)."""
        if isinstance(event, CallAnswered):
            leg = event.call_id
            lead = self._core.lead_of(leg)
            await self._execute(self._core.answered(leg))
            if lead is not None:  # a customer answered (an agent's answer took the offer)
                await self._screen(lead, leg)
        elif isinstance(event, CallEnded):
            await self._execute(self._core.ended(event.call_id, _result_of(event)))
        self._wake()

    async def _screen(self, lead: Lead, leg: str) -> None:
        """A person's answer goes to the queue; with a detector, a machine's ends the call."""
        if self._detector is None:
            await self._execute(self._core.greeted(leg))
        elif self._tg is not None:
            # detection listens for seconds: other calls' events go on meanwhile
            self._tg.start_soon(self._detect, lead, leg, name=f"amd {leg}")
        else:
            await self._detect(lead, leg)

    async def _detect(self, lead: Lead, leg: str) -> None:
        assert self._detector is not None  # noqa: S101 - only called with one
        try:
            machine = await self._detector(lead, leg)
        except Exception:  # noqa: BLE001 - a failing detector must not lose the call
            _log.exception("machine detection failed on %s: taken as a person", leg)
            machine = False
        await self._execute(self._core.machine(leg) if machine else self._core.greeted(leg))
        self._wake()

    async def tick(self) -> None:
        """Fire what is due (ring timeouts, drops, the engine's timers), then pace.

        Pacing stops at :meth:`run`'s ``until``; calls in progress then finish.
        """
        now = self._clock.now()
        while (due := self._core.next_deadline()) is not None and due <= now:
            await self._execute(self._core.tick())
        if now < self._until:
            self._next_pace = now + self._tick_s
            await self.pace()
        else:
            self._pacing = False
            self._check_finished()

    async def run(self, *, until: float, tick_s: float = 1.0, ticker: Ticker | None = None) -> None:
        """Dial in real time until the clock reaches ``until``, then let calls finish.

        Reads the backend's event stream and is ticked at every deadline, and
        at least every ``tick_s`` seconds while it dials.

        Args:
            until: When dialling stops.
            tick_s: The longest time between two pacing decisions.
            ticker: The application's running ticker to be driven on; by
                default the dialer runs one of its own for the call.

        .. versionchanged:: 0.2
           Driven by a :class:`~callcenter_sdk.Ticker`; ``ticker``.
        """
        own = ticker is None
        ticker = Ticker(self._clock) if ticker is None else ticker
        self._until, self._tick_s, self._next_pace = until, tick_s, self._clock.now()
        self._pacing, self._finished = True, anyio.Event()
        remove = ticker.add(self)
        try:
            async with anyio.create_task_group() as tg:
                self._tg, self._ticker = tg, ticker

                async def consume() -> None:
                    async for event in self._backend.events():
                        await self.handle(event)

                tg.start_soon(consume)
                if own:
                    tg.start_soon(ticker.run)
                await self._finished.wait()
                tg.cancel_scope.cancel()
        finally:
            remove()
            self._tg = self._ticker = self._finished = None
            self._until, self._pacing = math.inf, True

    def _wake(self) -> None:
        """An input may have moved a deadline (or ended the last call)."""
        if self._ticker is not None:
            self._ticker.wake()
        self._check_finished()

    def _check_finished(self) -> None:
        if self._finished is not None and not self._pacing and not self._core.live_calls:
            self._finished.set()

    # ---------------------------------------------------------------- actions

    async def _execute(self, actions: Sequence[CampaignAction]) -> None:
        """Carry out the core's actions on the backend, and those they lead to."""
        todo = list(actions)
        for action in todo:
            if isinstance(action, Hangup):
                with contextlib.suppress(NotFoundError):  # already gone
                    await self._backend.hangup(action.leg)
            elif isinstance(action, RingAgent):
                todo += await self._ring(action)
            elif isinstance(action, Bridge):
                await self._backend.bridge(action.call_id, action.agent_leg)
            elif isinstance(action, PlayInformation):
                if self._prompt is not None:
                    await self._backend.play(action.call_id, self._prompt)
            else:
                await self._place(action)

    async def _ring(self, ring: RingAgent) -> list[CampaignAction]:
        uri = self._agent_uris.get(ring.agent_id)
        if uri is None:
            return self._core.agent_unreachable(ring)
        try:
            leg = await self._backend.originate(uri, near=ring.call_id)
        except CallCenterError:
            _log.exception("could not ring %s's phone %s", ring.agent_id, uri)
            return self._core.agent_unreachable(ring)
        return self._core.agent_rung(ring, leg)

    # ----------------------------------------------------------- dispositions

    def dispose(
        self,
        call_id: str,
        code: str,
        *,
        callback_at: float | None = None,
        callback_owned: bool = False,
    ) -> Attempt:
        """The agent's disposition of a finished conversation; returns the finished attempt.

        Raises:
            StateError: The call is not waiting for a disposition.
            ValidationError: Unknown code or a callback without its time.
        """
        return self._core.dispose(
            call_id, code, callback_at=callback_at, callback_owned=callback_owned
        )

    def callback_for(self, agent_id: str) -> Lead | None:
        """The agent's own callback due now, handed out for them to preview and dial.

        Owned callbacks are not dialled by the pacer (the answered call could
        reach another agent): the agent's desktop asks for them when the agent
        is free, shows the record, then calls :meth:`dial` with ``agent``.
        """
        return self._core.callback_for(agent_id)

    def schedule_callback(self, callback: Callback) -> None:
        """Schedule a callback directly (a supervisor's decision)."""
        self._core.schedule_callback(callback)


def _result_of(event: CallEnded) -> CallResult:
    """The dial result of a customer leg that ended before being answered."""
    if event.cause is EndCause.BUSY:
        return CallResult.BUSY
    if event.status_code in _INVALID_CODES or event.cause is EndCause.FAILED:
        return CallResult.INVALID
    if event.cause is EndCause.REJECTED:
        return CallResult.BUSY
    return CallResult.NO_ANSWER
