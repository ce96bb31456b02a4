"""callcenter_sdk: a typed, pluggable library for building call and contact centers.

The top-level package holds what every layer shares: the exceptions, the
clock, events, the plugin host and the data directory (where the database,
recordings and voicemail live, privately). Domain code lives in subpackages:
:mod:`callcenter_sdk.org` (organisation, campaigns, people and roles),
:mod:`callcenter_sdk.acd` (queues, routing, agent states),
:mod:`callcenter_sdk.kpi` (KPIs and workforce math), and the adapters around
them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._clock import Clock as Clock
from ._clock import ManualClock as ManualClock
from ._clock import WallClock as WallClock
from ._datadir import DATA_DIR_ENV as DATA_DIR_ENV
from ._datadir import DataDir as DataDir
from ._datadir import UnsafeDirectoryError as UnsafeDirectoryError
from ._datadir import data_dir as data_dir
from ._errors import BackendUnavailableError as BackendUnavailableError
from ._errors import CallCenterError as CallCenterError
from ._errors import ConfigError as ConfigError
from ._errors import ConflictError as ConflictError
from ._errors import MediaError as MediaError
from ._errors import NotFoundError as NotFoundError
from ._errors import PermissionDenied as PermissionDenied
from ._errors import PluginError as PluginError
from ._errors import RecordError as RecordError
from ._errors import StateError as StateError
from ._errors import StoreError as StoreError
from ._errors import TransitionError as TransitionError
from ._errors import ValidationError as ValidationError
from ._events import Event as Event
from ._events import EventStream as EventStream
from ._events import Subscription as Subscription
from ._events import event_from_dict as event_from_dict
from ._events import event_kinds as event_kinds
from ._events import event_to_dict as event_to_dict

if TYPE_CHECKING:
    from ._plugins import DEFAULT_PLUGINS as DEFAULT_PLUGINS
    from ._plugins import PluginHost as PluginHost
    from ._plugins import create_plugin_host as create_plugin_host
    from ._ticker import Ticker as Ticker
    from ._ticker import Timed as Timed
    from .hookspecs import hookimpl as hookimpl

# Names loaded on first use, and the private module holding each: the pure
# cores import this package but not anyio (the ticker), and a media worker
# process runs no plugins, so it must not pay for pluggy (the plugin host).
_LAZY = {
    "DEFAULT_PLUGINS": "_plugins",
    "PluginHost": "_plugins",
    "Ticker": "_ticker",
    "Timed": "_ticker",
    "create_plugin_host": "_plugins",
    "hookimpl": "hookspecs",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__version__ = "0.1.0"

__all__ = [
    "DATA_DIR_ENV",
    "DEFAULT_PLUGINS",
    "BackendUnavailableError",
    "CallCenterError",
    "Clock",
    "ConfigError",
    "ConflictError",
    "DataDir",
    "Event",
    "EventStream",
    "ManualClock",
    "MediaError",
    "NotFoundError",
    "PermissionDenied",
    "PluginError",
    "PluginHost",
    "RecordError",
    "StateError",
    "StoreError",
    "Subscription",
    "Ticker",
    "Timed",
    "TransitionError",
    "UnsafeDirectoryError",
    "ValidationError",
    "WallClock",
    "create_plugin_host",
    "data_dir",
    "event_from_dict",
    "event_kinds",
    "event_to_dict",
    "hookimpl",
]
