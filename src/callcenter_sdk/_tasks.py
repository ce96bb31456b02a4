"""Waiting until every other task is blocked, quickly (for virtual time).

``anyio.wait_all_tasks_blocked`` on asyncio sleeps 0.1 s of wall time each
time it finds a task that could still run. Driving virtual time asks that
question at every instant, so a virtual minute with a few dozen instants
cost seconds of wall time. Here the runnable tasks are let run with zero
sleeps instead, and anyio's own wait is the fallback (trio, or a task that
never blocks).
"""

from __future__ import annotations

import asyncio

import anyio

__all__ = ["wait_all_tasks_blocked"]

_SPINS = 1000  # zero sleeps before falling back to anyio's 0.1 s naps


def _blocked(task: asyncio.Task[object]) -> bool:
    # The criterion anyio uses: the task awaits a future that is not done yet.
    waiter = getattr(task, "_fut_waiter", None)
    return waiter is not None and not waiter.done()


async def wait_all_tasks_blocked() -> None:
    """Return once every other task of the event loop waits on something."""
    try:
        this = asyncio.current_task()
    except RuntimeError:  # not on asyncio (trio)
        this = None
    if this is not None:
        for _ in range(_SPINS):
            await asyncio.sleep(0)
            if all(task is this or _blocked(task) for task in asyncio.all_tasks()):
                return
    await anyio.wait_all_tasks_blocked()
