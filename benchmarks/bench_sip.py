"""SIP load on real processes: sipp callers -> front door -> pjsua2 workers -> sipp agents.

Every caller dials the one public address, follows the front door's 302 to a
media worker, is answered there; the worker calls an agent (a sipp UAS that
echoes audio) from the same process and bridges the two legs, so each bridged
call is two pjsua2 legs carrying audio both ways. When the caller hangs up the
agent leg is hung up. Afterwards: failed calls, leaked calls and bridge ports.

Baseline, same sipp load in the same run: baresip answering the callers
directly (one leg per call, playing a tone). Figures: CPU milliseconds per
leg-second for our workers, their fork server and the supervisor, and for baresip. Memory: the
proportional set size (PSS, ``/proc/PID/smaps_rollup``: pages shared by
several processes are split among them, so the sum over processes is what
the center really holds) of each worker and of the whole center, sampled
every half second while the load runs and kept at the moment the most calls
were bridged: ``worker_pss_mib`` is the median worker's,
``pss_mib_per_bridged_call`` the center's total divided by those calls.
The memory baseline, in the same run: a bare pjsua2 process (endpoint, UDP
transport, polling; nothing of ours imported).

    .venv/bin/python benchmarks/bench_sip.py [--workers 20 --cps 4 --calls 60 --hold 8]

Needs pjsua2, sipp and baresip; loopback only; bounded (< 2 min at the defaults).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from callcenter_sdk import MediaError
from callcenter_sdk.media import (
    CallAnswered,
    CallEnded,
    CallIncoming,
    MediaPool,
    WorkerLost,
    create_media_pool,
    create_redirect_front,
    free_udp_port,
    write_tone_wav,
)

SCENARIOS = Path(__file__).resolve().parent.parent / "tests" / "media" / "sipp"
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def pss_mib(pid: int) -> float:
    """Proportional set size of a process in MiB (shared pages split among their users)."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:  # the process is gone
        return 0.0
    match = re.search(r"^Pss:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else 0.0


BARE_WORKER = """
import select, sys
import pjsua2 as pj
ep = pj.Endpoint()
ep.libCreate()
config = pj.EpConfig()
config.uaConfig.threadCnt = 0
config.uaConfig.mainThreadOnly = True
config.medConfig.noVad = True
config.logConfig.consoleLevel = 0
ep.libInit(config)
transport = pj.TransportConfig()
transport.port = 0
ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, transport)
ep.audDevManager().setNullDev()
ep.libStart()
print("ready", flush=True)
while not select.select([sys.stdin], [], [], 0)[0]:
    ep.libHandleEvents(50)
ep.libDestroy()
"""


def start_bare_pjsua2() -> subprocess.Popen[str]:
    """A bare pjsua2 process (endpoint, UDP transport, polling), the memory baseline.

    Run beside the pool's workers, so that it shares the library's pages with
    them as they share them among themselves: PSS splits shared pages.
    """
    bare = subprocess.Popen(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", BARE_WORKER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert bare.stdout is not None
    for line in bare.stdout:  # pjsua2 may log on stdout before it starts
        if line.strip() == "ready":
            return bare
    raise RuntimeError("the bare pjsua2 process did not start")


def stop_bare_pjsua2(bare: subprocess.Popen[str]) -> None:
    """Let the bare process leave its loop and exit."""
    assert bare.stdin is not None
    bare.stdin.close()
    bare.wait(timeout=10)


class MemorySampler:
    """PSS of the center's processes, sampled while the load runs.

    Kept: the sample taken with the most calls bridged (the load the figures
    are about): each worker's PSS, and the sum over the workers, the other
    processes of the pool (its fork server) and this process (supervisor,
    front door and the benchmark's call logic).
    """

    def __init__(self, center: Center, pids: list[int], others: list[int]) -> None:
        self.center = center
        self.pids = pids
        self.others = others
        self.bridged = 0
        self.workers: list[float] = []
        self.others_pss = 0.0
        self.total = 0.0

    async def run(self) -> None:
        """Sample every half second until cancelled."""
        while True:
            bridged = self.center.bridged
            if bridged >= self.bridged and bridged > 0:
                workers = [pss_mib(pid) for pid in self.pids]
                self.bridged, self.workers = bridged, workers
                self.others_pss = sum(map(pss_mib, self.others))
                self.total = sum(workers) + self.others_pss + pss_mib(os.getpid())
            await anyio.sleep(0.5)


def sipp_caller(scenario: str, target: str, args: argparse.Namespace, workdir: Path) -> list[str]:
    """The sipp command placing the benchmark's calls, bounded by `timeout`."""
    bound = int(args.calls / args.cps + args.hold + 60)
    return [
        "timeout", str(bound + 10), "sipp", "-sf", str(SCENARIOS / scenario),
        "-i", "127.0.0.1", "-p", str(free_udp_port()),
        "-mi", "127.0.0.1", "-mp", str(free_udp_port()),
        "-s", "ivr", "-r", str(args.cps), "-m", str(args.calls), "-l", str(args.limit),
        "-d", str(int(args.hold * 1000)), "-nostdin", "-timeout", str(bound), "-trace_err",
        target,
    ]  # fmt: skip


def sipp_errors(workdir: Path, scenario: str) -> dict[str, int]:
    """Why sipp's failed calls failed: unexpected messages by first line, from its error log."""
    reasons: collections.Counter[str] = collections.Counter()
    for log in workdir.glob(f"{Path(scenario).stem}_*_errors.log"):
        text = log.read_text(errors="replace")
        reasons.update(re.findall(r"received '([^\r\n]*)", text))
    return dict(reasons.most_common(5))


def sipp_counts(output: bytes) -> tuple[int, int]:
    """(successful, failed) calls from sipp's last statistics screen."""
    text = output.decode(errors="replace")
    ok = re.findall(r"Successful call\s+\|\s+\d+\s+\|\s+(\d+)", text)
    failed = re.findall(r"Failed call\s+\|\s+\d+\s+\|\s+(\d+)", text)
    return (int(ok[-1]) if ok else 0, int(failed[-1]) if failed else -1)


class Center:
    """The call center's logic for the benchmark: answer, call an agent, bridge."""

    def __init__(self, pool: MediaPool, agent_uri: str) -> None:
        self.pool = pool
        self.agent_uri = agent_uri
        self.partner: dict[str, str] = {}
        self.answered_at: dict[str, float] = {}
        self.leg_seconds = 0.0
        self.bridged = 0
        self.max_bridged = 0
        self.failed = 0
        self.callers_done = 0
        self.lost_workers = 0

    async def run(self) -> None:
        """React to every media event until cancelled."""
        async for event in self.pool.events():
            if isinstance(event, CallIncoming):
                await self.incoming(event.call_id)
            elif isinstance(event, CallAnswered):
                self.answered_at[event.call_id] = event.at
                caller = self.partner.get(event.call_id)
                if caller is not None and caller in self.answered_at:
                    await self.join(caller, event.call_id)
            elif isinstance(event, CallEnded):
                await self.ended(event)
            elif isinstance(event, WorkerLost):
                self.lost_workers += 1

    async def incoming(self, caller: str) -> None:
        """Answer a caller and call an agent from the caller's worker."""
        try:
            await self.pool.answer(caller)
            agent = await self.pool.originate(self.agent_uri, near=caller)
        except MediaError:
            self.failed += 1
            return
        self.partner[caller], self.partner[agent] = agent, caller

    async def join(self, caller: str, agent: str) -> None:
        """Bridge a caller and the agent who answered."""
        try:
            await self.pool.bridge(caller, agent)
        except MediaError:
            self.failed += 1
            return
        self.bridged += 1
        self.max_bridged = max(self.max_bridged, self.bridged)

    async def ended(self, event: CallEnded) -> None:
        """Count the leg's time and hang up its partner."""
        started = self.answered_at.pop(event.call_id, None)
        if started is not None:
            self.leg_seconds += event.at - started
        other = self.partner.pop(event.call_id, None)
        if other is None:
            return
        self.partner.pop(other, None)
        if other in self.answered_at and event.call_id not in self.answered_at:
            self.bridged -= 1
        if event.cause.value not in ("remote_hangup", "local_hangup"):
            self.failed += 1
        if event.cause.value == "remote_hangup" and other.startswith("w"):
            self.callers_done += 1
        with contextlib.suppress(MediaError, LookupError):
            await self.pool.hangup(other)


async def run_center(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Run the load through the front door and the pool; return the figures."""
    agent_port = free_udp_port()
    agents = await anyio.open_process(
        ["timeout", "300", "sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", str(agent_port),
         "-mi", "127.0.0.1", "-mp", str(free_udp_port()), "-rtp_echo", "-nostdin"],
        cwd=workdir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        async with (
            create_media_pool(
                args.workers, poll_ms=args.poll_ms, media_thread=args.media_thread
            ) as pool,
            create_redirect_front(pool) as front,
            anyio.create_task_group() as tg,
        ):
            center = Center(pool, f"sip:agent@127.0.0.1:{agent_port}")
            tg.start_soon(center.run)
            baseline_ports = {n: s.active_ports for n, s in (await pool.stats()).items()}
            pids = [w.pid for w in pool.workers]
            # the fork server the workers come from is one of the center's processes
            server = pool.fork_server_pid
            others = [server] if server is not None else []
            everyone = pids + others
            bare = await anyio.to_thread.run_sync(start_bare_pjsua2)
            idle_start = sum(map(cpu_seconds, everyone)) + sum(os.times()[:2])
            await anyio.sleep(3)
            bare_pss = pss_mib(bare.pid)
            await anyio.to_thread.run_sync(stop_bare_pjsua2, bare)
            idle_rate = (sum(map(cpu_seconds, everyone)) + sum(os.times()[:2]) - idle_start) / 3
            start_cpu = sum(map(cpu_seconds, everyone)) + sum(os.times()[:2])
            start = anyio.current_time()
            idle_workers_pss = [pss_mib(pid) for pid in pids]
            sampler = MemorySampler(center, pids, others)
            tg.start_soon(sampler.run)
            result = await anyio.run_process(
                sipp_caller("caller_follows_302.xml", front.address, args, workdir),
                cwd=workdir, check=False,
            )  # fmt: skip
            with anyio.move_on_after(30):
                while center.partner:  # noqa: ASYNC110 - polling a plain dict
                    await anyio.sleep(0.1)
            elapsed = anyio.current_time() - start
            cpu = sum(map(cpu_seconds, everyone)) + sum(os.times()[:2]) - start_cpu
            with anyio.move_on_after(10):
                while True:
                    stats = await pool.stats()
                    ports = {n: s.active_ports for n, s in stats.items()}
                    if ports == baseline_ports and all(s.calls == 0 for s in stats.values()):
                        break
                    await anyio.sleep(0.2)
            leaked_calls = sum(s.calls for s in stats.values())
            leaked_ports = sum(ports.values()) - sum(baseline_ports.values())
            workers_alive = len(pool.workers)
            tg.cancel_scope.cancel()
    finally:
        agents.send_signal(signal.SIGTERM)
        with anyio.move_on_after(5):
            await agents.wait()
        if agents.returncode is None:
            agents.kill()
        await agents.aclose()
    ok, failed = sipp_counts(result.stdout)
    return {
        "why_failed": sipp_errors(workdir, "caller_follows_302.xml"),
        "calls": args.calls,
        "sipp_successful": ok,
        "sipp_failed": failed,
        "center_failed": center.failed,
        "max_bridged": center.max_bridged,
        "elapsed_s": elapsed,
        "leg_seconds": center.leg_seconds,
        "cpu_s": cpu,
        "idle_cpu_per_s": idle_rate,
        "leaked_calls": leaked_calls,
        "leaked_ports": leaked_ports,
        "workers_alive": workers_alive,
        "lost_workers": center.lost_workers,
        "idle_worker_pss_mib": statistics.median(idle_workers_pss),
        "bare_pjsua2_pss_mib": bare_pss,
        "worker_pss_mib": statistics.median(sampler.workers or [0.0]),
        "center_pss_mib": sampler.total,
        "fork_server_pss_mib": sampler.others_pss,
        "pss_bridged": sampler.bridged,
    }


BARESIP_CONFIG = """\
poll_method epoll
sip_listen 127.0.0.1:{port}
call_max_calls 256
audio_player aubridge,nil
audio_source aufile,{voice}
audio_alert aubridge,nil
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module aubridge.so
module_app account.so
module_app menu.so
"""


async def run_baresip(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Run the same sipp load straight into baresip; return the figures."""
    home = workdir / "baresip"
    home.mkdir()
    port = free_udp_port()
    voice = home / "voice.wav"
    write_tone_wav(voice, 1600, args.hold + 30)
    (home / "config").write_text(BARESIP_CONFIG.format(port=port, voice=voice))
    (home / "accounts").write_text(
        f"<sip:ivr@127.0.0.1:{port};transport=udp>;regint=0;answermode=auto;"
        "audio_codecs=PCMU,PCMA\n"
    )
    process = await anyio.open_process(
        ["baresip", "-f", str(home), "-n", "127.0.0.1"],  # its own pid: we read its CPU
        stdin=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        seen = b""
        with anyio.fail_after(30):
            while b"baresip is ready" not in seen:
                seen += await process.stdout.receive()

        async def drain() -> None:
            assert process.stdout is not None
            async for _ in process.stdout:
                pass

        async with anyio.create_task_group() as tg:
            tg.start_soon(drain)
            start_cpu = cpu_seconds(process.pid)
            result = await anyio.run_process(
                sipp_caller("caller_talks.xml", f"127.0.0.1:{port}", args, workdir),
                cwd=workdir, check=False,
            )  # fmt: skip
            cpu = cpu_seconds(process.pid) - start_cpu
            tg.cancel_scope.cancel()
    finally:
        process.send_signal(signal.SIGTERM)
        with anyio.move_on_after(5):
            await process.wait()
        if process.returncode is None:
            process.kill()
        await process.aclose()
    ok, failed = sipp_counts(result.stdout)
    return {"sipp_successful": ok, "sipp_failed": failed, "cpu_s": cpu,
            "leg_seconds": ok * args.hold}  # fmt: skip


async def main() -> None:
    """Run both, print the figures and, last, one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=20)
    parser.add_argument("--cps", type=float, default=4.0)
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--hold", type=float, default=8.0, help="seconds each caller talks")
    parser.add_argument("--poll-ms", type=int, default=500)
    parser.add_argument(
        "--no-media-thread",
        dest="media_thread",
        action="store_false",
        help="read RTP on each worker's polling thread instead of a pjmedia thread",
    )
    parser.add_argument(
        "--limit", type=int, default=0, help="most calls at once (default: 2 per worker)"
    )
    args = parser.parse_args()
    args.limit = args.limit or args.workers * 2  # two bridged calls per stock worker (4 legs)
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="bench_sip_") as tmp:
        workdir = Path(tmp)
        center = await run_center(args, workdir)
        baresip = await run_baresip(args, workdir)
    ours = 1000 * center["cpu_s"] / max(center["leg_seconds"], 1e-9)
    above_idle = 1000 * (center["cpu_s"] - center["idle_cpu_per_s"] * center["elapsed_s"])
    ours_above_idle = above_idle / max(center["leg_seconds"], 1e-9)
    theirs = 1000 * baresip["cpu_s"] / max(baresip["leg_seconds"], 1e-9)
    failed = int(center["sipp_failed"]) + int(center["center_failed"])
    print(f"workers: {args.workers} x 4 legs; load: {args.calls} calls at {args.cps}/s, "
          f"{args.hold} s each, at most {args.limit} at once")  # fmt: skip
    print(f"center : {center['sipp_successful']} ok, {failed} failed, "
          f"max {center['max_bridged']} bridged at once, {center['leg_seconds']:.0f} leg-s, "
          f"{center['cpu_s']:.2f} s CPU")  # fmt: skip
    print(f"         idle polling of the pool: {center['idle_cpu_per_s'] * 1000:.0f} ms CPU per s")
    print(f"         {ours:.2f} ms CPU per leg-second ({ours_above_idle:.2f} above idle); "
          f"leaked calls {center['leaked_calls']}, bridge ports {center['leaked_ports']}, "
          f"workers alive {center['workers_alive']}/{args.workers}")  # fmt: skip
    if center["why_failed"]:
        print(f"         sipp's unexpected messages: {center['why_failed']}")
    print(f"baresip: {baresip['sipp_successful']} ok, {baresip['sipp_failed']} failed, "
          f"{theirs:.2f} ms CPU per leg-second")  # fmt: skip
    print(f"ratio  : ours / baresip = {ours / max(theirs, 1e-9):.2f}")
    per_call = center["center_pss_mib"] / max(center["pss_bridged"], 1)
    print(f"memory : worker PSS median {center['worker_pss_mib']:.1f} MiB under load "
          f"({center['idle_worker_pss_mib']:.1f} idle); all the center's processes "
          f"{center['center_pss_mib']:.0f} MiB (the fork server "
          f"{center['fork_server_pss_mib']:.1f}) with {center['pss_bridged']} calls bridged "
          f"= {per_call:.1f} MiB per bridged call")  # fmt: skip
    bare_pss = center["bare_pjsua2_pss_mib"]
    idle_ratio = center["idle_worker_pss_mib"] / bare_pss
    print(f"         a bare pjsua2 process beside them (endpoint, UDP transport, polling): "
          f"{bare_pss:.1f} MiB; an idle worker holds {idle_ratio:.2f}x that")  # fmt: skip
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        json.dumps(
            {
                "concurrent_bridged": center["max_bridged"],
                "cps": args.cps,
                "calls": args.calls,
                "failed_calls": failed,
                "leaked_calls": center["leaked_calls"],
                "leaked_bridge_ports": center["leaked_ports"],
                "lost_workers": center["lost_workers"],
                "cpu_ms_per_call_s": round(ours, 3),
                "worker_pss_mib": round(center["worker_pss_mib"], 1),
                "idle_worker_pss_mib": round(center["idle_worker_pss_mib"], 1),
                "bare_pjsua2_pss_mib": round(bare_pss, 1),
                "pss_mib_per_bridged_call": round(per_call, 2),
                "center_pss_mib": round(center["center_pss_mib"], 1),
                "fork_server_pss_mib": round(center["fork_server_pss_mib"], 1),
                "pss_bridged_calls": center["pss_bridged"],
                "cpu_ms_per_call_s_above_idle": round(ours_above_idle, 3),
                "baresip_cpu_ms_per_call_s": round(theirs, 3),
                "sipp_failed_calls": center["sipp_failed"],
                "center_failed_calls": center["center_failed"],
                "baresip_failed_calls": baresip["sipp_failed"],
            }
        )
    )


if __name__ == "__main__":
    anyio.run(main)
