"""Structured logs: one JSON object per line, for log shippers that parse JSON.

:func:`json_log_handler` is a stdlib :class:`logging.Handler` whose
:class:`JsonFormatter` writes each record as one JSON object: its time
(ISO 8601, UTC), level, logger and message, the exception if any, and the
context fields (``contact_id``, ``agent_id``, ``queue``...) that the caller
passed in ``extra``. :func:`log_events` bridges a center's event stream to a
logger: one record per event, carrying its kind, its time on the center's
clock and its ids, and nothing else (no caller number, no message text), so
the lines hold no personal data beyond identifiers.

Only the standard library is used.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any, Final, TextIO

import attrs

from .._events import Event
from ..runtime import CallCenter

__all__ = [
    "CONTEXT_KEYS",
    "EVENTS_LOGGER",
    "JsonFormatter",
    "event_fields",
    "json_log_handler",
    "log_events",
]

#: The ``extra`` fields a :class:`JsonFormatter` writes when a record has them.
CONTEXT_KEYS: Final = (
    "kind",
    "at",
    "contact_id",
    "call_id",
    "agent_id",
    "queue",
    "campaign",
    "offer_id",
    "ticket_id",
    "lead_id",
)

#: The logger :func:`log_events` writes to unless told otherwise.
EVENTS_LOGGER: Final = "callcenter_sdk.events"

# the names an event's id fields may have besides ``*_id``
_ID_FIELDS: Final = frozenset(("queue", "campaign"))


class JsonFormatter(logging.Formatter):
    """Format a log record as one line of JSON.

    The object has ``time``, ``level``, ``logger`` and ``message``, then each
    of ``keys`` the record carries (from ``logging``'s ``extra``), then
    ``exception`` (the formatted traceback) when the record has one. Values
    JSON cannot hold are written as their ``str()``.

    Args:
        keys: The ``extra`` fields to write, in this order (:data:`CONTEXT_KEYS`
            by default).

    Raises:
        ValueError: A key is also a standard field of the line.

    .. versionadded:: 0.1
    """

    _OWN: Final = frozenset(("time", "level", "logger", "message", "exception"))

    def __init__(self, keys: Iterable[str] = CONTEXT_KEYS) -> None:
        super().__init__()
        self.keys = tuple(keys)
        clash = self._OWN.intersection(self.keys)
        if clash:
            raise ValueError(f"{sorted(clash)} are standard fields of the line, not extra keys")

    def format(self, record: logging.LogRecord) -> str:
        """Return ``record`` as one JSON object, without a newline."""
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = record.__dict__
        for key in self.keys:
            if key in fields:
                line[key] = fields[key]
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, default=str, ensure_ascii=False)


def json_log_handler(
    stream: TextIO | None = None, *, level: int = logging.NOTSET, keys: Iterable[str] = CONTEXT_KEYS
) -> logging.StreamHandler[TextIO]:
    """A handler writing one JSON object per record to ``stream`` (standard error by default).

    Add it to a logger (``logging.getLogger("callcenter_sdk").addHandler(...)``)
    or to the root logger. ``keys`` are the ``extra`` fields written (see
    :class:`JsonFormatter`).

    .. versionadded:: 0.1
    """
    handler: logging.StreamHandler[TextIO] = logging.StreamHandler(
        sys.stderr if stream is None else stream
    )
    handler.setLevel(level)
    handler.setFormatter(JsonFormatter(keys))
    return handler


def event_fields(event: Event) -> dict[str, Any]:
    """An event's kind, time and non-empty ids: what :func:`log_events` logs of it."""
    fields: dict[str, Any] = {"kind": type(event).kind, "at": event.at}
    for field in attrs.fields(type(event)):
        if field.name.endswith("_id") or field.name in _ID_FIELDS:
            value = getattr(event, field.name)
            if isinstance(value, str) and value:
                fields[field.name] = value
    return fields


def log_events(
    center: CallCenter, logger: logging.Logger | None = None, *, level: int = logging.INFO
) -> Callable[[], None]:
    """Log every event of ``center`` from now on; return the function that stops it.

    Each event is one record at ``level`` on ``logger`` (``callcenter_sdk.events``
    by default): its message is the event's kind, and its ``extra`` holds the
    kind, the time on the center's clock (``at``) and the event's ids
    (``contact_id``, ``agent_id``, ``queue``...). With :func:`json_log_handler`
    that is one JSON line per event.

    .. versionadded:: 0.1
    """
    target = logger if logger is not None else logging.getLogger(EVENTS_LOGGER)

    def write(_seq: int, event: Event) -> None:
        if target.isEnabledFor(level):
            fields = event_fields(event)
            target.log(level, "%s", fields["kind"], extra=fields)

    return center.subscribe(write)
