"""The built-in ACD plugin: the standard routing strategies.

Registered through :data:`callcenter_sdk.DEFAULT_PLUGINS`, exactly like a
third-party strategy package would be through its entry point.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..hookspecs import hookimpl
from ._strategy import BUILTIN_STRATEGIES, StrategyFactory


@hookimpl
def callcenter_routing_strategies() -> Mapping[str, StrategyFactory]:
    """Provide the built-in routing strategies."""
    return BUILTIN_STRATEGIES
