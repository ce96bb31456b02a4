"""pjsua2 itself: the guarded import, error translation and the classes we subclass.

Importing this module imports ``pjsua2``; where that fails it raises
:class:`~callcenter_sdk.BackendUnavailableError` saying how to get it. Only
media worker processes import it (through :mod:`._pjsua2`).

Every callback here runs on the worker's main thread (``onEof2`` on the media
clock thread) and only appends plain tuples to the worker's queue: an
exception escaping a callback aborts the process at exit, and a callback
that waits can deadlock on the dialog mutex.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .._errors import BackendUnavailableError, MediaError
from ._protocol import MonitorMode, Prompt

HOW_TO_GET_PJSUA2 = (
    "the pjsua2 media backend needs the `pjsua2` Python module, which cannot be imported here. "
    "Install it with `pip install pjsua2-python` (wheels for CPython 3.8-3.12 on Linux x86_64, "
    "macOS arm64 and Windows; they allow 4 calls per process), or build pjproject's Python "
    "binding (pjsip-apps/src/swig/python) with PJSUA_MAX_CALLS raised in config_site.h and "
    "install it in this environment. The virtual backend (callcenter_sdk.media.VirtualBackend) "
    "needs nothing."
)

try:
    import pjsua2 as pj
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise BackendUnavailableError(f"{HOW_TO_GET_PJSUA2} ({exc})") from exc

if TYPE_CHECKING:
    from ._pjsua2 import Worker
    from ._pjsua2_media import MediaRouting

__all__ = ["HOW_TO_GET_PJSUA2", "Leg", "PromptPlayer", "WorkerAccount", "pj", "pjsua2_errors"]


@contextlib.contextmanager
def pjsua2_errors(what: str) -> Iterator[None]:
    """Translate ``pjsua2.Error`` into MediaError, naming the operation."""
    try:
        yield
    except pj.Error as exc:
        raise MediaError(f"{what}: {exc.title}: {exc.reason} (status {exc.status})") from None


class Leg(pj.Call):  # type: ignore[misc]
    """A leg, with what should be connected to it once its media is up."""

    def __init__(self, worker: Worker, cid: str, pj_id: int, *, outbound: bool) -> None:
        super().__init__(worker.account, pj_id)
        self.worker = worker
        self.cid = cid
        self.outbound = outbound
        self.silent = False
        self.local_hangup = False
        self.confirmed = False
        self.ringing_sent = False
        self.audio: Any = None
        self.player: Any = None
        self.player_deadline: float | None = None
        self.moh: Prompt | None = None
        self.peers: set[str] = set()
        self.recorder: Any = None
        self.record_path = ""
        self.deferred_hold: bool | None = None
        self.monitoring: tuple[str, MonitorMode] | None = None
        self.transferred = False

    # Callbacks run on the worker's main thread: they only enqueue plain values.
    def onCallState(self, prm: Any) -> None:  # noqa: N802 - pjsua2's name
        try:
            info = self.getInfo()
            self.worker.pending.append(
                ("state", self.cid, int(info.state), int(info.lastStatusCode), info.lastReason)
            )
        except Exception as exc:  # noqa: BLE001 - an escaping exception aborts the process
            self.worker.pending.append(("error", self.cid, repr(exc)))

    def onCallMediaState(self, prm: Any) -> None:  # noqa: N802
        self.worker.pending.append(("media", self.cid))

    def onDtmfDigit(self, prm: Any) -> None:  # noqa: N802
        with contextlib.suppress(Exception):
            self.worker.pending.append(("dtmf", self.cid, str(prm.digit), int(prm.method)))

    def onCallTransferRequest(self, prm: Any) -> None:  # noqa: N802
        # A REFER from the far end would make pjsua create a call we hold no
        # reference to; transfers are ours to decide, so decline.
        with contextlib.suppress(Exception):
            prm.statusCode = 603

    def onCallTransferStatus(self, prm: Any) -> None:  # noqa: N802
        # The far end's NOTIFYs about a REFER we sent: its final word decides
        # whether our leg (the transferor's) is done.
        with contextlib.suppress(Exception):
            if prm.finalNotify:
                self.worker.pending.append(("xfer", self.cid, int(prm.statusCode)))

    def onCallRedirected(self, prm: Any) -> int:  # noqa: N802
        # Follow 3xx (a front door spreading calls over workers, a carrier's
        # redirect): the leg keeps its id and its events.
        return int(pj.PJSIP_REDIRECT_ACCEPT_REPLACE)


class PromptPlayer(pj.AudioMediaPlayer):  # type: ignore[misc]
    def __init__(self, worker: MediaRouting, cid: str) -> None:
        super().__init__()
        self.worker = worker
        self.cid = cid

    def onEof2(self) -> None:  # noqa: N802
        # Runs on the media clock thread: a deque append and a datagram to the
        # worker's own port (which ends its poll) are all that is safe here.
        with contextlib.suppress(Exception):
            self.worker.pending.append(("eof", self.cid, id(self)))
            self.worker.nudge()


class WorkerAccount(pj.Account):  # type: ignore[misc]
    def __init__(self, worker: Worker) -> None:
        super().__init__()
        self.worker = worker

    def onIncomingCall(self, prm: Any) -> None:  # noqa: N802
        try:
            rdata = prm.rdata
            self.worker.accept_incoming(prm.callId, str(rdata.wholeMsg), str(rdata.srcAddress))
        except Exception as exc:  # noqa: BLE001 - an escaping exception aborts the process
            self.worker.pending.append(("error", "", repr(exc)))
