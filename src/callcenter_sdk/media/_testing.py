"""A waiter over a backend's event stream, for tests and scripted scenarios.

.. versionadded:: 0.1
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from ._events import CallAnswered, CallIncoming, CallMediaActive, MediaEvent

if TYPE_CHECKING:
    from ._pool import MediaPool

__all__ = ["MediaEventLog", "call_is", "connect_workers", "free_udp_port", "free_udp_ports"]

E = TypeVar("E", bound=MediaEvent)


class MediaEventLog:
    """Every event a backend emitted so far, with waits on a predicate (never on time).

    Events may arrive in any order across legs (a callee's media can be up
    before the caller sees the answer), so :meth:`wait` scans everything seen
    and returns the first matching event not already returned.

    Args:
        stream: The backend's :meth:`~MediaBackend.events` stream; the log
            becomes its only consumer.
    """

    def __init__(self, stream: AsyncIterator[MediaEvent]) -> None:
        self._stream = stream
        self.seen: list[MediaEvent] = []
        self._taken: set[int] = set()

    async def wait(
        self, kind: type[E], where: Callable[[E], bool] = lambda _: True, *, limit: float = 30.0
    ) -> E:
        """Return the first not-yet-returned event of ``kind`` matching ``where``.

        Raises:
            TimeoutError: None came within ``limit`` seconds (keep it generous).
        """
        with anyio.fail_after(limit):
            index = 0
            while True:
                while index < len(self.seen):
                    event = self.seen[index]
                    if index not in self._taken and isinstance(event, kind) and where(event):
                        self._taken.add(index)
                        return event
                    index += 1
                self.seen.append(await anext(self._stream))

    def of(self, kind: type[E]) -> list[E]:
        """Every event of ``kind`` seen so far."""
        return [e for e in self.seen if isinstance(e, kind)]


def call_is(call_id: str) -> Callable[[Any], bool]:
    """A predicate for :meth:`MediaEventLog.wait`: the event is about ``call_id``."""
    return lambda event: getattr(event, "call_id", None) == call_id


async def connect_workers(
    pool: MediaPool, log: MediaEventLog, target: str, *, near: str | None = None
) -> tuple[str, str]:
    """Call one of the pool's own workers from another and answer it; for loopback tests.

    Args:
        pool: The pool; ``log`` must be the log of its events.
        log: The only consumer of ``pool.events()``.
        target: The called worker's address (``host:port``).
        near: Place the calling leg beside this existing leg.

    Returns:
        ``(outbound leg, inbound leg)``, both answered with media flowing.
    """
    out = await pool.originate(f"sip:agent@{target}", near=near)
    # The leg rings on the worker at ``target``, which may be the caller's own
    # worker when the pool placed the outbound leg there.
    callee = next((w.name for w in pool.workers if w.address == target), None)
    incoming = await log.wait(CallIncoming, lambda e: callee is None or e.worker == callee)
    await pool.answer(incoming.call_id)
    await log.wait(CallAnswered, call_is(out))
    await log.wait(CallMediaActive, call_is(out))
    await log.wait(CallMediaActive, call_is(incoming.call_id))
    return out, incoming.call_id


def free_udp_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct UDP ports free on ``host`` now, for SIP peers in tests.

    The ports are held together until all are found, so they differ; another
    process may still take one before the caller binds it (keep tests on
    loopback, where nothing else is racing for them).
    """
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(count)]
    try:
        for sock in socks:
            sock.bind((host, 0))
        return [int(sock.getsockname()[1]) for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def free_udp_port(host: str = "127.0.0.1") -> int:
    """One UDP port free on ``host`` now (see :func:`free_udp_ports`)."""
    return free_udp_ports(1, host)[0]
