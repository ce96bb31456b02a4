"""The event log's lean per-event path builds the rows the plain path built.

Before issue #19 each event went through ``event_to_dict``, the limit checks
walking the payload (``check_json``), then ``json.dumps`` again in the insert.
Now the JSON text is written once and the checks read it. These tests hold
the two ways side by side: the same rows stored byte for byte, the same
verdict and message for every value the limits refuse.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert, text

from callcenter_sdk import Event, ValidationError, event_to_dict
from callcenter_sdk.store import EventLog, Store
from callcenter_sdk.store._eventlog import _Row, _to_row
from callcenter_sdk.store._limits import (
    JSON_DEPTH,
    NAME,
    check_float,
    check_json,
    check_text,
    encode_json,
)
from callcenter_sdk.store._rows import EventRow


class Tone(enum.Enum):
    CALM = "calm"
    ANGRY = "angry"


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _tags(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


@attrs.frozen(kw_only=True)
class PlainRowed(Event):
    """Only plain values: the lean path takes them as they are."""

    kind: ClassVar[str] = "test.rows_plain"

    who: str
    count: int
    share: float
    flag: bool
    note: str | None = None


@attrs.frozen(kw_only=True)
class RichRowed(Event):
    """Values event_to_dict converts: an enum, a tuple, a set and a mapping."""

    kind: ClassVar[str] = "test.rows_rich"

    tone: Tone = attrs.field(converter=Tone)
    skills: tuple[str, ...] = attrs.field(converter=_strings)
    tags: frozenset[str] = attrs.field(converter=_tags)
    data: Mapping[str, Any]


@attrs.frozen(kw_only=True)
class AnyRowed(Event):
    """One field holding whatever JSON-ish value a test draws."""

    kind: ClassVar[str] = "test.rows_any"

    value: Any


def _plain_way(event: Event) -> tuple[str, Any, str, dict[str, Any]]:
    """The row as the event log built it before: event_to_dict, walk, dumps."""
    payload = event_to_dict(event)
    kind, at = payload.pop("kind"), payload.pop("at")
    check_text("Event.kind", kind, NAME)
    check_float("Event.at", at)
    check_json(f"{kind} payload", payload)
    return kind, at, json.dumps(payload), payload


EVENTS: list[Event] = [
    PlainRowed(at=1.7e9 + 0.1234567890123, who="ag1", count=2**62, share=-2.5e-300, flag=True),
    PlainRowed(at=0.0, who='Élodie — 電話 😀 \\n "q"\t', count=-1, share=0.1, flag=False),
    PlainRowed(at=3.0, who="", count=0, share=6.02e-23, flag=True, note="a\\u0000b"),
    RichRowed(
        at=4.5,
        tone=Tone.ANGRY,
        skills=("fr", "en"),
        tags=frozenset({"vip", "b", "a"}),
        data={"nested": [1, {"x": None}], "ü": "\U0001f600"},
    ),
    AnyRowed(at=5.0, value=[[[]], {"k": [1.5, "é"]}]),
    AnyRowed(at=6, value="an integer time"),
]


def test_the_lean_row_is_the_plain_one() -> None:
    """For events of plain and converted values (enums, tuples, sets,
    mappings, non-ASCII and escaped text, an integer time), the row's kind,
    time, payload and JSON text are exactly what the plain way built."""
    for event in EVENTS:
        row = _to_row(event)
        assert (row.kind, row.at, row.text, row.payload) == _plain_way(event)
        assert type(row.at) is type(event.at)


def _stored(store: Store) -> list[tuple[Any, ...]]:
    with store.transaction("read rows back") as session:
        result = session.execute(
            text("SELECT kind, at, CAST(payload AS TEXT) FROM events ORDER BY seq")
        )
        return [tuple(row) for row in result]


def test_the_lean_path_stores_the_rows_the_plain_path_stored(store: Store) -> None:
    """The same events written the plain way (event_to_dict and SQLAlchemy's
    insert) and through the event log read back identical, byte for byte,
    on both databases."""
    with store.transaction("insert the plain way") as session:
        plain = [_plain_way(event) for event in EVENTS]
        session.execute(
            insert(EventRow), [{"kind": k, "at": a, "payload": p} for k, a, _, p in plain]
        )
    EventLog(store).extend(EVENTS)
    stored = _stored(store)
    assert stored[len(EVENTS) :] == stored[: len(EVENTS)]
    assert [row.event for row in EventLog(store).read(after=len(EVENTS))] == EVENTS


def test_a_custom_json_serializer_still_writes_the_payload(store: Store) -> None:
    """An engine built with its own ``json_serializer`` (which SQLAlchemy
    keeps on the dialect) has the payloads written by it, as SQLAlchemy's
    insert() would, not with the text the checks used."""
    dialect = store.engine.dialect
    saved = dialect._json_serializer
    dialect._json_serializer = lambda value: json.dumps(value, sort_keys=True)
    try:
        event = AnyRowed(at=1.0, value={"b": 1, "a": 2})
        EventLog(store).append(event)
        row = {"kind": event.kind, "at": 1.0, "payload": {"value": {"b": 1, "a": 2}}}
        with store.transaction("insert the plain way") as session:
            session.execute(insert(EventRow), [row])
        first, second = _stored(store)
        assert first == second
        if store.dialect == "sqlite":  # jsonb orders keys its own way whatever is sent
            assert first[2] == '{"value": {"a": 2, "b": 1}}'
    finally:
        dialect._json_serializer = saved


def _verdict(call: Any) -> tuple[str, Any]:
    try:
        return "ok", call()
    except ValidationError as exc:
        return "refused", str(exc)


_texts = st.lists(
    st.characters(exclude_categories=())  # every code point, lone surrogates and NUL too
    | st.sampled_from(["\x00", "\\", "\\u0000", "\\ud800", "\ud800", "\udfff", "😀", "[", "{"]),
    max_size=8,
).map("".join)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinities included
    | _texts
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_texts, inner, max_size=4),
    max_leaves=20,
)


@st.composite
def _deep(draw: st.DrawFn) -> Any:
    """A value nested around the depth limit, in lists and objects (few
    brackets in its text besides the nesting, so the text's count is tight)."""
    value: Any = draw(st.none() | st.integers() | st.floats() | st.sampled_from(["", "é", "["]))
    for _ in range(draw(st.integers(JSON_DEPTH - 3, JSON_DEPTH + 1))):
        value = [value] if draw(st.booleans()) else {draw(st.sampled_from(["k", "ü"])): value}
    return value


def _agree(payload: dict[str, Any], limit: int) -> None:
    expected = _verdict(lambda: check_json("p", payload, limit))
    got = _verdict(lambda: encode_json("p", payload, limit))
    if expected[0] == "ok":
        assert got == ("ok", json.dumps(payload))
    else:
        assert got == expected


@given(value=_json, slack=st.integers(-12, 12), utf8=st.booleans())
def test_encode_json_agrees_with_check_json(value: Any, slack: int, utf8: bool) -> None:
    """Over drawn JSON-ish values (every code point, NUL, lone surrogates,
    NaN, infinities) and size limits around their encoded size (in ASCII
    escapes or in UTF-8), encode_json refuses exactly what check_json
    refuses, with the same message, and otherwise returns json.dumps' text."""
    payload = {"value": value}
    size = len(json.dumps(payload, ensure_ascii=not utf8).encode(errors="replace"))
    _agree(payload, max(size + slack, 0))


@given(value=_deep())
def test_encode_json_agrees_with_check_json_on_nesting(value: Any) -> None:
    """Nested a few levels either side of the depth limit, encode_json and
    check_json agree (same verdict, same message, json.dumps' text)."""
    _agree({"value": value}, limit=1_000_000)


@given(value=_json, at=st.floats() | st.integers(-(2**70), 2**70))
def test_the_lean_row_refuses_what_the_plain_way_refuses(value: Any, at: float) -> None:
    """Over drawn payloads and times (NaN, infinities, huge integers), the
    event log's row builder and the plain way accept and refuse the same
    events, with the same message, and build the same row."""
    event = AnyRowed(at=at, value=value)
    expected = _verdict(lambda: _plain_way(event))
    got = _verdict(lambda: _to_row(event))
    if expected[0] == "ok":
        row: _Row = got[1]
        assert got[0] == "ok"
        assert (row.kind, row.at, row.text, row.payload) == expected[1]
    else:
        assert got == expected


def test_a_kind_too_long_is_refused_on_every_event_of_its_class() -> None:
    """A class whose kind breaks the limit is refused each time, not only
    the first (its row plan is never kept)."""

    @attrs.frozen(kw_only=True)
    class Verbose(Event):
        kind: ClassVar[str] = "test." + "v" * NAME

    for _ in range(2):
        with pytest.raises(ValidationError, match=r"Event\.kind is 105 characters long"):
            _to_row(Verbose(at=1.0))
