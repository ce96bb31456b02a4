"""The answering-machine detector on synthetic audio: its rules, exactly, and chunking."""

from __future__ import annotations

import itertools
import math
from array import array

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter_sdk import ValidationError
from callcenter_sdk.media import AmdConfig, AmdDetector, AmdResult, AmdVerdict

RATE = 8000


def _voice(seconds: float, level: int = 3000) -> bytes:
    """A 440 Hz tone: energy well above the silence threshold, like speech."""
    n = round(seconds * RATE)
    return array(
        "h", (int(level * math.sin(2 * math.pi * 440 * i / RATE)) for i in range(n))
    ).tobytes()


def _silence(seconds: float, level: int = 0) -> bytes:
    return array("h", [level] * round(seconds * RATE)).tobytes()


def _detect(*parts: bytes, config: AmdConfig | None = None) -> AmdResult | None:
    return AmdDetector(config).feed(b"".join(parts))


def test_a_person_says_hello_and_waits() -> None:
    """0.5 s of voice then silence: HUMAN once 0.8 s of silence follow the word."""
    result = _detect(_silence(0.3), _voice(0.5), _silence(2.0))
    assert result == AmdResult(AmdVerdict.HUMAN, "human", 1.6, 1)


def test_a_machine_greets_at_length() -> None:
    """Continuous voice: MACHINE as soon as the word has lasted the greeting's 1.5 s."""
    result = _detect(_silence(0.2), _voice(4.0))
    assert result == AmdResult(AmdVerdict.MACHINE, "long-greeting", 1.7, 1)


def test_silence_before_any_word_is_a_machine() -> None:
    """Nothing but silence (or sub-threshold noise): MACHINE at 2.5 s."""
    assert _detect(_silence(4.0, level=200)) == AmdResult(
        AmdVerdict.MACHINE, "initial-silence", 2.5, 0
    )


def test_many_short_words_are_a_machine() -> None:
    """Three words separated by short pauses: MACHINE on the third word."""
    word, pause = _voice(0.3), _silence(0.2)
    result = _detect(word, pause, word, pause, word, pause)
    assert result is not None
    assert (result.verdict, result.cause, result.words) == (AmdVerdict.MACHINE, "max-words", 3)
    assert result.after == pytest.approx(1.1)  # the third word counts after min_word (0.1 s)


def test_noise_bursts_shorter_than_a_word_are_not_words() -> None:
    """Clicks of 40 ms, below the 100 ms minimum word, never start a greeting."""
    clicks = (_voice(0.04) + _silence(0.3)) * 10
    assert _detect(clicks) == AmdResult(AmdVerdict.MACHINE, "initial-silence", 2.5, 0)


def test_undecided_audio_ends_as_not_sure() -> None:
    """With an after-greeting silence longer than the analysis window, a word then
    silence is never settled: NOTSURE at total_analysis."""
    config = AmdConfig(after_greeting_silence=10.0, total_analysis=3.0)
    assert _detect(_voice(0.5), _silence(5.0), config=config) == AmdResult(
        AmdVerdict.NOTSURE, "too-long", 3.0, 1
    )


def test_more_audio_after_the_decision_changes_nothing() -> None:
    """Once decided, the detector keeps its answer whatever comes next."""
    detector = AmdDetector()
    first = detector.feed(_voice(0.5) + _silence(1.0))
    assert first is not None
    assert first.verdict is AmdVerdict.HUMAN
    assert detector.feed(_voice(5.0)) is first


@pytest.mark.parametrize(
    "field", ["initial_silence", "greeting", "total_analysis", "min_word", "maximum_words"]
)
def test_thresholds_must_be_positive(field: str) -> None:
    """A zero threshold is refused with an error naming it."""
    with pytest.raises(ValidationError, match=f"AmdConfig.{field}"):
        AmdConfig(**{field: 0})


@st.composite
def _audio(draw: st.DrawFn) -> bytes:
    """Up to 8 runs of voice or silence, 0 to 1.5 s each."""
    runs = draw(st.lists(st.tuples(st.booleans(), st.integers(0, 75)), max_size=8))
    return b"".join(_voice(n * 0.02) if voiced else _silence(n * 0.02) for voiced, n in runs)


@given(audio=_audio(), cuts=st.lists(st.integers(0, 200_000), max_size=6))
def test_the_decision_does_not_depend_on_chunking(audio: bytes, cuts: list[int]) -> None:
    """Feeding the same audio in arbitrary pieces (odd byte counts included)
    gives the same result as feeding it at once."""
    whole = AmdDetector().feed(audio)
    detector = AmdDetector()
    bounds = sorted({0, len(audio), *(c for c in cuts if c < len(audio))})
    pieces = [detector.feed(audio[a:b]) for a, b in itertools.pairwise(bounds)]
    assert (pieces[-1] if pieces else detector.result) == whole


@given(audio=_audio())
def test_a_decision_comes_within_the_analysis_window(audio: bytes) -> None:
    """Whatever the audio, the detector has decided by total_analysis seconds
    (5 s), and no decision is made from less than one frame; HUMAN always
    follows at least one word."""
    padded = audio + _silence(5.0)
    result = AmdDetector().feed(padded)
    assert result is not None
    assert 0.02 <= result.after <= 5.0
    if result.verdict is AmdVerdict.HUMAN:
        assert result.words >= 1
