"""Answering-machine detection on live pjsua2 legs over loopback."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from callcenter_sdk.ivr import prompt_path
from callcenter_sdk.media import (
    AmdResult,
    AmdVerdict,
    AudioFile,
    CallEnded,
    MediaEventLog,
    MediaPool,
    Prompt,
    Tone,
    call_is,
    connect_workers,
    create_media_pool,
    detect_machine,
)

pytestmark = pytest.mark.sip


async def _answered_by(
    pool: MediaPool, log: MediaEventLog, greeting: Prompt | None, tmp_path: Path
) -> AmdResult:
    """Call a worker, have the far end play ``greeting`` as it answers, detect on our leg."""
    out, far = await connect_workers(pool, log, pool.workers[1].address)
    results: list[AmdResult] = []

    async def detect() -> None:
        results.append(await detect_machine(pool, out, directory=tmp_path))

    async with anyio.create_task_group() as tg:
        tg.start_soon(detect)
        if greeting is not None:
            await pool.play(far, greeting)
    await pool.hangup(out)
    await log.wait(CallEnded, call_is(out))  # both workers are empty again: the next call
    await log.wait(CallEnded, call_is(far))  # starts on worker 0 and rings worker 1
    assert not [p async for p in anyio.Path(tmp_path).iterdir()]  # the recording is gone
    return results[0]


async def test_people_machines_and_silence_are_told_apart(tmp_path: Path) -> None:
    """Over real SIP: a far end that says a half-second "hello" and waits is a
    HUMAN; one that plays a 5-second spoken announcement (a shipped prompt)
    is a MACHINE; one that stays silent is a MACHINE by initial silence. Each
    decision comes within the 5 s analysis window plus the recorder's delay."""
    async with create_media_pool(2) as pool:
        log = MediaEventLog(pool.events())
        hello = await _answered_by(pool, log, Tone((440,), duration=0.5), tmp_path)
        assert (hello.verdict, hello.cause, hello.words) == (AmdVerdict.HUMAN, "human", 1)
        assert 1.0 <= hello.after <= 2.5

        greeting = AudioFile(str(prompt_path("en", "callback_offer")))
        machine = await _answered_by(pool, log, greeting, tmp_path)
        assert machine.verdict is AmdVerdict.MACHINE
        assert machine.cause in {"long-greeting", "max-words"}

        silent = await _answered_by(pool, log, None, tmp_path)
        assert (silent.verdict, silent.cause) == (AmdVerdict.MACHINE, "initial-silence")
        assert silent.after == pytest.approx(2.5)
