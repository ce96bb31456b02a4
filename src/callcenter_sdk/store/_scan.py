"""Reading the event log fast, for folds over all of it (a rebuild of the report's aggregates).

:meth:`EventLog.read <callcenter_sdk.store.EventLog.read>` loads ORM rows and
decodes each payload on its own; a fold over millions of events spends most
of its time there. :func:`scan_events` selects only the four columns it
needs, takes the payloads as text and decodes a whole chunk with one
``json.loads``, and gives the same :class:`~callcenter_sdk.store.LoggedEvent`
values.

Building the events is the rest of the cost: an enum field's converter
calls ``Enum(value)``, a metaclass call per field per event. The converters
pass members through untouched, so each stored string is first looked up in
its enum's table of values (one dict lookup); a string that is no member is
left as it is, for the converter to refuse with its usual error.

.. versionadded:: 0.2
"""

from __future__ import annotations

import enum
import json
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
from sqlalchemy import Text, cast, select

from .._errors import NotFoundError
from .._events import Event, event_kinds
from ._eventlog import LoggedEvent
from ._rows import EventRow
from ._store import Store

__all__ = ["scan_events"]

_Build = Callable[[dict[str, Any]], Event]


def _builder(cls: type[Event]) -> _Build:
    """A function building ``cls`` from a decoded payload, enum strings made members first."""
    try:
        hints = typing.get_type_hints(cls)
    except (NameError, TypeError):  # an annotation that does not resolve: no shortcut
        hints = {}
    members: list[tuple[str, Mapping[Any, Any]]] = [
        (field.name, hint._value2member_map_)
        for field in attrs.fields(cls)
        if field.converter is not None
        and isinstance(hint := hints.get(field.name), type)
        and issubclass(hint, enum.Enum)
    ]
    if not members:
        return lambda values: cls(**values)

    def build(values: dict[str, Any]) -> Event:
        for name, table in members:
            value = values.get(name)
            if type(value) is str:
                values[name] = table.get(value, value)
        return cls(**values)

    return build


_BUILDERS: dict[type[Event], _Build] = {}  # by class: a kind registered again gets its own


def _build_for(classes: Mapping[str, type[Event]], kind: str) -> _Build:
    cls = classes.get(kind)
    if cls is None:
        raise NotFoundError(f"unknown event kind {kind!r}")
    build = _BUILDERS.get(cls)
    if build is None:
        build = _BUILDERS[cls] = _builder(cls)
    return build


def scan_events(
    store: Store, *, after: int = 0, limit: int | None = None, kinds: Sequence[str] = ()
) -> list[LoggedEvent]:
    """The written events with ``seq > after``, oldest first: what ``EventLog.read`` returns.

    Args:
        store: The store holding the log.
        after: Resume after this sequence number.
        limit: At most this many events.
        kinds: Only these event kinds (all when empty).

    Raises:
        NotFoundError: A stored event's kind is not registered in this process.
    """
    table = EventRow.__table__
    query = (
        select(table.c.seq, table.c.kind, table.c.at, cast(table.c.payload, Text))
        .where(table.c.seq > after)
        .order_by(table.c.seq)
    )
    if kinds:
        query = query.where(table.c.kind.in_(kinds))
    if limit is not None:
        query = query.limit(limit)
    with store.transaction("scan events") as session:
        rows = session.execute(query).all()
    if not rows:
        return []
    payloads = json.loads("[" + ",".join(row[3] for row in rows) + "]")
    classes = event_kinds()
    builders: dict[str, _Build] = {}
    out = []
    for (seq, kind, at, _), payload in zip(rows, payloads, strict=True):
        build = builders.get(kind)
        if build is None:
            build = builders[kind] = _build_for(classes, kind)
        payload["at"] = at
        payload.pop("kind", None)
        out.append(LoggedEvent(seq, build(payload)))
    return out
