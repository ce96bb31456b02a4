"""Hostile SIP from sipp (written by others): broken requests and floods, within loopback bounds."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import anyio
import pytest

from callcenter_sdk.media import (
    CallEnded,
    CallIncoming,
    EndCause,
    MediaEventLog,
    MediaPool,
    RedirectFront,
    WorkerLost,
    call_is,
    create_media_pool,
    create_redirect_front,
)

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(
        shutil.which("sipp") is None, reason="sipp is not installed (Debian package sip-tester)"
    ),
]

SCENARIOS = Path(__file__).parent / "sipp"


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _sipp(
    scenario: str, target: str, workdir: Path, *, rate: int, count: int, extra: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[bytes]:
    """Run sipp at ``rate`` calls per second for ``count`` calls, bounded by ``timeout``."""
    command = [
        "timeout", "90", "sipp", "-sf", str(SCENARIOS / scenario),
        "-i", "127.0.0.1", "-p", str(_free_udp_port()),
        "-mi", "127.0.0.1", "-mp", str(_free_udp_port()),
        "-s", "ivr", "-r", str(rate), "-m", str(count), "-l", str(count),
        "-nostdin", "-timeout", "60", *extra, target,
    ]  # fmt: skip
    return await anyio.run_process(command, cwd=workdir, check=False)


async def _a_real_call_still_connects(pool: MediaPool, front: RedirectFront, workdir: Path) -> None:
    """A sipp caller dials the front door, follows its 302, is answered and hangs up."""
    log = MediaEventLog(pool.events())
    done: list[subprocess.CompletedProcess[bytes]] = []

    async def call() -> None:
        done.append(
            await _sipp(
                "caller_follows_302.xml",
                front.address,
                workdir,
                rate=1,
                count=1,
                extra=("-d", "500", "-timeout_error"),
            )
        )

    async with anyio.create_task_group() as tg:
        tg.start_soon(call)
        incoming = await log.wait(CallIncoming)
        await pool.answer(incoming.call_id)
        ended = await log.wait(CallEnded, call_is(incoming.call_id))
        assert ended.cause is EndCause.REMOTE_HANGUP
    assert done[0].returncode == 0, done[0].stdout.decode(errors="replace")[-2000:]


async def _settled(pool: MediaPool) -> dict[str, int]:
    """Each worker's legs once they are all gone (or whatever is left after 10 s)."""
    with anyio.move_on_after(10):
        # the workers report their legs only when asked: polling is the honest wait
        while any(s.calls for s in (await pool.stats()).values()):  # noqa: ASYNC110
            await anyio.sleep(0.1)
    return {name: s.calls for name, s in (await pool.stats()).items()}


async def test_a_flood_of_broken_requests_kills_no_worker(tmp_path: Path) -> None:
    """Sipp sends 1,200 broken or hostile requests at 100 "calls" a second
    (an unknown method, BYE and CANCEL for no dialog, an INVITE with broken
    headers and a lying length, an INVITE with garbage SDP, an OPTIONS with a
    3 kB header) straight at a worker and at the front door at once: no worker
    dies or restarts, no leg is left behind, the front door answers every
    INVITE, and a real call through the front door connects afterwards."""
    async with create_media_pool(2) as pool, create_redirect_front(pool) as front:
        lost = MediaEventLog(pool.events())
        pids = [w.pid for w in pool.workers]
        runs: list[subprocess.CompletedProcess[bytes]] = []

        async def hostile(target: str) -> None:
            runs.append(await _sipp("hostile_requests.xml", target, tmp_path, rate=100, count=200))

        async with anyio.create_task_group() as tg:
            for target in (pool.workers[0].address, front.address):
                tg.start_soon(hostile, target)
        for run in runs:  # sipp counts unexpected answers as failed calls: only its end matters
            assert b"Test Terminated" in run.stdout, run.stdout.decode(errors="replace")[-2000:]
        # every INVITE got an answer, the broken ones too; the rest got 405
        assert front.stats.redirected + front.stats.refused == 400
        assert await _settled(pool) == {w.name: 0 for w in pool.workers}
        assert [w.pid for w in pool.workers] == pids
        assert not lost.of(WorkerLost)
        await anyio.sleep(6.0)  # a redirect not followed holds its leg for 5 s
        await _a_real_call_still_connects(pool, front, tmp_path)
        assert not lost.of(WorkerLost)


async def test_an_invite_flood_on_the_front_door_gets_clean_answers(tmp_path: Path) -> None:
    """400 INVITEs with SDP at 200 a second on the public address, ten times
    what a pjsua2 process survives: every one gets a final answer (302 while a
    worker has room and rate, 503 for the rest), sipp sees no failed call, the
    workers never see the flood, and a real call connects once the unused
    redirects have expired."""
    async with create_media_pool(2) as pool, create_redirect_front(pool) as front:
        lost = MediaEventLog(pool.events())
        pids = [w.pid for w in pool.workers]
        flood = await _sipp(
            "flood_invites.xml", front.address, tmp_path, rate=200, count=400,
            extra=("-timeout_error",),
        )  # fmt: skip
        assert flood.returncode == 0, flood.stdout.decode(errors="replace")[-2000:]
        assert front.stats.redirected + front.stats.refused == 400
        assert front.stats.refused > front.stats.redirected > 0
        assert [w.pid for w in pool.workers] == pids
        assert await _settled(pool) == {w.name: 0 for w in pool.workers}
        await anyio.sleep(6.0)  # a redirect not followed holds its leg for 5 s
        await _a_real_call_still_connects(pool, front, tmp_path)
        assert not lost.of(WorkerLost)
