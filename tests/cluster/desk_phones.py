"""The agents' desk phones for the SIP chaos tests: a pjsua2 pool that answers every call.

``python tests/cluster/desk_phones.py HOST FIRST_SIP_PORT COUNT RTP_BASE``, run
inside the clients' namespace (``chaos_sip.py`` starts it there with ``ip
netns exec``): ``COUNT`` one-worker phones, phone ``n`` (from 1) on
``HOST:FIRST_SIP_PORT + n - 1``, so position ``n``'s device is that address.
Each phone answers whatever rings it. One line per leg event on stdout
(``incoming LEG TO_URI FROM_URI``, ``answered LEG``, ``ended LEG CAUSE``), after
``phones ready``; it runs until killed.
"""

from __future__ import annotations

import sys

import anyio

from callcenter_sdk.media import CallAnswered, CallEnded, CallIncoming, create_media_pool


async def _phones(host: str, first: int, count: int, rtp_base: int) -> None:
    async with create_media_pool(
        count,
        host=host,
        sip_ports=[first + n for n in range(count)],
        rtp_port_base=rtp_base,
        rtp_ports_per_worker=40,
    ) as pool:
        print("phones ready", flush=True)
        async for event in pool.events():
            if isinstance(event, CallIncoming):
                print(f"incoming {event.call_id} {event.to_uri} {event.from_uri}", flush=True)
                await pool.answer(event.call_id)
            elif isinstance(event, CallAnswered):
                print(f"answered {event.call_id}", flush=True)
            elif isinstance(event, CallEnded):
                print(f"ended {event.call_id} {event.cause.value}", flush=True)


if __name__ == "__main__":
    host, first, count, rtp_base = sys.argv[1:5]
    anyio.run(_phones, host, int(first), int(count), int(rtp_base))
