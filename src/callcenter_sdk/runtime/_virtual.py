"""Driving a call center on virtual time: the backend's timers and the runtime's, in order."""

from __future__ import annotations

from .._errors import ValidationError
from .._tasks import wait_all_tasks_blocked
from ..media import VirtualBackend
from ._app import CallCenter

__all__ = ["run_virtual"]


async def run_virtual(center: CallCenter, backend: VirtualBackend, seconds: float) -> None:
    """Move virtual time ``seconds`` forward, firing every due timer in time order.

    The backend's timers (callers arriving, keys pressed, phones answering)
    and the call center's (offer timeouts, wrap-ups, announcements, ticket
    SLAs) interleave exactly as they would live, and every task reacting to
    an instant runs before time moves on. Start the call center with
    ``run_timers=False`` on the backend's clock.
    """
    if seconds < 0:
        raise ValidationError(f"virtual time cannot go back: run_virtual({seconds!r})")
    clock = backend.clock
    target = clock.now() + seconds
    while True:
        await _quiet(center)
        if (due := center.next_deadline()) is not None and due <= clock.now():
            await center.tick()
            continue
        times = [t for t in (backend.next_time(), center.next_deadline()) if t is not None]
        upcoming = min(times, default=None)
        if upcoming is None or upcoming > target:
            break
        await backend.advance(max(0.0, upcoming - clock.now()))
    await backend.advance(max(0.0, target - clock.now()))
    await center.tick()
    await _quiet(center)
    await center.writer.flush()


async def _quiet(center: CallCenter) -> None:
    """Let every task run until none can, with no lookup or store call in flight.

    Lookups and store calls run on wall time, in threads: they take no virtual
    time. A task they release may start another (a caller's IVR after its
    directory read starts the screen-pop lookup), so this waits until both
    are quiet together.
    """
    while True:
        await wait_all_tasks_blocked()
        if not center.in_flight:
            return
        await center.settle()
