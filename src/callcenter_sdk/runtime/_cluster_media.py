"""The leader's media backend: its own node's pool, and every other node's through the database.

:class:`ClusterMedia` implements :class:`~callcenter_sdk.media.MediaBackend`
for a cluster's leader, so the IVR, the ACD and the bridging run unchanged
while the calls live on any node. A call is named ``"<node>/<leg>"``: the
node whose workers hold it, and the leg's id there. A command for the
leader's own node goes straight to its pool (while the term lasts); a
command for another node is a row of ``media_commands`` written through
the leader's fence, carried out by that node's
:class:`~callcenter_sdk.runtime._media_node.MediaAgent`, whose answer
comes back in the same row. An agent's leg dialled ``near`` a caller is
dialled by the caller's node, so both legs share a worker and can be
bridged. Events of the other nodes are read from ``media_events``, each
node after the last seq taken from it; ``NOTIFY`` only wakes the reader.

A node that dies writes no end for its legs, so the leader keeps a book
of the legs it knows on each other node (announced or dialled, not yet
ended) and reads the nodes' heartbeats at each poll: once a node with
legs in the book is down (its heartbeat expired on the database's clock)
or left, or started again (a new ``started_at``), its legs end with
``CallEnded(cause=WORKER_LOST)`` and one :class:`~callcenter_sdk.media.WorkerLost`
(worker: the node) is published, as the pool does for a dead worker, so
the center closes those calls and frees their agents. A leg id a
restarted node uses again is a new call: the old leg with that id ends
first.

.. versionadded:: 0.2
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import anyio
import anyio.abc
import attrs
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .._errors import CallCenterError, MediaError, NotFoundError
from .._events import event_from_dict
from ..media import (
    CallAnswered,
    CallEnded,
    CallEvent,
    CallIncoming,
    CallRinging,
    DtmfMethod,
    EndCause,
    MediaBackend,
    MediaEvent,
    MonitorMode,
    Prompt,
    WorkerLost,
    WorkerStarted,
)
from ..store import LeaseLost, LiveCall, MediaRows, Nodes, Notifications, StoredMediaEvent
from ..store._media import MEDIA_EVENTS_CHANNEL, MEDIA_RESULTS_CHANNEL, STALE
from ._cluster import Elector
from ._media_node import MediaAgent, encode_args, raise_error

__all__ = ["ClusterMedia", "call_id_of", "open_cluster_media", "split_call_id"]

_log = logging.getLogger(__name__)

SEPARATOR = "/"


def call_id_of(node: str, leg: str) -> str:
    """The cluster-wide id of leg ``leg`` of node ``node``."""
    return f"{node}{SEPARATOR}{leg}"


def split_call_id(call_id: str) -> tuple[str, str]:
    """The node and the leg of a cluster-wide call id.

    Raises:
        NotFoundError: It names no node.
    """
    node, found, leg = call_id.partition(SEPARATOR)
    if not found or not node or not leg:
        raise NotFoundError(f"no live call {call_id!r} (a cluster's call id is node/leg)")
    return node, leg


def _named(node: str, event: MediaEvent) -> MediaEvent:
    """``event`` of node ``node`` with its call ids and worker names made cluster-wide."""
    if isinstance(event, CallIncoming):
        return attrs.evolve(
            event, call_id=call_id_of(node, event.call_id), worker=call_id_of(node, event.worker)
        )
    if isinstance(event, CallEvent):
        return attrs.evolve(event, call_id=call_id_of(node, event.call_id))
    if isinstance(event, WorkerLost):
        lost = tuple(call_id_of(node, leg) for leg in event.lost_calls)
        return attrs.evolve(event, worker=call_id_of(node, event.worker), lost_calls=lost)
    if isinstance(event, WorkerStarted):
        return attrs.evolve(event, worker=call_id_of(node, event.worker))
    return event


def _named_call(call: LiveCall) -> LiveCall:
    """``call`` with its id and the leg it is bridged with made cluster-wide."""
    mate = call.bridged_with
    return attrs.evolve(
        call,
        call_id=call_id_of(call.node, call.call_id),
        bridged_with=None if mate is None else call_id_of(call.node, mate),
    )


def _lasts(op: str, args: Mapping[str, Any]) -> float:
    """How long command ``op`` may take by itself at most (collecting digits waits for them)."""
    if op != "collect_dtmf":
        return 0.0
    first = float(args.get("first_digit_timeout") or 0.0)
    each = args.get("inter_digit_timeout")
    return first + int(args.get("max_digits") or 1) * float(first if each is None else each)


class _Waiting:
    """A command written for another node, until its outcome is read."""

    def __init__(self, node: str) -> None:
        self.node = node
        self.done = anyio.Event()
        self.result: Any = None
        self.error: str | None = None


class ClusterMedia:
    """A :class:`~callcenter_sdk.media.MediaBackend` over every node's media, for one term.

    Build it with :func:`open_cluster_media`, which runs its readers.

    Args:
        agent: This node's media agent (its own pool).
        rows: The domain's media tables.
        elector: This node's elector, leading at ``epoch``.
        epoch: The term whose commands these are.
        poll: Seconds between reads when no ``NOTIFY`` came.
        take_within: Seconds a node has to take a command (beyond the time the
            command itself may last) before it is withdrawn as failed: its
            node is down.
        clock: Unix time, for the rows' timestamps.

    .. versionadded:: 0.2
    """

    def __init__(
        self,
        agent: MediaAgent,
        rows: MediaRows,
        elector: Elector,
        *,
        epoch: int,
        poll: float = 0.5,
        take_within: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._agent = agent
        self._rows = rows
        self._elector = elector
        self._epoch = epoch
        self._poll = poll
        self._clock = clock
        self._node = agent.node
        self._send: MemoryObjectSendStream[MediaEvent]
        self._receive: MemoryObjectReceiveStream[MediaEvent]
        self._send, self._receive = anyio.create_memory_object_stream[MediaEvent](100_000)
        self._waiting: dict[str, _Waiting] = {}
        self._handed_over = False
        self._announced: set[str] = set()
        self._timeout = take_within
        self._legs: dict[str, dict[str, None]] = {}  # other nodes' live legs, by node
        self._lost: set[str] = set()  # legs of a dead node: commands for them fail at once
        self._started: dict[str, float] = {}  # each node's start, at the last look
        self._originating: dict[str, int] = {}  # node -> its legs being dialled (see originate)
        self._held: dict[str, list[MediaEvent]] = {}  # node -> events held meanwhile
        self._dialled: set[str] = set()  # legs the center was given by originate or adopt
        self.marks: dict[str, int] = {}
        """The last seq read from each other node's events."""
        self.since = 0
        """Other nodes' events up to this seq were there before the term (see adoption)."""

    @property
    def node(self) -> str:
        """The leader's own node."""
        return self._node

    @property
    def local(self) -> MediaBackend:
        """The leader's own node's media (its pool), which its agent runs."""
        return self._agent.backend

    def hand_over(self) -> None:
        """Refuse every command from now on, leaving the calls as they are.

        A leader stopping cleanly calls it before its center closes, so
        that closing hangs up no call of another node: the next leader
        adopts them.
        """
        self._handed_over = True

    # -- running ----------------------------------------------------------------------------
    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Read the other nodes' events and the commands' outcomes until cancelled."""
        self._agent.on_event = self._local
        events = Notifications(self._rows.store, [MEDIA_EVENTS_CHANNEL])
        results = Notifications(self._rows.store, [MEDIA_RESULTS_CHANNEL])
        try:
            self.since = await anyio.to_thread.run_sync(self._rows.last_seq)
            await self._ringing()
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._read_events, events)
                tg.start_soon(self._read_outcomes, results)
                tg.start_soon(self._watch_nodes)
                task_status.started()
        finally:
            self._agent.on_event = None
            events.close()
            results.close()
            self._send.close()
            self._receive.close()
            for waiting in self._waiting.values():
                waiting.error = "MediaError: the term ended"
                waiting.done.set()

    def _alive(self) -> Callable[[str], bool]:
        """Whether a node's media runs: its heartbeat is valid (a node with none counts as up)."""
        try:
            view = Nodes(self._rows.store).view(self._rows.domain)
        except CallCenterError:
            return lambda _node: True
        up = {status.node: status.up for status in view.nodes}
        return lambda node: node == self._node or up.get(node, True)

    async def _ringing(self) -> None:
        """Announce the callers ringing on live nodes when the term starts (they came meanwhile).

        A call that reached a node while no leader ran (a takeover) rings
        there, unanswered: the term takes it as a new arrival.
        """

        def read() -> list[StoredMediaEvent]:
            alive = self._alive()
            calls = [c for c in self._rows.calls() if c.state == "ringing" and alive(c.node)]
            return self._rows.arrivals(calls)

        for stored in await anyio.to_thread.run_sync(read):
            self._forward(stored)

    async def live_calls(self) -> list[LiveCall]:
        """The legs alive now on the nodes whose media runs, with cluster-wide ids.

        As each node last recorded them (``media_calls``): a new leader
        reads them when its term starts to adopt the calls in progress (a
        caller bridged to an agent, one waiting on hold music) that the
        previous leader's center drove; legs of a node that is down are left
        out (their calls are lost with it).
        """

        def read() -> list[LiveCall]:
            alive = self._alive()
            return [_named_call(c) for c in self._rows.calls() if alive(c.node)]

        return await anyio.to_thread.run_sync(read)

    def adopt(self, call_id: str) -> None:
        """Follow leg ``call_id`` of another node, which this term took over.

        Like a leg it announced or dialled: if its node dies, the leg ends
        with ``CallEnded(cause=worker_lost)`` and a ``WorkerLost``.
        """
        node, _ = split_call_id(call_id)
        self._dialled.add(call_id)
        if node != self._node:
            self._known(node, call_id)

    def _forward(self, stored: StoredMediaEvent) -> None:
        try:
            event = event_from_dict(stored.payload)
        except CallCenterError:
            _log.warning("media event %s of %s not understood", stored.seq, stored.node)
            return
        if isinstance(event, MediaEvent):
            self._push(_named(stored.node, event))

    def _push(self, event: MediaEvent) -> None:
        if isinstance(event, CallIncoming):
            if event.call_id in self._announced:
                return  # adopted as ringing, and read again from the log or its node
            self._announced.add(event.call_id)
        self._follow(event)
        if isinstance(event, CallEvent) and self._hold(event):
            return
        if isinstance(event, CallEnded):
            self._dialled.discard(event.call_id)
        self._send_nowait(event)

    def _hold(self, event: CallEvent) -> bool:
        """Keep back an event of a leg the center may be dialling but does not know yet.

        A leg dialled on another node can answer before the command's outcome
        (its id) reaches the leader: the events and the outcomes come by two
        readers. An event of a leg the center was not given (no
        ``CallIncoming``, not returned by :meth:`originate`, not adopted) is
        held while a leg is being dialled on its node, and handed on when
        that dial returns (just before :meth:`originate` returns its id, so
        the center knows the leg first) or when no dial is left there.
        """
        call_id = event.call_id
        if isinstance(event, CallIncoming) or call_id in self._announced:
            return False
        if call_id in self._dialled:
            return False
        node, _ = split_call_id(call_id)
        if not self._originating.get(node):
            return False
        self._held.setdefault(node, []).append(event)
        return True

    def _release(self, node: str, call_id: str | None) -> None:
        """Hand on the held events of ``call_id`` (just dialled), and all once no dial is left."""
        held = self._held.pop(node, [])
        mine = [e for e in held if isinstance(e, CallEvent) and e.call_id == call_id]
        rest = [e for e in held if not (isinstance(e, CallEvent) and e.call_id == call_id)]
        for answered in mine:
            self._send_nowait(answered)
        if self._originating.get(node):
            if rest:
                self._held[node] = rest
            return
        for other in rest:
            self._send_nowait(other)

    def _send_nowait(self, event: MediaEvent) -> None:
        with contextlib.suppress(
            anyio.WouldBlock, anyio.BrokenResourceError, anyio.ClosedResourceError
        ):
            self._send.send_nowait(event)

    # -- the other nodes' legs, and their loss ----------------------------------------------
    def _follow(self, event: MediaEvent) -> None:
        """Keep the book of the other nodes' live legs up to date with ``event``."""
        if isinstance(event, WorkerLost):
            for call_id in event.lost_calls:
                self._gone(call_id)
            return
        if not isinstance(event, CallEvent):
            return
        call_id = event.call_id
        node, _ = split_call_id(call_id)
        if node == self._node:
            return  # the leader's own pool reports its dead workers itself
        if isinstance(event, CallEnded):
            self._gone(call_id)
        elif isinstance(event, CallIncoming):
            if call_id in self._legs.get(node, {}):  # its node started again: a new call
                self._lose(node, (call_id,), "started again")
            self._known(node, call_id)
        elif isinstance(event, CallAnswered | CallRinging) and call_id not in self._lost:
            self._known(node, call_id)

    def _known(self, node: str, call_id: str) -> None:
        self._lost.discard(call_id)  # an id used again by a node that started again
        self._legs.setdefault(node, {})[call_id] = None

    def _gone(self, call_id: str) -> None:
        node, _, _ = call_id.partition(SEPARATOR)
        self._legs.get(node, {}).pop(call_id, None)

    def _lose(self, node: str, call_ids: tuple[str, ...], why: str) -> None:
        """End ``call_ids`` of ``node`` as a dead worker's calls end, and say the node was lost."""
        _log.warning("media node %s %s: its %s legs are lost", node, why, len(call_ids))
        at = self._clock()
        for call_id in call_ids:
            self._legs.get(node, {}).pop(call_id, None)
            self._announced.discard(call_id)
            self._lost.add(call_id)
            self._send_nowait(
                CallEnded(
                    at=at,
                    call_id=call_id,
                    cause=EndCause.WORKER_LOST,
                    reason=f"media node {node} {why}",
                )
            )
        self._send_nowait(WorkerLost(at=at, worker=node, exit_code=None, lost_calls=call_ids))

    def _abandon(self, node: str, why: str) -> None:
        """Fail the commands waiting for ``node``'s outcome: a dead node never gives one.

        Without this, a command the node had taken before it died would be
        waited for as long as the term lasts (a taken command cannot be
        withdrawn), and whatever awaited it (the media events' pump) with it.
        """
        for command_id, waiting in list(self._waiting.items()):
            if waiting.node == node:
                del self._waiting[command_id]
                waiting.error = f"MediaError: media node {node} {why}"
                waiting.done.set()

    async def _watch_nodes(self) -> None:
        """Lose the legs of every node found down, left or started again, at each poll.

        The commands waiting for a node found down fail then too.
        """
        while True:
            await anyio.sleep(self._poll)
            if not any(self._legs.values()) and not self._waiting:
                continue
            try:
                view = await anyio.to_thread.run_sync(
                    Nodes(self._rows.store).view, self._rows.domain
                )
            except CallCenterError:
                _log.warning("the nodes' heartbeats not read", exc_info=True)
                continue
            for status in view.nodes:
                node, before = status.node, self._started.get(status.node)
                self._started[node] = status.started_at
                legs = tuple(self._legs.get(node, {}))
                if node == self._node:
                    continue
                if not status.up:
                    why = "left" if status.left_at is not None else "is down"
                    self._abandon(node, why)
                    if legs:
                        self._lose(node, legs, why)
                elif not legs:
                    continue
                elif before is not None and before != status.started_at:
                    await self._restarted(node, legs)

    async def _restarted(self, node: str, legs: tuple[str, ...]) -> None:
        """Lose the legs of ``node``'s former process (the live ones are in its rows now)."""
        try:
            live = await anyio.to_thread.run_sync(self._rows.calls, node)
        except CallCenterError:
            _log.warning("the live calls of %s not read", node, exc_info=True)
            return
        alive = {call_id_of(node, call.call_id) for call in live}
        old = tuple(call_id for call_id in legs if call_id not in alive)
        if old:
            self._lose(node, old, "started again")

    def _local(self, event: MediaEvent) -> None:
        self._push(_named(self._node, event))

    async def _read_events(self, notes: Notifications) -> None:
        while True:
            try:
                found = await anyio.to_thread.run_sync(
                    lambda: self._rows.events(
                        since=self.since, after=self.marks, exclude=self._node
                    )
                )
            except CallCenterError:
                _log.warning("media events of the other nodes not read", exc_info=True)
                found = []
            for stored in found:
                self.marks[stored.node] = stored.seq
                self._forward(stored)
            if len(found) < 500:
                await anyio.to_thread.run_sync(notes.wait, self._poll, abandon_on_cancel=True)

    async def _read_outcomes(self, notes: Notifications) -> None:
        while True:
            if self._waiting:
                try:
                    done = await anyio.to_thread.run_sync(self._rows.outcomes, list(self._waiting))
                except CallCenterError:
                    _log.warning("media commands' outcomes not read", exc_info=True)
                    done = {}
                for command_id, outcome in done.items():
                    waiting = self._waiting.pop(command_id, None)
                    if waiting is not None:
                        waiting.result, waiting.error = outcome.result, outcome.error
                        waiting.done.set()
            await anyio.to_thread.run_sync(notes.wait, self._poll, abandon_on_cancel=True)

    # -- commands ---------------------------------------------------------------------------
    def _leading(self) -> None:
        if self._handed_over:
            raise MediaError("this leader handed its calls over: no more media commands")
        if not (self._elector.is_leader and self._elector.epoch == self._epoch):
            raise MediaError(f"the term at epoch {self._epoch} is over: no more media commands")

    async def _run(self, node: str, op: str, **args: Any) -> Any:
        self._leading()
        if node == self._node:
            return await self._agent.carry_out(op, args)
        waiting = _Waiting(node)
        encoded = encode_args(args)
        fenced = self._elector.fenced()

        def issue() -> str:
            return self._rows.issue(
                fenced, node=node, op=op, args=encoded, epoch=self._epoch, at=self._clock()
            )

        try:
            command_id = await anyio.to_thread.run_sync(issue)
        except LeaseLost as exc:
            raise MediaError(f"not carried out: {exc}") from exc
        self._waiting[command_id] = waiting
        with anyio.move_on_after(self._timeout + _lasts(op, args)):
            await waiting.done.wait()
        while not waiting.done.is_set():
            if await anyio.to_thread.run_sync(self._rows.withdraw, command_id):
                self._waiting.pop(command_id, None)
                raise MediaError(f"node {node} did not take {op} within {self._timeout} s")
            with anyio.move_on_after(self._timeout):  # taken: it is being carried out
                await waiting.done.wait()
        if waiting.error == STALE:
            raise MediaError(f"{op} for node {node} was not carried out: the term ended")
        if waiting.error is not None:
            raise_error(waiting.error)
        return waiting.result

    def _check_live(self, *call_ids: str) -> None:
        for call_id in call_ids:
            if call_id in self._lost:
                raise NotFoundError(f"no live call {call_id!r}: its media node was lost")

    async def _on_leg(self, call_id: str, op: str, **args: Any) -> Any:
        node, leg = split_call_id(call_id)
        self._check_live(call_id)
        return await self._run(node, op, call_id=leg, **args)

    def events(self) -> AsyncIterator[MediaEvent]:
        """The events of every node's media, with cluster-wide call ids."""
        return self._receive

    async def originate(
        self,
        uri: str,
        *,
        caller_id: str | None = None,
        near: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        """Dial ``uri`` from the node of ``near`` (the leader's own node without it)."""
        node, leg = (self._node, None) if near is None else split_call_id(near)
        if near is not None:
            self._check_live(near)
        self._originating[node] = self._originating.get(node, 0) + 1
        call_id: str | None = None
        try:
            made = await self._run(
                node, "originate", uri=uri, caller_id=caller_id, near=leg, headers=headers
            )
            call_id = call_id_of(node, str(made))
            self._dialled.add(call_id)
            if node != self._node:
                self._known(node, call_id)
        finally:
            self._originating[node] -= 1
            self._release(node, call_id)
        return call_id

    async def answer(self, call_id: str) -> None:
        """Answer an inbound leg on its node."""
        await self._on_leg(call_id, "answer")

    async def hangup(self, call_id: str, *, status_code: int | None = None) -> None:
        """End a leg on its node."""
        await self._on_leg(call_id, "hangup", status_code=status_code)

    async def play(self, call_id: str, prompt: Prompt, *, loop: bool = False) -> None:
        """Play ``prompt`` to a leg on its node."""
        await self._on_leg(call_id, "play", prompt=prompt, loop=loop)

    async def stop_playing(self, call_id: str) -> None:
        """Stop a leg's prompt on its node."""
        await self._on_leg(call_id, "stop_playing")

    async def collect_dtmf(
        self,
        call_id: str,
        *,
        max_digits: int = 1,
        first_digit_timeout: float = 5.0,
        inter_digit_timeout: float | None = None,
        terminators: str = "#",
    ) -> str:
        """Collect digits on the leg's node."""
        digits = await self._on_leg(
            call_id,
            "collect_dtmf",
            max_digits=max_digits,
            first_digit_timeout=first_digit_timeout,
            inter_digit_timeout=inter_digit_timeout,
            terminators=terminators,
        )
        return str(digits)

    async def send_dtmf(
        self, call_id: str, digits: str, *, method: DtmfMethod = DtmfMethod.RFC2833
    ) -> None:
        """Send DTMF from the leg's node."""
        await self._on_leg(call_id, "send_dtmf", digits=digits, method=method)

    async def start_music_on_hold(self, call_id: str, prompt: Prompt | None = None) -> None:
        """Start the hold music on the leg's node."""
        await self._on_leg(call_id, "start_music_on_hold", prompt=prompt)

    async def stop_music_on_hold(self, call_id: str) -> None:
        """Stop the hold music on the leg's node."""
        await self._on_leg(call_id, "stop_music_on_hold")

    def _pair(self, call_a: str, call_b: str) -> tuple[str, str, str]:
        node_a, leg_a = split_call_id(call_a)
        node_b, leg_b = split_call_id(call_b)
        self._check_live(call_a, call_b)
        if node_a != node_b:
            raise MediaError(
                f"{call_a} and {call_b} live on different nodes: they cannot be joined"
            )
        return node_a, leg_a, leg_b

    async def bridge(self, call_a: str, call_b: str) -> None:
        """Join two legs of one node."""
        node, leg_a, leg_b = self._pair(call_a, call_b)
        await self._run(node, "bridge", call_a=leg_a, call_b=leg_b)

    async def unbridge(self, call_a: str, call_b: str) -> None:
        """Split two legs of one node."""
        node, leg_a, leg_b = self._pair(call_a, call_b)
        await self._run(node, "unbridge", call_a=leg_a, call_b=leg_b)

    async def monitor(self, supervisor_call: str, agent_call: str, mode: MonitorMode) -> None:
        """Join a supervisor's leg to an agent's conversation on their node."""
        node, supervisor, agent = self._pair(supervisor_call, agent_call)
        await self._run(node, "monitor", supervisor_call=supervisor, agent_call=agent, mode=mode)

    async def stop_monitoring(self, supervisor_call: str) -> None:
        """Take a supervisor's leg out of the conversation it monitors."""
        node, leg = split_call_id(supervisor_call)
        await self._run(node, "stop_monitoring", supervisor_call=leg)

    async def start_recording(self, call_id: str, path: str) -> None:
        """Record a leg on its node (the path is the node's)."""
        await self._on_leg(call_id, "start_recording", path=path)

    async def stop_recording(self, call_id: str) -> None:
        """Close a leg's recording on its node."""
        await self._on_leg(call_id, "stop_recording")

    async def hold(self, call_id: str) -> None:
        """Put a leg's far end on hold."""
        await self._on_leg(call_id, "hold")

    async def resume(self, call_id: str) -> None:
        """Take a leg's far end off hold."""
        await self._on_leg(call_id, "resume")

    async def transfer(self, call_id: str, uri: str) -> None:
        """Blind-transfer a leg's far end."""
        await self._on_leg(call_id, "transfer", uri=uri)

    async def aclose(self) -> None:
        """Refuse further commands; every node's media keeps running (the node owns it)."""
        self.hand_over()


@contextlib.asynccontextmanager
async def open_cluster_media(
    agent: MediaAgent,
    rows: MediaRows,
    elector: Elector,
    *,
    epoch: int,
    poll: float = 0.5,
    take_within: float = 10.0,
) -> AsyncIterator[ClusterMedia]:
    """Run a :class:`ClusterMedia` for the term at ``epoch`` for the duration of the block."""
    media = ClusterMedia(agent, rows, elector, epoch=epoch, poll=poll, take_within=take_within)
    async with anyio.create_task_group() as tg:
        await tg.start(media.run)
        try:
            yield media
        finally:
            tg.cancel_scope.cancel()
