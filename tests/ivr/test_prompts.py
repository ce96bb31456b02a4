"""The shipped prompts: every file exists and plays on the bridge; numbers and announcements."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter_sdk import NotFoundError, ValidationError
from callcenter_sdk.ivr import (
    LANGUAGES,
    LIBRARY_PROMPTS,
    PROMPTS_DIR,
    announcement,
    load_flow,
    prompt_path,
    say_number,
)
from callcenter_sdk.ivr._catalog import TONE_PROMPTS
from callcenter_sdk.ivr._prompts import library_prompt_names

EXAMPLE_FLOW = Path(__file__).parents[2] / "examples" / "hotline" / "ivr.toml"


def assert_bridge_wav(path: Path) -> None:
    """Fail unless ``path`` is a short 8 kHz mono 16-bit PCM WAV file."""
    with wave.open(str(path), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2), path
        assert wav.getcomptype() == "NONE"
        assert 0.05 < wav.getnframes() / 8000 < 15, path


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalogued_prompt_is_an_8khz_mono_pcm_wav(language: str) -> None:
    """Each prompt of the catalogue (words and tones) is shipped as 8 kHz mono 16-bit PCM."""
    names = set(LIBRARY_PROMPTS[language]) | set(TONE_PROMPTS)
    assert names == library_prompt_names(language)
    for name in sorted(names):
        assert_bridge_wav(prompt_path(language, name))


def test_no_stray_prompt_files_and_the_set_stays_small() -> None:
    """The prompts folder holds exactly the catalogue, under the 5 MB budget."""
    on_disk = {(p.parent.name, p.stem) for p in PROMPTS_DIR.glob("*/*.wav")}
    expected = {(lang, name) for lang in LANGUAGES for name in library_prompt_names(lang)}
    assert on_disk == expected
    assert sum(p.stat().st_size for p in PROMPTS_DIR.glob("*/*.wav")) < 5_000_000


def test_numbers_up_to_100_have_their_own_prompt() -> None:
    """0..100 are single prompts, in both languages."""
    for language in LANGUAGES:
        for n in range(101):
            assert say_number(n, language) == (str(n),)


@pytest.mark.parametrize(
    ("n", "language", "expected"),
    [
        (101, "en", ("1", "hundred", "1")),
        (200, "en", ("2", "hundred")),
        (1000, "en", ("1", "thousand")),
        (21_345, "en", ("21", "thousand", "3", "hundred", "45")),
        (100, "fr", ("100",)),
        (101, "fr", ("hundred", "1")),
        (200, "fr", ("2", "hundreds")),
        (203, "fr", ("2", "hundred", "3")),
        (1000, "fr", ("thousand",)),
        (2080, "fr", ("2", "thousand", "80")),
        (1_100, "fr", ("thousand", "hundred")),
    ],
)
def test_larger_numbers_follow_each_languages_rules(
    n: int, language: str, expected: tuple[str, ...]
) -> None:
    """Hundreds and thousands are said the English way and the French way (cent/cents/mille)."""
    assert say_number(n, language) == expected


@given(st.integers(0, 999_999), st.sampled_from(LANGUAGES))
def test_every_sayable_number_uses_shipped_prompts(n: int, language: str) -> None:
    """Whatever the number, every prompt it needs exists (property)."""
    names = say_number(n, language)
    assert set(names) <= library_prompt_names(language)
    # The figure can be read back: hundreds/thousands multiply, the rest adds.
    total, group = 0, 0
    for name in names:
        if name in ("hundred", "hundreds"):
            group = max(group, 1) * 100
        elif name == "thousand":
            total, group = max(group, 1) * 1000, 0
        else:
            group += int(name)
    assert total + group == n


def test_numbers_out_of_range_are_refused() -> None:
    """A negative or too large number, or an unknown language, is a ValidationError."""
    for bad in (-1, 1_000_000):
        with pytest.raises(ValidationError):
            say_number(bad)
    with pytest.raises(ValidationError):
        say_number(3, "de")


@pytest.mark.parametrize(
    ("position", "wait", "expected"),
    [
        (3, 290, ("you_are_caller_number", "3", "estimated_wait", "about", "5", "minutes")),
        (1, 20, ("you_are_next", "estimated_wait", "less_than_one_minute")),
        (
            2,
            70,
            ("you_are_caller_number", "2", "estimated_wait", "about", "one_feminine", "minute"),
        ),
        (150, None, ("you_are_caller_number", "hundred", "50")),
        (None, 5000, ("estimated_wait", "more_than", "60", "minutes")),
    ],
)
def test_announcement_sequences(
    position: int | None, wait: float | None, expected: tuple[str, ...]
) -> None:
    """Position and wait become the expected prompt names (French numbering for 150)."""
    language = "fr" if position == 150 else "en"
    assert announcement(position, wait, language) == expected


@given(
    st.one_of(st.none(), st.integers(1, 100_000)),
    st.one_of(st.none(), st.floats(0, 86_400)),
    st.sampled_from(LANGUAGES),
)
def test_every_announcement_uses_shipped_prompts(
    position: int | None, wait: float | None, language: str
) -> None:
    """Any position and wait are said with prompts that exist (property)."""
    names = announcement(position, wait, language)
    assert set(names) <= library_prompt_names(language)
    assert ("estimated_wait" in names) == (wait is not None)


def test_announcement_refuses_impossible_values() -> None:
    """Position 0 or a negative wait is a ValidationError."""
    with pytest.raises(ValidationError):
        announcement(0, 10)
    with pytest.raises(ValidationError):
        announcement(1, -1)


def test_unknown_prompt_is_not_found() -> None:
    """prompt_path names what is missing instead of returning a path to nothing."""
    with pytest.raises(NotFoundError, match="nope"):
        prompt_path("en", "nope")
    with pytest.raises(NotFoundError):
        prompt_path("de", "1")


def test_every_prompt_of_the_example_flow_is_a_bridge_wav() -> None:
    """The hotline flow's prompts (its own and shipped ones) exist in both its languages."""
    flow = load_flow(EXAMPLE_FLOW)
    seen = 0
    for node in flow.nodes.values():
        for field in ("prompts", "invalid_prompts", "no_input_prompts", "confirm_prompts"):
            for ref in getattr(node, field, ()):
                for language in (ref.language,) if ref.language else flow.languages:
                    path = flow.prompt_file(ref, language)
                    assert path is not None, (ref, language)
                    assert_bridge_wav(path)
                    seen += 1
    assert seen > 30


def test_the_wheel_ships_every_prompt(tmp_path: Path) -> None:
    """Hatchling puts every prompt file into the wheel, so installed users have them."""
    import zipfile

    from hatchling.builders.wheel import WheelBuilder

    root = Path(__file__).parents[2]
    (wheel,) = WheelBuilder(str(root)).build(directory=str(tmp_path), versions=["standard"])
    with zipfile.ZipFile(wheel) as archive:
        shipped = {n for n in archive.namelist() if n.startswith("callcenter_sdk/ivr/prompts/")}
    expected = {
        f"callcenter_sdk/ivr/prompts/{lang}/{name}.wav"
        for lang in LANGUAGES
        for name in library_prompt_names(lang)
    }
    assert expected <= shipped
