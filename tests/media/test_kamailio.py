"""Kamailio's dispatcher (written by others) in front of the worker pool."""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from callcenter_sdk import ValidationError
from callcenter_sdk.media import (
    CallAnswered,
    CallEnded,
    CallIncoming,
    EndCause,
    MediaEventLog,
    WorkerInfo,
    call_is,
    create_media_pool,
    free_udp_port,
    free_udp_ports,
    kamailio_config,
)

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(
        shutil.which("kamailio") is None, reason="kamailio is not installed (Debian package)"
    ),
]


SCENARIOS = Path(__file__).parent / "sipp"


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


@contextlib.asynccontextmanager
async def _kamailio(config: Path, port: int) -> AsyncIterator[None]:
    """Run Kamailio on ``config`` until the block ends; enter once it answers OPTIONS."""
    proxy = await anyio.open_process(
        ["timeout", "120", "kamailio", "-DD", "-E", "-m", "64", "-M", "8", "-f", str(config)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await _until_answering(port)
        yield
    finally:
        proxy.send_signal(signal.SIGTERM)
        with anyio.move_on_after(10):
            await proxy.wait()
        if proxy.returncode is None:
            proxy.kill()
        await proxy.aclose()


def test_the_config_strips_identity_headers_except_from_trunks(tmp_path: Path) -> None:
    """The generated route removes P-Asserted-Identity and Remote-Party-ID unless the
    source is a trunk (IPv4 and IPv6 addresses and networks), and from every
    request when no trunk is trusted; a bad trunk address is refused."""
    worker = WorkerInfo("w0.1", 0, "127.0.0.1:5070", capacity=4, calls=0, pid=1)
    text = kamailio_config(
        [worker], tmp_path, trusted=("192.0.2.7", "198.51.100.0/24", "2001:db8::/32", "::1")
    ).read_text()
    tests = (
        "src_ip == 192.0.2.7 || src_ip == 198.51.100.0/24 || src_ip == [2001:db8::]/32"
        " || src_ip == [::1]"
    )
    assert f"if (!({tests})) {{" in text
    assert text.count('remove_hf("P-Asserted-Identity");') == 1
    assert text.count('remove_hf("Remote-Party-ID");') == 1
    untrusting = kamailio_config([worker], tmp_path).read_text()
    assert "src_ip" not in untrusting
    assert '\n    remove_hf("P-Asserted-Identity");\n' in untrusting
    with pytest.raises(ValidationError, match="not an IP address"):
        kamailio_config([worker], tmp_path, trusted=("trunk.example",))


async def test_dispatcher_spreads_calls_by_load_and_routes_bye(tmp_path: Path) -> None:
    """Kamailio configured by kamailio_config spreads four pjsua2 callers two and two
    over two workers (one bridged call's worth of legs each, maxload 2), and a BYE
    from a worker reaches the caller through the proxy's record-route."""
    front_port, *worker_ports = free_udp_ports(3)
    async with create_media_pool(2, sip_ports=worker_ports) as center:
        config = kamailio_config(center.workers, tmp_path, port=front_port)
        async with _kamailio(config, front_port), create_media_pool(1) as callers:
            center_log = MediaEventLog(center.events())
            caller_log = MediaEventLog(callers.events())
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


EVIL = "<sip:+88212345678@evil>"


@pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp is not installed (sip-tester)")
@pytest.mark.parametrize(
    ("bind", "expected"),
    [("127.0.0.2", ("0611", False)), ("127.0.0.3", ("+88212345678", True))],
)
async def test_only_a_trunks_identity_passes_the_proxy(
    tmp_path: Path, bind: str, expected: tuple[str, bool]
) -> None:
    """Kamailio trusts the trunk 127.0.0.3 and the workers trust only Kamailio
    (127.0.0.1): a sipp caller on 127.0.0.2 asserting +88212345678 in
    P-Asserted-Identity and Remote-Party-ID reaches a worker without them (its
    From user, unverified, though the worker trusts the INVITE's sender); the
    same INVITE from the trunk keeps them and the number is verified."""
    front_port, worker_port = free_udp_ports(2)
    async with create_media_pool(1, sip_ports=[worker_port], trusted=("127.0.0.1",)) as center:
        config = kamailio_config(center.workers, tmp_path, port=front_port, trusted=("127.0.0.3",))
        async with _kamailio(config, front_port):
            log = MediaEventLog(center.events())
            command = [
                "timeout", "60", "sipp", "-sf", str(SCENARIOS / "caller_claims_identity.xml"),
                "-i", bind, "-p", str(free_udp_port(bind)),
                "-mi", bind, "-mp", str(free_udp_port(bind)),
                "-s", "hotline", "-key", "caller", "0611",
                "-key", "pai", EVIL, "-key", "rpid", EVIL,
                "-m", "1", "-nostdin", "-timeout", "45", "-timeout_error",
                f"127.0.0.1:{front_port}",
            ]  # fmt: skip
            result: list[subprocess.CompletedProcess[bytes]] = []

            async def run() -> None:
                result.append(await anyio.run_process(command, cwd=tmp_path, check=False))

            async with anyio.create_task_group() as tg:
                tg.start_soon(run)
                incoming = await log.wait(CallIncoming)
                await log.wait(CallEnded, call_is(incoming.call_id))
    assert (incoming.caller_number, incoming.caller_verified) == expected
    assert incoming.source == "127.0.0.1"  # the proxy
    assert "0611@" in incoming.from_uri
    assert result[0].returncode == 0, result[0].stdout.decode(errors="replace")[-3000:]
