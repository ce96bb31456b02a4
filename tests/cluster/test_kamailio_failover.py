"""The generated dispatcher fails over to the next worker on a 5xx or on no answer.

Kamailio runs ``kamailio_config`` over two destinations: a pjsua2 media
worker and, on 127.0.0.2, a small UDP responder that answers OPTIONS probes
(so Kamailio holds it active) and either answers every INVITE ``503`` or
never answers it. A first call is held on the worker, so the responder has
the lower call load and is tried first for the second call: that call must
still be answered, by the worker, after the responder has refused it or let
it time out. (Before this test, the failure route unset the call's load
before ``ds_next_dst()``, which then found nothing to move: no failover.)
"""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from callcenter_sdk.media import (
    CallIncoming,
    DispatcherDestination,
    MediaEventLog,
    WorkerInfo,
    create_media_pool,
    free_udp_port,
    free_udp_ports,
    kamailio_config,
)

pytestmark = [
    pytest.mark.sip,
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("pjsua2") is None,
        reason="pjsua2 is not installed (pip install pjsua2-python)",
    ),
    pytest.mark.skipif(
        shutil.which("kamailio") is None, reason="kamailio is not installed (Debian package)"
    ),
    pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp is not installed (sip-tester)"),
]

SCENARIO = Path(__file__).parent / "sipp" / "caller_through_proxy.xml"
RESPONDER = "127.0.0.2"


class Responder:
    """A SIP destination that answers OPTIONS 200 and INVITE ``status`` (``None``: silence)."""

    def __init__(self, status: int | None) -> None:
        self.status = status
        self.invites = 0
        self.probes = 0
        self._waiting: list[tuple[int, anyio.Event]] = []

    async def probed(self, count: int = 2) -> None:
        """Return once ``count`` more probes are answered: Kamailio has read all but the last."""
        done = anyio.Event()
        self._waiting.append((self.probes + count, done))
        await done.wait()

    def reply(self, request: bytes) -> bytes | None:
        head = request.split(b"\r\n\r\n", 1)[0].decode(errors="replace").split("\r\n")
        method = head[0].split(" ", 1)[0]
        if method == "OPTIONS":
            self.probes += 1
            for target, done in self._waiting:
                if self.probes >= target:
                    done.set()
            return self._response(head, 200, "OK")
        if method == "INVITE":
            self.invites += 1
            if self.status is not None:
                return self._response(head, self.status, "Service Unavailable", tag=True)
        return None

    @staticmethod
    def _response(head: list[str], status: int, reason: str, *, tag: bool = False) -> bytes:
        copied = [
            line + (";tag=responder" if tag and line.lower().startswith("to:") else "")
            for line in head[1:]
            if line.split(":", 1)[0].lower() in {"via", "from", "to", "call-id", "cseq"}
        ]
        lines = [f"SIP/2.0 {status} {reason}", *copied, "Content-Length: 0", "", ""]
        return "\r\n".join(lines).encode()

    async def serve(self, port: int, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        async with await anyio.create_udp_socket(local_host=RESPONDER, local_port=port) as sock:
            task_status.started()
            async for data, (host, source) in sock:
                answer = self.reply(data)
                if answer is not None:
                    await sock.sendto(answer, host, source)


@contextlib.asynccontextmanager
async def _kamailio(config: Path) -> AsyncIterator[None]:
    """Kamailio on ``config`` for the block."""
    process = await anyio.open_process(
        ["timeout", "120", "kamailio", "-DD", "-E", "-m", "64", "-M", "8", "-f", str(config)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        with anyio.move_on_after(10):
            await process.wait()
        if process.returncode is None:
            process.kill()
        await process.aclose()


def _sipp(front: int, hold_ms: int, folder: Path, name: str) -> list[str]:
    sip_port, media_port = free_udp_port(), free_udp_ports(1)[0]
    return [
        "timeout", "60", "sipp", "-sf", str(SCENARIO),
        "-i", "127.0.0.1", "-p", str(sip_port), "-mi", "127.0.0.1", "-mp", str(media_port),
        "-s", "hotline", "-m", "1", "-d", str(hold_ms), "-nostdin",
        "-timeout", "45", "-timeout_error",
        "-trace_msg", "-message_file", str(folder / f"{name}.log"),
        f"127.0.0.1:{front}",
    ]  # fmt: skip


@pytest.mark.parametrize("status", [503, None], ids=["503", "no answer"])
async def test_a_call_fails_over_to_the_next_worker(tmp_path: Path, status: int | None) -> None:
    """The responder, less loaded than the worker holding the first call, gets the second
    call's INVITE first; it answers 503 (or nothing, until the 1 s answer timeout); Kamailio
    sends the INVITE on to the worker, which answers; both sipp callers complete."""
    front, worker_port = free_udp_ports(2)
    responder = Responder(status)
    responder_port = free_udp_port(RESPONDER)
    async with (
        create_media_pool(1, sip_ports=[worker_port]) as pool,
        anyio.create_task_group() as tg,
    ):
        await tg.start(responder.serve, responder_port)
        destinations: list[WorkerInfo | DispatcherDestination] = [
            *pool.workers,
            DispatcherDestination("responder", f"{RESPONDER}:{responder_port}", 4),
        ]
        config = kamailio_config(destinations, tmp_path, port=front, answer_timeout=1.0)
        log = MediaEventLog(pool.events())
        results: dict[str, subprocess.CompletedProcess[bytes]] = {}

        async def call(name: str, hold_ms: int) -> None:
            command = _sipp(front, hold_ms, tmp_path, name)
            results[name] = await anyio.run_process(command, cwd=tmp_path, check=False)

        async with _kamailio(config):
            with anyio.fail_after(30):
                await responder.probed()
            async with anyio.create_task_group() as calls:
                calls.start_soon(call, "held", 8000)
                first = await log.wait(CallIncoming)
                await pool.answer(first.call_id)
                with anyio.fail_after(30):  # active again, had the first call timed out there
                    await responder.probed()
                tried = responder.invites
                calls.start_soon(call, "second", 500)
                second = await log.wait(CallIncoming)
                await pool.answer(second.call_id)
                assert responder.invites > tried, "the less loaded responder was tried first"
        tg.cancel_scope.cancel()
    for name, result in results.items():
        assert result.returncode == 0, (name, result.stdout.decode(errors="replace")[-2000:])
