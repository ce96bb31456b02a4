"""Reading the dialer's TOML files (campaigns, questionnaires) with the same errors."""

from __future__ import annotations

import os
import tomllib
from typing import Any

from .._errors import ConfigError

__all__ = ["parse_toml", "read_text"]


def read_text(path: str | os.PathLike[str]) -> tuple[str, str]:
    """Return the UTF-8 text of ``path`` and its name, or raise ConfigError naming the file."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as handle:
            return handle.read().decode("utf-8"), name
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(name, (), "a readable UTF-8 TOML file", detail=str(exc)) from exc


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """Parse TOML ``text``, or raise ConfigError naming ``source``."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, (), "valid TOML", detail=str(exc)) from exc
