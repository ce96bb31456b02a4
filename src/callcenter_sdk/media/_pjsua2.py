"""The inside of one pjsua2 media worker process.

Importing this module imports ``pjsua2``; where that fails it raises
:class:`~callcenter_sdk.BackendUnavailableError` saying how to get it, and the
rest of the library is unaffected (only the worker processes import it).

One process owns one ``pjsua2.Endpoint``. Its main thread calls ``libCreate``
and then polls ``libHandleEvents`` (``threadCnt=0``, ``mainThreadOnly``), so
every SIP callback runs on that thread. Callbacks only append plain tuples to
a queue; the loop then acts on them, answers commands from the supervisor and
sends events back. pjsua2 objects never leave this module, and
``pjsua2.Error`` becomes :class:`~callcenter_sdk.MediaError` at the boundary.
The measured facts behind each setting are in ``docs/media.md``.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

from .._clock import WallClock
from .._errors import BackendUnavailableError, CallCenterError, MediaError, NotFoundError
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
from ._protocol import AudioFile, MonitorMode, Prompt, Tone
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

HOW_TO_GET_PJSUA2 = (
    "the pjsua2 media backend needs the `pjsua2` Python module, which cannot be imported here. "
    "Install it with `pip install pjsua2-python` (wheels for CPython 3.8-3.12 on Linux x86_64, "
    "macOS arm64 and Windows; they allow 4 calls per process), or build pjproject's Python "
    "binding (pjsip-apps/src/swig/python) with PJSUA_MAX_CALLS raised in config_site.h and "
    "install it in this environment. The virtual backend (callcenter_sdk.media.VirtualBackend) "
    "needs nothing."
)

try:
    import pjsua2 as pj
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise BackendUnavailableError(f"{HOW_TO_GET_PJSUA2} ({exc})") from exc

__all__ = ["HOW_TO_GET_PJSUA2", "run_worker"]

_PROBE_USER = "capacity-probe"
_DEFAULT_HOLD_MUSIC = Tone((425,))


@contextlib.contextmanager
def _pjsua2_errors(what: str) -> Iterator[None]:
    """Translate ``pjsua2.Error`` into MediaError, naming the operation."""
    try:
        yield
    except pj.Error as exc:
        raise MediaError(f"{what}: {exc.title}: {exc.reason} (status {exc.status})") from None


def _wav_complete(path: str) -> bool:
    """True once a WAV file's RIFF header states its real length (the writer closed it)."""
    try:
        with open(path, "rb") as wav:
            head = wav.read(12)
        size = os.path.getsize(path)
    except OSError:
        return False
    return (
        len(head) == 12 and head[:4] == b"RIFF" and int.from_bytes(head[4:8], "little") + 8 == size
    )


class _Call(pj.Call):  # type: ignore[misc]
    """A leg, with what should be connected to it once its media is up."""

    def __init__(self, worker: _Worker, cid: str, pj_id: int, *, outbound: bool) -> None:
        super().__init__(worker.account, pj_id)
        self.worker = worker
        self.cid = cid
        self.outbound = outbound
        self.silent = False
        self.local_hangup = False
        self.confirmed = False
        self.ringing_sent = False
        self.audio: Any = None
        self.player: Any = None
        self.player_deadline: float | None = None
        self.moh: Prompt | None = None
        self.peers: set[str] = set()
        self.recorder: Any = None
        self.record_path = ""
        self.deferred_hold: bool | None = None
        self.monitoring: tuple[str, MonitorMode] | None = None

    # Callbacks run on the worker's main thread: they only enqueue plain values.
    def onCallState(self, prm: Any) -> None:  # noqa: N802 - pjsua2's name
        try:
            info = self.getInfo()
            self.worker.pending.append(
                ("state", self.cid, int(info.state), int(info.lastStatusCode), info.lastReason)
            )
        except Exception as exc:  # noqa: BLE001 - an escaping exception aborts the process
            self.worker.pending.append(("error", self.cid, repr(exc)))

    def onCallMediaState(self, prm: Any) -> None:  # noqa: N802
        self.worker.pending.append(("media", self.cid))

    def onDtmfDigit(self, prm: Any) -> None:  # noqa: N802
        with contextlib.suppress(Exception):
            self.worker.pending.append(("dtmf", self.cid, str(prm.digit), int(prm.method)))

    def onCallTransferRequest(self, prm: Any) -> None:  # noqa: N802
        # A REFER from the far end would make pjsua create a call we hold no
        # reference to; transfers are ours to decide, so decline.
        with contextlib.suppress(Exception):
            prm.statusCode = 603

    def onCallRedirected(self, prm: Any) -> int:  # noqa: N802
        # Follow 3xx (a front door spreading calls over workers, a carrier's
        # redirect): the leg keeps its id and its events.
        return int(pj.PJSIP_REDIRECT_ACCEPT_REPLACE)


class _Player(pj.AudioMediaPlayer):  # type: ignore[misc]
    def __init__(self, worker: _Worker, cid: str) -> None:
        super().__init__()
        self.worker = worker
        self.cid = cid

    def onEof2(self) -> None:  # noqa: N802
        # Runs on the media clock thread: a deque append is all that is safe here.
        with contextlib.suppress(Exception):
            self.worker.pending.append(("eof", self.cid, id(self)))


class _Account(pj.Account):  # type: ignore[misc]
    def __init__(self, worker: _Worker) -> None:
        super().__init__()
        self.worker = worker

    def onIncomingCall(self, prm: Any) -> None:  # noqa: N802
        try:
            self.worker.accept_incoming(prm.callId)
        except Exception as exc:  # noqa: BLE001 - an escaping exception aborts the process
            self.worker.pending.append(("error", "", repr(exc)))


class _Worker:
    """The state of one worker process; every method runs on its main thread."""

    def __init__(self, conn: Connection, config: WorkerConfig) -> None:
        self.conn = conn
        self.config = config
        self.clock = WallClock()
        self.pending: collections.deque[tuple[Any, ...]] = collections.deque()
        self.calls: dict[str, _Call] = {}
        self.graveyard: list[Any] = []
        self.dead_calls: list[_Call] = []
        self.hold_sources: dict[Prompt, Any] = {}
        self.recent_calls: collections.deque[float] = collections.deque()
        self.closing: list[tuple[str, str, float]] = []
        self.served = threading.Event()
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
        self.account = _Account(self)
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
        probes: list[_Call] = []
        uri = f"sip:{_PROBE_USER}@{self.address}"
        for number in range(self.config.probe_limit):
            call = _Call(self, f"probe-{number}", pj.PJSUA_INVALID_ID, outbound=True)
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
    def accept_incoming(self, pj_id: int) -> None:
        """Keep a reference to a new inbound leg (pjsua tears it down otherwise)."""
        self.counter += 1
        call = _Call(self, f"{self.config.name}:{self.counter}", pj_id, outbound=False)
        info = call.getInfo()
        self.calls[call.cid] = call
        self.pending.append(("incoming", call.cid, info.remoteUri, info.localUri))

    def _over_rate(self) -> bool:
        now = time.monotonic()
        while self.recent_calls and now - self.recent_calls[0] > 1.0:
            self.recent_calls.popleft()
        return len(self.recent_calls) >= self.config.max_new_calls_per_second

    def _on_incoming(self, cid: str, remote: str, local: str) -> None:
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
        self.emit(CallIncoming(at=self.clock.now(), call_id=cid, from_uri=remote, to_uri=local,
                               worker=self.config.name))  # fmt: skip
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
                self.emit(CallEnded(at=now, call_id=cid, cause=cause, status_code=code,
                                    reason=reason))  # fmt: skip

    def _forget(self, call: _Call) -> None:
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

    def _connect(self, call: _Call) -> None:
        """(Re)build every connection of the leg: its port may have changed."""
        audio = call.audio
        if audio is None:
            return
        with contextlib.suppress(pj.Error):
            if call.player is not None:
                call.player.startTransmit(audio)
            if call.moh is not None:
                self.hold_sources[call.moh].startTransmit(audio)
            if call.recorder is not None:
                audio.startTransmit(call.recorder)
            for peer_id in call.peers:
                peer = self.calls.get(peer_id)
                if peer is None or peer.audio is None:
                    continue
                audio.startTransmit(peer.audio)
                peer.audio.startTransmit(audio)
                if call.recorder is not None:
                    peer.audio.startTransmit(call.recorder)
                if peer.recorder is not None:
                    audio.startTransmit(peer.recorder)

    def _conversation(self, agent_id: str) -> tuple[Any, list[Any]]:
        """The agent leg's port and the ports of the legs bridged to it."""
        agent = self.calls.get(agent_id)
        if agent is None:
            return None, []
        peers = [self.calls[p].audio for p in agent.peers if p in self.calls]
        return agent.audio, [p for p in peers if p is not None]

    def _connect_supervisors(self) -> None:
        """(Re)build every supervisor's connections: any leg's port may have changed."""
        for sup in self.calls.values():
            if sup.monitoring is None or sup.audio is None:
                continue
            agent, others = self._conversation(sup.monitoring[0])
            mode = sup.monitoring[1]
            with contextlib.suppress(pj.Error):
                for source in [agent, *others]:
                    if source is not None:
                        source.startTransmit(sup.audio)
                if mode is not MonitorMode.LISTEN and agent is not None:
                    sup.audio.startTransmit(agent)
                if mode is MonitorMode.BARGE:
                    for other in others:
                        sup.audio.startTransmit(other)

    def _disconnect_supervisor(self, sup: _Call) -> None:
        if sup.monitoring is None or sup.audio is None:
            sup.monitoring = None
            return
        agent, others = self._conversation(sup.monitoring[0])
        sup.monitoring = None
        with contextlib.suppress(pj.Error):
            for port in [agent, *others]:
                if port is not None:
                    port.stopTransmit(sup.audio)
                    sup.audio.stopTransmit(port)

    def _monitor(self, cmd: Monitor) -> None:
        sup = self._call(cmd.supervisor_call)
        self._disconnect_supervisor(sup)
        if cmd.mode is None:
            return
        if self._call(cmd.agent_call) is sup:
            raise MediaError(f"{sup.cid} cannot monitor itself")
        sup.monitoring = (cmd.agent_call, cmd.mode)
        self._connect_supervisors()

    def _on_eof(self, cid: str, token: int) -> None:
        call = self.calls.get(cid)
        if call is None or id(call.player) != token:
            return
        self._drop_player(call)
        self.emit(PromptFinished(at=self.clock.now(), call_id=cid))

    def _drop_player(self, call: _Call) -> None:
        if call.player is None:
            return
        if call.audio is not None:
            with contextlib.suppress(pj.Error):
                call.player.stopTransmit(call.audio)
        self.graveyard.append(call.player)
        call.player = None
        call.player_deadline = None

    def _close_recorder(self, call: _Call) -> None:
        if call.recorder is None:
            return
        # Dropping the last reference removes the recorder from the bridge; the
        # bridge clock closes the file a moment later, so the event waits for
        # the WAV header to be complete (see finish_recordings).
        recorder, call.recorder = call.recorder, None
        del recorder
        self.closing.append((call.cid, call.record_path, time.monotonic() + 5.0))

    def finish_recordings(self) -> None:
        """Report recordings whose files are complete (or that gave up after 5 s)."""
        now = time.monotonic()
        for item in list(self.closing):
            cid, path, deadline = item
            if _wav_complete(path) or now > deadline:
                self.closing.remove(item)
                self.emit(RecordingFinished(at=self.clock.now(), call_id=cid, path=path))

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
    def _call(self, cid: str) -> _Call:
        call = self.calls.get(cid)
        if call is None:
            raise NotFoundError(f"no call {cid!r} in media worker {self.config.name}")
        return call

    def _originate(self, cmd: Originate) -> str:
        if len(self.calls) >= self.capacity:
            raise MediaError(f"media worker {self.config.name} is full ({self.capacity} legs)")
        self.counter += 1
        call = _Call(self, f"{self.config.name}:{self.counter}", pj.PJSUA_INVALID_ID, outbound=True)
        prm = pj.CallOpParam(True)
        headers = list(cmd.headers)
        if cmd.caller_id:
            headers.append(("P-Asserted-Identity", f"<{cmd.caller_id}>"))
        for name, value in headers:
            header = pj.SipHeader()
            header.hName = name
            header.hValue = value
            prm.txOption.headers.append(header)
        self.calls[call.cid] = call
        try:
            with _pjsua2_errors(f"calling {cmd.uri}"):
                call.makeCall(cmd.uri, prm)
        except MediaError:
            self.calls.pop(call.cid, None)
            self.dead_calls.append(call)
            raise
        self.recent_calls.append(time.monotonic())
        return call.cid

    def _answer(self, cmd: Answer) -> None:
        call = self._call(cmd.call_id)
        prm = pj.CallOpParam(True)
        prm.statusCode = cmd.status_code
        with _pjsua2_errors(f"answering {cmd.call_id}"):
            call.answer(prm)

    def _hangup(self, cmd: Hangup) -> None:
        call = self._call(cmd.call_id)
        prm = pj.CallOpParam(True)
        if cmd.status_code is not None:
            prm.statusCode = cmd.status_code
        call.local_hangup = True
        with _pjsua2_errors(f"hanging up {cmd.call_id}"):
            call.hangup(prm)

    def _play(self, cmd: Play) -> None:
        call = self._call(cmd.call_id)
        self._drop_player(call)
        with _pjsua2_errors(f"playing {cmd.prompt!r}"):
            if isinstance(cmd.prompt, AudioFile):
                player = _Player(self, call.cid)
                player.createPlayer(cmd.prompt.path, 0 if cmd.loop else pj.PJMEDIA_FILE_NO_LOOP)
            else:
                player = self._tone(cmd.prompt)
                if cmd.prompt.duration is not None and not cmd.loop:
                    call.player_deadline = time.monotonic() + cmd.prompt.duration
            call.player = player
        self._connect(call)

    def _tone(self, tone: Tone) -> Any:
        generator = pj.ToneGenerator()
        generator.createToneGenerator(self.config.clock_rate, 1)
        desc = pj.ToneDesc()
        desc.freq1 = tone.frequencies[0]
        desc.freq2 = tone.frequencies[1] if len(tone.frequencies) > 1 else 0
        desc.on_msec = 1000
        desc.off_msec = 0
        desc.volume = 0
        descs = pj.ToneDescVector()
        descs.append(desc)
        generator.play(descs, True)
        return generator

    def _stop_playing(self, cmd: StopPlaying) -> None:
        self._drop_player(self._call(cmd.call_id))

    def _send_dtmf(self, cmd: SendDtmf) -> None:
        call = self._call(cmd.call_id)
        prm = pj.CallSendDtmfParam()
        prm.digits = cmd.digits
        prm.method = (
            pj.PJSUA_DTMF_METHOD_SIP_INFO
            if cmd.method is DtmfMethod.SIP_INFO
            else pj.PJSUA_DTMF_METHOD_RFC2833
        )
        with _pjsua2_errors(f"sending DTMF on {cmd.call_id}"):
            call.sendDtmf(prm)

    def _music_on_hold(self, cmd: MusicOnHold) -> None:
        call = self._call(cmd.call_id)
        if call.moh is not None and call.audio is not None:
            with contextlib.suppress(pj.Error):
                self.hold_sources[call.moh].stopTransmit(call.audio)
        call.moh = None
        if not cmd.on:
            return
        prompt = cmd.prompt or _DEFAULT_HOLD_MUSIC
        if prompt not in self.hold_sources:
            # One looping source per piece of music, fanned out by the bridge:
            # the build allows only 32 players per process.
            with _pjsua2_errors(f"starting hold music {prompt!r}"):
                if isinstance(prompt, AudioFile):
                    player = pj.AudioMediaPlayer()
                    player.createPlayer(prompt.path, 0)
                else:
                    player = self._tone(prompt)
            self.hold_sources[prompt] = player
        call.moh = prompt
        self._connect(call)

    def _bridge(self, cmd: Bridge) -> None:
        a, b = self._call(cmd.call_a), self._call(cmd.call_b)
        if a is b:
            raise MediaError(f"cannot bridge {cmd.call_a} to itself")
        a.peers.add(b.cid)
        b.peers.add(a.cid)
        self._connect(a)
        self._connect_supervisors()

    def _unbridge(self, cmd: Unbridge) -> None:
        a, b = self._call(cmd.call_a), self._call(cmd.call_b)
        a.peers.discard(b.cid)
        b.peers.discard(a.cid)
        with contextlib.suppress(pj.Error):
            if a.audio is not None and b.audio is not None:
                a.audio.stopTransmit(b.audio)
                b.audio.stopTransmit(a.audio)
            if a.recorder is not None and b.audio is not None:
                b.audio.stopTransmit(a.recorder)
            if b.recorder is not None and a.audio is not None:
                a.audio.stopTransmit(b.recorder)

    def _start_recording(self, cmd: StartRecording) -> None:
        call = self._call(cmd.call_id)
        self._close_recorder(call)
        recorder = pj.AudioMediaRecorder()
        with _pjsua2_errors(f"recording {cmd.call_id} to {cmd.path}"):
            recorder.createRecorder(cmd.path)
        call.recorder = recorder
        call.record_path = cmd.path
        self._connect(call)

    def _stop_recording(self, cmd: StopRecording) -> None:
        self._close_recorder(self._call(cmd.call_id))

    def _hold(self, cmd: Hold) -> None:
        self._renegotiate(self._call(cmd.call_id), hold=True)

    def _resume(self, cmd: Resume) -> None:
        self._renegotiate(self._call(cmd.call_id), hold=False)

    def _renegotiate(self, call: _Call, *, hold: bool) -> None:
        """Send the hold or resume re-INVITE, or keep it for when the pending one ends.

        A re-INVITE while another is in progress fails with PJ_EINVALIDOP; a
        resume right after a hold is normal, so it waits for the next media update.
        """
        prm = pj.CallOpParam(True)
        try:
            with _pjsua2_errors(f"{'holding' if hold else 'resuming'} {call.cid}"):
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
        with _pjsua2_errors(f"transferring {cmd.call_id} to {cmd.uri}"):
            call.xfer(cmd.uri, pj.CallOpParam(True))

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
        poll_ms = self.config.poll_ms
        waker = threading.Thread(target=self._wake_on_commands, name="command waker", daemon=True)
        waker.start()
        try:
            while not self.stopping:
                self.ep.libHandleEvents(poll_ms)
                self.graveyard.clear()
                self.drain()
                self.bury_calls()
                self.serve()
                self.served.set()
        finally:
            self.stopping = True
            self.served.set()
            waker.join(timeout=2.0)

    def _wake_on_commands(self) -> None:
        """Cut ``libHandleEvents`` short when a command arrives (runs on its own thread).

        pjsua2 cannot wait on our pipe, so a long poll would delay every
        command. This thread touches no pjsua2 object: when the pipe becomes
        readable it sends a SIP keep-alive (a bare CRLF, ignored by pjsip) to
        the worker's own port, which ends the poll. Long polls then cost no
        latency, and an idle worker wakes up rarely.
        """
        host, port = self.address.rsplit(":", 1)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            while not self.stopping:
                self.served.wait()
                try:
                    ready = self.conn.poll(0.1)
                except (OSError, EOFError):
                    ready = True
                if ready and not self.stopping:
                    self.served.clear()
                    with contextlib.suppress(OSError):
                        sock.sendto(b"\r\n\r\n", (host, int(port)))

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
            self.ep.libDestroy()
            self.ep = None


def run_worker(conn: Connection, config: WorkerConfig) -> None:
    """Run one media worker until told to stop or its supervisor disappears.

    The process ignores SIGINT: the supervisor decides when workers stop,
    so a Ctrl-C in a terminal shuts everything down in order.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    worker = _Worker(conn, config)
    try:
        worker.start()
        conn.send(Hello(config.name, worker.address, worker.capacity, os.getpid()))
        worker.loop()
    finally:
        worker.close()
        with contextlib.suppress(OSError):
            conn.close()
