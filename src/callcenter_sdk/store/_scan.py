"""Reading the event log fast, for folds over all of it (a rebuild of the report's aggregates).

:meth:`EventLog.read <callcenter_sdk.store.EventLog.read>` loads ORM rows and
decodes each payload on its own; a fold over millions of events spends most
of its time there. :func:`scan_events` selects only the four columns it
needs, takes the payloads as text and decodes a whole chunk with one
``json.loads``, and gives the same :class:`~callcenter_sdk.store.LoggedEvent`
values.

.. versionadded:: 0.2
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import Text, cast, select

from .._events import event_from_dict
from ._eventlog import LoggedEvent
from ._rows import EventRow
from ._store import Store

__all__ = ["scan_events"]


def scan_events(
    store: Store, *, after: int = 0, limit: int | None = None, kinds: Sequence[str] = ()
) -> list[LoggedEvent]:
    """The written events with ``seq > after``, oldest first: what ``EventLog.read`` returns.

    Args:
        store: The store holding the log.
        after: Resume after this sequence number.
        limit: At most this many events.
        kinds: Only these event kinds (all when empty).
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
    out = []
    for (seq, kind, at, _), payload in zip(rows, payloads, strict=True):
        payload["kind"], payload["at"] = kind, at
        out.append(LoggedEvent(seq, event_from_dict(payload)))
    return out
