"""A call center on real SIP killed with SIGKILL: live calls end cleanly, promises survive."""

from __future__ import annotations

import importlib.util
import json
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import pytest

from callcenter_sdk.media import (
    CallAnswered,
    CallEnded,
    CallIncoming,
    EndCause,
    MediaEventLog,
    MediaPool,
    Tone,
    call_is,
    create_media_pool,
    write_tone_wav,
)

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(
        importlib.util.find_spec("pjsua2") is None,
        reason="pjsua2 is not installed (pip install pjsua2-python)",
    ),
]

CENTER = Path(__file__).with_name("sip_center.py")


class _Center:
    """The center's process and the JSON lines it printed."""

    def __init__(self, process: anyio.abc.Process) -> None:
        self.process = process
        self.lines: list[dict[str, Any]] = []
        self._news = anyio.Event()

    async def read(self) -> None:
        assert self.process.stdout is not None
        buffer = b""
        async for chunk in self.process.stdout:
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                self.lines.append(json.loads(line))
                self._news.set()
                self._news = anyio.Event()

    async def said(self, key: str, count: int = 1) -> list[dict[str, Any]]:
        """Wait until the center printed ``count`` lines with ``key``."""
        while len(found := [line for line in self.lines if key in line]) < count:
            await self._news.wait()
        return found


@asynccontextmanager
async def _center(mode: str, db: Path, desk: str, prompts: Path) -> AsyncIterator[_Center]:
    argv = [sys.executable, str(CENTER), mode, f"sqlite:///{db}", desk, str(prompts), "31000"]
    async with await anyio.open_process(argv, stderr=subprocess.DEVNULL) as process:
        center = _Center(process)
        async with anyio.create_task_group() as tg:
            tg.start_soon(center.read)
            try:
                yield center
            finally:
                if process.returncode is None:
                    process.send_signal(signal.SIGKILL)
                await process.wait()
                tg.cancel_scope.cancel()


async def _dial(phones: MediaPool, log: MediaEventLog, front: str, number: str, key: str) -> str:
    """A caller dials the front door, types an account and ``key`` (1 internet, 3 billing)."""
    caller = await phones.originate(f"sip:hotline@{front}", caller_id=number)
    await log.wait(CallAnswered, call_is(caller))
    await anyio.sleep(0.5)  # the IVR's first prompt listens for digits from now on
    await phones.send_dtmf(caller, "4242#")
    await anyio.sleep(1.0)
    await phones.send_dtmf(caller, key)
    await phones.play(caller, Tone((1000,)))
    return caller


async def test_a_killed_sip_center_ends_live_calls_and_calls_back_after_restart(
    tmp_path: Path,
) -> None:
    """Real SIP, the center in its own process. A caller asks to be called back
    (billing, nobody ready); another talks to Bob (internet). The center is killed
    with SIGKILL: the talking caller and Bob's phone both receive a BYE (the media
    worker hangs up every call when its supervisor dies). Restarted on the same
    store with Alice ready, the center rings Alice, then calls the customer back on
    their number, once."""
    db = tmp_path / "center.sqlite3"
    prompts = tmp_path / "prompts"
    (prompts / "en").mkdir(parents=True)
    for name in ("callback_offer", "callback_confirmed"):  # short, to keep the test quick
        write_tone_wav(prompts / "en" / f"{name}.wav", 700, 0.4)
    async with create_media_pool(1) as phones:
        desk = phones.workers[0].address
        log = MediaEventLog(phones.events())
        with anyio.fail_after(90):
            async with _center("take", db, desk, prompts) as center:
                (ready,) = await center.said("front")
                front = ready["front"]
                promised = await _dial(phones, log, front, "+33123456789", "3")
                await center.said("queued")
                await phones.send_dtmf(promised, "1")
                (kept,) = await center.said("promised")
                await log.wait(CallEnded, call_is(promised))
                talking = await _dial(phones, log, front, "+33123456780", "1")
                bob = await log.wait(CallIncoming, lambda e: "bob" in e.to_uri)
                await phones.answer(bob.call_id)
                await center.said("connected")
                center.process.send_signal(signal.SIGKILL)
                caller_end = await log.wait(CallEnded, call_is(talking))
                bob_end = await log.wait(CallEnded, call_is(bob.call_id))
            assert caller_end.cause is EndCause.REMOTE_HANGUP
            assert bob_end.cause is EndCause.REMOTE_HANGUP
            async with _center("serve", db, desk, prompts) as center:
                await center.said("front")
                alice = await log.wait(CallIncoming, lambda e: "alice" in e.to_uri)
                await phones.answer(alice.call_id)
                customer = await log.wait(CallIncoming, lambda e: "+33123456789" in e.to_uri)
                await phones.answer(customer.call_id)
                (connected,) = await center.said("connected")
                assert connected["agent"] == "alice"
                assert connected["connected"].startswith(f"{kept['promised']}@")
                await phones.hangup(customer.call_id)
                await log.wait(CallEnded, call_is(alice.call_id))
    called = [e for e in log.seen if isinstance(e, CallIncoming) and "+33123456789" in e.to_uri]
    assert len(called) == 1
