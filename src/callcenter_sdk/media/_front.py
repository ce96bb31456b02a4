"""The embedded front door: one public SIP address, calls spread over the workers by 302.

A pjsua2 process aborts when it sees more than about 60 new calls per second,
redirecting ones included, so the front door is not pjsua2: it is a small
stateless SIP responder in pure Python. For each INVITE it asks the pool
(:meth:`MediaPool.place_inbound`) which worker has a free leg and room under
its new-call rate, and answers ``302 Moved Temporarily`` with that worker's
Contact; when none can take the call now it answers ``503 Service
Unavailable`` with ``Retry-After``, which a burst turns into clean refusals
instead of a dead worker. Retransmitted INVITEs get the same answer again.

Callers must follow 3xx (pjsua2, baresip and sipp scenarios do; many trunks
do not: put Kamailio's dispatcher in front of those, see ``docs/media.md``).

.. versionadded:: 0.1
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import anyio
import attrs

if TYPE_CHECKING:
    from anyio.abc import UDPSocket

    from ._pool import MediaPool

__all__ = ["FrontStats", "RedirectFront", "create_redirect_front"]

_COMPACT = {
    "v": "Via",
    "f": "From",
    "t": "To",
    "i": "Call-ID",
    "m": "Contact",
    "l": "Content-Length",
}
_CANONICAL = {name.lower(): name for name in ("Via", "From", "To", "Call-ID", "CSeq", "Contact")}
_MAX_DATAGRAM = 65535
_REMEMBER = 32.0  # seconds an INVITE transaction may be retransmitted (64 x T1)


@attrs.frozen
class _Request:
    method: str
    uri: str
    headers: tuple[tuple[str, str], ...]

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]

    def one(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None


def _parse(data: bytes) -> _Request | None:
    """Parse a SIP request's start line and headers; ``None`` for anything else."""
    head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    lines = head.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[2] != "SIP/2.0" or not parts[0].isalpha():
        return None
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            continue
        key = name.strip()
        key = _COMPACT.get(key, _CANONICAL.get(key.lower(), key))
        headers.append((key, value.strip()))
    return _Request(parts[0].upper(), parts[1], tuple(headers))


def _user(uri: str) -> str:
    """The user part of a SIP URI (the dialled service), or ``service``."""
    rest = uri.split(":", 1)[-1]
    user = rest.split("@", 1)[0] if "@" in rest else ""
    return user or "service"


@attrs.frozen
class FrontStats:
    """What a front door did since it started.

    Attributes:
        redirected: INVITEs answered 302 towards a worker.
        refused: INVITEs answered 503 (no worker could take them then).
        per_worker: Redirects per worker name.
        ignored: Datagrams that were not SIP requests we answer (garbage, ACKs, responses).
    """

    redirected: int
    refused: int
    per_worker: dict[str, int]
    ignored: int


class RedirectFront:
    """A running front door; see :func:`create_redirect_front`."""

    def __init__(
        self, pool: MediaPool, sock: UDPSocket, *, host: str, retry_after: int, legs: int
    ) -> None:
        self._pool = pool
        self._legs = legs
        self._host = host
        self._sock = sock
        self._retry_after = retry_after
        self._redirected = 0
        self._refused = 0
        self._ignored = 0
        self._per_worker: collections.Counter[str] = collections.Counter()
        self._answers: dict[str, tuple[float, bytes]] = {}

    @property
    def address(self) -> str:
        """The public SIP address, ``host:port``."""
        port = self._sock.extra(anyio.abc.SocketAttribute.local_port)  # noqa: S610 - not Django
        return f"{self._host}:{port}"

    @property
    def stats(self) -> FrontStats:
        """Counters since start."""
        return FrontStats(self._redirected, self._refused, dict(self._per_worker), self._ignored)

    async def serve(self) -> None:
        """Answer requests until cancelled."""
        async for data, (host, port) in self._sock:
            answer = self._answer(data[:_MAX_DATAGRAM])
            if answer is None:
                self._ignored += 1
                continue
            with contextlib.suppress(OSError):
                await self._sock.sendto(answer, host, port)

    def _answer(self, data: bytes) -> bytes | None:
        request = _parse(data)
        if request is None or request.method == "ACK":
            return None
        vias, sender, call_id, cseq = (
            request.all("Via"), request.one("From"), request.one("Call-ID"), request.one("CSeq")
        )  # fmt: skip
        to = request.one("To")
        if not (vias and sender and call_id and cseq and to):
            return None
        if request.method == "INVITE":
            key = f"{call_id}|{cseq}|{vias[0]}"
            now = anyio.current_time()
            self._forget_older_than(now - _REMEMBER)
            if key in self._answers:  # a retransmission: the same answer again
                return self._answers[key][1]
            worker = self._pool.place_inbound(self._legs)
            if worker is None:
                self._refused += 1
                status, extra = "503 Service Unavailable", [f"Retry-After: {self._retry_after}"]
            else:
                self._redirected += 1
                self._per_worker[worker.name] += 1
                contact = f"<sip:{_user(request.uri)}@{worker.address}>"
                status, extra = "302 Moved Temporarily", [f"Contact: {contact}"]
        elif request.method == "OPTIONS":
            key, status, extra = "", "200 OK", ["Allow: INVITE, ACK, OPTIONS"]
        else:
            key, status, extra = "", "405 Method Not Allowed", ["Allow: INVITE, ACK, OPTIONS"]
        if ";tag=" not in to:
            tag = hashlib.sha1(call_id.encode(), usedforsecurity=False).hexdigest()[:10]
            to = f"{to};tag={tag}"
        lines = [f"SIP/2.0 {status}", *(f"Via: {via}" for via in vias), f"From: {sender}",
                 f"To: {to}", f"Call-ID: {call_id}", f"CSeq: {cseq}", *extra,
                 "Content-Length: 0"]  # fmt: skip
        answer = ("\r\n".join(lines) + "\r\n\r\n").encode()
        if key:
            self._answers[key] = (anyio.current_time(), answer)
        return answer

    def _forget_older_than(self, moment: float) -> None:
        while self._answers:
            key, (when, _) = next(iter(self._answers.items()))
            if when >= moment:
                return
            del self._answers[key]


@contextlib.asynccontextmanager
async def create_redirect_front(
    pool: MediaPool,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    retry_after: int = 5,
    legs_per_call: int = 2,
) -> AsyncIterator[RedirectFront]:
    """Serve the call center's public SIP address in front of ``pool``.

    Args:
        pool: The media pool whose workers take the calls.
        host: The address to listen on.
        port: The UDP port (0: the system picks; read it from ``front.address``).
        retry_after: Seconds suggested to refused callers.
        legs_per_call: Free legs a worker needs to take a caller: 2 when every
            caller will be bridged to an agent in the same worker, 1 for IVR-only
            calls.
    """
    async with (
        await anyio.create_udp_socket(local_host=host, local_port=port) as sock,
        anyio.create_task_group() as tg,
    ):
        front = RedirectFront(pool, sock, host=host, retry_after=retry_after, legs=legs_per_call)
        tg.start_soon(front.serve, name="redirect front")
        try:
            yield front
        finally:
            tg.cancel_scope.cancel()
