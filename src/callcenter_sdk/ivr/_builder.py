"""Writing a flow in Python: a small builder producing the same :class:`Flow` as TOML.

The node classes are the vocabulary; the builder only collects them by name
and checks the result like a TOML file, so a flow written in code gets the
same errors (with ``"<python>"`` as the file) and can be compared with, or
saved next to, a TOML one::

    flow = (
        FlowBuilder("support", start="menu")
        .node("menu", Menu(prompts=["welcome"], options={"1": "queue"}, on_failure="queue"))
        .node("queue", ToQueue(queue="support"))
        .build()
    )

.. versionadded:: 0.1
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from .._errors import ConfigError
from ._flow import Flow, check_flow
from ._nodes import Node
from ._schedule import Schedule

__all__ = ["FlowBuilder"]


class FlowBuilder:
    """Collects nodes and schedules, then builds and checks a :class:`Flow`.

    Args:
        name: The flow's name.
        start: The first node.
        languages: The languages the flow speaks.
        language: The language calls start in (default: the first of ``languages``).
        prompt_dirs: Folders searched for prompts before the shipped ones.
        source: What errors name as the file.
    """

    def __init__(
        self,
        name: str,
        *,
        start: str,
        languages: Iterable[str] = ("en",),
        language: str | None = None,
        prompt_dirs: Iterable[str | os.PathLike[str]] = (),
        source: str = "<python>",
    ) -> None:
        self._name = name
        self._start = start
        self._languages = tuple(languages)
        self._language = language or self._languages[0]
        self._prompt_dirs = tuple(os.fspath(d) for d in prompt_dirs)
        self._source = source
        self._nodes: dict[str, Node] = {}
        self._schedules: dict[str, Schedule] = {}

    def node(self, name: str, node: Node) -> FlowBuilder:
        """Add ``node`` as ``name``; a name can be used once."""
        if name in self._nodes:
            raise ConfigError(self._source, ("nodes", name), "a node name used once", name)
        self._nodes[name] = node
        return self

    def schedule(self, name: str, schedule: Schedule) -> FlowBuilder:
        """Add a business-hours schedule for :class:`~callcenter_sdk.ivr.Hours` nodes."""
        if name in self._schedules:
            raise ConfigError(self._source, ("schedules", name), "a schedule name used once", name)
        self._schedules[name] = schedule
        return self

    def build(self, *, prompts: bool = True) -> Flow:
        """Return the checked flow (see :func:`~callcenter_sdk.ivr.check_flow`)."""
        flow = Flow(
            name=self._name,
            start=self._start,
            nodes=self._nodes,
            languages=self._languages,
            language=self._language,
            schedules=self._schedules,
            prompt_dirs=self._prompt_dirs,
            source=self._source,
        )
        return check_flow(flow, prompts=prompts)
