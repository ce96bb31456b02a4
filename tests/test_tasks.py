"""Waiting until every other task is blocked, as virtual time needs it."""

from __future__ import annotations

import time

import anyio
import anyio.lowlevel
import anyio.to_thread

from callcenter_sdk._tasks import wait_all_tasks_blocked


async def test_every_runnable_task_has_run_when_it_returns() -> None:
    """Tasks with steps left to run (50 checkpoints each) have all reached the
    point where they wait; a task waiting on a worker thread counts as blocked;
    once their gate opens, the next wait sees every one of them finished."""
    steps: list[int] = []
    gate = anyio.Event()

    async def worker(n: int) -> None:
        for _ in range(50):
            await anyio.lowlevel.checkpoint()
        steps.append(n)
        await gate.wait()
        steps.append(-n)

    async with anyio.create_task_group() as tg:
        for n in range(1, 6):
            tg.start_soon(worker, n)
        tg.start_soon(anyio.to_thread.run_sync, time.sleep, 0.3)
        await wait_all_tasks_blocked()
        assert sorted(steps) == [1, 2, 3, 4, 5]
        gate.set()
        await wait_all_tasks_blocked()
        assert sorted(steps) == [-5, -4, -3, -2, -1, 1, 2, 3, 4, 5]
