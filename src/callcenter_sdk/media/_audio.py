"""Audio checks in pure Python: tone WAV files and a Goertzel tone detector.

Used by the SIP tests (and useful in a deployment's own tests) to prove that
audio really crossed a bridge: play distinct tones on each side, record, and
look for each tone in what the other side heard.

.. versionadded:: 0.1
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

from .._errors import ValidationError

__all__ = ["has_tone", "read_wav", "tone_level", "write_tone_wav"]


def read_wav(path: Path) -> tuple[int, list[int]]:
    """Return (sample rate, mono 16-bit samples) of a PCM WAV file."""
    with wave.open(str(path), "rb") as wav:
        rate = wav.getframerate()
        width = wav.getsampwidth()
        channels = wav.getnchannels()
        data = wav.readframes(wav.getnframes())
    if width != 2:
        raise ValidationError(f"{path}: expected 16-bit samples, got {8 * width}-bit")
    samples = list(struct.unpack(f"<{len(data) // 2}h", data))
    return rate, samples[::channels]


def write_tone_wav(path: Path, frequency: float, seconds: float, rate: int = 8000) -> None:
    """Write a mono 16-bit sine tone (peers such as baresip play it as their voice)."""
    count = int(seconds * rate)
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * frequency * i / rate)))
        for i in range(count)
    )
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(frames)


def tone_level(samples: list[int], rate: int, frequency: float) -> float:
    """Amplitude of ``frequency`` in ``samples`` (Goertzel), in sample units."""
    if not samples:
        return 0.0
    coeff = 2 * math.cos(2 * math.pi * frequency / rate)
    prev = prev2 = 0.0
    for sample in samples:
        prev, prev2 = sample + coeff * prev - prev2, prev
    power = prev2 * prev2 + prev * prev - coeff * prev * prev2
    return 2 * math.sqrt(max(power, 0.0)) / len(samples)


def has_tone(path: Path, frequency: float, *, against: float = 700.0) -> bool:
    """True when ``frequency`` is clearly present: loud, and far above an unrelated frequency."""
    rate, samples = read_wav(path)
    level = tone_level(samples, rate, frequency)
    return level > 50 and level > 8 * tone_level(samples, rate, against)
