"""sipp (written by others) as the caller into pjsua2 media workers, and as an attacker."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import anyio
import pytest

from callcenter_sdk.media import (
    CallAnswered,
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
    free_udp_port,
)

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(
        shutil.which("sipp") is None, reason="sipp is not installed (Debian package sip-tester)"
    ),
]

SCENARIOS = Path(__file__).parent / "sipp"


async def _sipp(scenario: str, target: str, workdir: Path) -> subprocess.CompletedProcess[bytes]:
    """Run one sipp call, bounded by `timeout` so a stuck peer never hangs the suite."""
    command = [
        "timeout", "60", "sipp", "-sf", str(SCENARIOS / scenario),
        "-i", "127.0.0.1", "-p", str(free_udp_port()),
        "-mi", "127.0.0.1", "-mp", str(free_udp_port()),
        "-s", "ivr", "-m", "1", "-nostdin", "-timeout", "45", "-timeout_error",
        target,
    ]  # fmt: skip
    return await anyio.run_process(command, cwd=workdir, check=False)


class _Sipp:
    """sipp running in the background while the test plays the call center."""

    def __init__(self, scenario: str, pool: MediaPool, workdir: Path) -> None:
        self.args = (scenario, pool.workers[0].address, workdir)
        self.result: subprocess.CompletedProcess[bytes] | None = None

    async def run(self) -> None:
        self.result = await _sipp(*self.args)

    def check(self) -> None:
        assert self.result is not None
        assert self.result.returncode == 0, self.result.stdout.decode(errors="replace")[-3000:]


async def test_sipp_caller_presses_1_and_we_hang_up(tmp_path: Path) -> None:
    """A sipp caller dials in, we answer, its RFC 2833 capture of key 1 arrives as the digit "1",
    we hang up and sipp sees a clean BYE (it exits 0 only if its scenario completed)."""
    async with create_media_pool(1) as pool:
        log = MediaEventLog(pool.events())
        sipp = _Sipp("caller_presses_1.xml", pool, tmp_path)
        async with anyio.create_task_group() as tg:
            tg.start_soon(sipp.run)
            incoming = await log.wait(CallIncoming)
            assert "sipp@" in incoming.from_uri
            assert "ivr@" in incoming.to_uri
            await pool.answer(incoming.call_id)
            digits = await pool.collect_dtmf(incoming.call_id, first_digit_timeout=30)
            assert digits == "1"
            await pool.hangup(incoming.call_id)
            ended = await log.wait(CallEnded, call_is(incoming.call_id))
            assert ended.cause is EndCause.LOCAL_HANGUP
        sipp.check()


async def test_sipp_caller_abandons_while_on_hold(tmp_path: Path) -> None:
    """A caller who hangs up while hearing hold music is reported as a remote hang-up
    after the answer (the ACD turns it into an abandon with the exact wait)."""
    async with create_media_pool(1) as pool:
        log = MediaEventLog(pool.events())
        sipp = _Sipp("caller_abandons_in_queue.xml", pool, tmp_path)
        async with anyio.create_task_group() as tg:
            tg.start_soon(sipp.run)
            incoming = await log.wait(CallIncoming)
            await pool.answer(incoming.call_id)
            answered = await log.wait(CallAnswered, call_is(incoming.call_id))
            await pool.start_music_on_hold(incoming.call_id)
            ended = await log.wait(CallEnded, call_is(incoming.call_id))
            assert ended.cause is EndCause.REMOTE_HANGUP
            assert ended.at >= answered.at
        sipp.check()
        stats = await pool.stats()
        assert [s.calls for s in stats.values()] == [0]


async def test_sipp_caller_cancels_while_ringing(tmp_path: Path) -> None:
    """A caller who gives up before the answer (CANCEL) ends the leg as cancelled."""
    async with create_media_pool(1) as pool:
        log = MediaEventLog(pool.events())
        sipp = _Sipp("caller_cancels_while_ringing.xml", pool, tmp_path)
        async with anyio.create_task_group() as tg:
            tg.start_soon(sipp.run)
            incoming = await log.wait(CallIncoming)
            ended = await log.wait(CallEnded, call_is(incoming.call_id))
            assert ended.cause is EndCause.CANCELLED
            assert ended.status_code == 487
        sipp.check()


async def test_sipp_caller_follows_the_front_door(tmp_path: Path) -> None:
    """A sipp caller dials the public address, follows the 302 to a worker, is
    answered, talks for a second and hangs up: sipp completes its scenario."""
    async with create_media_pool(2) as pool, create_redirect_front(pool) as front:
        log = MediaEventLog(pool.events())
        command = [
            "timeout", "60", "sipp", "-sf", str(SCENARIOS / "caller_follows_302.xml"),
            "-i", "127.0.0.1", "-p", str(free_udp_port()),
            "-mi", "127.0.0.1", "-mp", str(free_udp_port()),
            "-s", "ivr", "-m", "1", "-d", "1000", "-nostdin", "-timeout", "45", "-timeout_error",
            front.address,
        ]  # fmt: skip
        result: list[subprocess.CompletedProcess[bytes]] = []

        async def run() -> None:
            result.append(await anyio.run_process(command, cwd=tmp_path, check=False))

        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            incoming = await log.wait(CallIncoming)
            assert "ivr@" in incoming.to_uri
            await pool.answer(incoming.call_id)
            ended = await log.wait(CallEnded, call_is(incoming.call_id))
            assert ended.cause is EndCause.REMOTE_HANGUP
        assert result[0].returncode == 0, result[0].stdout.decode(errors="replace")[-3000:]
        assert front.stats.redirected == 1


async def test_fast_turnover_never_declines_a_new_caller(tmp_path: Path) -> None:
    """Thirty short sipp calls, four at a time (a new one as soon as one ends),
    into one worker of four legs with slow 50 ms polls, so a finished call's pjsua
    slot is reused before the loop runs again: every call is answered and
    completes, none is declined (603) by the finished call's stale Call object,
    and the worker ends with no call and no leaked bridge port."""
    async with create_media_pool(1, poll_ms=50, max_new_calls_per_second=30) as pool:
        log = MediaEventLog(pool.events())
        baseline = (await pool.stats())[pool.workers[0].name].active_ports
        command = [
            "timeout", "90", "sipp", "-sf", str(SCENARIOS / "caller_talks.xml"),
            "-i", "127.0.0.1", "-p", str(free_udp_port()),
            "-mi", "127.0.0.1", "-mp", str(free_udp_port()),
            "-s", "ivr", "-r", "25", "-m", "30", "-l", "4", "-d", "200",
            "-nostdin", "-timeout", "80", "-timeout_error", pool.workers[0].address,
        ]  # fmt: skip
        result: list[subprocess.CompletedProcess[bytes]] = []

        async def run() -> None:
            result.append(await anyio.run_process(command, cwd=tmp_path, check=False))

        async def answer_everyone() -> None:
            while True:
                incoming = await log.wait(CallIncoming, limit=120)
                await pool.answer(incoming.call_id)

        async with anyio.create_task_group() as tg:
            tg.start_soon(answer_everyone)
            await run()
            tg.cancel_scope.cancel()
        assert result[0].returncode == 0, result[0].stdout.decode(errors="replace")[-3000:]
        ended = [await log.wait(CallEnded) for _ in range(30)]
        assert {e.cause for e in ended} == {EndCause.REMOTE_HANGUP}
        with anyio.fail_after(30):
            while True:
                stats = (await pool.stats())[pool.workers[0].name]
                if stats.calls == 0 and stats.active_ports == baseline:
                    break
                await anyio.sleep(0.1)


async def test_blind_transfer_sends_refer_and_ends_the_leg(tmp_path: Path) -> None:
    """We call a sipp party that accepts transfers; ``transfer()`` sends it a REFER
    whose Refer-To is the target we named, sipp answers 202 and a NOTIFY carrying
    the target's 200 OK, and our leg then hangs up by itself (BYE, reason
    "transferred"): sipp completes its scenario and the worker holds no call."""
    port = free_udp_port()
    messages = tmp_path / "messages.log"
    command = [
        "timeout", "60", "sipp", "-sf", str(SCENARIOS / "transferee_accepts_refer.xml"),
        "-i", "127.0.0.1", "-p", str(port), "-mi", "127.0.0.1", "-mp", str(free_udp_port()),
        "-m", "1", "-nostdin", "-timeout", "45", "-timeout_error",
        "-trace_msg", "-message_file", str(messages),
    ]  # fmt: skip
    target = "sip:expert@192.0.2.10:5070"
    async with create_media_pool(1) as pool:
        log = MediaEventLog(pool.events())
        result: list[subprocess.CompletedProcess[bytes]] = []

        async def run() -> None:
            result.append(await anyio.run_process(command, cwd=tmp_path, check=False))

        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            await anyio.sleep(0.3)  # sipp binds its port; the INVITE is retransmitted anyway
            leg = await pool.originate(f"sip:transferee@127.0.0.1:{port}")
            await log.wait(CallAnswered, call_is(leg))
            await pool.transfer(leg, target)
            ended = await log.wait(CallEnded, call_is(leg))
        assert result[0].returncode == 0, result[0].stdout.decode(errors="replace")[-3000:]
        assert (ended.cause, ended.reason) == (EndCause.LOCAL_HANGUP, "transferred")
        refer = messages.read_text(errors="replace").split("REFER sip:", 1)[1]
        refer_to = next(ln for ln in refer.splitlines() if ln.lower().startswith("refer-to:"))
        assert refer_to.split(":", 1)[1].strip().strip("<>") == target
        stats = await pool.stats()
        assert [s.calls for s in stats.values()] == [0]


async def _sipp_claiming(
    target: str, workdir: Path, *, bind: str, pai: str, rpid: str
) -> subprocess.CompletedProcess[bytes]:
    """One sipp caller from address ``bind``, From user 0611, claiming ``pai`` and ``rpid``."""
    command = [
        "timeout", "60", "sipp", "-sf", str(SCENARIOS / "caller_claims_identity.xml"),
        "-i", bind, "-p", str(free_udp_port(bind)), "-mi", bind, "-mp", str(free_udp_port(bind)),
        "-s", "hotline", "-key", "caller", "0611", "-key", "pai", pai, "-key", "rpid", rpid,
        "-m", "1", "-nostdin", "-timeout", "45", "-timeout_error", target,
    ]  # fmt: skip
    return await anyio.run_process(command, cwd=workdir, check=False)


EVIL = "<sip:+88212345678@evil>"


@pytest.mark.parametrize(
    ("bind", "claims", "expected"),
    [
        ("127.0.0.1", (EVIL, EVIL), ("0611", False)),
        ("127.0.0.2", (EVIL, "<sip:anonymous@x>"), ("+88212345678", True)),
        ("127.0.0.2", ("<sip:anonymous@x>", '"T" <tel:+4420>;party=calling'), ("+4420", True)),
    ],
)
async def test_only_a_trusted_source_can_assert_the_callers_identity(
    tmp_path: Path, bind: str, claims: tuple[str, str], expected: tuple[str, bool]
) -> None:
    """Workers trusting only 127.0.0.2: a sipp caller on 127.0.0.1 asserting
    +88212345678 in P-Asserted-Identity and Remote-Party-ID is not believed (the
    number is its From user, unverified); the same INVITE from 127.0.0.2 is, and
    a Remote-Party-ID from there counts when P-Asserted-Identity names nobody.
    The event says where the INVITE came from."""
    async with create_media_pool(1, trusted=("127.0.0.2",)) as pool:
        log = MediaEventLog(pool.events())
        result: list[subprocess.CompletedProcess[bytes]] = []

        async def run() -> None:
            address = pool.workers[0].address
            pai, rpid = claims
            result.append(await _sipp_claiming(address, tmp_path, bind=bind, pai=pai, rpid=rpid))

        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            incoming = await log.wait(CallIncoming)
            await log.wait(CallEnded, call_is(incoming.call_id))
        assert (incoming.caller_number, incoming.caller_verified) == expected
        assert incoming.source == bind
        assert "0611@" in incoming.from_uri
        assert result[0].returncode == 0, result[0].stdout.decode(errors="replace")[-3000:]


# -- hostile SIP: broken requests and floods, within loopback bounds ------------------------


async def _sipp_load(
    scenario: str, target: str, workdir: Path, *, rate: int, count: int, extra: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[bytes]:
    """Run sipp at ``rate`` calls per second for ``count`` calls, bounded by ``timeout``."""
    command = [
        "timeout", "90", "sipp", "-sf", str(SCENARIOS / scenario),
        "-i", "127.0.0.1", "-p", str(free_udp_port()),
        "-mi", "127.0.0.1", "-mp", str(free_udp_port()),
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
            await _sipp_load(
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
        # generous backstops: sipp starts and follows the 302 slowly on a loaded machine
        incoming = await log.wait(CallIncoming, limit=120.0)
        await pool.answer(incoming.call_id)
        ended = await log.wait(CallEnded, call_is(incoming.call_id), limit=120.0)
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
            runs.append(
                await _sipp_load("hostile_requests.xml", target, tmp_path, rate=100, count=200)
            )

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
        flood = await _sipp_load(
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
