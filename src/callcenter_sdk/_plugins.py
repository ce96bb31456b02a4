"""Building the plugin manager and the typed facade over its hooks.

.. versionadded:: 0.1
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING

import pluggy

from . import hookspecs
from ._errors import PluginError

if TYPE_CHECKING:
    from .acd import StrategyFactory

__all__ = ["DEFAULT_PLUGINS", "PluginHost", "create_plugin_host"]

_log = logging.getLogger(__name__)

DEFAULT_PLUGINS: tuple[str, ...] = (
    "callcenter_sdk.org._plugin",
    "callcenter_sdk.acd._plugin",
    "callcenter_sdk.cti._plugin",
)
"""Modules holding the built-in hook implementations, registered like any plugin."""

_ACTIVITY = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


class PluginHost:
    """A typed facade over a pluggy ``PluginManager`` for callcenter_sdk hooks.

    Build one with :func:`create_plugin_host`; there is no global instance, so
    two deployments in one process (or two tests) never share plugins.
    """

    def __init__(self, manager: pluggy.PluginManager) -> None:
        self._pm = manager

    @property
    def manager(self) -> pluggy.PluginManager:
        """The underlying pluggy manager, for advanced uses such as tracing."""
        return self._pm

    def register(self, plugin: object, name: str | None = None) -> str:
        """Register ``plugin`` (a module or object with ``callcenter_*`` hooks)."""
        registered = self._pm.register(plugin, name)
        if registered is None:  # pragma: no cover - pluggy returns None when blocked
            raise PluginError(f"plugin {name or plugin!r} is blocked")
        return registered

    def unregister(self, name: str) -> None:
        """Remove the plugin registered under ``name``."""
        self._pm.unregister(name=name)

    def plugin_names(self) -> list[str]:
        """Return the names of every registered plugin, sorted."""
        return sorted(name for name, _ in self._pm.list_name_plugin())

    def campaign_activities(self) -> frozenset[str]:
        """Return every campaign activity known to the registered plugins.

        Raises:
            PluginError: A plugin returned a name that is not lower-case words
                joined by hyphens.
        """
        names: set[str] = set()
        for answer in self._pm.hook.callcenter_campaign_activities():
            for name in answer:
                if not isinstance(name, str) or not _ACTIVITY.match(name):
                    raise PluginError(f"a plugin returned an invalid activity name {name!r}")
                names.add(name)
        return frozenset(names)

    def routing_strategies(self) -> Mapping[str, StrategyFactory]:
        """Return every routing strategy factory by name, built-ins included.

        Raises:
            PluginError: A plugin answered something that is not a mapping of
                hyphenated lower-case names to callables, or two plugins
                claim the same name.
        """
        found: dict[str, Callable[..., object]] = {}
        for answer in self._pm.hook.callcenter_routing_strategies():
            if not isinstance(answer, Mapping):
                raise PluginError(f"a plugin returned {answer!r} instead of a mapping")
            for name, factory in answer.items():
                if not isinstance(name, str) or not _ACTIVITY.match(name):
                    raise PluginError(f"a plugin returned an invalid strategy name {name!r}")
                if not callable(factory):
                    raise PluginError(f"strategy {name!r}: factory {factory!r} is not callable")
                if name in found and found[name] is not factory:
                    raise PluginError(f"two plugins provide the routing strategy {name!r}")
                found[name] = factory
        return found  # type: ignore[return-value]


def create_plugin_host(
    *,
    builtins: bool = True,
    entry_points: bool = True,
    plugins: Iterable[object] = (),
) -> PluginHost:
    """Build a fresh plugin host.

    Args:
        builtins: Register the built-in plugins listed in :data:`DEFAULT_PLUGINS`.
        entry_points: Discover installed plugins in the ``callcenter_sdk``
            entry-point group.
        plugins: Further plugin objects or modules to register, in order.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    if builtins:
        for dotted in DEFAULT_PLUGINS:
            module: ModuleType = importlib.import_module(dotted)
            pm.register(module, dotted)
    if entry_points:
        pm.load_setuptools_entrypoints(hookspecs.PROJECT_NAME)
    for plugin in plugins:
        pm.register(plugin)
    return PluginHost(pm)
