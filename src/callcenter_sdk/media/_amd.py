"""Answering-machine detection (AMD) from the first seconds of a called party's audio.

An outbound campaign must not put a live agent on an answering machine, nor
drop a person who answered: the FCC counts a person not connected to an
agent within 2 s of their greeting as an abandoned call, Ofcom counts the
detector's false positives. The detector here is the classic energy-and-words
one (the method of Asterisk's ``AMD()``): people answer with a short word or
two ("Hello?") and then wait; machines start with silence or with a long
greeting of many words. It listens to 20 ms frames of 16-bit PCM, splits
them into voice and silence by their mean level, counts words, and decides:

- silence for ``initial_silence`` before any word: ``MACHINE``, ``initial-silence``;
- one word lasting ``greeting`` or more: ``MACHINE``, ``long-greeting``;
- ``maximum_words`` words: ``MACHINE``, ``max-words``;
- a greeting followed by ``after_greeting_silence`` of silence: ``HUMAN``, ``human``;
- nothing decided after ``total_analysis`` seconds: ``NOTSURE``, ``too-long``.

:class:`AmdDetector` is pure and incremental (feed it bytes as they come, in
any chunk sizes); :func:`detect_machine` runs it on a live leg of any backend
that records to a local WAV file as the call goes (the pjsua2 pool does,
in 4 kB steps: about 0.26 s of latency on top of the rules above).

.. versionadded:: 0.1
"""

from __future__ import annotations

import contextlib
import enum
import os
import sys
import tempfile
from array import array
from typing import TYPE_CHECKING, Any

import anyio
import attrs

from .._errors import MediaError, NotFoundError, StateError, ValidationError

if TYPE_CHECKING:
    from ._protocol import MediaBackend

__all__ = ["AmdConfig", "AmdDetector", "AmdResult", "AmdVerdict", "detect_machine"]

_FRAME_S = 0.02
_WAV_DATA = b"data"


class AmdVerdict(enum.Enum):
    """Who answered: a person, a machine, or the detector could not tell in time."""

    HUMAN = "human"
    MACHINE = "machine"
    NOTSURE = "notsure"


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ValidationError(f"AmdConfig.{attribute.name} must be positive, got {value!r}")


@attrs.frozen(kw_only=True)
class AmdConfig:
    """The detector's thresholds (Asterisk's ``amd.conf`` defaults).

    Attributes:
        initial_silence: Seconds of silence before the first word that mean a machine.
        greeting: A word this long (seconds) means a machine's recorded greeting.
        after_greeting_silence: Seconds of silence after the greeting that mean a
            person waiting for an answer.
        total_analysis: Seconds after which the detector gives up (``NOTSURE``).
        min_word: Voice shorter than this (seconds) is noise, not a word.
        between_words_silence: Silence at least this long (seconds) ends a word.
        maximum_words: This many words mean a machine.
        silence_threshold: Frames whose mean absolute 16-bit sample is below
            this are silence (256 is about -42 dBFS).
    """

    initial_silence: float = attrs.field(default=2.5, validator=_positive)
    greeting: float = attrs.field(default=1.5, validator=_positive)
    after_greeting_silence: float = attrs.field(default=0.8, validator=_positive)
    total_analysis: float = attrs.field(default=5.0, validator=_positive)
    min_word: float = attrs.field(default=0.1, validator=_positive)
    between_words_silence: float = attrs.field(default=0.05, validator=_positive)
    maximum_words: int = attrs.field(default=3, validator=_positive)
    silence_threshold: int = attrs.field(default=256, validator=_positive)


@attrs.frozen
class AmdResult:
    """The detector's decision.

    Attributes:
        verdict: Person, machine or not sure.
        cause: Which rule decided (``human``, ``initial-silence``,
            ``long-greeting``, ``max-words``, ``too-long``, ``no-audio``).
        after: Seconds of the party's audio analysed when it decided.
        words: Words heard until then.
    """

    verdict: AmdVerdict
    cause: str
    after: float
    words: int


class AmdDetector:
    """Incremental answering-machine detection over 16-bit mono PCM.

    Feed the called party's audio from the moment they answer; the first
    :class:`AmdResult` returned is the decision, and later calls return it
    again. The result depends only on the audio, not on how it was chunked.
    """

    def __init__(self, config: AmdConfig | None = None, *, rate: int = 8000) -> None:
        if rate <= 0:
            raise ValidationError(f"AmdDetector rate must be positive, got {rate!r}")
        self.config = config or AmdConfig()
        self._frame_bytes = round(rate * _FRAME_S) * 2
        self._pending = b""
        self._frames = 0
        self._voice_frames = 0  # of the current word, or of the voice run that may become one
        self._silence_frames = 0
        self._words = 0
        self._in_word = False
        self._greeted = False  # a word has been heard
        self.result: AmdResult | None = None

    @property
    def analysed(self) -> float:
        """Seconds of audio looked at so far."""
        return self._frames * _FRAME_S

    def feed(self, pcm: bytes) -> AmdResult | None:
        """Add audio (16-bit little-endian samples); return the decision once there is one."""
        if self.result is not None:
            return self.result
        data = self._pending + pcm
        size = self._frame_bytes
        whole = len(data) - len(data) % size
        self._pending = data[whole:]
        for start in range(0, whole, size):
            samples = array("h", data[start : start + size])
            if sys.byteorder == "big":  # WAV samples are little-endian
                samples.byteswap()
            if self._frame(sum(map(abs, samples)) / len(samples) >= self.config.silence_threshold):
                break
        return self.result

    def _decide(self, verdict: AmdVerdict, cause: str) -> bool:
        self.result = AmdResult(verdict, cause, round(self.analysed, 3), self._words)
        return True

    def _frame(self, voiced: bool) -> bool:
        """Account for one frame; true once decided."""
        cfg = self.config
        self._frames += 1
        if voiced:
            self._silence_frames = 0
            self._voice_frames += 1
            voice = self._voice_frames * _FRAME_S
            if not self._in_word and voice >= cfg.min_word - 1e-9:
                self._in_word = self._greeted = True
                self._words += 1
                if self._words >= cfg.maximum_words:
                    return self._decide(AmdVerdict.MACHINE, "max-words")
            if self._in_word and voice >= cfg.greeting - 1e-9:
                return self._decide(AmdVerdict.MACHINE, "long-greeting")
        else:
            self._silence_frames += 1
            silence = self._silence_frames * _FRAME_S
            if silence >= cfg.between_words_silence - 1e-9:
                self._in_word = False
                self._voice_frames = 0
            if not self._greeted and self.analysed >= cfg.initial_silence - 1e-9:
                return self._decide(AmdVerdict.MACHINE, "initial-silence")
            if self._greeted and silence >= cfg.after_greeting_silence - 1e-9:
                return self._decide(AmdVerdict.HUMAN, "human")
        if self.analysed >= cfg.total_analysis - 1e-9:
            return self._decide(AmdVerdict.NOTSURE, "too-long")
        return False


def _pcm_after_header(head: bytes) -> int | None:
    """Where the samples start in a WAV file being written (``None``: header not there yet)."""
    at = head.find(_WAV_DATA)
    return None if at < 0 else at + 8


async def detect_machine(
    backend: MediaBackend,
    call_id: str,
    *,
    config: AmdConfig | None = None,
    directory: str | os.PathLike[str] | None = None,
    poll: float = 0.05,
) -> AmdResult:
    """Listen to an answered leg and tell a person from an answering machine.

    The leg is recorded to a temporary WAV file (8 kHz, 16-bit, as the pjsua2
    pool writes it) that this process reads as it grows; the recording is
    stopped and the file removed once decided. Call it right after the
    answer, before bridging the leg to an agent. A backend whose recordings
    are not readable audio files here (the virtual backend) yields no audio:
    the result is then ``NOTSURE`` with cause ``no-audio`` after
    ``total_analysis`` seconds plus two.

    Args:
        backend: The media backend holding the leg.
        call_id: The answered outbound leg.
        config: Thresholds (default: :class:`AmdConfig`'s).
        directory: Where to write the temporary recording (default: the system's).
        poll: Seconds between reads of the growing file.

    Raises:
        NotFoundError: The leg does not exist (or ended before any audio).
        MediaError: The backend could not record it.
    """
    detector = AmdDetector(config)
    fd, name = tempfile.mkstemp(prefix="amd-", suffix=".wav", dir=directory)
    os.close(fd)
    path = anyio.Path(name)
    try:
        await backend.start_recording(call_id, str(path))
        try:
            return await _listen(detector, path, poll)
        finally:
            with contextlib.suppress(NotFoundError, StateError, MediaError):
                await backend.stop_recording(call_id)
    finally:
        await path.unlink(missing_ok=True)


async def _listen(detector: AmdDetector, path: anyio.Path, poll: float) -> AmdResult:
    """Feed the detector from the growing file until it decides (or no audio comes)."""
    offset: int | None = None
    give_up = anyio.current_time() + detector.config.total_analysis + 2.0
    while anyio.current_time() < give_up:
        await anyio.sleep(poll)
        async with await path.open("rb") as wav:
            if offset is None:
                offset = _pcm_after_header(await wav.read(64))
                if offset is None:
                    continue
            await wav.seek(offset)
            chunk = await wav.read()
        offset += len(chunk)
        result = detector.feed(chunk)
        if result is not None:
            return result
    return AmdResult(AmdVerdict.NOTSURE, "no-audio", round(detector.analysed, 3), 0)
