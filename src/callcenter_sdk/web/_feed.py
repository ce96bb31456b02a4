"""The live feed: the event log's tail, placed in the org once, shared by every stream.

The log is the truth and its sequence numbers are the event ids: a browser
that reconnects with ``Last-Event-ID: 41`` gets event 42 next, whether 42 was
written before the disconnect, during it, or by another process. So the feed
never relays the runtime's in-memory stream (whose numbers restart at 1 with
every process, and which may hold an event the store will refuse): a
published event is only a *hint* to look. On a hint the feed waits until the
center's writer has written what was published, reads the log after the last
sequence number it holds, places each event with the
:class:`~callcenter_sdk.web._scope.ScopeTracker` and keeps it in a bounded
history. A timer looks at the log now and then too, for events written by
another process or published from a thread.

Each stream is a cursor over that history (the pattern of
``shared/notes/web.md``: one :class:`anyio.Event` replaced on each change, so
no wake-up is lost and no per-client queue can overflow). A stream that falls
behind the history, or asks to replay from further back, reads the log
itself, placing its events with a tracker warmed on the events before them.

.. versionadded:: 0.1
"""

from __future__ import annotations

import bisect
import functools
import json
import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable

import anyio
import anyio.to_thread
import attrs
from anyio.abc import TaskStatus
from sse_starlette import ServerSentEvent

from .._errors import StoreError
from .._events import Event, event_to_dict
from ..store import EventLog
from ._scope import ScopeTracker, Visibility

_log = logging.getLogger(__name__)

__all__ = ["FeedEntry", "LiveFeed"]

_REPLAYS = 32
"""Replays from before the history whose trackers are kept between their batches."""


@attrs.frozen
class FeedEntry:
    """One event of the log as the streams send it.

    Attributes:
        seq: Its sequence number in the log: the SSE event id.
        event: The event.
        visibility: Who may see it (see :func:`~callcenter_sdk.web._scope.may_see`).
        data: The event as JSON (``event_to_dict``), encoded once for every stream.
        message: The whole SSE message (id, event, data), encoded once for every
            stream: a floor's two hundred streams then only copy bytes.
    """

    seq: int
    event: Event
    visibility: Visibility
    data: str
    message: bytes


class LiveFeed:
    """Tails an event log and keeps its last ``history`` events placed for the streams.

    Run it with :meth:`run` in a task group; hand :meth:`hint` to the
    center's ``subscribe``.

    Args:
        log: The event log to tail.
        tracker: Places the events (its knowledge must start empty).
        make_tracker: Builds a fresh tracker, for replays from before the history.
        flush: Waits until what was published is written (the center's
            ``writer.flush``); without it the feed reads what is there.
        history: Events kept in memory for the streams.
        warm_up: Events read before the first one placed, so the tracker
            knows the contacts already in progress.
        batch: Events read from the log at once.
        poll: Seconds between looks at the log without a hint.
    """

    def __init__(
        self,
        log: EventLog,
        tracker: ScopeTracker,
        *,
        make_tracker: Callable[[], ScopeTracker],
        flush: Callable[[], Awaitable[object]] | None = None,
        history: int = 10_000,
        warm_up: int = 10_000,
        batch: int = 1_000,
        poll: float = 1.0,
    ) -> None:
        self._log = log
        self._tracker = tracker
        self._make_tracker = make_tracker
        self._flush = flush
        self._entries: deque[FeedEntry] = deque(maxlen=history)
        self._warm_up = warm_up
        self._batch = batch
        self._poll = poll
        self._head = 0
        self._hint = anyio.Event()
        self._changed = anyio.Event()
        self._started = anyio.Event()
        self._loop_thread: int | None = None
        self._replays: OrderedDict[int, ScopeTracker] = OrderedDict()

    @property
    def head(self) -> int:
        """The sequence number of the newest event the feed holds (0 before any)."""
        return self._head

    def hint(self, _seq: int = 0, _event: object = None) -> None:
        """Something was published: look at the log (a ``subscribe`` callback).

        From another thread it does nothing: the poll finds what it wrote.
        """
        if threading.get_ident() == self._loop_thread:
            self._hint.set()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Read the recent log, report started, then follow it until cancelled.

        Once started, a log that cannot be read (the database is down or cut
        off) is logged once and read again at each poll: the streams wait, and
        go on from where they were when it is back.
        """
        self._loop_thread = threading.get_ident()
        last = await anyio.to_thread.run_sync(self._log.last_seq)
        start = max(0, last - self._entries.maxlen) if self._entries.maxlen else last
        await self._read_into(self._tracker, after=max(0, start - self._warm_up), until=start)
        self._head = start
        await self._tail_once()
        self._started.set()
        task_status.started()
        failing = False
        while True:
            with anyio.move_on_after(self._poll):
                await self._hint.wait()
            try:
                await self._tail_once()
            except StoreError as exc:  # the database is away: look again at the next poll
                if not failing:
                    _log.warning("live feed: the event log cannot be read (%s); retrying", exc)
                failing = True
            else:
                if failing:
                    _log.warning("live feed: the event log is read again")
                failing = False

    async def _tail_once(self) -> None:
        while True:
            self._hint = anyio.Event()  # before reading: a publish from now on wakes us again
            if self._flush is not None:
                await self._flush()
            rows = await anyio.to_thread.run_sync(
                lambda: self._log.read(after=self._head, limit=self._batch)
            )
            for row in rows:
                self._entries.append(_entry(row.seq, row.event, self._tracker))
                self._head = row.seq
            if rows:
                changed, self._changed = self._changed, anyio.Event()
                changed.set()
            if len(rows) < self._batch:
                return

    async def _read_into(self, tracker: ScopeTracker, *, after: int, until: int) -> None:
        """Teach ``tracker`` the events in ``(after, until]`` (placing and dropping them)."""
        while after < until:
            read = functools.partial(
                self._log.read, after=after, limit=min(self._batch, until - after)
            )
            rows = await anyio.to_thread.run_sync(read)
            if not rows:
                return
            for row in rows:
                if row.seq > until:
                    return
                tracker.place(row.event)
                after = row.seq

    async def since(self, after: int) -> list[FeedEntry]:
        """The events after sequence number ``after``, oldest first (empty when none yet).

        From the history when it reaches back that far; else from the log, in
        batches: call again with the last seq returned until it is empty.
        """
        if not self._started.is_set():
            await self._started.wait()
        if after >= self._head:
            return []
        if self._entries and after >= self._entries[0].seq - 1:
            lo = bisect.bisect_right(self._entries, after, key=_seq)
            return [self._entries[i] for i in range(lo, len(self._entries))]
        return await self._replay(after)

    async def _replay(self, after: int) -> list[FeedEntry]:
        # A replay reads batch after batch: keep its tracker for the next call.
        tracker = self._replays.pop(after, None)
        if tracker is None:
            tracker = self._make_tracker()
            await self._read_into(tracker, after=max(0, after - self._warm_up), until=after)
        oldest = self._entries[0].seq if self._entries else self._head + 1
        rows = await anyio.to_thread.run_sync(
            lambda: self._log.read(after=after, limit=self._batch)
        )
        entries = [_entry(r.seq, r.event, tracker) for r in rows if r.seq < oldest]
        if entries:
            self._replays[entries[-1].seq] = tracker
            while len(self._replays) > _REPLAYS:
                self._replays.popitem(last=False)
        return entries

    async def wait(self, after: int) -> None:
        """Return once the feed holds an event after ``after``."""
        while self._head <= after:
            await self._changed.wait()


def _seq(entry: FeedEntry) -> int:
    return entry.seq


def _entry(seq: int, event: Event, tracker: ScopeTracker) -> FeedEntry:
    data = json.dumps(event_to_dict(event), separators=(",", ":"), ensure_ascii=False)
    message = ServerSentEvent(data=data, event=event.kind, id=str(seq)).encode()
    visibility = tracker.place(event)
    return FeedEntry(seq=seq, event=event, visibility=visibility, data=data, message=message)
