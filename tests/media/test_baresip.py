"""baresip (written by others) as the agent's phone, called by a pjsua2 media worker."""

from __future__ import annotations

import shutil
import signal
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest

from callcenter_sdk.media import (
    CallAnswered,
    CallEnded,
    CallEvent,
    CallMediaActive,
    EndCause,
    MediaEventLog,
    RecordingFinished,
    Tone,
    call_is,
    create_media_pool,
    free_udp_port,
    has_tone,
    write_tone_wav,
)

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(
        shutil.which("baresip") is None, reason="baresip is not installed (Debian package baresip)"
    ),
]

CONFIG = """\
poll_method epoll
sip_listen 127.0.0.1:{port}
audio_player aubridge,nil
audio_source aufile,{voice}
audio_alert aubridge,nil
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module aubridge.so
module sndfile.so
module_app account.so
module_app menu.so
snd_path {records}
"""
ACCOUNT = (
    "<sip:agent@127.0.0.1:{port};transport=udp>;regint=0;answermode=auto;audio_codecs=PCMU,PCMA\n"
)


@asynccontextmanager
async def _baresip(home: Path, voice_hz: int) -> AsyncIterator[tuple[str, Path]]:
    """Run a headless auto-answering baresip whose voice is a tone; yield (URI, records dir)."""
    port = free_udp_port()
    records = home / "records"
    records.mkdir()
    voice = home / "voice.wav"
    write_tone_wav(voice, voice_hz, 60)  # longer than the call: at its end baresip hangs up
    (home / "config").write_text(CONFIG.format(port=port, voice=voice, records=records))
    (home / "accounts").write_text(ACCOUNT.format(port=port))
    process = await anyio.open_process(
        ["timeout", "120", "baresip", "-f", str(home), "-n", "127.0.0.1"],
        stdin=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        assert process.stdout is not None
        output = b""
        with anyio.fail_after(30):
            while b"baresip is ready" not in output:
                output += await process.stdout.receive()
        yield f"sip:agent@127.0.0.1:{port}", records
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)  # baresip closes its recordings on SIGTERM
        with anyio.move_on_after(10):
            await process.wait()
        if process.returncode is None:
            process.kill()
        await process.aclose()


async def test_baresip_agent_and_worker_hear_each_other(tmp_path: Path) -> None:
    """A worker calls a baresip agent that auto-answers: the worker's recording holds
    baresip's 1600 Hz voice, baresip's recording holds the worker's 1000 Hz prompt,
    and our hang-up ends the call cleanly on both sides."""
    async with (
        _baresip(tmp_path, voice_hz=1600) as (agent_uri, records),
        create_media_pool(1) as pool,
    ):
        log = MediaEventLog(pool.events())
        leg = await pool.originate(agent_uri)
        outcome = await log.wait(
            CallEvent, lambda e: e.call_id == leg and isinstance(e, CallAnswered | CallEnded)
        )
        assert isinstance(outcome, CallAnswered), outcome
        await log.wait(CallMediaActive, call_is(leg))
        await pool.play(leg, Tone((1000,)))
        heard = tmp_path / "worker_heard.wav"
        await pool.start_recording(leg, str(heard))
        await anyio.sleep(1.5)  # enough audio to analyse, whatever the machine's speed
        await pool.stop_recording(leg)
        await log.wait(RecordingFinished, call_is(leg))
        await pool.hangup(leg)
        ended = await log.wait(CallEnded, call_is(leg))
        assert ended.cause is EndCause.LOCAL_HANGUP
        assert has_tone(heard, 1600)
        assert not has_tone(heard, 1000)
    decoded = sorted(records.glob("*dec*.wav"))
    assert decoded, f"baresip recorded nothing in {sorted(records.iterdir())}"
    assert has_tone(decoded[-1], 1000)
