"""Kamailio's dispatcher (written by others) in front of the worker pool."""

from __future__ import annotations

import shutil
import signal
import subprocess
from collections import Counter
from pathlib import Path

import anyio
import pytest

from callcenter_sdk.media import (
    CallAnswered,
    CallEnded,
    CallIncoming,
    EndCause,
    MediaEventLog,
    call_is,
    create_media_pool,
    free_udp_ports,
    kamailio_config,
)

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(
        shutil.which("kamailio") is None, reason="kamailio is not installed (Debian package)"
    ),
]


async def _until_answering(port: int) -> None:
    """Wait until the proxy answers an OPTIONS (it is listening)."""
    options = (
        f"OPTIONS sip:front@127.0.0.1:{port} SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK-ready\r\nMax-Forwards: 70\r\n"
        "From: <sip:test@127.0.0.1>;tag=1\r\nTo: <sip:front@127.0.0.1>\r\n"
        "Call-ID: ready\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    ).encode()
    async with await anyio.create_udp_socket(local_host="127.0.0.1") as sock:
        with anyio.fail_after(30):
            while True:
                await sock.sendto(options, "127.0.0.1", port)
                with anyio.move_on_after(0.2):
                    if (await sock.receive())[0].startswith(b"SIP/2.0 200"):
                        return


async def test_dispatcher_spreads_calls_by_load_and_routes_bye(tmp_path: Path) -> None:
    """Kamailio configured by kamailio_config spreads four pjsua2 callers two and two
    over two workers (one bridged call's worth of legs each, maxload 2), and a BYE
    from a worker reaches the caller through the proxy's record-route."""
    front_port, *worker_ports = free_udp_ports(3)
    async with create_media_pool(2, sip_ports=worker_ports) as center:
        config = kamailio_config(center.workers, tmp_path, port=front_port)
        proxy = await anyio.open_process(
            ["timeout", "120", "kamailio", "-DD", "-E", "-m", "64", "-M", "8", "-f", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            async with create_media_pool(1) as callers:
                center_log = MediaEventLog(center.events())
                caller_log = MediaEventLog(callers.events())
                await _until_answering(front_port)
                legs = [await callers.originate(f"sip:ivr@127.0.0.1:{front_port}")]
                arrived = [await center_log.wait(CallIncoming)]
                legs += [await callers.originate(f"sip:ivr@127.0.0.1:{front_port}") for _ in "abc"]
                arrived += [await center_log.wait(CallIncoming) for _ in "abc"]
                assert Counter(e.worker for e in arrived) == {w.name: 2 for w in center.workers}
                for event in arrived:
                    await center.answer(event.call_id)
                for leg in legs:
                    await caller_log.wait(CallAnswered, call_is(leg))
                for event in arrived:  # the center hangs up: BYE through the proxy
                    await center.hangup(event.call_id)
                for leg in legs:
                    ended = await caller_log.wait(CallEnded, call_is(leg))
                    assert ended.cause is EndCause.REMOTE_HANGUP
        finally:
            proxy.send_signal(signal.SIGTERM)
            with anyio.move_on_after(10):
                await proxy.wait()
            if proxy.returncode is None:
                proxy.kill()
            await proxy.aclose()
