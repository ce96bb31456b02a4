"""The inside of one pjsua2 media worker process.

Importing this module imports ``pjsua2``; where that fails it raises
:class:`~callcenter_sdk.BackendUnavailableError` saying how to get it, and the
rest of the library is unaffected (only the worker processes import it).

One process owns one ``pjsua2.Endpoint``. Its main thread calls ``libCreate``
and then polls ``libHandleEvents`` (``threadCnt=0``, ``mainThreadOnly``), so
every SIP callback runs on that thread. Callbacks only append plain tuples to
a queue; the loop then acts on them, answers commands from the supervisor and
sends events back. pjsua2 objects never leave the worker's modules (this
one, :mod:`._pjsua2_binding` for the classes we subclass, and
:mod:`._pjsua2_media` for what the conference bridge joins), and
``pjsua2.Error`` becomes :class:`~callcenter_sdk.MediaError` at the boundary.
The measured facts behind each setting are in ``docs/media.md``.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import math
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from .._clock import WallClock
from .._errors import CallCenterError, MediaError, NotFoundError
from ._caller_id import caller_number, header_values, identify_caller
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
    end_cause,
)
from ._pjsua2_binding import HOW_TO_GET_PJSUA2, Leg, WorkerAccount, pj, pjsua2_errors
from ._pjsua2_media import MediaRouting
from ._protocol import Prompt
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

__all__ = ["HOW_TO_GET_PJSUA2", "Worker", "run_worker"]

_PROBE_USER = "capacity-probe"
_CHORES_S = 0.02  # the longest a busy worker defers its chores between polls


class Worker(MediaRouting):
    """The state of one worker process; every method runs on its main thread."""

    def __init__(self, conn: Connection, config: WorkerConfig) -> None:
        self.conn = conn
        self.config = config
        self.clock = WallClock()
        self.pending: collections.deque[tuple[Any, ...]] = collections.deque()
        self.calls: dict[str, Leg] = {}
        self.graveyard: list[Any] = []
        self.dead_calls: list[Leg] = []
        self.hold_sources: dict[Prompt, Any] = {}
        self.recent_calls: collections.deque[float] = collections.deque()
        self.closing: list[tuple[str, str, float]] = []
        self.served = threading.Event()
        self._nudger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # see nudge()
        self.served.set()
        self.counter = 0
        self.capacity = 0
        self.address = ""
        self.stopping = False
        self.ep: Any = None
        self.account: Any = None
        self.clock_keeper: Any = None
        self.handlers: dict[type, Callable[[Any], object]] = {
            Originate: self._originate,
            Answer: self._answer,
            Hangup: self._hangup,
            Play: self._play,
            StopPlaying: self._stop_playing,
            SendDtmf: self._send_dtmf,
            MusicOnHold: self._music_on_hold,
            Bridge: self._bridge,
            Unbridge: self._unbridge,
            Monitor: self._monitor,
            StartRecording: self._start_recording,
            StopRecording: self._stop_recording,
            Hold: self._hold,
            Resume: self._resume,
            Transfer: self._transfer,
            Stats: self._stats,
            Shutdown: self._shutdown,
        }

    # -- start-up ---------------------------------------------------------------------------
    def start(self) -> None:
        cfg = self.config
        self.ep = pj.Endpoint()
        self.ep.libCreate()
        ep_cfg = pj.EpConfig()
        ep_cfg.uaConfig.threadCnt = 0
        ep_cfg.uaConfig.mainThreadOnly = True
        ep_cfg.uaConfig.maxCalls = cfg.max_calls or max(cfg.probe_limit, 4)
        ep_cfg.uaConfig.userAgent = "callcenter_sdk"
        ep_cfg.logConfig.level = cfg.log_level
        ep_cfg.logConfig.consoleLevel = cfg.log_level
        ep_cfg.medConfig.noVad = True
        if not cfg.media_thread:  # RTP is read by the thread polling libHandleEvents
            ep_cfg.medConfig.hasIoqueue = False
            ep_cfg.medConfig.threadCnt = 0
        ep_cfg.medConfig.clockRate = cfg.clock_rate
        ep_cfg.medConfig.sndClockRate = cfg.clock_rate
        self.ep.libInit(ep_cfg)
        tp_cfg = pj.TransportConfig()
        tp_cfg.port = cfg.sip_port
        tp_cfg.boundAddress = cfg.host
        tp_cfg.publicAddress = cfg.host
        transport = self.ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tp_cfg)
        port = self.ep.transportGetInfo(transport).localName.rsplit(":", 1)[1]
        self.address = f"{cfg.host}:{port}"
        self.ep.libStart()
        self.ep.audDevManager().setNullDev()
        wanted = [c.upper() for c in cfg.codecs]
        for codec in self.ep.codecEnum2():
            name = codec.codecId.split("/")[0].upper()
            rank = 255 - wanted.index(name) if name in wanted else 0
            self.ep.codecSetPriority(codec.codecId, rank)
        acc_cfg = pj.AccountConfig()
        acc_cfg.idUri = f"sip:{cfg.user}@{self.address}"
        acc_cfg.mediaConfig.lockCodecEnabled = False
        acc_cfg.mediaConfig.transportConfig.boundAddress = cfg.host
        acc_cfg.mediaConfig.transportConfig.publicAddress = cfg.host
        if cfg.rtp_port:
            acc_cfg.mediaConfig.transportConfig.port = cfg.rtp_port
            acc_cfg.mediaConfig.transportConfig.portRange = cfg.rtp_port_range
        self.account = WorkerAccount(self)
        self.account.create(acc_cfg)
        # Without anything connected to the null sound device the bridge clock
        # stops and bridge ports are never freed: keep a silent port on it.
        self.clock_keeper = pj.ToneGenerator()
        self.clock_keeper.createToneGenerator(cfg.clock_rate, 1)
        self.clock_keeper.startTransmit(self.ep.audDevManager().getPlaybackDevMedia())
        self.capacity = cfg.max_calls if cfg.max_calls is not None else self._probe_capacity()

    def _probe_capacity(self) -> int:
        """Count the legs this pjsua2 build accepts: make calls until it refuses.

        The calls go to this worker itself and are refused at once, so the
        probe costs a handful of loopback INVITEs at start-up.
        """
        probes: list[Leg] = []
        uri = f"sip:{_PROBE_USER}@{self.address}"
        for number in range(self.config.probe_limit):
            call = Leg(self, f"probe-{number}", pj.PJSUA_INVALID_ID, outbound=True)
            call.silent = call.local_hangup = True
            self.calls[call.cid] = call
            try:
                call.makeCall(uri, pj.CallOpParam(True))
            except pj.Error:  # PJ_ETOOMANY: the build's limit
                self.calls.pop(call.cid)
                self.dead_calls.append(call)
                break
            probes.append(call)
        for call in probes:
            with contextlib.suppress(pj.Error):
                call.hangup(pj.CallOpParam(True))
        # Wait until pjsua has really let go of every probe leg, ours and the
        # incoming ones they caused: a real call arriving earlier would be
        # refused for want of a free slot.
        deadline = time.monotonic() + 10.0
        while self.calls and time.monotonic() < deadline:
            self.ep.libHandleEvents(10)
            self.drain()
        return len(probes)

    # -- callbacks' follow-up ---------------------------------------------------------------
    def accept_incoming(self, pj_id: int, message: str = "", source: str = "") -> None:
        """Keep a reference to a new inbound leg (pjsua tears it down otherwise).

        ``message`` is the raw INVITE and ``source`` its sender (``ip:port``);
        they are read later, outside the callback.
        """
        self.counter += 1
        call = Leg(self, f"{self.config.name}:{self.counter}", pj_id, outbound=False)
        info = call.getInfo()
        self.calls[call.cid] = call
        self.pending.append(("incoming", call.cid, info.remoteUri, info.localUri, message, source))

    def _over_rate(self) -> bool:
        now = time.monotonic()
        while self.recent_calls and now - self.recent_calls[0] > 1.0:
            self.recent_calls.popleft()
        return len(self.recent_calls) >= self.config.max_new_calls_per_second

    def _on_incoming(self, cid: str, remote: str, local: str, message: str, source: str) -> None:
        call = self.calls[cid]
        busy = len(self.calls) > self.capacity
        if _PROBE_USER in local or busy or self._over_rate():
            call.silent = True
            call.local_hangup = True
            prm = pj.CallOpParam(True)
            prm.statusCode = 486 if busy or _PROBE_USER in local else 503
            with contextlib.suppress(pj.Error):
                call.answer(prm)
            return
        self.recent_calls.append(time.monotonic())
        caller = identify_caller(
            remote,
            asserted=header_values(message, "P-Asserted-Identity"),
            remote_party=header_values(message, "Remote-Party-ID"),
            source=source,
            trusted=self.config.trusted,
        )
        self.emit(CallIncoming(at=self.clock.now(), call_id=cid, from_uri=remote, to_uri=local,
                               worker=self.config.name, caller_number=caller.number,
                               caller_verified=caller.verified, source=caller.source))  # fmt: skip
        prm = pj.CallOpParam(True)
        prm.statusCode = 180
        with contextlib.suppress(pj.Error):
            call.answer(prm)

    def _on_state(self, cid: str, state: int, code: int, reason: str) -> None:
        call = self.calls.get(cid)
        if call is None:
            return
        now = self.clock.now()
        if state == pj.PJSIP_INV_STATE_EARLY and call.outbound and not call.ringing_sent:
            call.ringing_sent = True
            if not call.silent:
                self.emit(CallRinging(at=now, call_id=cid, status_code=code))
        elif state == pj.PJSIP_INV_STATE_CONFIRMED and not call.confirmed:
            call.confirmed = True
            if not call.silent:
                self.emit(CallAnswered(at=now, call_id=cid))
        elif state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self._forget(call)
            if not call.silent:
                cause = end_cause(local=call.local_hangup, confirmed=call.confirmed,
                                   outbound=call.outbound, code=code)  # fmt: skip
                reason = "transferred" if call.transferred else reason
                self.emit(CallEnded(at=now, call_id=cid, cause=cause, status_code=code,
                                    reason=reason))  # fmt: skip

    def _forget(self, call: Leg) -> None:
        """Release what a finished leg held; the object itself dies on the next turn."""
        self.calls.pop(call.cid, None)
        for peer_id in list(call.peers):
            peer = self.calls.get(peer_id)
            if peer is not None:
                peer.peers.discard(call.cid)
        call.peers.clear()
        self._drop_player(call)
        self._close_recorder(call)
        call.audio = None
        self.dead_calls.append(call)

    def _on_media(self, cid: str) -> None:
        call = self.calls.get(cid)
        if call is None:
            return
        audio = None
        with contextlib.suppress(pj.Error):
            info = call.getInfo()
            for index, media in enumerate(info.media):
                if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status in (
                    pj.PJSUA_CALL_MEDIA_ACTIVE,
                    pj.PJSUA_CALL_MEDIA_REMOTE_HOLD,
                ):
                    audio = call.getAudioMedia(index)
                    break
        call.audio = audio
        if call.deferred_hold is not None:
            hold, call.deferred_hold = call.deferred_hold, None
            with contextlib.suppress(MediaError):
                self._renegotiate(call, hold=hold)
        if audio is None:
            return
        self._connect(call)
        self._connect_supervisors()
        if not call.silent:
            self.emit(CallMediaActive(at=self.clock.now(), call_id=cid))

    def bury_calls(self) -> None:
        """Delete finished Call objects, but only once their pjsua slot is not reused.

        A pjsua2 ``Call`` keeps its slot number after the call ends, and its
        destructor hangs up whatever call holds that slot then: deleting it
        after pjsua gave the slot to a new caller would decline the new call
        with 603 and orphan it. So a dead Call lives on while another Call
        owns its slot.
        """
        keep = []
        for call in self.dead_calls:
            slot = call.getId()
            owner = pj.Call.lookup(slot) if slot != pj.PJSUA_INVALID_ID else None
            if owner is not None and owner is not call and getattr(owner, "cid", None) != call.cid:
                keep.append(call)
        self.dead_calls = keep

    def drain(self) -> None:
        """Act on what the callbacks queued, then on expired tone durations."""
        while self.pending:
            item = self.pending.popleft()
            what = item[0]
            if what == "incoming":
                self._on_incoming(*item[1:])
            elif what == "state":
                self._on_state(*item[1:])
            elif what == "media":
                self._on_media(item[1])
            elif what == "dtmf":
                call = self.calls.get(item[1])
                if call is not None and not call.silent:
                    method = (
                        DtmfMethod.SIP_INFO
                        if item[3] == pj.PJSUA_DTMF_METHOD_SIP_INFO
                        else DtmfMethod.RFC2833
                    )
                    self.emit(DtmfReceived(at=self.clock.now(), call_id=item[1], digit=item[2],
                                           method=method))  # fmt: skip
            elif what == "xfer":
                self._on_transfer_done(item[1], item[2])
            elif what == "eof":
                self._on_eof(item[1], item[2])
            elif what == "error":  # a callback failed: say so, the process lives on
                print(f"media worker {self.config.name}: callback failed on {item[1]!r}: {item[2]}",
                      file=sys.stderr)  # fmt: skip
        self.finish_recordings()
        now = time.monotonic()
        for call in list(self.calls.values()):
            if call.player_deadline is not None and now >= call.player_deadline:
                self._drop_player(call)
                self.emit(PromptFinished(at=self.clock.now(), call_id=call.cid))

    # -- commands ---------------------------------------------------------------------------
    def _call(self, cid: str) -> Leg:
        call = self.calls.get(cid)
        if call is None:
            raise NotFoundError(f"no call {cid!r} in media worker {self.config.name}")
        return call

    def _originate(self, cmd: Originate) -> str:
        if len(self.calls) >= self.capacity:
            raise MediaError(f"media worker {self.config.name} is full ({self.capacity} legs)")
        self.counter += 1
        call = Leg(self, f"{self.config.name}:{self.counter}", pj.PJSUA_INVALID_ID, outbound=True)
        prm = pj.CallOpParam(True)
        headers = list(cmd.headers)
        if cmd.caller_id:
            identity = self._identity_uri(cmd.caller_id)
            headers.append(("P-Asserted-Identity", f"<{identity}>"))
            number = caller_number(identity)
            if number:  # in From too: a peer that does not trust our assertion still sees it
                prm.txOption.localUri = f"<sip:{number}@{self.address}>"
        for name, value in headers:
            header = pj.SipHeader()
            header.hName = name
            header.hValue = value
            prm.txOption.headers.append(header)
        self.calls[call.cid] = call
        try:
            with pjsua2_errors(f"calling {cmd.uri}"):
                call.makeCall(cmd.uri, prm)
        except MediaError:
            self.calls.pop(call.cid, None)
            self.dead_calls.append(call)
            raise
        self.recent_calls.append(time.monotonic())
        return call.cid

    def _identity_uri(self, caller_id: str) -> str:
        """The P-Asserted-Identity URI: ``caller_id`` itself, or a tel/sip URI around a bare id."""
        if ":" in caller_id:
            return caller_id
        if caller_number(f"tel:{caller_id}"):
            return f"tel:{caller_id}"
        return f"sip:{caller_id}@{self.address}"

    def _answer(self, cmd: Answer) -> None:
        call = self._call(cmd.call_id)
        prm = pj.CallOpParam(True)
        prm.statusCode = cmd.status_code
        with pjsua2_errors(f"answering {cmd.call_id}"):
            call.answer(prm)

    def _hangup(self, cmd: Hangup) -> None:
        call = self._call(cmd.call_id)
        prm = pj.CallOpParam(True)
        if cmd.status_code is not None:
            prm.statusCode = cmd.status_code
        call.local_hangup = True
        with pjsua2_errors(f"hanging up {cmd.call_id}"):
            call.hangup(prm)

    def _send_dtmf(self, cmd: SendDtmf) -> None:
        call = self._call(cmd.call_id)
        prm = pj.CallSendDtmfParam()
        prm.digits = cmd.digits
        prm.method = (
            pj.PJSUA_DTMF_METHOD_SIP_INFO
            if cmd.method is DtmfMethod.SIP_INFO
            else pj.PJSUA_DTMF_METHOD_RFC2833
        )
        with pjsua2_errors(f"sending DTMF on {cmd.call_id}"):
            call.sendDtmf(prm)

    def _hold(self, cmd: Hold) -> None:
        self._renegotiate(self._call(cmd.call_id), hold=True)

    def _resume(self, cmd: Resume) -> None:
        self._renegotiate(self._call(cmd.call_id), hold=False)

    def _renegotiate(self, call: Leg, *, hold: bool) -> None:
        """Send the hold or resume re-INVITE, or keep it for when the pending one ends.

        A re-INVITE while another is in progress fails with PJ_EINVALIDOP; a
        resume right after a hold is normal, so it waits for the next media update.
        """
        prm = pj.CallOpParam(True)
        try:
            with pjsua2_errors(f"{'holding' if hold else 'resuming'} {call.cid}"):
                if hold:
                    call.setHold(prm)
                else:
                    prm.opt.flag = pj.PJSUA_CALL_UNHOLD
                    call.reinvite(prm)
        except MediaError:
            if not call.confirmed or call.deferred_hold is not None:
                raise
            call.deferred_hold = hold
        else:
            call.deferred_hold = None

    def _transfer(self, cmd: Transfer) -> None:
        call = self._call(cmd.call_id)
        with pjsua2_errors(f"transferring {cmd.call_id} to {cmd.uri}"):
            call.xfer(cmd.uri, pj.CallOpParam(True))

    def _on_transfer_done(self, cid: str, code: int) -> None:
        """The far end took the REFER to its end: on success our leg has no more to do.

        RFC 5589: the transferor ends its dialog once the transfer target
        answered (NOTIFY with a 2xx sipfrag). On failure the call stays up, so
        the application can take the caller back.
        """
        call = self.calls.get(cid)
        if call is None or not 200 <= code < 300:
            return
        call.local_hangup = True
        call.transferred = True
        with contextlib.suppress(pj.Error):
            call.hangup(pj.CallOpParam(True))

    def _stats(self, cmd: Stats) -> WorkerStats:
        players = sum(c.player is not None for c in self.calls.values()) + len(self.hold_sources)
        return WorkerStats(
            calls=len(self.calls),
            capacity=self.capacity,
            active_ports=int(self.ep.mediaActivePorts()),
            players=players,
            recorders=sum(c.recorder is not None for c in self.calls.values()),
        )

    def _shutdown(self, cmd: Shutdown) -> None:
        self.stopping = True

    # -- the loop ---------------------------------------------------------------------------
    def emit(self, event: MediaEvent) -> None:
        try:
            self.conn.send(event)
        except OSError:
            self.stopping = True

    def handle(self, message: tuple[int, Command]) -> None:
        seq, command = message
        try:
            result = self.handlers[type(command)](command)
        except CallCenterError as exc:
            self.conn.send(Reply(seq, error=exc))
        except Exception as exc:  # noqa: BLE001 - report, never die on one bad command
            self.conn.send(Reply(seq, error=MediaError(f"{type(command).__name__}: {exc!r}")))
        else:
            self.conn.send(Reply(seq, result=result))

    def loop(self) -> None:
        poll_s = self.config.poll_ms / 1000
        waker = threading.Thread(target=self._wake_on_commands, name="command waker", daemon=True)
        waker.start()
        handle_events = self.ep.libHandleEvents
        pending, served, monotonic = self.pending, self.served, time.monotonic
        chores_due = 0.0
        wait_ms = self._poll_ms(poll_s)
        try:
            while not self.stopping:
                handle_events(wait_ms)
                # A busy worker returns from the poll for every RTP packet: do
                # the chores only when a callback queued work, a command came
                # in, or every CHORES_S (tone deadlines, dead calls).
                if not pending and served.is_set() and monotonic() < chores_due:
                    continue
                self.graveyard.clear()
                self.drain()
                self.bury_calls()
                self.serve()
                served.set()
                chores_due = monotonic() + _CHORES_S
                wait_ms = self._poll_ms(poll_s)
        finally:
            # The waker may sit in its one-second wait on the pipe; it touches no
            # pjsua2 object and is a daemon thread, so shutdown does not wait for it.
            self.stopping = True
            self.served.set()

    def _poll_ms(self, poll_s: float) -> int:
        """How long the next poll may wait: ``poll_ms``, or less when a tone ends sooner.

        Commands and prompt ends cut the poll short (:meth:`nudge`), SIP and
        RTP end it by themselves; tone durations are timed here, and a
        recording being closed is looked at every CHORES_S until its file is
        complete.
        """
        if self.closing:
            poll_s = min(poll_s, _CHORES_S)
        deadlines = [c.player_deadline for c in self.calls.values() if c.player_deadline]
        if not deadlines:
            return max(1, round(poll_s * 1000))
        wait = min(poll_s, max(0.0, min(deadlines) - time.monotonic()))
        return max(1, math.ceil(wait * 1000))

    def nudge(self) -> None:
        """End the current ``libHandleEvents`` wait now; safe from any thread.

        pjsua2 cannot wait on anything but its own sockets, so this sends a
        SIP keep-alive (a bare CRLF, which pjsip ignores) to the worker's own
        port. It touches no pjsua2 object: the media clock thread may call it.
        """
        host, port = self.address.rsplit(":", 1)
        with contextlib.suppress(OSError):
            self._nudger.sendto(b"\r\n\r\n", (host, int(port)))

    def _wake_on_commands(self) -> None:
        """Cut the poll short when a command arrives (runs on its own thread).

        Long polls then cost no command latency, and an idle worker wakes up
        rarely. The thread touches no pjsua2 object.
        """
        while not self.stopping:
            self.served.wait()
            try:
                ready = self.conn.poll(1.0)
            except (OSError, EOFError):
                ready = True
            if ready and not self.stopping:
                self.served.clear()
                self.nudge()

    def serve(self) -> None:
        """Obey every command waiting on the pipe; stop when the supervisor is gone."""
        try:
            while self.conn.poll(0):
                self.handle(self.conn.recv())
                if self.stopping:
                    return
        except (EOFError, OSError):
            self.stopping = True

    def close(self) -> None:
        """The shutdown order that never aborts: hang up, poll, drop, collect, destroy."""
        if self.ep is None:
            return
        try:
            with contextlib.suppress(pj.Error):
                self.ep.hangupAllCalls()
            deadline = time.monotonic() + 3.0
            while self.calls and time.monotonic() < deadline:
                self.ep.libHandleEvents(20)
                self.drain()
            for call in list(self.calls.values()):
                self._forget(call)
            self.calls.clear()
            deadline = time.monotonic() + 3.0
            while self.closing and time.monotonic() < deadline:
                self.ep.libHandleEvents(20)
                self.finish_recordings()
            self.pending.clear()
            self.graveyard.clear()
            self.dead_calls.clear()
            self.hold_sources.clear()
            self.clock_keeper = None
            gc.collect()
            if self.account is not None:
                with contextlib.suppress(pj.Error):
                    self.account.shutdown()
                self.account = None
        finally:
            # Every call was hung up and waited for above: without NO_NETWORK,
            # libDestroy sleeps a second more for transactions that are over.
            self.ep.libDestroy(pj.PJSUA_DESTROY_NO_NETWORK)
            self.ep = None
            self._nudger.close()


def run_worker(conn: Connection, config: WorkerConfig) -> None:
    """Run one media worker until told to stop or its supervisor disappears.

    The process ignores SIGINT: the supervisor decides when workers stop,
    so a Ctrl-C in a terminal shuts everything down in order.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    worker = Worker(conn, config)
    try:
        worker.start()
        conn.send(Hello(config.name, worker.address, worker.capacity, os.getpid()))
        worker.loop()
    finally:
        worker.close()
        with contextlib.suppress(OSError):
            conn.close()
