"""The virtual media backend: calls as state machines on virtual time, in-process.

It implements :class:`MediaBackend` exactly, with no SIP and no audio, so the
simulator, the IVR engine's tests and most of the runtime's tests run in
milliseconds. The far ends are scripted (:class:`PartyScript`): callers
arrive with :meth:`VirtualBackend.inject_call`, phones that answer
:meth:`~VirtualBackend.originate` are declared with
:meth:`VirtualBackend.add_phone`. Time moves only when told to
(:meth:`VirtualBackend.advance`); at each instant every task that reacts to
the events of that instant runs before time moves on, so behaviour does not
depend on the machine's speed.

.. versionadded:: 0.1
"""

from __future__ import annotations

import collections
import heapq
import itertools
import math
import wave
from collections.abc import AsyncIterator, Callable, Iterable, Mapping

import anyio
import attrs

from .._clock import ManualClock
from .._errors import MediaError, NotFoundError, ValidationError
from .._tasks import wait_all_tasks_blocked
from ._caller_id import Network, identify_caller, trusted_networks
from ._dtmf import DigitBuffer
from ._events import (
    CallAnswered,
    CallEnded,
    CallIncoming,
    CallMediaActive,
    CallRinging,
    DtmfMethod,
    DtmfReceived,
    MediaEvent,
    PromptFinished,
    RecordingFinished,
    end_cause,
)
from ._protocol import AudioFile, MonitorMode, Prompt, Tone, check_digits

__all__ = ["PartyScript", "VirtualBackend"]

WORKER = "virtual"


def _presses(value: object) -> tuple[tuple[float, str], ...]:
    out = tuple((float(at), check_digits(str(digits))) for at, digits in value)  # type: ignore[attr-defined]
    if any(at < 0 for at, _ in out):
        raise ValidationError(f"digit times are seconds after the answer, >= 0: {out!r}")
    return out


@attrs.frozen(kw_only=True)
class PartyScript:
    """How a virtual far end (a caller or an agent's phone) behaves.

    Attributes:
        answer_after: A phone answers this many seconds after it starts ringing;
            ``None`` never answers (the ACD's no-answer timer decides).
        reject: Instead of answering, refuse with this SIP status (486 busy, 603 decline).
        patience: Hang up this many seconds after the leg starts unless bridged
            to someone by then (a caller abandoning the queue).
        talk_for: Hang up this many seconds after being bridged (callers) or
            after answering (phones).
        press: ``(seconds after the answer, digits)`` pairs: keys pressed.
    """

    answer_after: float | None = 0.0
    reject: int | None = None
    patience: float | None = None
    talk_for: float | None = None
    press: tuple[tuple[float, str], ...] = attrs.field(default=(), converter=_presses)


@attrs.define
class _Leg:
    call_id: str
    outbound: bool
    script: PartyScript
    started: float
    answered: bool = False
    ended: bool = False
    bridged_once: bool = False
    peers: set[str] = attrs.Factory(set)
    playing: Prompt | None = None
    playing_token: int = 0
    hold_music: Prompt | None = None
    recording: str | None = None
    held: bool = False
    sent_digits: str = ""
    monitoring: tuple[str, MonitorMode] | None = None


@attrs.define(order=True)
class _Timer:
    when: float
    seq: int
    action: Callable[[], None] = attrs.field(order=False)
    cancelled: bool = attrs.field(default=False, order=False)


_DEFAULT_HOLD_MUSIC = Tone((425,))


class _EventQueue:
    """An unbounded event stream that needs no closing (a simulator may just drop it)."""

    def __init__(self) -> None:
        self._items: collections.deque[MediaEvent] = collections.deque()
        self._closed = False
        self._arrived = anyio.Event()

    def push(self, event: MediaEvent) -> None:
        self._items.append(event)
        self._arrived.set()

    def close(self) -> None:
        self._closed = True
        self._arrived.set()

    def __aiter__(self) -> _EventQueue:
        return self

    async def __anext__(self) -> MediaEvent:
        while not self._items:
            if self._closed:
                raise StopAsyncIteration
            self._arrived = anyio.Event()
            await self._arrived.wait()
        return self._items.popleft()


class VirtualBackend:
    """A :class:`MediaBackend` whose calls live in memory and whose time is virtual.

    Args:
        clock: The virtual clock (a fresh :class:`ManualClock` at 0 by default).
            Events are stamped with it; only :meth:`advance` moves it.
        prompt_seconds: How long a prompt plays; default: a tone's duration,
            a WAV file's length (3 s when the file cannot be read).
        trusted: Source addresses and networks whose asserted identities are
            believed, as for :func:`create_media_pool`; default: nobody.

    .. versionchanged:: 0.1
       ``trusted``.
    """

    def __init__(
        self,
        clock: ManualClock | None = None,
        *,
        prompt_seconds: Callable[[Prompt], float] | None = None,
        trusted: Iterable[str | Network] = (),
    ) -> None:
        self.clock = clock or ManualClock()
        self._trusted = trusted_networks(trusted)
        self._prompt_seconds = prompt_seconds or _prompt_seconds
        self._legs: dict[str, _Leg] = {}
        self._phones: dict[str, PartyScript] = {}
        self._buffers: dict[str, DigitBuffer] = {}
        self._timers: list[_Timer] = []
        self._seq = itertools.count()
        self._ids = itertools.count(1)
        self._events = _EventQueue()

    # -- scripting and inspection ----------------------------------------------------------
    def add_phone(self, uri: str, script: PartyScript | None = None) -> None:
        """Declare the phone at ``uri`` (an agent's device) and how it behaves."""
        self._phones[uri] = script or PartyScript()

    def inject_call(
        self,
        from_uri: str,
        to_uri: str = "sip:service@virtual",
        script: PartyScript | None = None,
        *,
        after: float = 0.0,
        asserted_identity: str = "",
        remote_party_id: str = "",
        source: str = "127.0.0.1",
    ) -> str:
        """Make a caller dial in ``after`` seconds from now; return the leg's id.

        ``asserted_identity`` and ``remote_party_id`` play the
        P-Asserted-Identity and Remote-Party-ID headers, and ``source`` the
        address the INVITE comes from: as over SIP, the event's
        ``caller_number`` comes from those headers (and ``caller_verified``
        is true) only when ``source`` is one the backend trusts.

        Raises:
            ValidationError: ``source`` is not an IP address.

        .. versionchanged:: 0.1
           ``remote_party_id`` and ``source``.
        """
        caller = identify_caller(from_uri, asserted=asserted_identity,
                                 remote_party=remote_party_id, source=source,
                                 trusted=self._trusted)  # fmt: skip
        if not caller.source:
            raise ValidationError(f"a call's source is an IP address, got {source!r}")
        call_id = self._new_id()
        script = script or PartyScript()

        def arrive() -> None:
            leg = _Leg(call_id, outbound=False, script=script, started=self.clock.now())
            self._legs[call_id] = leg
            self._emit(CallIncoming(at=0.0, call_id=call_id, from_uri=from_uri, to_uri=to_uri,
                                    worker=WORKER, caller_number=caller.number,
                                    caller_verified=caller.verified,
                                    source=caller.source))  # fmt: skip
            if script.patience is not None:
                self._at(script.patience, lambda: self._give_up(leg))

        self._at(after, arrive)
        return call_id

    def hearing(self, call_id: str) -> frozenset[str]:
        """What the leg hears now: ``tone:F``, ``file:PATH``, ``hold:...``, ``leg:ID``."""
        leg = self._leg(call_id)
        heard = {f"leg:{peer}" for peer in leg.peers}
        if leg.monitoring is not None:
            agent = self._legs.get(leg.monitoring[0])
            if agent is not None:
                heard |= {f"leg:{agent.call_id}"} | {f"leg:{p}" for p in agent.peers}
        for sup in self._legs.values():
            if sup.monitoring is None or sup.monitoring[1] is MonitorMode.LISTEN:
                continue
            agent_id, mode = sup.monitoring
            if call_id == agent_id or (
                mode is MonitorMode.BARGE and call_id in self._legs.get(agent_id, leg).peers
            ):
                heard.add(f"leg:{sup.call_id}")
        if leg.playing is not None:
            heard.add(_label(leg.playing))
        if leg.hold_music is not None:
            heard.add("hold:" + _label(leg.hold_music))
        return frozenset(heard)

    def sent_digits(self, call_id: str) -> str:
        """Every digit :meth:`send_dtmf` sent on the leg."""
        return self._leg(call_id).sent_digits

    def is_held(self, call_id: str) -> bool:
        """Whether the leg's far end is on hold."""
        return self._leg(call_id).held

    @property
    def calls(self) -> tuple[str, ...]:
        """The ids of the legs alive now."""
        return tuple(self._legs)

    def next_time(self) -> float | None:
        """When the next scheduled thing happens (``None``: nothing is scheduled)."""
        live = [t.when for t in self._timers if not t.cancelled]
        return min(live) if live else None

    # -- virtual time ----------------------------------------------------------------------
    async def advance(self, seconds: float) -> None:
        """Move virtual time forward, running everything due, in order.

        After each instant's actions, every other task runs until it blocks,
        so an IVR reacting to a digit acts at the digit's virtual time.
        """
        if seconds < 0:
            raise ValidationError(f"virtual time cannot go back: advance({seconds!r})")
        target = self.clock.now() + seconds
        await wait_all_tasks_blocked()
        while self._timers and self._timers[0].when <= target:
            timer = heapq.heappop(self._timers)
            if timer.cancelled:
                continue
            self.clock.set(max(timer.when, self.clock.now()))
            timer.action()
            await wait_all_tasks_blocked()
        self.clock.set(target)
        await wait_all_tasks_blocked()

    def _at(self, delay: float, action: Callable[[], None]) -> _Timer:
        timer = _Timer(self.clock.now() + max(delay, 0.0), next(self._seq), action)
        heapq.heappush(self._timers, timer)
        return timer

    def _start_timer(self, seconds: float, fire: Callable[[], None]) -> Callable[[], None]:
        timer = self._at(seconds, fire)

        def cancel() -> None:
            timer.cancelled = True

        return cancel

    # -- internals -------------------------------------------------------------------------
    def _new_id(self) -> str:
        return f"{WORKER}:{next(self._ids)}"

    def _emit(self, event: MediaEvent) -> None:
        self._events.push(attrs.evolve(event, at=self.clock.now()))

    def _leg(self, call_id: str) -> _Leg:
        leg = self._legs.get(call_id)
        if leg is None:
            raise NotFoundError(f"no live call {call_id!r}")
        return leg

    def _connected(self, call_id: str) -> _Leg:
        leg = self._leg(call_id)
        if not leg.answered:
            raise MediaError(f"call {call_id!r} is not answered yet")
        return leg

    def _end(self, leg: _Leg, *, local: bool, code: int, reason: str) -> None:
        if leg.ended:
            return
        leg.ended = True
        del self._legs[leg.call_id]
        for peer_id in leg.peers:
            peer = self._legs.get(peer_id)
            if peer is not None:
                peer.peers.discard(leg.call_id)
        if leg.recording is not None:
            self._emit(RecordingFinished(at=0.0, call_id=leg.call_id, path=leg.recording))
        buffer = self._buffers.pop(leg.call_id, None)
        if buffer is not None:
            buffer.close()
        cause = end_cause(local=local, confirmed=leg.answered, outbound=leg.outbound, code=code)
        self._emit(CallEnded(at=0.0, call_id=leg.call_id, cause=cause, status_code=code,
                             reason=reason))  # fmt: skip

    def _remote_hangup(self, leg: _Leg) -> None:
        if not leg.ended:
            code, reason = (200, "Normal call clearing") if leg.answered else (487, "Cancelled")
            self._end(leg, local=False, code=code, reason=reason)

    def _give_up(self, leg: _Leg) -> None:
        if not leg.ended and not leg.bridged_once:
            self._remote_hangup(leg)

    def _connect(self, leg: _Leg) -> None:
        """The leg is answered: media flows, and the far end's script starts."""
        leg.answered = True
        self._emit(CallAnswered(at=0.0, call_id=leg.call_id))
        self._emit(CallMediaActive(at=0.0, call_id=leg.call_id))
        for delay, digits in leg.script.press:
            self._at(delay, lambda d=digits: self._press(leg, d))  # type: ignore[misc]
        if leg.outbound and leg.script.talk_for is not None:
            self._at(leg.script.talk_for, lambda: self._remote_hangup(leg))

    def _press(self, leg: _Leg, digits: str) -> None:
        if leg.ended:
            return
        for digit in digits:
            self._buffers.setdefault(leg.call_id, DigitBuffer()).push(digit)
            self._emit(DtmfReceived(at=0.0, call_id=leg.call_id, digit=digit))

    # -- MediaBackend ----------------------------------------------------------------------
    def events(self) -> AsyncIterator[MediaEvent]:
        """Return the one stream of media events."""
        return self._events

    async def originate(
        self,
        uri: str,
        *,
        caller_id: str | None = None,
        near: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        """Call a phone declared with :meth:`add_phone` (others answer 404)."""
        if near is not None:
            self._leg(near)
        call_id = self._new_id()
        script = self._phones.get(uri)
        leg = _Leg(call_id, outbound=True, script=script or PartyScript(), started=self.clock.now())
        self._legs[call_id] = leg
        if script is None:
            self._at(0.0, lambda: self._end(leg, local=False, code=404, reason="Not Found"))
            return call_id
        self._at(
            0.0, lambda: None if leg.ended else self._emit(CallRinging(at=0.0, call_id=call_id))
        )
        if script.answer_after is not None:

            def pick_up() -> None:
                if leg.ended:
                    return
                if script.reject is not None:
                    self._end(leg, local=False, code=script.reject, reason="Rejected by script")
                else:
                    self._connect(leg)

            self._at(script.answer_after, pick_up)
        return call_id

    async def answer(self, call_id: str) -> None:
        """Answer an inbound leg."""
        leg = self._leg(call_id)
        if leg.outbound or leg.answered:
            raise MediaError(f"call {call_id!r} cannot be answered (outbound or already answered)")
        self._connect(leg)

    async def hangup(self, call_id: str, *, status_code: int | None = None) -> None:
        """End a leg from our side."""
        leg = self._leg(call_id)
        code = status_code or (200 if leg.answered else 487 if leg.outbound else 603)
        self._end(leg, local=True, code=code, reason="Local hang-up")

    async def play(self, call_id: str, prompt: Prompt, *, loop: bool = False) -> None:
        """Play a prompt; PromptFinished follows after its length unless looping."""
        leg = self._connected(call_id)
        leg.playing = prompt
        leg.playing_token += 1
        token = leg.playing_token
        seconds = self._prompt_seconds(prompt)
        if loop or math.isinf(seconds):
            return

        def finish() -> None:
            if not leg.ended and leg.playing_token == token:
                leg.playing = None
                self._emit(PromptFinished(at=0.0, call_id=call_id))

        self._at(seconds, finish)

    async def stop_playing(self, call_id: str) -> None:
        """Stop the leg's prompt."""
        leg = self._leg(call_id)
        leg.playing = None
        leg.playing_token += 1

    async def collect_dtmf(
        self,
        call_id: str,
        *,
        max_digits: int = 1,
        first_digit_timeout: float = 5.0,
        inter_digit_timeout: float | None = None,
        terminators: str = "#",
    ) -> str:
        """Collect digits, with timeouts in virtual time."""
        self._leg(call_id)
        return await self._buffers.setdefault(call_id, DigitBuffer()).collect(
            max_digits=max_digits,
            first_digit_timeout=first_digit_timeout,
            inter_digit_timeout=inter_digit_timeout,
            terminators=terminators,
            start_timer=self._start_timer,
        )

    async def send_dtmf(
        self, call_id: str, digits: str, *, method: DtmfMethod = DtmfMethod.RFC2833
    ) -> None:
        """Send digits to the far end (see :meth:`sent_digits`)."""
        check_digits(digits)
        self._connected(call_id).sent_digits += digits

    async def start_music_on_hold(self, call_id: str, prompt: Prompt | None = None) -> None:
        """Play hold music to the leg."""
        self._connected(call_id).hold_music = prompt or _DEFAULT_HOLD_MUSIC

    async def stop_music_on_hold(self, call_id: str) -> None:
        """Stop the leg's hold music."""
        self._leg(call_id).hold_music = None

    async def bridge(self, call_a: str, call_b: str) -> None:
        """Join two answered legs; a bridged caller's ``talk_for`` starts now."""
        a, b = self._connected(call_a), self._connected(call_b)
        if a is b:
            raise MediaError(f"cannot bridge {call_a} to itself")
        a.peers.add(call_b)
        b.peers.add(call_a)
        for leg in (a, b):
            if not leg.bridged_once and not leg.outbound and leg.script.talk_for is not None:
                self._at(leg.script.talk_for, lambda leg=leg: self._remote_hangup(leg))  # type: ignore[misc]
            leg.bridged_once = True

    async def unbridge(self, call_a: str, call_b: str) -> None:
        """Split two legs."""
        a, b = self._leg(call_a), self._leg(call_b)
        a.peers.discard(call_b)
        b.peers.discard(call_a)

    async def monitor(self, supervisor_call: str, agent_call: str, mode: MonitorMode) -> None:
        """Join a supervisor's leg to the agent's conversation."""
        sup, agent = self._connected(supervisor_call), self._connected(agent_call)
        if sup is agent:
            raise MediaError(f"{supervisor_call} cannot monitor itself")
        sup.monitoring = (agent_call, MonitorMode(mode))

    async def stop_monitoring(self, supervisor_call: str) -> None:
        """Take the supervisor's leg out of the conversation."""
        self._leg(supervisor_call).monitoring = None

    async def start_recording(self, call_id: str, path: str) -> None:
        """Mark the leg as recorded (no file is written on virtual calls)."""
        leg = self._leg(call_id)
        if leg.recording is not None:
            await self.stop_recording(call_id)
        leg.recording = path

    async def stop_recording(self, call_id: str) -> None:
        """Close the leg's recording (RecordingFinished follows)."""
        leg = self._leg(call_id)
        if leg.recording is not None:
            path, leg.recording = leg.recording, None
            self._emit(RecordingFinished(at=0.0, call_id=call_id, path=path))

    async def hold(self, call_id: str) -> None:
        """Put the far end on hold."""
        self._connected(call_id).held = True

    async def resume(self, call_id: str) -> None:
        """Take the far end off hold."""
        self._connected(call_id).held = False

    async def transfer(self, call_id: str, uri: str) -> None:
        """Blind transfer: the far end leaves for ``uri``; the leg ends (reason ``transferred``)."""
        leg = self._connected(call_id)
        self._end(leg, local=True, code=200, reason="transferred")

    async def aclose(self) -> None:
        """Hang up every leg and close the event stream."""
        for leg in list(self._legs.values()):
            self._end(leg, local=True, code=200, reason="Backend closed")
        self._timers.clear()
        self._events.close()


def _label(prompt: Prompt) -> str:
    if isinstance(prompt, Tone):
        return "tone:" + "+".join(str(f) for f in prompt.frequencies)
    return f"file:{prompt.path}"


def _prompt_seconds(prompt: Prompt) -> float:
    if isinstance(prompt, Tone):
        return math.inf if prompt.duration is None else prompt.duration
    assert isinstance(prompt, AudioFile)  # noqa: S101 - Prompt is a closed union
    try:
        with wave.open(prompt.path, "rb") as wav:
            return wav.getnframes() / wav.getframerate()
    except (OSError, EOFError, wave.Error):
        return 3.0
