"""Reading a flow from a TOML file.

The file has a ``[flow]`` table (name, start node, languages, prompt folders),
optional ``[schedules.<name>]`` tables and one ``[nodes.<name>]`` table per
node, whose ``kind`` picks the node class and whose other keys are that
class's fields. Shapes and types are checked here, the graph by
:func:`~callcenter_sdk.ivr.check_flow`; both raise the same
:class:`~callcenter_sdk.ConfigError`, naming the file, the node and the key.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from .._errors import ConfigError, ValidationError
from ._flow import Flow, check_flow
from ._nodes import NODE_KINDS, Node
from ._schedule import DAYS, Schedule

__all__ = ["load_flow", "loads_flow"]

_Path = tuple[str | int, ...]
_Check = Callable[[object, _Path], object]

_PROMPT_FIELDS = ("prompts", "invalid_prompts", "no_input_prompts", "confirm_prompts")
_MAP_FIELDS = ("options", "cases", "values", "attributes", "ticket")
_NUMBER_FIELDS = ("first_digit_timeout", "inter_digit_timeout", "max_seconds", "above")
_INT_FIELDS = ("retries", "min_digits", "max_digits", "priority")


def load_flow(path: str | os.PathLike[str], *, prompts: bool = True) -> Flow:
    """Read, build and check the flow in the TOML file at ``path``.

    Args:
        path: The file. Its ``prompt_dirs`` are relative to its folder.
        prompts: Check that every prompt exists in every language of the flow.

    Raises:
        ConfigError: The file cannot be read, is not TOML, or describes a broken flow.
    """
    file = os.fspath(path)
    try:
        text = Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(file, (), "a readable flow file", detail=str(exc)) from exc
    return loads_flow(text, source=file, base_dir=Path(file).parent.absolute(), prompts=prompts)


def loads_flow(
    text: str,
    *,
    source: str = "<string>",
    base_dir: str | os.PathLike[str] | None = None,
    prompts: bool = True,
) -> Flow:
    """Read, build and check a flow from TOML ``text`` (``source`` names it in errors)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, (), "valid TOML", detail=str(exc)) from exc
    return check_flow(_Reader(source, Path(base_dir or ".")).flow(data), prompts=prompts)


def _type_name(value: object) -> str:
    return type(value).__name__


class _Reader:
    def __init__(self, file: str, base_dir: Path) -> None:
        self.file = file
        self.base_dir = base_dir

    def error(
        self, path: _Path, expected: str, got: object = None, detail: str = ""
    ) -> ConfigError:
        return ConfigError(self.file, path, expected, got, detail=detail)

    def table(self, value: object, path: _Path) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.error(path, "a table", _type_name(value))
        return value

    def string(self, value: object, path: _Path) -> str:
        if not isinstance(value, str):
            raise self.error(path, "a string", value)
        return value

    def strings(self, value: object, path: _Path) -> list[str]:
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list):
            raise self.error(path, "a list of strings", value)
        return [self.string(item, (*path, i)) for i, item in enumerate(value)]

    def number(self, value: object, path: _Path) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(path, "a number of seconds", value)
        return float(value)

    def integer(self, value: object, path: _Path) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(path, "an integer", value)
        return value

    def boolean(self, value: object, path: _Path) -> bool:
        if not isinstance(value, bool):
            raise self.error(path, "true or false", value)
        return value

    def mapping(self, value: object, path: _Path) -> dict[str, str]:
        out = {}
        for key, item in self.table(value, path).items():
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                raise self.error((*path, key), "a string", item)
            out[key] = str(item)
        return out

    def skills(self, value: object, path: _Path) -> dict[str, int]:
        out = {}
        for skill, level in self.table(value, path).items():
            out[skill] = self.integer(level, (*path, skill))
            if not 1 <= out[skill] <= 5:
                raise self.error((*path, skill), "a skill level from 1 to 5", level)
        return out

    def field(self, name: str, value: object, path: _Path) -> object:
        checks: dict[str, _Check] = {
            **dict.fromkeys(_PROMPT_FIELDS, self.strings),
            **dict.fromkeys(_MAP_FIELDS, self.mapping),
            **dict.fromkeys(_NUMBER_FIELDS, self.number),
            **dict.fromkeys(_INT_FIELDS, self.integer),
            "skills": self.skills,
            "barge_in": self.boolean,
        }
        return checks.get(name, self.string)(value, path)

    def node(self, name: str, value: object) -> Node:
        path: _Path = ("nodes", name)
        table = dict(self.table(value, path))
        kind = table.pop("kind", None)
        if kind not in NODE_KINDS:
            raise self.error((*path, "kind"), f"one of {', '.join(sorted(NODE_KINDS))}", kind)
        cls = NODE_KINDS[kind]
        fields = {f.name: f for f in attrs.fields(cls)}
        kwargs: dict[str, object] = {}
        for key, item in table.items():
            if key not in fields:
                raise self.error((*path, key), f"a field of a {kind} node: {', '.join(fields)}")
            kwargs[key] = self.field(key, item, (*path, key))
        for key, field in fields.items():
            if key not in kwargs and field.default is attrs.NOTHING:
                raise self.error((*path, key), f"a value (a {kind} node needs {key!r})")
        try:
            return cls(**kwargs)  # type: ignore[arg-type]
        except ValidationError as exc:
            raise self.error(path, f"a valid {kind} node", detail=str(exc)) from exc

    def schedule(self, name: str, value: object) -> Schedule:
        path: _Path = ("schedules", name)
        table = self.table(value, path)
        weekly: dict[str, list[str]] = {}
        holidays: list[dt.date] = []
        zone = "UTC"
        for key, item in table.items():
            where = (*path, key)
            if key == "timezone":
                zone = self.string(item, where)
            elif key == "holidays":
                holidays = self.dates(item, where)
            elif key in DAYS:
                weekly[key] = self.strings(item, where)
            else:
                raise self.error(where, f"timezone, holidays or a day ({', '.join(DAYS)})")
        try:
            return Schedule(timezone=zone, weekly=weekly, holidays=holidays)
        except ValidationError as exc:
            raise self.error(path, "a valid schedule", detail=str(exc)) from exc

    def dates(self, value: object, path: _Path) -> list[dt.date]:
        if not isinstance(value, list):
            raise self.error(path, "a list of dates", value)
        out = []
        for i, item in enumerate(value):
            if isinstance(item, dt.date) and not isinstance(item, dt.datetime):
                out.append(item)
                continue
            try:
                out.append(dt.date.fromisoformat(self.string(item, (*path, i))))
            except ValueError as exc:
                raise self.error((*path, i), "a date such as 2026-12-25", item) from exc
        return out

    def flow(self, data: Mapping[str, Any]) -> Flow:
        for key in data:
            if key not in ("flow", "schedules", "nodes"):
                raise self.error((key,), "only the tables flow, schedules and nodes")
        head = self.table(data.get("flow", {}), ("flow",))
        allowed = ("name", "start", "languages", "language", "prompt_dirs")
        for key in head:
            if key not in allowed:
                raise self.error(("flow", key), f"one of {', '.join(allowed)}")
        if "start" not in head:
            raise self.error(("flow", "start"), "the name of the first node (required)")
        languages = self.strings(head.get("languages", ["en"]), ("flow", "languages"))
        dirs = self.strings(head.get("prompt_dirs", []), ("flow", "prompt_dirs"))
        nodes = self.table(data.get("nodes", {}), ("nodes",))
        schedules = self.table(data.get("schedules", {}), ("schedules",))
        return Flow(
            name=self.string(head.get("name", Path(self.file).stem), ("flow", "name")),
            start=self.string(head["start"], ("flow", "start")),
            languages=languages,
            language=self.string(head.get("language", languages[0]), ("flow", "language")),
            schedules={name: self.schedule(name, v) for name, v in schedules.items()},
            nodes={name: self.node(name, v) for name, v in nodes.items()},
            prompt_dirs=[self.base_dir / d for d in dirs],
            source=self.file,
        )
