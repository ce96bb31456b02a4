"""Media: real calls through pjsua2, and a virtual backend with virtual time.

The ACD decides, the media backend carries out. :class:`MediaBackend` is the
protocol every backend implements; :func:`create_media_pool` starts the
default one, a supervised pool of pjsua2 worker processes (pjsua2 is only
imported inside the workers; where it is missing, starting the pool raises
:class:`~callcenter_sdk.BackendUnavailableError` saying how to get it).
:class:`VirtualBackend` implements the same protocol in-process on virtual
time, with scripted callers and agents, for the simulator and fast tests.
Backends report through :class:`MediaEvent` subclasses. See ``docs/media.md``.

Importing this package loads only what a media worker process needs too
(the events, the protocol's values, the wire format); the pool, the front
door, the virtual backend and the test helpers load on first use. A worker
imports this package on its way to its own modules, and each module it
does not need costs memory in every one of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._caller_id import CallerIdentity as CallerIdentity
from ._caller_id import caller_number as caller_number
from ._caller_id import identify_caller as identify_caller
from ._caller_id import trusted_networks as trusted_networks
from ._events import CallAnswered as CallAnswered
from ._events import CallEnded as CallEnded
from ._events import CallEvent as CallEvent
from ._events import CallIncoming as CallIncoming
from ._events import CallMediaActive as CallMediaActive
from ._events import CallRinging as CallRinging
from ._events import DtmfMethod as DtmfMethod
from ._events import DtmfReceived as DtmfReceived
from ._events import EndCause as EndCause
from ._events import MediaEvent as MediaEvent
from ._events import PromptFinished as PromptFinished
from ._events import RecordingFinished as RecordingFinished
from ._events import WorkerLost as WorkerLost
from ._events import WorkerStarted as WorkerStarted
from ._protocol import AudioFile as AudioFile
from ._protocol import MediaBackend as MediaBackend
from ._protocol import MonitorMode as MonitorMode
from ._protocol import Prompt as Prompt
from ._protocol import Tone as Tone
from ._wire import WorkerStats as WorkerStats

if TYPE_CHECKING:
    from ._amd import AmdConfig as AmdConfig
    from ._amd import AmdDetector as AmdDetector
    from ._amd import AmdResult as AmdResult
    from ._amd import AmdVerdict as AmdVerdict
    from ._amd import detect_machine as detect_machine
    from ._audio import has_tone as has_tone
    from ._audio import read_wav as read_wav
    from ._audio import tone_level as tone_level
    from ._audio import write_tone_wav as write_tone_wav
    from ._consult import Consultation as Consultation
    from ._consult import ConsultationState as ConsultationState
    from ._consult import consult as consult
    from ._front import FrontStats as FrontStats
    from ._front import RedirectFront as RedirectFront
    from ._front import create_redirect_front as create_redirect_front
    from ._kamailio import DispatcherDestination as DispatcherDestination
    from ._kamailio import cluster_destinations as cluster_destinations
    from ._kamailio import kamailio_config as kamailio_config
    from ._pool import MediaPool as MediaPool
    from ._pool import WorkerInfo as WorkerInfo
    from ._pool import create_media_pool as create_media_pool
    from ._testing import MediaEventLog as MediaEventLog
    from ._testing import call_is as call_is
    from ._testing import connect_workers as connect_workers
    from ._testing import free_udp_port as free_udp_port
    from ._testing import free_udp_ports as free_udp_ports
    from ._virtual import PartyScript as PartyScript
    from ._virtual import VirtualBackend as VirtualBackend

# Loaded on first use (see the module documentation): name -> private module.
_LAZY = {
    "AmdConfig": "_amd",
    "AmdDetector": "_amd",
    "AmdResult": "_amd",
    "AmdVerdict": "_amd",
    "detect_machine": "_amd",
    "has_tone": "_audio",
    "read_wav": "_audio",
    "tone_level": "_audio",
    "write_tone_wav": "_audio",
    "Consultation": "_consult",
    "ConsultationState": "_consult",
    "consult": "_consult",
    "FrontStats": "_front",
    "RedirectFront": "_front",
    "create_redirect_front": "_front",
    "DispatcherDestination": "_kamailio",
    "cluster_destinations": "_kamailio",
    "kamailio_config": "_kamailio",
    "MediaPool": "_pool",
    "WorkerInfo": "_pool",
    "create_media_pool": "_pool",
    "MediaEventLog": "_testing",
    "call_is": "_testing",
    "connect_workers": "_testing",
    "free_udp_port": "_testing",
    "free_udp_ports": "_testing",
    "PartyScript": "_virtual",
    "VirtualBackend": "_virtual",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib  # noqa: PLC0415 - only on first use of a lazy name

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "AmdConfig",
    "AmdDetector",
    "AmdResult",
    "AmdVerdict",
    "AudioFile",
    "CallAnswered",
    "CallEnded",
    "CallEvent",
    "CallIncoming",
    "CallMediaActive",
    "CallRinging",
    "CallerIdentity",
    "Consultation",
    "ConsultationState",
    "DispatcherDestination",
    "DtmfMethod",
    "DtmfReceived",
    "EndCause",
    "FrontStats",
    "MediaBackend",
    "MediaEvent",
    "MediaEventLog",
    "MediaPool",
    "MonitorMode",
    "PartyScript",
    "Prompt",
    "PromptFinished",
    "RecordingFinished",
    "RedirectFront",
    "Tone",
    "VirtualBackend",
    "WorkerInfo",
    "WorkerLost",
    "WorkerStarted",
    "WorkerStats",
    "call_is",
    "caller_number",
    "cluster_destinations",
    "connect_workers",
    "consult",
    "create_media_pool",
    "create_redirect_front",
    "detect_machine",
    "free_udp_port",
    "free_udp_ports",
    "has_tone",
    "identify_caller",
    "kamailio_config",
    "read_wav",
    "tone_level",
    "trusted_networks",
    "write_tone_wav",
]
