"""The center's promises, in the store before they are made, and back after a restart.

A call center makes promises: "please hold, you keep your place", "we will
call you back", "your ticket is open". The :class:`Ledger` commits each to
the store (:class:`~callcenter_sdk.store.PendingWork`) **before** the
runtime makes it, hands work over with a claim that a crash returns (never a
delete before the work is safely with an agent), and at start-up puts back
what a previous run of the same node promised:

* callbacks kept in place come back into their queue at their original
  place (``entered_at``) and are called back exactly once: a callback is
  claimed while its customer is dialled and marked made when they answer;
* waiting non-voice contacts come back with their original arrival time;
* waiting voice callers cannot: their legs ended with the process that held
  them (the media workers hang up every call when their supervisor dies), so
  each is closed as interrupted (a ``runtime.call_interrupted`` event);
* agents' open sessions continue (same session, same log-in time).

Store I/O runs in worker threads, never on the event loop: routing goes on
while the database works, and a failing database is logged and reported,
never raised into the call flow (except where the promise itself depends on
it: a callback that cannot be stored is not promised).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Collection
from typing import ParamSpec, TypeVar

import anyio
import anyio.from_thread
import anyio.to_thread
import attrs

from .._clock import Clock
from .._errors import CallCenterError, StoreError
from .._events import Event, EventStream
from ..acd import Action, AgentState, Contact, Engine
from ..kpi import Channel
from ..store import (
    AgentSessions,
    CallbackRecord,
    PendingWork,
    Store,
    WaitingContactRecord,
    contact_from_record,
    is_unwritable,
    waiting_record,
)
from ._events import CallInterrupted, WorkRestored
from ._takeover import InHandReader

__all__: list[str] = []

_log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

_ENTERED = "entered_at"
_SEEN_AS = "contact_id"  # the id the events knew a stored contact by
_CONTACT = "contact"


def loop_relay(target: EventStream) -> EventStream:
    """A stream to hand to a part that works in threads: its events reach ``target`` on the loop.

    Subscribers of the runtime's stream (the ACD's books, the ledger, the
    event writer, a wallboard) expect to run on the event loop; a ticket desk
    saving in a worker thread publishes through this relay instead, and each
    event is published on ``target`` from the loop's thread, in order.
    Build it on the event loop's thread.
    """
    loop_thread = threading.get_ident()
    relay = EventStream()

    def forward(_seq: int, event: Event) -> None:
        if threading.get_ident() == loop_thread:
            target.publish(event)
        else:
            anyio.from_thread.run_sync(target.publish, event)

    relay.subscribe(forward)
    return relay


_BACKLOG = 10_000
"""Writes the ledger holds while the database is slow or down; beyond, best-effort ones drop."""

_BACKOFF = (0.1, 5.0)
"""A failed best-effort write is retried after 0.1 s, doubling up to 5 s, until it lands."""

_PROMISE_WAIT = 5.0
"""Seconds a promise waits for its turn; then it is withdrawn, not made (the caller is told)."""


@attrs.define
class _Write:
    """One store write, in the order the runtime asked for it."""

    what: str
    call: Callable[[], object]
    promise: bool = False
    done: anyio.Event = attrs.Factory(anyio.Event)
    error: CallCenterError | None = None
    started: bool = False  # handed to a worker thread: it may commit, it cannot be withdrawn
    withdrawn: bool = False  # a promise given up before it started: skipped, never written


class Ledger:
    """Durable promises of one call-center node.

    Writes go through one ordered backlog, written by one task in a worker
    thread: a contact's "waiting" row can never be written after its
    "served" one, and the event loop never waits for the database. A
    best-effort write (a voice caller's place, an agent's session) that
    fails is retried with backoff until it lands. A promise (a callback)
    is written once, in its turn, or not made: while the ledger backs off
    from a failing database it is refused at once, and one still waiting
    for its turn after :data:`_PROMISE_WAIT` seconds is withdrawn (it is
    then never written, so nothing is stored that the caller was not told);
    one already being written is waited for, so its answer is the truth.

    Args:
        store: Where promises live.
        clock: The runtime's clock (times stored are its times).
        events: Where restorations and interruptions are published.
        holder: This node's name on its claims; a node restarting under the
            same name takes its own claims back at once.
        lease_s: How long a claim holds without being completed (another
            node may take the work after that).
        backlog: Writes held while the database is down (best-effort writes
            beyond it are dropped and counted in :attr:`dropped`).
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock,
        events: EventStream,
        holder: str,
        lease_s: float = 120.0,
        backlog: int = _BACKLOG,
    ) -> None:
        self.work = PendingWork(store)
        self.sessions = AgentSessions(store)
        self._clock = clock
        self._events = events
        self.holder = holder
        self.restored: list[Contact] = []  # the waiting contacts restore() put back
        self.adopted: dict[str, str] = {}  # of those, the ones given back to an agent: by whom
        # voice callers restore() put back (contact, queue, entered_at, stored id): their leg lives
        self.callers: list[tuple[Contact, str, float, str]] = []
        self._lease_s = lease_s
        self._backlog: deque[_Write] = deque()
        self._limit = backlog
        self._wake = anyio.Event()
        self._idle = anyio.Event()
        self._idle.set()
        self._busy = False
        self.backing_off = False
        self.dropped = 0
        self._changed = anyio.Event()  # a write finished, or backing off started or ended
        self._writing = False
        self._reading = 0
        self._read_done = anyio.Event()

    # -- the backlog ----------------------------------------------------------------------
    async def run_writes(self) -> None:
        """Write the backlog in order, forever (run it in the center's task group)."""
        self._writing = True
        try:
            delay = _BACKOFF[0]
            while True:
                if not self._backlog:
                    self._busy = False
                    self._idle.set()
                    self._wake = anyio.Event()
                    await self._wake.wait()
                    continue
                self._busy = True
                # shielded: a write that started finishes and is accounted for, even
                # when the center is being cancelled (it is then not written twice)
                with anyio.CancelScope(shield=True):
                    landed = await self._write_head()
                if landed:
                    delay = _BACKOFF[0]
                else:
                    await anyio.sleep(delay)
                    delay = min(delay * 2, _BACKOFF[1])
        finally:
            self._writing = False

    async def _write_head(self) -> bool:
        """Write the oldest write; ``False`` when the database failed and it must wait."""
        write = self._backlog[0]
        if write.withdrawn:
            self._backlog.popleft()
            write.done.set()
            return True
        write.started = True
        try:
            await anyio.to_thread.run_sync(write.call)
        except CallCenterError as exc:
            if write.promise:  # its caller decides; never retried behind their back
                write.error = exc
            elif not _transient(exc):  # about the data: retrying cannot help
                _log.error("%s failed for good, dropped: %s", write.what, exc)
                self.dropped += 1
            else:
                if not self.backing_off:
                    _log.warning(
                        "%s failed; holding the center's writes (%d now, up to %d) and "
                        "retrying every %g to %g s until the database answers: %s",
                        write.what,
                        len(self._backlog),
                        self._limit,
                        *_BACKOFF,
                        exc,
                    )
                    self.backing_off = True
                    self._notify()
                return False
        else:
            if self.backing_off:
                _log.info("the ledger writes again (%d waiting)", len(self._backlog) - 1)
                self.backing_off = False
        self._backlog.popleft()
        write.done.set()
        self._notify()
        return True

    def _notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    def _submit(self, write: _Write) -> _Write:
        if len(self._backlog) >= self._limit and not write.promise:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                _log.error("ledger backlog full (%d): %s dropped", self._limit, write.what)
            write.done.set()
            return write
        self._backlog.append(write)
        self._idle = anyio.Event() if self._idle.is_set() else self._idle
        self._wake.set()
        return write

    def later(self, what: str, call: Callable[[], object]) -> _Write:
        """Write ``call`` after everything asked before, retrying while the database is down.

        For work that must not be lost but need not hold the call up: a
        ticket opened for a voicemail, an agent's session. ``call`` runs in
        a worker thread. Await :meth:`written` on the result to wait for it.
        """
        return self._submit(_Write(what, call))

    async def written(self, write: _Write) -> bool:
        """Wait (a few seconds at most) for a write asked with :meth:`later`; ``True`` if done.

        Returns ``False`` at once while the ledger backs off from a failing
        database: the write waits in the backlog and lands when it is back.
        """
        with anyio.move_on_after(_PROMISE_WAIT):
            while not write.done.is_set() and not self.backing_off:
                await self._changed.wait()
        return write.done.is_set()

    async def _promise(self, what: str, call: Callable[[], object]) -> None:
        if self.backing_off:
            raise StoreError(f"{what}: not written, the database is failing (backing off)")
        write = self._submit(_Write(what, call, promise=True))
        with anyio.move_on_after(_PROMISE_WAIT):
            while not write.done.is_set() and not self._stuck(write):
                await self._changed.wait()
        if not write.done.is_set() and not write.started:
            write.withdrawn = True  # skipped in its turn: never stored, as never promised
            raise StoreError(f"{what}: withdrawn, the database is failing or slow")
        await write.done.wait()  # its one attempt is running: its outcome is the answer
        if write.error is not None:
            raise write.error

    def _stuck(self, write: _Write) -> bool:
        """Whether ``write`` waits behind a write the failing database keeps refusing."""
        return self.backing_off and not write.started

    @property
    def in_flight(self) -> bool:
        """Whether a store call runs or a write waits (and the database is not failing)."""
        return bool(self._reading or ((self._backlog or self._busy) and not self.backing_off))

    async def settled(self) -> None:
        """Return once every write asked for has landed, or the database is failing.

        A driver of virtual time awaits this before moving the clock, so a
        write takes no virtual time; while the database is down the writes
        wait in the backlog and virtual time goes on, as it would live.
        """
        while self.in_flight:
            if self._reading:
                await self._read_done.wait()
                continue
            with anyio.move_on_after(0.05):
                await self._idle.wait()

    @property
    def pending(self) -> int:
        """Writes asked for and not landed yet (at most the backlog's limit, plus promises)."""
        return len(self._backlog)

    async def drained(self) -> None:
        """Return once every write asked for has landed, however long the database takes.

        Unlike :meth:`settled` this waits through an outage: bound it with
        ``anyio.fail_after`` (tests, a graceful shutdown that may wait).
        """
        while self._backlog or self._busy:
            await self._idle.wait()

    async def read(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a blocking store call in a worker thread; :meth:`settled` waits for it too."""
        self._reading += 1
        try:
            return await anyio.to_thread.run_sync(lambda: function(*args, **kwargs))
        finally:
            self._reading -= 1
            if not self._reading:
                self._read_done.set()
                self._read_done = anyio.Event()

    # -- waiting contacts -----------------------------------------------------------------
    def queued(
        self, contact: Contact, queue: str, entered_at: float, *, stored_id: str | None = None
    ) -> _Write:
        """A contact joined a queue: store it with its original arrival.

        ``stored_id`` names the row when the contact's own id may repeat in a
        later run (a media leg's id); the contact's id is kept with it. Await
        :meth:`written` on the result to know it is stored.
        """
        stored = attrs.evolve(contact, id=stored_id or contact.id)
        record = waiting_record(stored, queue=queue, arrived_at=entered_at)
        record = attrs.evolve(record, data={**record.data, _SEEN_AS: contact.id})
        return self.later(
            f"storing waiting contact {contact.id}", lambda: self.work.put_waiting(record)
        )

    def served(self, contact_id: str) -> None:
        """The contact left its queue for good (connected, abandoned, released)."""
        self.later(
            f"serving waiting contact {contact_id}",
            lambda: self.work.remove_waiting(contact_id),
        )

    # -- callbacks ------------------------------------------------------------------------
    async def promise_callback(
        self,
        contact: Contact,
        *,
        number: str,
        queue: str,
        entered_at: float,
        waiting: bool = True,
        due_at: float | None = None,
    ) -> None:
        """Store a callback keeping the caller's place, before the caller hears the promise.

        ``due_at`` is when it should be called back (now by default: it joins
        its queue at once); a later one waits in the store until then.

        The contact's waiting row is served in the same step: it is now a
        callback and must not come back as an interrupted call.

        Raises:
            StoreError: It could not be stored: do not promise it.
        """
        record = waiting_record(contact, queue=queue, arrived_at=entered_at)
        now = self._clock.now()
        callback = CallbackRecord(
            callback_id=contact.id,
            phone=number,
            queue=queue,
            requested_at=now,
            due_at=now if due_at is None else due_at,
            data={_ENTERED: entered_at, _CONTACT: record.data},
        )

        def store() -> None:
            self.work.put_callbacks(callback)
            if waiting:  # it waited in a queue: that row is now the callback
                self.work.remove_waiting(contact.id)

        await self._promise(f"storing callback {contact.id}", store)

    def dialling(self, callback_id: str) -> None:
        """Claim a callback while its customer is dialled (a crash gives it back)."""
        now = self._clock.now()
        self.later(
            f"claiming callback {callback_id}",
            lambda: self.work.claim_callback(
                callback_id, holder=self.holder, lease_s=self._lease_s, now=now
            ),
        )

    async def made(self, callback_id: str) -> None:
        """The customer answered: the callback is made and never comes back.

        Awaited before the customer is bridged to the agent, so a crash after
        the conversation started never calls them a second time.
        """
        try:
            await self._promise(
                f"completing callback {callback_id}",
                lambda: self.work.remove_callback(callback_id),
            )
        except CallCenterError as exc:  # the call goes on; the row is retried in order
            _log.warning("completing callback %s failed, retrying: %s", callback_id, exc)
            self.failed(callback_id)

    def failed(self, callback_id: str) -> None:
        """The callback failed for good (busy, no answer): it is not made again."""
        self.later(
            f"closing callback {callback_id}", lambda: self.work.remove_callback(callback_id)
        )

    # -- agents ---------------------------------------------------------------------------
    def logged_in(self, agent_id: str, position: str = "") -> None:
        """Open an agent's session (at ``position``, kept so a restart seats them there again)."""
        now = self._clock.now()
        data = {"position": position} if position else None
        self.later(
            f"opening the session of {agent_id}",
            lambda: self.sessions.start(agent_id, now, data),
        )

    def logged_out(self, agent_id: str) -> None:
        """Close an agent's session."""
        now = self._clock.now()
        self.later(f"closing the session of {agent_id}", lambda: self.sessions.end(agent_id, now))

    async def open_sessions(self) -> dict[str, str]:
        """Agents whose session a previous run left open, and the position each sat at ("")."""
        try:
            return {
                s.agent_id: str(s.data.get("position", ""))
                for s in await self.read(self.sessions.open_sessions)
            }
        except StoreError as exc:
            _log.warning("reading agent sessions failed: %s", exc)
            return {}

    # -- restart --------------------------------------------------------------------------
    async def aclose(self, budget: float = 5.0) -> None:
        """Write what is left in the backlog, for at most ``budget`` seconds.

        Works whether the writing task still runs or was cancelled with the
        center's task group first.
        """
        with anyio.move_on_after(budget):
            while self._backlog and not self.backing_off:
                if self._writing:
                    await self._idle.wait()
                elif not await self._write_head():
                    break
        if self._backlog:
            _log.error("%d ledger writes left unwritten at close", len(self._backlog))

    async def restore(
        self,
        engine: Engine,
        *,
        rename: Callable[[str], str] = str,
        in_hand: Callable[[list[WaitingContactRecord]], Awaitable[InHandReader]] | None = None,
        callers: Collection[str] = (),
        connected: Collection[str] = (),
    ) -> tuple[list[Action], list[CallbackRecord], float | None]:
        """Put back what this node promised before it stopped.

        Returns the engine's actions, the callbacks put back (those due now),
        and when the next callback scheduled for later falls due (see
        :meth:`due_callbacks`).

        Args:
            engine: The ACD the work goes back into.
            rename: The engine's contact id for a restored callback's stored id.
            in_hand: Where the log last left the stored written contacts (a
                cluster leader's :meth:`TermStart.in_hand`). One in the hand
                of an agent logged in here is adopted at that agent
                (:attr:`adopted`) rather than queued again; one the log
                shows completed is closed.
            callers: The voice callers whose leg is still up, waiting (a
                cluster leader reads them from the surviving nodes): their
                stored rows go back in their queues at their original place
                (:attr:`callers`) instead of being closed as interrupted.
            connected: The voice callers a cluster leader adopted, bridged to
                their agent: a row of theirs (its close lost with the
                previous leader) is closed, neither queued nor interrupted.

        Raises:
            StoreError: The store cannot be read: the center cannot know its promises.
        """
        now = self._clock.now()
        await self.read(self._release_own_claims)
        waiting = await self.read(self.work.waiting, now=now)
        actions: list[Action] = []
        live = set(engine.live_contacts())
        interrupted = 0
        restored_waiting = 0
        ended = 0
        written = [
            r for r in waiting if r.channel != Channel.VOICE.value and r.contact_id not in live
        ]
        held = await in_hand(written) if in_hand is not None and written else None
        for record in waiting:
            if record.contact_id in live:
                continue
            if record.channel == Channel.VOICE.value and seen_as(record) in connected:
                self.served(record.contact_id)
                continue
            if record.channel == Channel.VOICE.value and seen_as(record) in callers:
                caller = attrs.evolve(contact_from_record(record), id=seen_as(record))
                entered = min(record.arrived_at, now)
                actions += engine.arrive(caller, record.queue, entered_at=entered)
                self.callers.append((caller, record.queue, entered, record.contact_id))
                restored_waiting += 1
                continue
            if record.channel == Channel.VOICE.value:
                interrupted += 1
                self.served(record.contact_id)
                self._events.publish(
                    CallInterrupted(
                        at=now,
                        contact_id=seen_as(record),
                        queue=record.queue,
                        waited=max(0.0, now - record.arrived_at),
                    )
                )
                continue
            contact = contact_from_record(record)
            if held is not None and seen_as(record) in held.ended:
                ended += 1  # its end was logged, its row not yet closed: never queued again
                self.served(record.contact_id)
                continue
            adopted = None if held is None else self._adopt(engine, contact, record, held, now)
            if adopted is not None:
                actions += adopted
                continue
            actions += engine.arrive(contact, record.queue, entered_at=min(record.arrived_at, now))
            self.restored.append(contact)
            restored_waiting += 1
        more, restored, later = await self.due_callbacks(engine, rename=rename)
        actions += more
        self._events.publish(
            WorkRestored(
                at=now,
                waiting=restored_waiting,
                callbacks=len(restored),
                interrupted=interrupted,
                adopted=len(self.adopted),
                ended=ended,
            )
        )
        return actions, restored, later

    def _adopt(
        self,
        engine: Engine,
        contact: Contact,
        record: WaitingContactRecord,
        held: InHandReader,
        now: float,
    ) -> list[Action] | None:
        """Give ``contact`` back to the agent the log left it with, if they are logged in.

        Returns the engine's actions, or ``None`` when it is to be queued again.
        """
        hand = held.in_hand.get(seen_as(record))
        if hand is None:
            return None
        try:
            if engine.agent_status(hand.agent_id).state is AgentState.OFFLINE:
                return None  # their session is gone (or not seated again): queued again
            connected = min(hand.connected_at, now)
            actions = engine.adopt(
                contact,
                hand.queue,
                hand.agent_id,
                entered_at=min(record.arrived_at, hand.entered_at, connected),
                connected_at=connected,
            )
        except CallCenterError as exc:  # no such agent or queue now, or no room: queued again
            _log.warning("%s not given back to %s: %s", contact.id, hand.agent_id, exc)
            return None
        self.adopted[contact.id] = hand.agent_id
        self.restored.append(contact)
        return actions

    async def due_callbacks(
        self, engine: Engine, *, rename: Callable[[str], str] = str
    ) -> tuple[list[Action], list[CallbackRecord], float | None]:
        """Put the stored callbacks due now in their queues, keeping their place.

        A callback scheduled for later (``due_at`` in the future: "call me
        back at 3 pm") waits in the store; the next such time is returned so
        the center calls this again then. Callbacks already in the engine
        are skipped.
        """
        now = self._clock.now()
        callbacks = await self.read(self.work.callbacks, now=now)
        live = set(engine.live_contacts())
        actions: list[Action] = []
        restored: list[CallbackRecord] = []
        for callback in callbacks:
            if callback.due_at > now or rename(callback.callback_id) in live:
                continue
            contact = attrs.evolve(_callback_contact(callback), id=rename(callback.callback_id))
            entered = float(callback.data.get(_ENTERED, callback.requested_at))
            actions += engine.arrive(
                contact, callback.queue, entered_at=min(entered, now), callback=callback.phone
            )
            restored.append(callback)
        later = min((c.due_at for c in callbacks if c.due_at > now), default=None)
        return actions, restored, later

    def _release_own_claims(self) -> None:
        released = self.work.release_claims(self.holder)
        if released:
            _log.info("took back %d claims %s held when it stopped", released, self.holder)


def seen_as(record: WaitingContactRecord) -> str:
    """The id the events knew a stored contact by."""
    return str(record.data.get(_SEEN_AS, record.contact_id))


def _transient(error: CallCenterError) -> bool:
    """A database outage (retry) rather than a value it refuses or a conflict (do not)."""
    return isinstance(error, StoreError) and not is_unwritable(error)


def _callback_contact(callback: CallbackRecord) -> Contact:
    data = callback.data.get(_CONTACT)
    if not isinstance(data, dict):
        return Contact(id=callback.callback_id, caller_id=callback.phone)
    stored = WaitingContactRecord(
        contact_id=callback.callback_id,
        channel=Channel.VOICE.value,
        queue=callback.queue,
        arrived_at=callback.requested_at,
        data=data,
    )
    return contact_from_record(stored)
