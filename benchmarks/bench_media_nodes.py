"""What driving another node's media costs the leader, on PostgreSQL.

A cluster leader's center runs on ``ClusterMedia``: a command for a leg of its
own node goes straight to its pool (through its ``MediaAgent``, which records
bridges in the live calls), a command for another node's leg is a row written
through the leader's fence, claimed by that node (woken by ``NOTIFY``),
carried out, and answered in the same row. This benchmark runs two nodes in
one process on one PostgreSQL schema, each with a virtual backend (so the
figures are the database's path, not SIP's), one answered caller on each,
and times ``play`` then ``stop_playing`` of a tone, one command at a time,
on the leader's own leg (``local``) and on the other node's (``remote``);
then ``CONCURRENT`` commands on the remote leg at once (``remote_concurrent``,
commands per second). Several rounds, interleaved.

Run: ``CALLCENTER_TEST_POSTGRESQL_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test
.venv/bin/python benchmarks/bench_media_nodes.py``.
"""

from __future__ import annotations

import json
import os
import statistics
import time

import anyio

from callcenter_sdk import ManualClock
from callcenter_sdk.media import Tone, VirtualBackend
from callcenter_sdk.runtime import Elector, MediaAgent, open_cluster_media
from callcenter_sdk.runtime._cluster_media import ClusterMedia, call_id_of
from callcenter_sdk.store import Leases, MediaRows, temporary_store

DOMAIN = "bench"
COMMANDS = 100
CONCURRENT = 50
ROUNDS = 3
TONE = Tone((440,))


async def _answered(media: ClusterMedia, backend: VirtualBackend, node: str) -> str:
    leg = backend.inject_call("sip:caller@bench")
    await backend.advance(0.0)
    call_id = call_id_of(node, leg)
    with anyio.fail_after(30):
        while True:  # the leader learns of the caller from the rows (or its own agent)
            try:
                await media.answer(call_id)
                return call_id
            except Exception:  # noqa: BLE001 - not arrived yet on the node: try again
                await anyio.sleep(0.01)


async def _sequential(media: ClusterMedia, call_id: str) -> list[float]:
    times = []
    for _ in range(COMMANDS // 2):
        for command in (media.play(call_id, TONE), media.stop_playing(call_id)):
            start = time.perf_counter()
            await command
            times.append((time.perf_counter() - start) * 1000)
    return times


async def _concurrent(media: ClusterMedia, call_id: str) -> float:
    start = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for _ in range(CONCURRENT):
            tg.start_soon(media.play, call_id, TONE)
    return CONCURRENT / (time.perf_counter() - start)


def _figures(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 2),
        "max_ms": round(ordered[-1], 2),
    }


async def main() -> None:
    """Print one JSON line per round: local and remote command latency, remote throughput."""
    url = os.environ["CALLCENTER_TEST_POSTGRESQL_URL"]
    with temporary_store(url) as store:
        rows = MediaRows(store, DOMAIN)
        backends = {name: VirtualBackend(ManualClock(time.time())) for name in ("a", "b")}
        agents = {name: MediaAgent(b, rows, name, poll=0.5) for name, b in backends.items()}
        elector = Elector(Leases(store), DOMAIN, "a", ttl=30.0)
        async with anyio.create_task_group() as tg:
            await tg.start(elector.run)
            lease = await elector.wait_leader()
            for agent in agents.values():
                await tg.start(agent.run)
            async with open_cluster_media(agents["a"], rows, elector, epoch=lease.epoch) as media:
                local = await _answered(media, backends["a"], "a")
                remote = await _answered(media, backends["b"], "b")
                for number in range(1, ROUNDS + 1):
                    figures = {
                        "round": number,
                        "local": _figures(await _sequential(media, local)),
                        "remote": _figures(await _sequential(media, remote)),
                        "remote_concurrent_per_s": round(await _concurrent(media, remote)),
                    }
                    print(json.dumps(figures), flush=True)
            tg.cancel_scope.cancel()


if __name__ == "__main__":
    anyio.run(main)
