"""Simulated people for demos and tests: callers and agents, as real SIP user agents.

Over SIP (:class:`SipCrowd`) every person is a real SIP user agent: callers
are legs of a pjsua2 pool of "phones" that dial the call center's public
address, follow its 302 to a media worker, press DTMF for the IVR, speak (a
1 kHz tone) and hang up after talking or when their patience runs out;
agents' desk phones are legs of another pool that ring, answer after a
delay (or let it ring, or answer busy), speak (1.6 kHz) and sometimes hang
up first. What no SIP signal tells a caller — that a person picked up — they
learn the way people do, by listening: here, from the call center's
``acd.contact_connected`` event for the account they typed.

On the virtual backend (:class:`VirtualCrowd`) the same habits become
:class:`~callcenter_sdk.media.PartyScript` values and time is virtual.

Agents at their desktop (:class:`AgentDesks`) record a disposition after
each call and end their wrap-up early, as the runtime's API allows; a
technician takes the escalated tickets the back office offers them, works
each and disposes it solved.

.. versionadded:: 0.1
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Mapping, Sequence

import anyio
import attrs
from anyio.abc import TaskGroup

from .._errors import CallCenterError
from .._events import Event
from ..acd import (
    AgentState,
    AgentStateChanged,
    ContactCompleted,
    ContactConnected,
    ContactOffered,
)
from ..cti import to_e164
from ..media import (
    CallAnswered,
    CallEnded,
    CallEvent,
    CallIncoming,
    MediaEvent,
    MediaPool,
    PartyScript,
    Tone,
    VirtualBackend,
)
from ._app import CallCenter, sip_user

__all__ = ["AGENT_VOICE", "CALLER_VOICE", "AgentDesks", "Habits", "SipCrowd", "VirtualCrowd"]

CALLER_VOICE = 1000
"""The frequency (Hz) of a simulated caller's voice."""
AGENT_VOICE = 1600
"""The frequency (Hz) of a simulated agent's voice."""


@attrs.frozen(kw_only=True)
class Habits:
    """How the simulated people behave (seconds and shares).

    Attributes:
        arrivals_per_second: Mean rate of new calls (Poisson arrivals).
        max_callers: Callers on the line at once at most (phones available).
        patience: Mean seconds a caller waits in queue before giving up.
        talk: Range of conversation lengths.
        ring: Range of seconds an agent takes to pick up.
        no_answer: Share of rings an agent lets go unanswered.
        busy: Share of rings refused with 486 Busy Here.
        agent_hangs_up: Share of conversations the agent ends.
        unknown: Share of callers not in the customer directory.
        topics: Menu key -> share (1 internet, 2 TV, 3 billing, 0 other).
        after_call: Range of seconds of after-call work before the agent is ready.
        dispositions: Disposition code -> share.
        lines: The number dialled (the user part) -> share of callers.
        callback: Share of callers with a known phone who ask the IVR to call
            them back (``callback_keys``: the menu key, then the accept key)
            instead of waiting; they answer when the center calls back.
        callback_keys: The menu key that offers a callback, and the key accepting it.
    """

    arrivals_per_second: float = 0.25
    max_callers: int = 10
    patience: float = 40.0
    talk: tuple[float, float] = (8.0, 25.0)
    ring: tuple[float, float] = (1.0, 4.0)
    no_answer: float = 0.08
    busy: float = 0.05
    agent_hangs_up: float = 0.3
    unknown: float = 0.2
    topics: Mapping[str, float] = attrs.field(
        factory=lambda: {"1": 0.4, "2": 0.25, "3": 0.25, "0": 0.1}
    )
    after_call: tuple[float, float] = (2.0, 5.0)
    dispositions: Mapping[str, float] = attrs.field(
        factory=lambda: {"solved": 0.7, "escalated": 0.15, "callback-planned": 0.15}
    )
    lines: Mapping[str, float] = attrs.field(factory=lambda: {"hotline": 1.0})
    callback: float = 0.0
    callback_keys: tuple[str, str] = ("9", "1")


def _pick(rng: random.Random, shares: Mapping[str, float]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


class AgentDesks:
    """The agents' desktops: dispositions, wrap-up and getting back to work.

    Args:
        center: The call center.
        habits: How long after-call work lasts, which dispositions.
        rng: The random source.
        task_group: Where after-call work runs.
        real_time: Sleep through after-call work (live); on virtual time the
            disposition is recorded at once and the queue's wrap-up timer ends it.
    """

    def __init__(
        self,
        center: CallCenter,
        habits: Habits,
        rng: random.Random,
        task_group: TaskGroup,
        *,
        real_time: bool,
    ) -> None:
        self._center = center
        self._habits = habits
        self._rng = rng
        self._tg = task_group
        self._real_time = real_time
        self._busy = 0
        self._idle = anyio.Event()
        self._idle.set()
        self.stop = center.subscribe(self._see)

    async def settle(self) -> None:
        """Wait until every agent has finished their after-call work."""
        await self._idle.wait()

    def _see(self, _seq: int, event: Event) -> None:
        try:
            self._react(event)
        except RuntimeError:  # the task group is over (the run is ending): stop listening
            self.stop()

    def _react(self, event: Event) -> None:
        if isinstance(event, ContactOffered) and event.contact_id.startswith("ticket:"):
            self._start()
            self._tg.start_soon(self._back_office, event.agent_id, event.contact_id)
        elif isinstance(event, ContactCompleted) and event.contact_id.startswith("ticket:"):
            return  # back-office work is disposed by _back_office itself
        elif isinstance(event, ContactCompleted):
            self._start()
            self._tg.start_soon(self._after_call, event.agent_id, event.contact_id)
        elif (
            isinstance(event, AgentStateChanged)
            and event.state is AgentState.NOT_READY
            and event.reason == "missed-offers"
        ):
            self._tg.start_soon(self._back_to_work, event.agent_id)

    def _start(self) -> None:
        self._busy += 1  # counted now: settle() must not return before the task starts
        if self._idle.is_set():
            self._idle = anyio.Event()

    def _done(self) -> None:
        self._busy -= 1
        if not self._busy:
            self._idle.set()

    async def _back_office(self, agent_id: str, contact_id: str) -> None:
        """A technician takes the escalated ticket offered at their desktop, works it, solves it."""
        try:
            if self._real_time:
                await anyio.sleep(self._rng.uniform(*self._habits.ring))
            with contextlib.suppress(CallCenterError):  # taken back (timed out) meanwhile
                work = await self._center.accept(agent_id, actor=agent_id)
                if self._real_time:
                    await anyio.sleep(self._rng.uniform(*self._habits.talk))
                await self._center.dispose(work, "solved", actor=agent_id)
        finally:
            self._done()

    async def _after_call(self, agent_id: str, contact_id: str) -> None:
        try:
            if self._real_time:
                await anyio.sleep(self._rng.uniform(*self._habits.after_call))
            disposition = _pick(self._rng, self._habits.dispositions)
            await self._center.dispose(contact_id, disposition, actor=agent_id)
            if self._real_time:
                with contextlib.suppress(CallCenterError):  # the wrap-up timer may have ended it
                    await self._center.end_wrap_up(agent_id, actor=agent_id)
        finally:
            self._done()

    async def _back_to_work(self, agent_id: str) -> None:
        if self._real_time:
            await anyio.sleep(5.0)
        with contextlib.suppress(CallCenterError):
            await self._center.set_ready(agent_id, actor=agent_id)


def _compact(phone: str) -> str:
    """A phone number as a phone dials it: no spaces (``01 23`` -> ``0123``)."""
    return "".join(phone.split())


@attrs.frozen
class Person:
    """A caller: the account they type, and whether the directory knows them."""

    account: str
    known: bool


class Callers:
    """Draws who calls next: directory customers mostly, strangers sometimes."""

    def __init__(self, accounts: Sequence[str], habits: Habits, rng: random.Random) -> None:
        self._accounts = list(accounts)
        self._habits = habits
        self._rng = rng
        self.on_line: set[str] = set()

    def next(self) -> Person:
        """A person not already on the line."""
        while True:
            if self._rng.random() < self._habits.unknown or not self._accounts:
                person = Person(str(self._rng.randrange(900_000, 999_999)), known=False)
            else:
                person = Person(self._rng.choice(self._accounts), known=True)
            if person.account not in self.on_line:
                return person


@attrs.define
class _Leg:
    answered: anyio.Event = attrs.Factory(anyio.Event)
    ended: anyio.Event = attrs.Factory(anyio.Event)


class SipCrowd:
    """Callers and agents as SIP user agents on two pjsua2 pools of phones.

    Args:
        center: The call center (for the events that tell a caller someone answered).
        address: The call center's public SIP address (``host:port``).
        caller_phones: The pool whose legs are the callers.
        agent_phones: The pool whose legs are the agents' desk phones.
        accounts: Customer numbers callers type in the IVR.
        habits: How everyone behaves.
        rng: The random source.
        record_dir: When set, each agent records what they hear there.
        phones: Customer number -> their phone (as written in the directory): a
            known caller's phone sends it as its caller id (P-Asserted-Identity).
    """

    def __init__(
        self,
        center: CallCenter,
        *,
        address: str,
        caller_phones: MediaPool,
        agent_phones: MediaPool,
        accounts: Sequence[str],
        habits: Habits,
        rng: random.Random,
        record_dir: str | None = None,
        phones: Mapping[str, str] | None = None,
    ) -> None:
        self._center = center
        self._phones = dict(phones or {})
        self._address = address
        self._callers = caller_phones
        self._agents = agent_phones
        self._habits = habits
        self._rng = rng
        self._record_dir = record_dir
        self._people = Callers(accounts, habits, rng)
        self._legs: dict[str, _Leg] = {}
        self._connected: dict[str, anyio.Event] = {}
        self.placed = 0
        self.called_back = 0
        self.recordings: list[str] = []
        self.digits_sent = 0
        center.subscribe(self._see)

    def _see(self, _seq: int, event: Event) -> None:
        if isinstance(event, ContactConnected):
            contact = self._center.contact(event.contact_id)
            account = str(contact.attributes.get("account", "")) if contact else ""
            if account in self._connected:
                self._connected[account].set()

    def _leg(self, call_id: str) -> _Leg:
        return self._legs.setdefault(call_id, _Leg())

    async def _read(self, pool: MediaPool, tg: TaskGroup) -> None:
        async for event in pool.events():
            self._see_media(event, pool, tg)

    def _see_media(self, event: MediaEvent, pool: MediaPool, tg: TaskGroup) -> None:
        if isinstance(event, CallIncoming) and pool is self._agents:
            tg.start_soon(self._agent, sip_user(event.to_uri), event.call_id)
        elif isinstance(event, CallIncoming):  # the center calls a customer back
            tg.start_soon(self._called_back, event.call_id)
        if not isinstance(event, CallEvent):
            return
        leg = self._leg(event.call_id)
        if isinstance(event, CallAnswered):
            leg.answered.set()
        elif isinstance(event, CallEnded):
            leg.ended.set()

    async def run(self, duration: float) -> None:
        """Place calls for ``duration`` seconds, then let the calls on the line finish."""
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._read, self._callers, tg)
            tg.start_soon(self._read, self._agents, tg)
            async with anyio.create_task_group() as calls:
                with anyio.move_on_after(duration):
                    while True:
                        await anyio.sleep(self._rng.expovariate(self._habits.arrivals_per_second))
                        if len(self._people.on_line) < self._habits.max_callers:
                            person = self._people.next()
                            self._people.on_line.add(person.account)
                            calls.start_soon(self._call, person)
            tg.cancel_scope.cancel()

    async def _call(self, person: Person) -> None:
        """One caller: dial, type the account and a topic, wait, talk, hang up."""
        habits, rng = self._habits, self._rng
        connected = self._connected[person.account] = anyio.Event()
        call_id: str | None = None
        try:
            phone = self._phones.get(person.account) if person.known else None
            line = _pick(rng, habits.lines)
            call_id = await self._callers.originate(
                f"sip:{line}@{self._address}", caller_id=_compact(phone) if phone else None
            )
            self.placed += 1
            leg = self._leg(call_id)
            with anyio.move_on_after(15):
                await leg.answered.wait()
            if not leg.answered.is_set():
                return
            await anyio.sleep(0.6)
            await self._callers.send_dtmf(call_id, person.account + "#")
            await anyio.sleep(1.2)
            if phone and rng.random() < habits.callback:  # "call me back", then accept
                menu, accept = habits.callback_keys
                await self._callers.send_dtmf(call_id, menu)
                await anyio.sleep(2.5)  # the offer plays
                await self._callers.send_dtmf(call_id, accept)
                with anyio.move_on_after(30):  # the center confirms and hangs up
                    await leg.ended.wait()
                return
            await self._callers.send_dtmf(call_id, _pick(rng, habits.topics))
            self.digits_sent += len(person.account) + 2
            await self._callers.play(call_id, Tone((CALLER_VOICE,)))
            with anyio.move_on_after(5.0 + rng.expovariate(1 / habits.patience)):
                await connected.wait()
            if connected.is_set():  # talk until one of us hangs up
                with anyio.move_on_after(rng.uniform(*habits.talk)):
                    await leg.ended.wait()
        except CallCenterError:
            return
        finally:
            self._people.on_line.discard(person.account)
            self._connected.pop(person.account, None)
            if call_id is not None:
                with contextlib.suppress(CallCenterError):
                    await self._callers.hangup(call_id)
                self._legs.pop(call_id, None)

    async def _called_back(self, call_id: str) -> None:
        """A customer's phone rings: the center calls back; they pick up and talk."""
        leg = self._leg(call_id)
        try:
            with anyio.move_on_after(self._rng.uniform(*self._habits.ring)):
                await leg.ended.wait()
            if leg.ended.is_set():
                return
            await self._callers.answer(call_id)
            self.called_back += 1
            await self._callers.play(call_id, Tone((CALLER_VOICE,)))
            with anyio.move_on_after(self._rng.uniform(*self._habits.talk)):
                await leg.ended.wait()
            if not leg.ended.is_set():
                await self._callers.hangup(call_id)
        except CallCenterError:
            return
        finally:
            if leg.ended.is_set():
                self._legs.pop(call_id, None)

    async def _agent(self, agent: str, call_id: str) -> None:
        """One ring of an agent's desk phone."""
        habits, rng, phones = self._habits, self._rng, self._agents
        leg = self._leg(call_id)
        draw = rng.random()
        try:
            if draw < habits.busy:
                await anyio.sleep(0.3)
                await phones.hangup(call_id, status_code=486)
                return
            if draw < habits.busy + habits.no_answer:
                await leg.ended.wait()  # the call center gives up at its offer timeout
                return
            with anyio.move_on_after(rng.uniform(*habits.ring)):
                await leg.ended.wait()
            if leg.ended.is_set():
                return
            await phones.answer(call_id)
            await phones.play(call_id, Tone((AGENT_VOICE,)))
            if self._record_dir is not None:
                path = f"{self._record_dir}/{agent}-{call_id.replace(':', '_')}.wav"
                await phones.start_recording(call_id, path)
                self.recordings.append(path)
            ends_it = rng.random() < habits.agent_hangs_up
            with anyio.move_on_after(rng.uniform(*habits.talk) if ends_it else 300):
                await leg.ended.wait()
            if not leg.ended.is_set():
                await phones.hangup(call_id)
        except CallCenterError:
            return
        finally:
            if leg.ended.is_set():
                self._legs.pop(call_id, None)


class VirtualCrowd:
    """The same people on the virtual backend: scripted callers and phones, virtual time.

    Args:
        backend: The virtual backend the call center runs on.
        center: The call center (each ring gets a freshly drawn phone script).
        devices: Agent id -> the SIP URI of their desk phone.
        accounts: Customer numbers callers type in the IVR.
        habits: How everyone behaves.
        rng: The random source.
        phones: Customer number -> their phone: a known caller calls from it.
        gateway: The URI template the center calls customers back through
            (its dial plan's ``gateway``): a caller asking for a callback has
            their phone there, and answers it.
    """

    def __init__(
        self,
        backend: VirtualBackend,
        center: CallCenter,
        *,
        devices: Mapping[str, str],
        accounts: Sequence[str],
        habits: Habits,
        rng: random.Random,
        phones: Mapping[str, str] | None = None,
        gateway: str | None = None,
    ) -> None:
        self._backend = backend
        self._gateway = gateway
        self._region = center.directory.region
        self._phones = dict(phones or {})
        self._devices = devices
        self._habits = habits
        self._rng = rng
        self._people = Callers(accounts, habits, rng)
        self.placed = 0
        center.subscribe(self._see)

    def _see(self, _seq: int, event: Event) -> None:
        if isinstance(event, ContactOffered):  # how this phone will react to this ring
            habits, rng = self._habits, self._rng
            draw = rng.random()
            if draw < habits.busy:
                script = PartyScript(answer_after=0.3, reject=486)
            elif draw < habits.busy + habits.no_answer:
                script = PartyScript(answer_after=None)
            else:
                talk = rng.uniform(*habits.talk) if rng.random() < habits.agent_hangs_up else None
                script = PartyScript(answer_after=rng.uniform(*habits.ring), talk_for=talk)
            self._backend.add_phone(self._devices[event.agent_id], script)

    def schedule(self, duration: float) -> None:
        """Make the calls of the next ``duration`` seconds arrive (Poisson)."""
        habits, rng = self._habits, self._rng
        at = rng.expovariate(habits.arrivals_per_second)
        while at < duration:
            person = self._people.next()
            phone = self._phones.get(person.account) if person.known else None
            number = _compact(phone) if phone else f"+3361{person.account}"
            topic = _pick(rng, habits.topics)
            presses = [(0.6, person.account + "#"), (1.8, topic)]
            if phone and self._gateway and rng.random() < habits.callback:
                menu, accept = habits.callback_keys
                presses = [(0.6, person.account + "#"), (1.8, menu), (4.0, accept)]
                e164 = to_e164(number, self._region)
                callback = PartyScript(answer_after=rng.uniform(*habits.ring),
                                       talk_for=rng.uniform(*habits.talk))  # fmt: skip
                self._backend.add_phone(self._gateway.format(number=e164), callback)
            script = PartyScript(
                press=presses,
                patience=12.0 + rng.expovariate(1 / habits.patience),
                talk_for=rng.uniform(*habits.talk),
            )
            line = _pick(rng, habits.lines)
            self._backend.inject_call(
                f"sip:{number}@carrier", f"sip:{line}@center", script, after=at
            )
            self.placed += 1
            at += rng.expovariate(habits.arrivals_per_second)
