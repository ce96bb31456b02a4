"""The commands a media worker process obeys, and what it sends back.

Commands go in and replies and events come out as plain frozen values over a
``multiprocessing`` pipe; nothing pjsua2 ever crosses it. Each command carries
a sequence number so the supervisor can match the :class:`Reply`.
"""

from __future__ import annotations

import attrs

from .._errors import CallCenterError
from ._caller_id import Network, trusted_networks
from ._events import DtmfMethod
from ._protocol import MonitorMode, Prompt

__all__ = [
    "Answer",
    "Bridge",
    "Command",
    "Hangup",
    "Hello",
    "Hold",
    "Monitor",
    "MusicOnHold",
    "Originate",
    "Play",
    "Reply",
    "Resume",
    "SendDtmf",
    "Shutdown",
    "StartRecording",
    "Stats",
    "StopPlaying",
    "StopRecording",
    "Transfer",
    "Unbridge",
    "WorkerConfig",
    "WorkerStats",
]


@attrs.frozen(kw_only=True)
class WorkerConfig:
    """How one pjsua2 media worker process is set up.

    Attributes:
        name: The worker's name; it prefixes every call id it hands out.
        host: The address to bind SIP and RTP to (loopback in tests).
        sip_port: The SIP UDP port; 0 lets the system pick one.
        rtp_port: First RTP port of the worker's own range; 0 keeps pjsua's default
            (4000 upwards, shared with every other worker: a crowded pool then fails
            calls with 500 when no port is found within pjsua's retries).
        rtp_port_range: How many ports from ``rtp_port`` the worker may use.
        max_calls: Legs to allow; ``None`` detects the build's limit with a probe.
        probe_limit: The most legs the probe tries (a custom build may allow hundreds).
        clock_rate: The conference bridge rate; 8 kHz suits G.711.
        codecs: Codec names to enable (in order of preference); the rest are disabled.
        poll_ms: The longest one ``libHandleEvents`` call may wait. Commands,
            prompt ends and SIP or RTP traffic end a poll at once and tone ends
            are timed, so a long poll delays nothing; a short one costs an
            idle worker CPU (about 0.14 ms per poll on this kind of machine).
        media_thread: Give RTP its own pjmedia ioqueue and thread (pjsua's default).
            Off, RTP shares the SIP ioqueue and the polling thread reads it: an
            idle worker then wakes 50 times a second instead of 150, but a busy
            one returns to Python for every packet, which measured 1.5-2x the
            CPU per leg-second under load (``benchmarks/bench_sip.py``).
        max_new_calls_per_second: Inbound calls beyond this rate are refused with 503.
        log_level: pjsua's own log level (0 is silent).
        user: The user part of the worker's SIP address.
        trusted: Source networks whose P-Asserted-Identity and Remote-Party-ID
            are believed (see :func:`identify_caller`); empty trusts nobody.
    """

    name: str
    host: str = "127.0.0.1"
    sip_port: int = 0
    rtp_port: int = 0
    rtp_port_range: int = 0
    max_calls: int | None = None
    probe_limit: int = 16
    clock_rate: int = 8000
    codecs: tuple[str, ...] = ("PCMU", "PCMA")
    poll_ms: int = 500
    media_thread: bool = True
    max_new_calls_per_second: float = 20.0
    log_level: int = 0
    user: str = "callcenter"
    trusted: tuple[Network, ...] = attrs.field(default=(), converter=trusted_networks)


@attrs.frozen
class Hello:
    """The first message a worker sends once it can take calls.

    Attributes:
        name: The worker's name.
        address: Its SIP address as ``host:port``.
        capacity: Legs it can hold (detected).
        pid: Its process id.
    """

    name: str
    address: str
    capacity: int
    pid: int


@attrs.frozen
class Reply:
    """The worker's answer to command number ``seq``.

    Attributes:
        seq: The command's sequence number.
        result: The command's result (a call id, stats...), if any.
        error: The library exception to raise in the caller, if the command failed.
    """

    seq: int
    result: object = None
    error: CallCenterError | None = None


@attrs.frozen
class WorkerStats:
    """A worker's load, for health checks and placement.

    Attributes:
        calls: Legs it holds now.
        capacity: Legs it can hold.
        active_ports: Conference bridge ports in use (leak detector).
        players: File players and tone generators alive.
        recorders: Recorders alive.
    """

    calls: int
    capacity: int
    active_ports: int
    players: int
    recorders: int


@attrs.frozen
class Originate:
    """Make a call (see :meth:`MediaBackend.originate`)."""

    uri: str
    caller_id: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


@attrs.frozen
class Answer:
    """Answer an inbound leg with ``status_code`` (200, or 180/183 to ring)."""

    call_id: str
    status_code: int = 200


@attrs.frozen
class Hangup:
    """End a leg."""

    call_id: str
    status_code: int | None = None


@attrs.frozen
class Play:
    """Play a prompt to a leg."""

    call_id: str
    prompt: Prompt
    loop: bool = False


@attrs.frozen
class StopPlaying:
    """Stop a leg's prompt."""

    call_id: str


@attrs.frozen
class SendDtmf:
    """Send DTMF digits."""

    call_id: str
    digits: str
    method: DtmfMethod = DtmfMethod.RFC2833


@attrs.frozen
class MusicOnHold:
    """Connect (``on``) or disconnect a leg from shared hold music."""

    call_id: str
    on: bool
    prompt: Prompt | None = None


@attrs.frozen
class Bridge:
    """Join two legs' audio."""

    call_a: str
    call_b: str


@attrs.frozen
class Unbridge:
    """Split two legs."""

    call_a: str
    call_b: str


@attrs.frozen
class Monitor:
    """Join (``mode``) or leave (``None``) an agent's conversation as a supervisor."""

    supervisor_call: str
    agent_call: str = ""
    mode: MonitorMode | None = None


@attrs.frozen
class StartRecording:
    """Record a leg and what is bridged to it."""

    call_id: str
    path: str


@attrs.frozen
class StopRecording:
    """Close a leg's recording."""

    call_id: str


@attrs.frozen
class Hold:
    """Put the far end on hold."""

    call_id: str


@attrs.frozen
class Resume:
    """Take the far end off hold."""

    call_id: str


@attrs.frozen
class Transfer:
    """Blind transfer (REFER)."""

    call_id: str
    uri: str


@attrs.frozen
class Stats:
    """Ask for :class:`WorkerStats` (also the health check)."""


@attrs.frozen
class Shutdown:
    """Hang up everything and exit cleanly."""


Command = (
    Originate
    | Answer
    | Hangup
    | Play
    | StopPlaying
    | SendDtmf
    | MusicOnHold
    | Bridge
    | Unbridge
    | Monitor
    | StartRecording
    | StopRecording
    | Hold
    | Resume
    | Transfer
    | Stats
    | Shutdown
)
