"""Media events: what happened to calls and media workers, as plain frozen values.

Every media backend (the pjsua2 worker pool, the virtual backend) reports
through these classes, so the IVR engine, the ACD adapter and the KPI feed
never depend on which backend carried the call. They cross process
boundaries by pickling, so they hold only strings, numbers and enums.

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import ClassVar

import attrs

from .._events import Event

__all__ = [
    "CallAnswered",
    "CallEnded",
    "CallEvent",
    "CallIncoming",
    "CallMediaActive",
    "CallRinging",
    "DtmfMethod",
    "DtmfReceived",
    "EndCause",
    "MediaEvent",
    "PromptFinished",
    "RecordingFinished",
    "WorkerLost",
    "WorkerStarted",
]


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


class EndCause(enum.Enum):
    """Why a call leg ended, in the words the ACD and the KPIs need.

    ``CANCELLED`` is a caller who gave up before the call was answered (an
    abandon while ringing); ``WORKER_LOST`` is a leg whose media worker died.
    """

    LOCAL_HANGUP = "local_hangup"
    REMOTE_HANGUP = "remote_hangup"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    FAILED = "failed"
    WORKER_LOST = "worker_lost"


class DtmfMethod(enum.Enum):
    """How a key press travels: RFC 2833 events in the RTP stream, or SIP INFO requests.

    pjsua2 sends and receives both; it does not detect in-band tones.
    """

    RFC2833 = "rfc2833"
    SIP_INFO = "sip_info"


_OUTBOUND_FAILURES = {486: EndCause.BUSY, 600: EndCause.BUSY, 408: EndCause.NO_ANSWER,
                      480: EndCause.NO_ANSWER, 487: EndCause.CANCELLED}  # fmt: skip


def end_cause(*, local: bool, confirmed: bool, outbound: bool, code: int) -> EndCause:
    """Name why a leg ended from who hung up, whether it was answered and the last status."""
    if local:
        return EndCause.LOCAL_HANGUP
    if confirmed:
        return EndCause.REMOTE_HANGUP
    if not outbound:  # an unanswered inbound leg ended by the far end: the caller gave up
        return EndCause.CANCELLED if code < 300 or code == 487 else EndCause.FAILED
    if code in _OUTBOUND_FAILURES:
        return _OUTBOUND_FAILURES[code]
    return EndCause.FAILED if 500 <= code < 600 else EndCause.REJECTED


@attrs.frozen(kw_only=True)
class MediaEvent(Event):
    """Base of every event a media backend emits (no kind of its own)."""


@attrs.frozen(kw_only=True)
class CallEvent(MediaEvent):
    """Base of the events about one call leg.

    Attributes:
        call_id: The backend's id of the leg, unique for the backend's lifetime.
    """

    call_id: str


@attrs.frozen(kw_only=True)
class CallIncoming(CallEvent):
    """A new inbound call reached the backend; it rings until answered or hung up.

    Attributes:
        from_uri: The caller's SIP From URI (its caller id).
        to_uri: The dialled SIP To URI (the service the caller wants).
        worker: The media worker that holds the leg (``"virtual"`` for the virtual backend).
        caller_number: The caller's number: from P-Asserted-Identity or
            Remote-Party-ID when the call came from a trusted address and
            carried one, else from the From URI's user part; digits with an
            optional ``+`` and no separators, ``""`` when none is a number
            (see :func:`identify_caller`).
        caller_verified: The number came from P-Asserted-Identity or
            Remote-Party-ID of a request whose source address is trusted; a
            From user part is whatever the caller typed, never verified.
        source: The IP address the INVITE came from (``""`` when unknown).
            Behind a proxy such as Kamailio this is the proxy's address.

    .. versionchanged:: 0.1
       ``caller_verified`` and ``source``; identity headers from untrusted
       sources are ignored.
    """

    kind: ClassVar[str] = "media.call_incoming"

    from_uri: str
    to_uri: str
    worker: str
    caller_number: str = ""
    caller_verified: bool = False
    source: str = ""


@attrs.frozen(kw_only=True)
class CallRinging(CallEvent):
    """An outbound leg is ringing at the far end (a 180/183 arrived).

    Attributes:
        status_code: The provisional SIP status received.
    """

    kind: ClassVar[str] = "media.call_ringing"

    status_code: int = 180


@attrs.frozen(kw_only=True)
class CallAnswered(CallEvent):
    """A leg is connected (inbound answered by us, or outbound answered by the far end)."""

    kind: ClassVar[str] = "media.call_answered"


@attrs.frozen(kw_only=True)
class CallMediaActive(CallEvent):
    """The leg's audio is flowing through the bridge (again, after a re-INVITE or resume)."""

    kind: ClassVar[str] = "media.call_media_active"


@attrs.frozen(kw_only=True)
class CallEnded(CallEvent):
    """A leg is gone; its id will never be used again.

    Attributes:
        cause: Why it ended.
        status_code: The last SIP status seen (0 when none, as for a lost worker).
        reason: The SIP reason phrase or a short explanation.
    """

    kind: ClassVar[str] = "media.call_ended"

    cause: EndCause = attrs.field(converter=EndCause)
    status_code: int = 0
    reason: str = ""


@attrs.frozen(kw_only=True)
class DtmfReceived(CallEvent):
    """The far end pressed a key (one event per digit).

    Attributes:
        digit: One of ``0-9``, ``*``, ``#``, ``A-D``.
        method: How it travelled.
    """

    kind: ClassVar[str] = "media.dtmf"

    digit: str
    method: DtmfMethod = attrs.field(default=DtmfMethod.RFC2833, converter=DtmfMethod)


@attrs.frozen(kw_only=True)
class PromptFinished(CallEvent):
    """A prompt played with ``loop=False`` reached its end (not sent when stopped)."""

    kind: ClassVar[str] = "media.prompt_finished"


@attrs.frozen(kw_only=True)
class RecordingFinished(CallEvent):
    """A recording was closed (stopped or its call ended) and its file is complete.

    Attributes:
        path: The WAV file written.
    """

    kind: ClassVar[str] = "media.recording_finished"

    path: str


@attrs.frozen(kw_only=True)
class WorkerStarted(MediaEvent):
    """A media worker is up and accepting calls.

    Attributes:
        worker: The worker's name (it changes when the worker is restarted).
        address: Its SIP address, ``host:port``.
        capacity: How many call legs it can hold, as detected at start-up.
    """

    kind: ClassVar[str] = "media.worker_started"

    worker: str
    address: str
    capacity: int


@attrs.frozen(kw_only=True)
class WorkerLost(MediaEvent):
    """A media worker died; each of its calls got a ``CallEnded(cause=WORKER_LOST)``.

    Attributes:
        worker: The dead worker's name.
        exit_code: Its process exit code (negative: killed by that signal).
        lost_calls: The ids of the legs it held.
    """

    kind: ClassVar[str] = "media.worker_lost"

    worker: str
    exit_code: int | None
    lost_calls: tuple[str, ...] = attrs.field(converter=_strings, default=())
