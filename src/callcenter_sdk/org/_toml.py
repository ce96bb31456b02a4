"""Loading an org from a TOML file.

The file has one array of tables per kind of value (``[[organisations]]``,
``[[centers]]``, ``[[floors]]``, ``[[campaigns]]``, ``[[teams]]``,
``[[people]]``) whose keys are the fields of that value. The loader checks
shapes and types here, then :class:`~callcenter_sdk.org.Org` checks the links;
both report the same kind of :class:`~callcenter_sdk.ConfigError`, naming the
file, the path in it (``campaigns[2].floor``) and what was expected.

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from .._errors import ConfigError
from ._model import (
    CHANNELS,
    LANGUAGE,
    MAX_PROFICIENCY,
    MAX_SEATS,
    MIN_PROFICIENCY,
    SIP_URI,
    AgentProfile,
    Campaign,
    ContactCenter,
    Direction,
    Floor,
    Organisation,
    OrganisationKind,
    Person,
    Role,
    Team,
)
from ._org import Org
from ._plugin import BUILTIN_ACTIVITIES

__all__ = ["dumps_org", "load_org", "loads_org"]

_Path = tuple[str | int, ...]
_Convert = Callable[["_Reader", object, _Path], Any]
_Spec = Mapping[str, tuple[bool, _Convert]]
E = TypeVar("E", bound=enum.Enum)

_RANGE = re.compile(r"^(\d+)-(\d+)$")
_SEAT_EXPECTED = f'a seat number from 1 to {MAX_SEATS} or a range such as "1-10"'


def load_org(
    path: str | os.PathLike[str], *, activities: Iterable[str] = BUILTIN_ACTIVITIES
) -> Org:
    """Read and validate the org described by the TOML file at ``path``.

    Args:
        path: The file to read.
        activities: The campaign activities allowed; pass
            ``PluginHost.campaign_activities()`` to accept plugin activities.

    Raises:
        ConfigError: The file cannot be read, is not TOML, or describes an
            invalid org; the error names the file, the path and the expectation.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as handle:
            text = handle.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(name, (), "a readable UTF-8 TOML file", detail=str(exc)) from exc
    return loads_org(text, source=name, activities=activities)


def loads_org(
    text: str, *, source: str = "<string>", activities: Iterable[str] = BUILTIN_ACTIVITIES
) -> Org:
    """Validate the org described by the TOML document ``text``.

    ``source`` is the name errors give for the document.

    Raises:
        ConfigError: As for :func:`load_org`.
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, (), "valid TOML", detail=str(exc)) from exc
    if not document.get("organisations"):
        raise ConfigError(
            source,
            ("organisations",),
            "at least one [[organisations]] table",
            "an empty file" if not document else None,
        )
    try:
        return _Reader(source).org(document, frozenset(activities))
    except ConfigError as exc:
        line = _line_of(text, exc.path) if exc.file == source else None
        if line is None:
            raise
        detail = f"line {line}" + (f"; {exc.detail}" if exc.detail else "")
        raise ConfigError(exc.file, exc.path, exc.expected, exc.got, detail=detail) from exc


def _line_of(text: str, path: Sequence[str | int]) -> int | None:
    """The line of ``text`` that holds ``path`` (``("campaigns", 2, "floor")``).

    Errors name a path in the document; a person editing the file wants the
    line. The ``index``-th ``[[kind]]`` header is found, then the key under
    it; a value written inline (``kind = [{...}]``) has no line here.
    """
    if len(path) < 2 or not isinstance(path[0], str) or not isinstance(path[1], int):
        return None
    header = re.compile(rf"^\s*\[\[\s*{re.escape(path[0])}\s*\]\]")
    lines = text.splitlines()
    starts = [n for n, line in enumerate(lines, start=1) if header.match(line)]
    if path[1] >= len(starts):
        return None
    start = starts[path[1]]
    if len(path) > 2 and isinstance(path[2], str):
        key = re.compile(rf"^\s*\"?{re.escape(path[2])}\"?\s*=")
        for n in range(start + 1, len(lines) + 1):
            if lines[n - 1].lstrip().startswith("[["):
                break
            if key.match(lines[n - 1]):
                return n
    return start


def dumps_org(org: Org) -> str:
    """Render ``org`` as TOML that :func:`loads_org` reads back into an equal org.

    Useful to save an org built in Python or changed by
    :func:`~callcenter_sdk.org.assign_seats`. Empty and unset fields are left out.
    """
    lines: list[str] = []
    for kind, (spec, _) in _KINDS.items():
        for value in getattr(org, kind):
            lines.append(f"[[{kind}]]")
            lines += _assignments(value, [key for key in spec if key != "profile"])
            profile = getattr(value, "profile", None)
            if profile is not None:
                lines.append(f"[{kind}.profile]")
                lines += _assignments(profile, list(_PROFILE))
            lines.append("")
    return "\n".join(lines)


def _assignments(value: object, keys: list[str]) -> list[str]:
    out = []
    for key in keys:
        rendered = _toml_value(key, getattr(value, key))
        if rendered is not None:
            out.append(f"{key} = {rendered}")
    return out


def _toml_value(key: str, value: object) -> str | None:
    # An empty capacity differs from the default (one voice contact), so it is written.
    empty = isinstance(value, str | tuple | frozenset) and not value and key != "capacity"
    if value is None or empty:
        return None
    if isinstance(value, enum.Enum):
        return _toml_string(value.value)
    if isinstance(value, str | int):
        return _toml_string(value) if isinstance(value, str) else str(value)
    if key == "seats" and isinstance(value, frozenset):
        return (
            "["
            + ", ".join(
                str(r) if isinstance(r, int) else _toml_string(r) for r in _seat_ranges(value)
            )
            + "]"
        )
    if key == "skills" and isinstance(value, tuple):
        value = [(skill.name, skill.proficiency) for skill in value]
    if key in ("skills", "capacity") and isinstance(value, list | tuple):
        return "{ " + ", ".join(f"{_toml_string(k)} = {v}" for k, v in value) + " }"
    if isinstance(value, tuple | frozenset):
        items = sorted(value) if isinstance(value, frozenset) else value
        return "[" + ", ".join(_toml_string(item) for item in items) + "]"
    raise TypeError(f"cannot write {key} = {value!r} as TOML")  # pragma: no cover


def _toml_string(text: str) -> str:
    """Quote ``text`` as a TOML basic string, escaping what TOML requires."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif (char < " " and char != "\t") or char == "\x7f":
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _seat_ranges(numbers: frozenset[int]) -> list[str | int]:
    out: list[str | int] = []
    ordered = sorted(numbers)
    start = 0
    for i, number in enumerate(ordered):
        if i + 1 == len(ordered) or ordered[i + 1] != number + 1:
            first = ordered[start]
            out.append(first if first == number else f"{first}-{number}")
            start = i + 1
    return out


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: _Path, expected: str, got: object = None) -> ConfigError:
        return ConfigError(self.source, path, expected, got)

    def org(self, document: dict[str, Any], activities: frozenset[str]) -> Org:
        self.known_keys(document, (), _KINDS)
        values: dict[str, list[Any]] = {}
        for kind, (spec, make) in _KINDS.items():
            rows = self.tables(document.get(kind, []), (kind,))
            values[kind] = [make(**self.fields(raw, (kind, i), spec)) for i, raw in enumerate(rows)]
        return Org(**values, activities=activities, source=self.source)

    def known_keys(self, table: Mapping[str, object], path: _Path, known: Iterable[str]) -> None:
        names = sorted(known)
        for key in table:
            if key not in names:
                raise self.fail((*path, key), "one of the keys " + ", ".join(names), key)

    def tables(self, value: object, path: _Path) -> list[dict[str, Any]]:
        if not isinstance(value, list):
            raise self.fail(path, f"an array of tables ([[{path[-1]}]])", value)
        for i, row in enumerate(value):
            if not isinstance(row, dict):
                raise self.fail((*path, i), "a table", row)
        return value

    def fields(self, raw: dict[str, Any], path: _Path, spec: _Spec) -> dict[str, Any]:
        self.known_keys(raw, path, spec)
        out: dict[str, Any] = {}
        for key, (required, convert) in spec.items():
            if key in raw:
                out[key] = convert(self, raw[key], (*path, key))
            elif required:
                raise self.fail((*path, key), f"a value for {key!r} (it is required)")
        return out


def _string(reader: _Reader, value: object, path: _Path) -> str:
    if not isinstance(value, str):
        raise reader.fail(path, "a string", value)
    return value


def _strings(reader: _Reader, value: object, path: _Path) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise reader.fail(path, "a list of strings", value)
    return tuple(_string(reader, item, (*path, i)) for i, item in enumerate(value))


def _integer(low: int, high: int | None = None) -> _Convert:
    expected = (
        f"a whole number from {low} to {high}"
        if high is not None
        else f"a whole number of at least {low}"
    )

    def convert(reader: _Reader, value: object, path: _Path) -> int:
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or value < low
            or (high is not None and value > high)
        ):
            raise reader.fail(path, expected, value)
        return value

    return convert


def _choice(kind: type[E]) -> _Convert:
    names = [member.value for member in kind]

    def convert(reader: _Reader, value: object, path: _Path) -> E:
        if value not in names:
            raise reader.fail(path, "one of " + ", ".join(names), value)
        return kind(value)

    return convert


def _matching(pattern: re.Pattern[str], expected: str) -> _Convert:
    def convert(reader: _Reader, value: object, path: _Path) -> str:
        if not isinstance(value, str) or not pattern.match(value):
            raise reader.fail(path, expected, value)
        return value

    return convert


def _seat_numbers(reader: _Reader, value: object, path: _Path) -> frozenset[int]:
    if not isinstance(value, list):
        raise reader.fail(path, 'a list of seat numbers and ranges such as "1-10"', value)
    numbers: set[int] = set()
    for i, item in enumerate(value):
        match = _RANGE.match(item) if isinstance(item, str) else None
        if match is not None and 1 <= int(match[1]) <= int(match[2]) <= MAX_SEATS:
            numbers.update(range(int(match[1]), int(match[2]) + 1))
        elif isinstance(item, int) and not isinstance(item, bool) and 1 <= item <= MAX_SEATS:
            numbers.add(item)
        else:
            raise reader.fail((*path, i), _SEAT_EXPECTED, item)
    return frozenset(numbers)


def _mapping(keys: _Convert, values: _Convert) -> _Convert:
    def convert(reader: _Reader, value: object, path: _Path) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise reader.fail(path, "a table", value)
        return {
            keys(reader, k, (*path, k)): values(reader, v, (*path, k)) for k, v in value.items()
        }

    return convert


def _channel(reader: _Reader, value: object, path: _Path) -> str:
    if value not in CHANNELS:
        raise reader.fail(path, "a channel: " + ", ".join(CHANNELS), value)
    return str(value)


_LANGUAGE = _matching(LANGUAGE, 'a language tag such as "fr" or "en-GB"')


def _languages(reader: _Reader, value: object, path: _Path) -> tuple[str, ...]:
    tags = _strings(reader, value, path)
    return tuple(_LANGUAGE(reader, tag, (*path, i)) for i, tag in enumerate(tags))


_PROFILE: _Spec = {
    "skills": (False, _mapping(_string, _integer(MIN_PROFICIENCY, MAX_PROFICIENCY))),
    "languages": (False, _languages),
    "capacity": (False, _mapping(_channel, _integer(0))),
    "sip_uri": (False, _matching(SIP_URI, 'a SIP URI such as "sip:alice@10.0.0.5"')),
}


def _profile(reader: _Reader, value: object, path: _Path) -> AgentProfile:
    if not isinstance(value, dict):
        raise reader.fail(path, "a table", value)
    return AgentProfile(**reader.fields(value, path, _PROFILE))


_ID = (True, _string)
_NAME = (False, _string)
_OPTIONAL = (False, _string)
_REQUIRED = (True, _string)
_LIST = (False, _strings)

_KINDS: dict[str, tuple[_Spec, Callable[..., Any]]] = {
    "organisations": (
        {"id": _ID, "name": _NAME, "kind": (False, _choice(OrganisationKind))},
        Organisation,
    ),
    "centers": (
        {
            "id": _ID,
            "name": _NAME,
            "seats": (True, _integer(1, MAX_SEATS)),
            "director": _OPTIONAL,
            "administrators": _LIST,
        },
        ContactCenter,
    ),
    "floors": ({"id": _ID, "center": _REQUIRED, "name": _NAME, "manager": _OPTIONAL}, Floor),
    "campaigns": (
        {
            "id": _ID,
            "organisation": _REQUIRED,
            "floor": _REQUIRED,
            "direction": (True, _choice(Direction)),
            "activity": _REQUIRED,
            "name": _NAME,
            "project_manager": _OPTIONAL,
            "analysts": _LIST,
            "seats": (False, _seat_numbers),
        },
        Campaign,
    ),
    "teams": (
        {
            "id": _ID,
            "campaign": _REQUIRED,
            "name": _NAME,
            "supervisor": _OPTIONAL,
            "team_lead": _OPTIONAL,
            "coach": _OPTIONAL,
            "parent": _OPTIONAL,
            "agents": _LIST,
        },
        Team,
    ),
    "people": (
        {"id": _ID, "role": (True, _choice(Role)), "name": _NAME, "profile": (False, _profile)},
        Person,
    ),
}
"""Each top-level array: the keys its tables accept and the value they build."""
