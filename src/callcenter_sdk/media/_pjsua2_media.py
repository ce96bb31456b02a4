"""What a worker joins in its conference bridge: prompts, music, bridges, recordings, supervisors.

Every connection of a leg is kept as data on the leg and (re)applied by
:meth:`MediaRouting._connect` whenever the leg's media changes, because a
re-INVITE can give the leg a new bridge port.

Recordings are customer data: the worker creates each file with mode 0600
(and its directory 0700 when missing) before the recorder opens it, whatever
the worker's umask.
"""

from __future__ import annotations

import collections
import contextlib
import os
import time
from typing import Any

from .._clock import WallClock
from .._errors import MediaError
from ._events import MediaEvent, PromptFinished, RecordingFinished
from ._pjsua2_binding import Leg, PromptPlayer, pj, pjsua2_errors
from ._protocol import AudioFile, MonitorMode, Prompt, Tone
from ._wire import (
    Bridge,
    Monitor,
    MusicOnHold,
    Play,
    StartRecording,
    StopPlaying,
    StopRecording,
    Unbridge,
    WorkerConfig,
)

__all__ = ["MediaRouting", "private_file", "wav_complete"]

_DEFAULT_HOLD_MUSIC = Tone((425,))


def private_file(path: str) -> None:
    """Create ``path`` for writing with mode 0600 (its directory 0700 if missing).

    The recorder then truncates the file and keeps its mode; a file already
    there (an earlier take) is made 0600 too.

    Raises:
        MediaError: The file or its directory cannot be created, or the file is another user's.
    """
    try:
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            os.makedirs(parent, mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.fchmod(fd, 0o600)
        finally:
            os.close(fd)
    except OSError as exc:
        raise MediaError(f"recording to {path}: {exc}") from exc


def wav_complete(path: str) -> bool:
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


class MediaRouting:
    """The media half of a worker (a mixin of :class:`~._pjsua2.Worker`)."""

    config: WorkerConfig
    clock: WallClock
    calls: dict[str, Leg]
    hold_sources: dict[Prompt, Any]
    graveyard: list[Any]
    closing: list[tuple[str, str, float]]
    pending: collections.deque[tuple[Any, ...]]

    def emit(self, event: MediaEvent) -> None:
        """Send an event to the supervisor (the worker's)."""
        raise NotImplementedError

    def nudge(self) -> None:
        """End the worker's current poll now; safe from any thread (the worker's)."""
        raise NotImplementedError

    def _call(self, cid: str) -> Leg:
        raise NotImplementedError

    def _connect(self, call: Leg) -> None:
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

    def _disconnect_supervisor(self, sup: Leg) -> None:
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

    def _drop_player(self, call: Leg) -> None:
        if call.player is None:
            return
        if call.audio is not None:
            with contextlib.suppress(pj.Error):
                call.player.stopTransmit(call.audio)
        self.graveyard.append(call.player)
        call.player = None
        call.player_deadline = None

    def _close_recorder(self, call: Leg) -> None:
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
            if wav_complete(path) or now > deadline:
                self.closing.remove(item)
                self.emit(RecordingFinished(at=self.clock.now(), call_id=cid, path=path))

    def _play(self, cmd: Play) -> None:
        call = self._call(cmd.call_id)
        self._drop_player(call)
        with pjsua2_errors(f"playing {cmd.prompt!r}"):
            if isinstance(cmd.prompt, AudioFile):
                player = PromptPlayer(self, call.cid)
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
            with pjsua2_errors(f"starting hold music {prompt!r}"):
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
        private_file(cmd.path)
        recorder = pj.AudioMediaRecorder()
        with pjsua2_errors(f"recording {cmd.call_id} to {cmd.path}"):
            recorder.createRecorder(cmd.path)
        call.recorder = recorder
        call.record_path = cmd.path
        self._connect(call)

    def _stop_recording(self, cmd: StopRecording) -> None:
        self._close_recorder(self._call(cmd.call_id))
