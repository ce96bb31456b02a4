"""Events: the one ordered record of everything that happens.

Every change in a call center — a contact entering a queue, an agent going
ready, a ticket breaching its SLA — is a frozen :class:`Event`. The ordered
stream of events is the single source of truth: KPIs, wallboards, the store
and crash recovery all read it (the equivalent of Asterisk's ``queue_log``).

Subclasses declare a stable ``kind`` (``"contact.entered_queue"``) used in the
database and on the wire; renaming a class never renames its kind.
:func:`event_to_dict` and :func:`event_from_dict` turn any registered event into
plain JSON-ready data and back.

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, TypeVar

import attrs

from ._errors import NotFoundError, ValidationError

__all__ = [
    "Event",
    "EventStream",
    "Subscription",
    "event_from_dict",
    "event_kinds",
    "event_to_dict",
]

_log = logging.getLogger(__name__)

_KINDS: dict[str, type[Event]] = {}

E = TypeVar("E", bound="Event")


@attrs.frozen(kw_only=True)
class Event:
    """Base of every event.

    Subclasses are ``@attrs.frozen(kw_only=True)`` and set ``kind`` as a class
    variable; they are registered by kind when defined.

    Attributes:
        at: When it happened, in seconds, read from the injected clock.
    """

    kind: ClassVar[str] = "event"

    at: float

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        kind = cls.__dict__.get("kind")
        if kind is None:
            return
        if kind in _KINDS and _KINDS[kind].__qualname__ != cls.__qualname__:
            raise ValidationError(f"event kind {kind!r} is already used by {_KINDS[kind]!r}")
        _KINDS[kind] = cls


def event_kinds() -> Mapping[str, type[Event]]:
    """Return every registered event kind and its class (read-only view)."""
    return dict(_KINDS)


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, frozenset | set):
        return sorted((_plain(v) for v in value), key=repr)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def event_to_dict(event: Event) -> dict[str, Any]:
    """Return ``event`` as JSON-ready data with its ``kind`` under ``"kind"``."""
    data: dict[str, Any] = {"kind": type(event).kind}
    for field in attrs.fields(type(event)):
        data[field.name] = _plain(getattr(event, field.name))
    return data


def event_from_dict(data: Mapping[str, Any]) -> Event:
    """Rebuild an event from :func:`event_to_dict` output.

    Field converters declared on the event class turn plain values (strings,
    lists) back into enums and tuples.

    Raises:
        NotFoundError: The ``kind`` is not registered in this process.
    """
    values = dict(data)
    kind = values.pop("kind", None)
    cls = _KINDS.get(str(kind))
    if cls is None:
        raise NotFoundError(f"unknown event kind {kind!r}")
    return cls(**values)


@attrs.frozen
class Subscription:
    """A handle returned by :meth:`EventStream.subscribe`; call :meth:`cancel` to stop."""

    _stream: EventStream
    _key: int

    def cancel(self) -> None:
        """Stop delivering events to this subscriber (idempotent)."""
        self._stream._unsubscribe(self._key)


class EventStream:
    """An ordered, synchronous publish/subscribe stream of events.

    Subscribers are plain callables run in subscription order for each event,
    in the publisher's thread. A subscriber that raises is logged and kept: one
    broken wallboard never stops the store from receiving events. The stream
    numbers events from 1 so consumers can detect gaps.

    It holds no history unless ``keep`` is true (handy in tests and small
    deployments); the store is the durable history.
    """

    def __init__(self, *, keep: bool = False) -> None:
        self._subscribers: dict[int, Callable[[int, Event], object]] = {}
        # A snapshot for publish(), rebuilt on (un)subscription instead of per event.
        self._callbacks: tuple[Callable[[int, Event], object], ...] = ()
        self._next_key = 0
        self._seq = 0
        self._keep = keep
        self._history: list[Event] = []

    @property
    def last_seq(self) -> int:
        """The sequence number of the last event published (0 before any)."""
        return self._seq

    def subscribe(self, callback: Callable[[int, Event], object]) -> Subscription:
        """Call ``callback(seq, event)`` for every event published from now on."""
        self._next_key += 1
        self._subscribers[self._next_key] = callback
        self._callbacks = tuple(self._subscribers.values())
        return Subscription(self, self._next_key)

    def _unsubscribe(self, key: int) -> None:
        if self._subscribers.pop(key, None) is not None:
            self._callbacks = tuple(self._subscribers.values())

    def publish(self, event: Event) -> int:
        """Deliver ``event`` to every subscriber; return its sequence number."""
        self._seq += 1
        if self._keep:
            self._history.append(event)
        for callback in self._callbacks:
            try:
                callback(self._seq, event)
            except Exception:  # noqa: BLE001 - one bad subscriber must not starve the others
                _log.exception("event subscriber %r failed on %s", callback, event.kind)
        return self._seq

    def history(self, kind: type[E] | None = None) -> list[Any]:
        """Return kept events, optionally only those of class ``kind``."""
        if kind is None:
            return list(self._history)
        return [e for e in self._history if isinstance(e, kind)]

    def __iter__(self) -> Iterator[Event]:
        return iter(list(self._history))
