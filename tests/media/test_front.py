"""The embedded front door: one public address, calls spread over the workers by 302."""

from __future__ import annotations

from collections import Counter

import anyio
import pytest

from callcenter_sdk.media import (
    CallAnswered,
    CallEnded,
    CallIncoming,
    MediaEventLog,
    WorkerLost,
    call_is,
    create_media_pool,
    create_redirect_front,
)
from callcenter_sdk.media._front import _parse


def _invite(call_id: str, *, branch: str = "z9hG4bK-1") -> bytes:
    return (
        f"INVITE sip:ivr@127.0.0.1 SIP/2.0\r\n"
        f"v: SIP/2.0/UDP 127.0.0.1:9;branch={branch}\r\n"
        f"f: <sip:caller@127.0.0.1>;tag=abc\r\nt: <sip:ivr@127.0.0.1>\r\n"
        f"i: {call_id}\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
    ).encode()


def test_requests_are_parsed_with_compact_headers_and_garbage_is_refused() -> None:
    """Compact header names map to their full names; non-SIP datagrams parse to None."""
    request = _parse(_invite("x1"))
    assert request is not None
    assert request.method == "INVITE"
    assert request.one("Call-ID") == "x1"
    assert request.all("Via") == ["SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-1"]
    assert _parse(b"\x00\xffnot sip") is None
    assert _parse(b"SIP/2.0 200 OK\r\n\r\n") is None


@pytest.mark.sip
async def test_callers_are_redirected_and_spread_over_workers() -> None:
    """Four pjsua2 callers dial the one public address; the front redirects them
    two and two to the center's workers, the callers follow, and every call connects."""
    async with (
        create_media_pool(2) as center,
        create_redirect_front(center) as front,
        create_media_pool(1) as callers,
    ):
        center_log, caller_log = MediaEventLog(center.events()), MediaEventLog(callers.events())
        legs = [await callers.originate(f"sip:ivr@{front.address}") for _ in range(4)]
        arrived = [await center_log.wait(CallIncoming) for _ in legs]
        assert Counter(e.worker for e in arrived) == {w.name: 2 for w in center.workers}
        assert all("ivr@" in e.to_uri for e in arrived)
        for event in arrived:
            await center.answer(event.call_id)
        for leg in legs:  # the caller's leg kept its id across the redirect
            await caller_log.wait(CallAnswered, call_is(leg))
        assert front.stats.redirected == 4
        assert front.stats.refused == 0
        for leg in legs:
            await callers.hangup(leg)
        for event in arrived:
            await center_log.wait(CallEnded, call_is(event.call_id))


@pytest.mark.sip
async def test_a_burst_is_refused_cleanly_and_no_worker_dies() -> None:
    """100 INVITEs at once: the front promises exactly the free legs (8 on two
    stock workers, IVR-only calls needing one leg each), answers 503 to the rest,
    repeats itself for a retransmission, and the workers never see the burst."""
    async with (
        create_media_pool(2, max_new_calls_per_second=50) as center,
        create_redirect_front(center, legs_per_call=1) as front,
        await anyio.create_udp_socket(local_host="127.0.0.1") as sock,
    ):
        log = MediaEventLog(center.events())
        host, port = front.address.rsplit(":", 1)
        capacity = sum(w.capacity for w in center.workers)
        for n in range(100):
            await sock.sendto(_invite(f"burst-{n}"), host, int(port))
        answers: list[bytes] = []
        with anyio.fail_after(30):
            while len(answers) < 100:
                answers.append((await sock.receive())[0])
        status = Counter(a.split(b"\r\n", 1)[0] for a in answers)
        assert status == {
            b"SIP/2.0 302 Moved Temporarily": capacity,
            b"SIP/2.0 503 Service Unavailable": 100 - capacity,
        }
        await sock.sendto(_invite("burst-0"), host, int(port))  # a retransmission
        with anyio.fail_after(30):
            again = (await sock.receive())[0]
        assert again == next(a for a in answers if b"burst-0" in a)
        assert front.stats.redirected == capacity
        stats = await center.stats()
        assert [s.calls for s in stats.values()] == [0, 0]
        assert not log.of(WorkerLost)
