"""The pjsua2 backend: a supervised pool of media worker processes.

The pjsua2 on the package registries holds 4 calls per process and aborts
when a process sees new calls too fast, so one process cannot be the call
center. :func:`create_media_pool` starts N worker processes (each owning one
``pjsua2.Endpoint``, see :mod:`._pjsua2`; all forked from one fork server
that imported their code once, so they share its memory, see
:mod:`._forkserver`), and the :class:`MediaPool` it
yields is one :class:`MediaBackend` to the runtime: it places new legs by
load, keeps an agent's leg in its caller's worker so the bridge can join
them, guards each worker's new-call rate, health-checks workers, restarts
dead ones and turns their lost calls into ``CallEnded(cause=WORKER_LOST)``.

.. versionadded:: 0.1
"""

from __future__ import annotations

import collections
import contextlib
import logging
import math
import socket
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

import anyio
import attrs

from .._clock import Clock, WallClock
from .._errors import BackendUnavailableError, MediaError, NotFoundError, ValidationError
from ._caller_id import Network, trusted_networks
from ._dtmf import DigitBuffer
from ._events import (
    CallEnded,
    CallIncoming,
    DtmfMethod,
    DtmfReceived,
    EndCause,
    MediaEvent,
    WorkerLost,
    WorkerStarted,
)
from ._forking import ForkedProcess, ForkServer
from ._protocol import MonitorMode, Prompt, check_digits
from ._wire import (
    Answer,
    Bridge,
    Command,
    Hangup,
    Hello,
    Hold,
    Monitor,
    MusicOnHold,
    Originate,
    Play,
    Reply,
    Resume,
    SendDtmf,
    Shutdown,
    StartRecording,
    Stats,
    StopPlaying,
    StopRecording,
    Transfer,
    Unbridge,
    WorkerConfig,
    WorkerStats,
)

if TYPE_CHECKING:
    from anyio.abc import TaskGroup
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

__all__ = ["MediaPool", "WorkerInfo", "create_media_pool"]

_log = logging.getLogger(__name__)

_REDIRECT_TTL = 5.0
"""Seconds a leg promised to a redirected caller stays counted if the call never comes."""


@attrs.frozen
class WorkerInfo:
    """A snapshot of one live media worker, for placement, wallboards and front doors.

    Attributes:
        name: The worker's name (``w<slot>.<generation>``); it prefixes its call ids.
        slot: The worker's place in the pool; a restarted worker keeps its slot.
        address: Its SIP address, ``host:port``.
        capacity: Legs it can hold (detected at start-up).
        calls: Legs it holds now.
        pid: Its process id.
    """

    name: str
    slot: int
    address: str
    capacity: int
    calls: int
    pid: int


class _Pending:
    def __init__(self) -> None:
        self.done = anyio.Event()
        self.reply: Reply | None = None


class _Worker:
    """The supervisor's view of one worker process."""

    def __init__(self, slot: int, hello: Hello, process: ForkedProcess, conn: Connection) -> None:
        self.slot = slot
        self.name = hello.name
        self.address = hello.address
        self.capacity = hello.capacity
        self.pid = hello.pid
        self.process = process
        self.conn = conn
        self.alive = True
        self.calls: set[str] = set()
        self.reserved = 0
        self.starts: collections.deque[float] = collections.deque()
        self.redirected: collections.deque[float] = collections.deque()
        self.replies: dict[int, _Pending] = {}
        self.stats: WorkerStats | None = None

    def free(self) -> int:
        return self.capacity - len(self.calls) - self.reserved - len(self.redirected)

    def expire(self, now: float, redirect_ttl: float) -> None:
        while self.starts and now - self.starts[0] >= 1.0:
            self.starts.popleft()
        while self.redirected and now - self.redirected[0] >= redirect_ttl:
            self.redirected.popleft()

    def info(self) -> WorkerInfo:
        return WorkerInfo(self.name, self.slot, self.address, self.capacity, len(self.calls),
                          self.pid)  # fmt: skip


class MediaPool:
    """A pool of pjsua2 media worker processes, seen as one :class:`MediaBackend`.

    Build it with :func:`create_media_pool`. Inbound calls reach a worker's
    SIP address directly (or through a front door that spreads them);
    :meth:`originate` places outbound legs itself.
    """

    def __init__(
        self,
        *,
        task_group: TaskGroup,
        clock: Clock,
        template: WorkerConfig,
        sip_ports: Sequence[int],
        max_new_calls_per_second: float,
        hold_music: Prompt | None,
        health_interval: float,
        command_timeout: float,
        start_timeout: float,
    ) -> None:
        self._tg = task_group
        self._clock = clock
        self._template = template
        self._ports = list(sip_ports)
        self._rate = max_new_calls_per_second
        self._hold_music = hold_music
        self._health_interval = health_interval
        self._command_timeout = command_timeout
        self._start_timeout = start_timeout
        self._generation = [0] * len(self._ports)
        self._workers: dict[str, _Worker] = {}
        self._buffers: dict[str, DigitBuffer] = {}
        self._seq = 0
        self._forks: ForkServer | None = None
        self._forks_lock = anyio.Lock()
        self._closing = False
        self._health_scope = anyio.CancelScope()
        send, receive = anyio.create_memory_object_stream[MediaEvent](math.inf)
        self._send: MemoryObjectSendStream[MediaEvent] = send
        self._receive: MemoryObjectReceiveStream[MediaEvent] = receive

    # -- introspection ---------------------------------------------------------------------
    @property
    def workers(self) -> tuple[WorkerInfo, ...]:
        """The live workers, by slot."""
        live = sorted(self._workers.values(), key=lambda w: w.slot)
        return tuple(w.info() for w in live if w.alive)

    def worker_of(self, call_id: str) -> WorkerInfo:
        """Return the worker holding ``call_id`` (NotFoundError if none does)."""
        return self._worker_of(call_id).info()

    async def stats(self) -> dict[str, WorkerStats]:
        """Ask every live worker for its load and bridge counters."""
        out = {}
        for worker in list(self._workers.values()):
            if worker.alive:
                out[worker.name] = await self._command(worker, Stats())
        return out

    @property
    def fork_server_pid(self) -> int | None:
        """The process id of the fork server the workers are forked from.

        ``None`` while none runs. Its memory is the center's too: it holds
        the code every worker shares.

        .. versionadded:: 0.2
        """
        return self._forks.pid if self._forks is not None and self._forks.alive else None

    def kill_worker(self, name: str) -> None:
        """Kill a worker's process at once (as a crash would); it is restarted."""
        worker = self._workers.get(name)
        if worker is None:
            raise NotFoundError(f"no media worker {name!r}")
        with contextlib.suppress(ProcessLookupError):
            worker.process.kill()

    def events(self) -> AsyncIterator[MediaEvent]:
        """Return the one stream of media events, in arrival order."""
        return self._receive

    # -- life cycle ------------------------------------------------------------------------
    async def _spawn(self, slot: int) -> _Worker:
        self._generation[slot] += 1
        template = self._template
        config = attrs.evolve(
            template,
            name=f"w{slot}.{self._generation[slot]}",
            sip_port=self._ports[slot],
            rtp_port=template.rtp_port + slot * template.rtp_port_range if template.rtp_port else 0,
        )
        forks = await self._fork_server()
        ours, theirs = socket.socketpair()
        with ours, theirs:
            process = await forks.fork(theirs.fileno())
            conn = Connection(ours.detach())
        try:
            conn.send(config)
            with anyio.fail_after(self._start_timeout):
                await anyio.wait_readable(conn.fileno())
                hello = conn.recv()
        except BaseException as exc:
            await self._reap(process, conn)
            if isinstance(exc, TimeoutError | EOFError | OSError):
                raise MediaError(f"media worker {config.name} failed to start: {exc!r}") from exc
            raise
        if isinstance(hello, BackendUnavailableError):
            await self._reap(process, conn)
            raise hello
        worker = _Worker(slot, hello, process, conn)
        self._workers[worker.name] = worker
        self._tg.start_soon(self._read, worker, name=f"media worker {worker.name} reader")
        self._emit(WorkerStarted(at=0.0, worker=worker.name, address=worker.address,
                                 capacity=worker.capacity))  # fmt: skip
        return worker

    async def _fork_server(self) -> ForkServer:
        """The running fork server, started (again) when there is none."""
        async with self._forks_lock:  # slots restarting together start one server
            if self._forks is None or not self._forks.alive:
                if self._forks is not None:
                    await self._forks.aclose()
                    self._forks = None
                self._forks = await ForkServer.start(
                    self._tg,
                    # pjlib logs its start-up before any log level applies: keep
                    # stdout quiet unless logs were asked for; crashes go to stderr.
                    quiet=not self._template.log_level,
                    timeout=self._start_timeout,
                )
            return self._forks

    @staticmethod
    async def _reap(
        process: ForkedProcess, conn: Connection | None, grace: float = 0.0
    ) -> int | None:
        if grace:
            with anyio.move_on_after(grace):
                await process.wait()
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        with anyio.CancelScope(shield=True), anyio.move_on_after(10):
            await process.wait()
        if conn is not None:
            conn.close()
        with anyio.CancelScope(shield=True):
            await process.aclose()
        return process.returncode

    async def _restart(self, slot: int) -> None:
        delay = 0.2
        while not self._closing:
            try:
                await self._spawn(slot)
            except MediaError:
                _log.exception("media worker slot %d failed to restart; retrying", slot)
                await anyio.sleep(delay)
                delay = min(delay * 2, 5.0)
            else:
                return

    async def _read(self, worker: _Worker) -> None:
        try:
            while True:
                await anyio.wait_readable(worker.conn.fileno())
                try:
                    message = worker.conn.recv()
                except (EOFError, OSError):
                    break
                self._dispatch(worker, message)
        finally:
            if not self._closing:
                with anyio.CancelScope(shield=True):
                    await self._lose(worker)

    async def _lose(self, worker: _Worker) -> None:
        if not worker.alive:
            return
        worker.alive = False
        code = await self._reap(worker.process, worker.conn, grace=2.0)
        _log.warning("media worker %s died (exit code %s)", worker.name, code)
        lost = tuple(sorted(worker.calls))
        for call_id in lost:
            self._end_buffer(call_id)
            self._emit(CallEnded(at=0.0, call_id=call_id, cause=EndCause.WORKER_LOST,
                                 reason=f"media worker {worker.name} died"))  # fmt: skip
        worker.calls.clear()
        self._emit(WorkerLost(at=0.0, worker=worker.name, exit_code=code, lost_calls=lost))
        for pending in worker.replies.values():
            pending.reply = Reply(0, error=MediaError(f"media worker {worker.name} died"))
            pending.done.set()
        del self._workers[worker.name]
        if not self._closing:
            self._tg.start_soon(self._restart, worker.slot)

    async def _health(self) -> None:
        with self._health_scope:
            while True:
                await anyio.sleep(self._health_interval)
                for worker in list(self._workers.values()):
                    if worker.alive:
                        await self._check(worker)

    async def _check(self, worker: _Worker) -> None:
        try:
            worker.stats = await self._command(worker, Stats())
        except MediaError:
            if worker.alive and not self._closing:  # hung, not dead: kill it, the reader
                _log.warning("media worker %s stopped answering; killing it", worker.name)
                with contextlib.suppress(ProcessLookupError):
                    worker.process.kill()

    async def aclose(self) -> None:
        """Hang up every call, stop every worker in order and close the event stream."""
        if self._closing:
            return
        self._closing = True
        self._health_scope.cancel()
        workers = [w for w in self._workers.values() if w.alive]
        for worker in workers:
            worker.alive = False
            with contextlib.suppress(OSError):
                worker.conn.send((0, Shutdown()))
            for pending in worker.replies.values():
                pending.reply = Reply(0, error=MediaError("the media pool is closing"))
                pending.done.set()
        with anyio.CancelScope(shield=True):
            for worker in workers:
                await self._reap(worker.process, worker.conn, grace=10.0)
        self._workers.clear()
        if self._forks is not None:
            await self._forks.aclose()
        self._send.close()
        self._receive.close()

    # -- the wire --------------------------------------------------------------------------
    def _emit(self, event: MediaEvent) -> None:
        with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
            self._send.send_nowait(attrs.evolve(event, at=self._clock.now()))

    def _end_buffer(self, call_id: str) -> None:
        buffer = self._buffers.pop(call_id, None)
        if buffer is not None:
            buffer.close()

    def _buffer(self, call_id: str) -> DigitBuffer:
        return self._buffers.setdefault(call_id, DigitBuffer())

    def _dispatch(self, worker: _Worker, message: Any) -> None:
        if isinstance(message, Reply):
            pending = worker.replies.get(message.seq)
            if pending is not None:
                pending.reply = message
                pending.done.set()
            return
        if isinstance(message, CallIncoming):
            worker.calls.add(message.call_id)
            if worker.redirected:  # the call a front door announced has arrived
                worker.redirected.popleft()
            else:
                worker.starts.append(anyio.current_time())
        elif isinstance(message, DtmfReceived):
            self._buffer(message.call_id).push(message.digit)
        elif isinstance(message, CallEnded):
            worker.calls.discard(message.call_id)
            self._end_buffer(message.call_id)
        if isinstance(message, MediaEvent):
            self._emit(message)

    async def _command(self, worker: _Worker, command: Command) -> Any:
        self._seq += 1
        seq = self._seq
        pending = _Pending()
        worker.replies[seq] = pending
        try:
            try:
                worker.conn.send((seq, command))
            except OSError as exc:
                raise MediaError(f"media worker {worker.name} is gone") from exc
            try:
                with anyio.fail_after(self._command_timeout):
                    await pending.done.wait()
            except TimeoutError:
                raise MediaError(
                    f"media worker {worker.name} did not answer {type(command).__name__} "
                    f"within {self._command_timeout} s"
                ) from None
        finally:
            worker.replies.pop(seq, None)
        assert pending.reply is not None  # noqa: S101 - set before done
        if pending.reply.error is not None:
            raise pending.reply.error
        return pending.reply.result

    def _worker_of(self, call_id: str) -> _Worker:
        worker = self._workers.get(call_id.rsplit(":", 1)[0])
        if worker is None or not worker.alive or call_id not in worker.calls:
            raise NotFoundError(f"no live call {call_id!r}")
        return worker

    async def _call_command(self, call_id: str, make: Callable[[str], Command]) -> Any:
        return await self._command(self._worker_of(call_id), make(call_id))

    # -- placement -------------------------------------------------------------------------
    async def _reserve(self, near: str | None) -> _Worker:
        """Pick a worker with a free leg whose new-call rate allows one more now."""
        while True:
            if near is not None:
                candidates = [self._worker_of(near)]
            else:
                candidates = [w for w in self._workers.values() if w.alive and w.free() > 0]
            if not candidates:
                raise MediaError("no media worker has a free leg")
            now = anyio.current_time()
            for worker in candidates:
                worker.expire(now, _REDIRECT_TTL)
            ready = [w for w in candidates if len(w.starts) < self._rate]
            if ready:
                worker = min(ready, key=lambda w: (-w.free() / w.capacity, w.slot))
                worker.starts.append(now)
                worker.reserved += 1
                return worker
            await anyio.sleep(max(0.01, min(1.0 - (now - w.starts[0]) for w in candidates)))

    def place_inbound(self, legs: int = 2) -> WorkerInfo | None:
        """Choose the worker for the next inbound call, or ``None`` when none can take one now.

        For front doors: the chosen worker has ``legs`` free legs (2: the
        caller's, and the agent's that will be bridged to it in the same
        worker) and room under its new-call rate; the caller's leg is counted
        as taken until the call arrives (or for a few seconds if it never
        does), so a burst is spread, never piled on one worker.
        """
        now = anyio.current_time()
        ready = []
        for worker in self._workers.values():
            worker.expire(now, _REDIRECT_TTL)
            if worker.alive and worker.free() >= legs and len(worker.starts) < self._rate:
                ready.append(worker)
        if not ready:
            return None
        worker = min(ready, key=lambda w: (-w.free() / w.capacity, w.slot))
        worker.starts.append(now)
        worker.redirected.append(now)
        return worker.info()

    # -- MediaBackend ----------------------------------------------------------------------
    async def originate(
        self,
        uri: str,
        *,
        caller_id: str | None = None,
        near: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        """Call ``uri`` from the least loaded worker (or ``near``'s) and return the leg id."""
        worker = await self._reserve(near)
        try:
            call_id: str = await self._command(
                worker, Originate(uri, caller_id, tuple((headers or {}).items()))
            )
        finally:
            worker.reserved -= 1
        worker.calls.add(call_id)
        return call_id

    async def answer(self, call_id: str) -> None:
        """Answer an inbound leg."""
        await self._call_command(call_id, Answer)

    async def hangup(self, call_id: str, *, status_code: int | None = None) -> None:
        """End a leg (CallEnded follows)."""
        await self._call_command(call_id, lambda c: Hangup(c, status_code))

    async def play(self, call_id: str, prompt: Prompt, *, loop: bool = False) -> None:
        """Play a prompt to a leg."""
        await self._call_command(call_id, lambda c: Play(c, prompt, loop))

    async def stop_playing(self, call_id: str) -> None:
        """Stop the leg's prompt."""
        await self._call_command(call_id, StopPlaying)

    async def collect_dtmf(
        self,
        call_id: str,
        *,
        max_digits: int = 1,
        first_digit_timeout: float = 5.0,
        inter_digit_timeout: float | None = None,
        terminators: str = "#",
    ) -> str:
        """Collect digits the caller presses (see :meth:`MediaBackend.collect_dtmf`)."""
        self._worker_of(call_id)
        return await self._buffer(call_id).collect(
            max_digits=max_digits,
            first_digit_timeout=first_digit_timeout,
            inter_digit_timeout=inter_digit_timeout,
            terminators=terminators,
            start_timer=self._start_timer,
        )

    def _start_timer(self, seconds: float, fire: Callable[[], None]) -> Callable[[], None]:
        scope = anyio.CancelScope()

        async def sleeper() -> None:
            with scope:
                await anyio.sleep(seconds)
                fire()

        self._tg.start_soon(sleeper)
        return scope.cancel

    async def send_dtmf(
        self, call_id: str, digits: str, *, method: DtmfMethod = DtmfMethod.RFC2833
    ) -> None:
        """Send DTMF (RFC 2833 by default, or SIP INFO)."""
        check_digits(digits)
        await self._call_command(call_id, lambda c: SendDtmf(c, digits, DtmfMethod(method)))

    async def start_music_on_hold(self, call_id: str, prompt: Prompt | None = None) -> None:
        """Connect the leg to the worker's shared hold music."""
        music = prompt or self._hold_music
        await self._call_command(call_id, lambda c: MusicOnHold(c, True, music))

    async def stop_music_on_hold(self, call_id: str) -> None:
        """Disconnect the leg from the hold music."""
        await self._call_command(call_id, lambda c: MusicOnHold(c, False))

    async def bridge(self, call_a: str, call_b: str) -> None:
        """Join two legs of the same worker (originate the second with ``near=``)."""
        worker = self._worker_of(call_a)
        if self._worker_of(call_b) is not worker:
            raise MediaError(
                f"{call_a} and {call_b} live in different media workers; "
                "originate the second leg with near= the first"
            )
        await self._command(worker, Bridge(call_a, call_b))

    async def unbridge(self, call_a: str, call_b: str) -> None:
        """Split two bridged legs."""
        await self._call_command(call_a, lambda c: Unbridge(c, call_b))

    async def monitor(self, supervisor_call: str, agent_call: str, mode: MonitorMode) -> None:
        """Join a supervisor's leg (originated ``near=`` the agent's) to the conversation."""
        worker = self._worker_of(supervisor_call)
        if self._worker_of(agent_call) is not worker:
            raise MediaError(
                f"{supervisor_call} and {agent_call} live in different media workers; "
                "originate the supervisor's leg with near= the agent's"
            )
        await self._command(worker, Monitor(supervisor_call, agent_call, MonitorMode(mode)))

    async def stop_monitoring(self, supervisor_call: str) -> None:
        """Take the supervisor's leg out of the conversation."""
        await self._call_command(supervisor_call, Monitor)

    async def start_recording(self, call_id: str, path: str) -> None:
        """Record the leg and what is bridged to it into a WAV file."""
        await self._call_command(call_id, lambda c: StartRecording(c, path))

    async def stop_recording(self, call_id: str) -> None:
        """Close the leg's recording."""
        await self._call_command(call_id, StopRecording)

    async def hold(self, call_id: str) -> None:
        """Put the far end on hold."""
        await self._call_command(call_id, Hold)

    async def resume(self, call_id: str) -> None:
        """Take the far end off hold."""
        await self._call_command(call_id, Resume)

    async def transfer(self, call_id: str, uri: str) -> None:
        """Blind-transfer the far end to ``uri``."""
        await self._call_command(call_id, lambda c: Transfer(c, uri))


@contextlib.asynccontextmanager
async def create_media_pool(
    workers: int = 2,
    *,
    host: str = "127.0.0.1",
    sip_ports: Sequence[int] | None = None,
    max_calls_per_worker: int | None = None,
    max_new_calls_per_second: float = 20.0,
    hold_music: Prompt | None = None,
    clock: Clock | None = None,
    health_interval: float = 2.0,
    command_timeout: float = 15.0,
    start_timeout: float = 30.0,
    poll_ms: int = 500,
    media_thread: bool = True,
    log_level: int = 0,
    rtp_port_base: int = 20000,
    rtp_ports_per_worker: int = 200,
    trusted: Iterable[str | Network] = (),
) -> AsyncIterator[MediaPool]:
    """Start ``workers`` pjsua2 media worker processes and yield them as one backend.

    Args:
        workers: How many processes (each holds 4 legs on the stock pjsua2 wheel).
        host: The address every worker binds SIP and RTP to.
        sip_ports: One SIP port per worker (kept across restarts, so a front
            door's configuration stays valid); default: ports the system picks.
        max_calls_per_worker: Skip capacity detection and allow this many legs.
        max_new_calls_per_second: New legs (in and out) one worker takes per
            second; pjsua2-python processes abort above about 60.
        hold_music: What :meth:`MediaPool.start_music_on_hold` plays by default.
        clock: Stamps every event (default: the wall clock).
        health_interval: Seconds between health checks of each worker.
        command_timeout: A worker that takes longer to answer a command is killed and restarted.
        start_timeout: Seconds a worker may take to start.
        poll_ms: How long each worker's ``libHandleEvents`` may wait for SIP traffic;
            commands wake it at once, so longer polls only save idle CPU.
        media_thread: Give RTP its own pjmedia thread in each worker (the
            default, and the cheaper under load; see :class:`WorkerConfig`).
        log_level: pjsua's own log level in the workers (0 is silent).
        rtp_port_base: Worker ``n`` takes RTP ports from ``rtp_port_base +
            n * rtp_ports_per_worker`` (0: pjsua's shared default from 4000,
            which fails calls with 500 once dozens of workers crowd it).
        rtp_ports_per_worker: The size of each worker's RTP range (two ports per
            leg, plus room for ports still closing).
        trusted: The addresses and networks (IPv4 or IPv6, CIDR) of the
            trunks, or of the proxy in front of the workers, whose
            ``P-Asserted-Identity`` and ``Remote-Party-ID`` headers name the
            caller (``CallIncoming.caller_verified``). From anyone else those
            headers are ignored and the number is the From user's, unverified.
            Default: trust nobody. Behind Kamailio, trust Kamailio's address
            (it strips the headers from everyone but the trunks).

    Raises:
        BackendUnavailableError: pjsua2 cannot be imported (the message says how to get it).
        MediaError: A worker failed to start.
        ValidationError: A bad argument, such as a trusted source that is no address.

    .. versionchanged:: 0.1
       ``trusted``.
    """
    if workers < 1:
        raise ValidationError(f"a media pool needs at least one worker, got {workers}")
    ports = list(sip_ports) if sip_ports is not None else [0] * workers
    if len(ports) != workers:
        raise ValidationError(f"{workers} workers need {workers} SIP ports, got {len(ports)}")
    template = WorkerConfig(
        name="",
        host=host,
        max_calls=max_calls_per_worker,
        max_new_calls_per_second=max_new_calls_per_second * 1.5,
        poll_ms=poll_ms,
        media_thread=media_thread,
        log_level=log_level,
        rtp_port=rtp_port_base,
        rtp_port_range=rtp_ports_per_worker if rtp_port_base else 0,
        trusted=trusted_networks(trusted),
    )
    startup_error: MediaError | None = None
    async with anyio.create_task_group() as tg:
        pool = MediaPool(
            task_group=tg,
            clock=clock or WallClock(),
            template=template,
            sip_ports=ports,
            max_new_calls_per_second=max_new_calls_per_second,
            hold_music=hold_music,
            health_interval=health_interval,
            command_timeout=command_timeout,
            start_timeout=start_timeout,
        )
        try:
            for slot in range(workers):
                await pool._spawn(slot)
        except MediaError as exc:  # raised below, outside the task group's exception group
            startup_error = exc
            await pool.aclose()
            tg.cancel_scope.cancel()
        else:
            tg.start_soon(pool._health, name="media pool health")
            try:
                yield pool
            finally:
                await pool.aclose()
                tg.cancel_scope.cancel()
    if startup_error is not None:
        raise startup_error
