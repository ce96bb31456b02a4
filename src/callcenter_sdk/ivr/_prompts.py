"""Prompt references, the shipped prompt files, and numbers and announcements as prompts.

A flow names prompts (``"welcome"``, or ``"fr:choose_language"`` to pin a
language); the language of the call picks the file. The library ships the
words it needs itself — numbers 0–100 plus ``hundred``/``thousand``, the
queue announcements, the usual IVR phrases — in English and French, as 8 kHz
mono 16-bit WAV files under ``callcenter_sdk/ivr/prompts/<lang>/``.

.. versionadded:: 0.1
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import attrs

from .._errors import NotFoundError, ValidationError
from ._catalog import LANGUAGES, LIBRARY_PROMPTS, MAX_NUMBER_PROMPT, TONE_PROMPTS

__all__ = [
    "PROMPTS_DIR",
    "PromptRef",
    "announcement",
    "find_prompt",
    "library_prompt_names",
    "prompt_path",
    "say_number",
]

PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"
"""Where the shipped prompts live: ``PROMPTS_DIR / lang / (name + ".wav")``."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")
_LANG = re.compile(r"^[a-z]{2,3}$")
MAX_SAYABLE = 999_999


@attrs.frozen
class PromptRef:
    """A prompt named by a flow: a file name without ``.wav``, optionally pinned to a language.

    Pinning is for the few prompts that must be heard in one language whatever
    the caller chose, such as each language's line of a language menu.

    Attributes:
        name: The prompt's name (letters, digits, ``_`` and ``-``).
        language: The language it must be played in; ``None`` follows the call.
    """

    name: str
    language: str | None = None

    def __attrs_post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValidationError(f"a prompt name is letters, digits, _ and -, got {self.name!r}")
        if self.language is not None and not _LANG.match(self.language):
            raise ValidationError(f"a language is a 2-3 letter code, got {self.language!r}")

    @classmethod
    def parse(cls, text: str) -> PromptRef:
        """Read ``"name"`` or ``"lang:name"``."""
        lang, sep, name = text.partition(":")
        return cls(name, lang) if sep else cls(text)

    def __str__(self) -> str:
        return self.name if self.language is None else f"{self.language}:{self.name}"


def library_prompt_names(language: str) -> frozenset[str]:
    """Every prompt the library ships for ``language`` (spoken ones and tones)."""
    if language not in LIBRARY_PROMPTS:
        return frozenset()
    return frozenset(LIBRARY_PROMPTS[language]) | frozenset(TONE_PROMPTS)


def prompt_path(language: str, name: str) -> Path:
    """Return the path of the shipped prompt ``name`` in ``language``.

    Raises:
        NotFoundError: The library ships no such prompt.
    """
    if name not in library_prompt_names(language):
        raise NotFoundError(
            f"no shipped prompt {name!r} in {language!r} (languages: {', '.join(LANGUAGES)})"
        )
    return PROMPTS_DIR / language / f"{name}.wav"


def find_prompt(language: str, name: str, dirs: Iterable[Path] = ()) -> Path | None:
    """Find ``name`` in ``language``: first in ``dirs`` (``dir/lang/name.wav``), then shipped."""
    for folder in dirs:
        candidate = Path(folder) / language / f"{name}.wav"
        if candidate.is_file():
            return candidate
    if name in library_prompt_names(language):
        return prompt_path(language, name)
    return None


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise ValidationError(f"numbers are spoken in {', '.join(LANGUAGES)}, not {language!r}")


def say_number(n: int, language: str = "en") -> tuple[str, ...]:
    """The prompt names that say ``n`` (0 .. 999,999) in ``language``.

    Numbers up to 100 have a prompt each; larger ones are built from them
    with ``hundred``/``thousand`` (French: ``cent``/``cents``/``mille``,
    with the French rules: "cent", "deux cents", "deux cent trois", "mille").
    """
    _check_language(language)
    if not 0 <= n <= MAX_SAYABLE:
        raise ValidationError(f"can say numbers 0..{MAX_SAYABLE}, got {n}")
    if n <= MAX_NUMBER_PROMPT:
        return (str(n),)
    thousands, rest = divmod(n, 1000)
    out: list[str] = []
    if thousands:
        if not (language == "fr" and thousands == 1):
            out += say_number(thousands, language)
        out.append("thousand")
    hundreds, units = divmod(rest, 100)
    if hundreds:
        if language == "fr":
            if hundreds > 1:
                out.append(str(hundreds))
            out.append("hundreds" if hundreds > 1 and units == 0 else "hundred")
        else:
            out += [str(hundreds), "hundred"]
    if units:
        out.append(str(units))
    return tuple(out)


def announcement(
    position: int | None,
    estimated_wait: float | None,
    language: str = "en",
    *,
    max_minutes: int = 60,
) -> tuple[str, ...]:
    """The prompt names telling a waiting caller their position and estimated wait.

    ``announcement(3, 290)`` is ``("you_are_caller_number", "3", "estimated_wait",
    "about", "5", "minutes")``. Position 1 says "you are next"; a wait under a
    minute says "less than one minute"; a wait above ``max_minutes`` says "more
    than 60 minutes" rather than promise a long figure the queue will not keep.
    Either part may be ``None`` to leave it out.
    """
    _check_language(language)
    out: list[str] = []
    if position is not None:
        if position < 1:
            raise ValidationError(f"a queue position is 1 or more, got {position}")
        if position == 1:
            out.append("you_are_next")
        else:
            out += ["you_are_caller_number", *say_number(position, language)]
    if estimated_wait is not None:
        if estimated_wait < 0:
            raise ValidationError(f"an estimated wait is >= 0 seconds, got {estimated_wait}")
        out.append("estimated_wait")
        minutes = round(estimated_wait / 60)
        if estimated_wait < 60:
            out.append("less_than_one_minute")
        elif minutes > max_minutes:
            out += ["more_than", *say_number(max_minutes, language), "minutes"]
        elif minutes == 1:
            out += ["about", "one_feminine", "minute"]
        else:
            out += ["about", *say_number(minutes, language), "minutes"]
    return tuple(out)
