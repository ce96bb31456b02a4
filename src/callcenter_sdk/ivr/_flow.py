"""A flow: named nodes, where to start, its languages, schedules and prompt folders.

:func:`check_flow` proves a flow can run before any call does: every target
names a node, every prompt exists in every language the flow speaks, every
schedule is defined, and no loop can spin without waiting for the caller.
Mistakes raise :class:`~callcenter_sdk.ConfigError` naming the file, the node
and the field (``nodes.main.options.7``); nodes no call can reach only warn
(:class:`FlowWarning`), since a flow under construction often has some.

.. versionadded:: 0.1
"""

from __future__ import annotations

import itertools
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

import attrs

from .._errors import ConfigError
from ._nodes import Assign, Callback, Collect, Hours, Menu, Node, Play, ToQueue
from ._prompts import PromptRef, find_prompt
from ._schedule import Schedule

__all__ = ["Flow", "FlowWarning", "check_flow"]

_KEY_SEQUENCE = re.compile(r"^[0-9*#A-D]+$")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
NODE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


class FlowWarning(UserWarning):
    """A flow that runs, but probably not as meant (a node no call can reach)."""


def _nodes(value: Mapping[str, Node]) -> Mapping[str, Node]:
    return MappingProxyType(dict(value))


def _schedules(value: Mapping[str, Schedule]) -> Mapping[str, Schedule]:
    return MappingProxyType(dict(value))


def _languages(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _paths(value: Iterable[str | Path]) -> tuple[Path, ...]:
    return tuple(Path(p) for p in value)


@attrs.frozen(kw_only=True)
class Flow:
    """An IVR flow, as data: the same value whether read from TOML or built in Python.

    Attributes:
        name: The flow's name, for logs and events.
        start: The node every call starts at.
        nodes: Every node by name.
        languages: The languages the flow speaks; every prompt must exist in each.
        language: The language a call starts in (the variable ``language`` changes it).
        schedules: Business-hours schedules by name, for :class:`Hours` nodes.
        prompt_dirs: Folders searched for prompts before the shipped ones
            (``dir/<lang>/<name>.wav``).
        source: The file the flow came from (``"<python>"`` when built in code);
            errors name it.
    """

    name: str
    start: str
    nodes: Mapping[str, Node] = attrs.field(converter=_nodes)
    languages: tuple[str, ...] = attrs.field(default=("en",), converter=_languages)
    language: str = "en"
    schedules: Mapping[str, Schedule] = attrs.field(factory=dict, converter=_schedules)
    prompt_dirs: tuple[Path, ...] = attrs.field(default=(), converter=_paths)
    source: str = "<python>"

    def prompt_file(self, prompt: PromptRef, language: str) -> Path | None:
        """The WAV file for ``prompt`` in the call's ``language`` (a pinned language wins)."""
        return find_prompt(prompt.language or language, prompt.name, self.prompt_dirs)


def _prompt_fields(node: Node) -> Iterator[tuple[str, tuple[PromptRef, ...]]]:
    for field in ("prompts", "invalid_prompts", "no_input_prompts", "confirm_prompts"):
        value = getattr(node, field, None)
        if value is not None:
            yield field, value


def check_flow(flow: Flow, *, prompts: bool = True) -> Flow:
    """Check ``flow`` and return it; raise :class:`ConfigError` at the first mistake.

    Args:
        flow: The flow to check.
        prompts: Also check that every prompt exists in every language of the
            flow (turn off while prompts are still being recorded).

    Raises:
        ConfigError: An unknown node or schedule, a missing prompt, a bad digit
            map or variable name, or a loop that never waits for the caller.

    Warns:
        FlowWarning: For each node no call can reach.
    """
    file = flow.source

    def fail(path: Iterable[str | int], expected: str, got: object = None) -> ConfigError:
        return ConfigError(file, tuple(path), expected, got)

    if not flow.nodes:
        raise fail(("nodes",), "at least one node")
    if flow.language not in flow.languages:
        raise fail(("flow", "language"), f"one of the flow's languages {list(flow.languages)}",
                   flow.language)  # fmt: skip
    if flow.start not in flow.nodes:
        raise fail(("flow", "start"), "the name of a node", flow.start)
    for name, node in flow.nodes.items():
        where = ("nodes", name)
        if not NODE_NAME.match(name):
            raise fail(where, "a node name of letters, digits, _ and -", name)
        for field, target in node.targets().items():
            if target not in flow.nodes:
                raise fail((*where, *field), "the name of a node", target)
        _check_node(flow, name, node, fail)
        if prompts:
            _check_prompts(flow, name, node, fail)
    _check_loops(flow, fail)
    reachable = _reachable(flow)
    for name in flow.nodes:
        if name not in reachable:
            warnings.warn(
                f"{file}: at nodes.{name}: no call can reach this node from {flow.start!r}",
                FlowWarning,
                stacklevel=2,
            )
    return flow


def _check_menu(name: str, node: Menu, fail: _Fail) -> None:
    where = ("nodes", name, "options")
    if not node.options:
        raise fail(where, "at least one key -> node entry")
    keys = sorted(node.options)
    for key in keys:
        if not _KEY_SEQUENCE.match(key):
            raise fail((*where, key), "keys made of 0-9 * # A-D", key)
        if node.terminator and node.terminator in key:
            raise fail((*where, key), f"keys without the terminator {node.terminator!r}", key)
    for short, long in itertools.pairwise(keys):
        if long.startswith(short):
            raise fail((*where, long), f"keys that do not start with another key ({short!r})", long)


def _check_node(flow: Flow, name: str, node: Node, fail: _Fail) -> None:
    where = ("nodes", name)
    if isinstance(node, Menu):
        _check_menu(name, node, fail)
    if isinstance(node, Menu | Collect) and not node.prompts:
        raise fail((*where, "prompts"), "at least one prompt asking for keys")
    if isinstance(node, Play) and not node.prompts:
        raise fail((*where, "prompts"), "at least one prompt to play")
    for field in ("variable", "number_variable"):
        value = getattr(node, field, None)
        if isinstance(value, str) and not _VARIABLE.match(value):
            raise fail((*where, field), "a variable name (letters, digits, _)", value)
    if isinstance(node, Assign):
        for var, value in node.values.items():
            if not _VARIABLE.match(var):
                raise fail((*where, "values", var), "a variable name (letters, digits, _)", var)
            if var == "language" and value not in flow.languages:
                expected = f"one of the flow's languages {list(flow.languages)}"
                raise fail((*where, "values", var), expected, value)
    if isinstance(node, Hours) and node.schedule not in flow.schedules:
        raise fail((*where, "schedule"), "the name of a schedule of the flow", node.schedule)
    if isinstance(node, Callback | ToQueue) and not node.queue:
        raise fail((*where, "queue"), "a queue name")


def _check_prompts(flow: Flow, name: str, node: Node, fail: _Fail) -> None:
    for field, refs in _prompt_fields(node):
        for index, ref in enumerate(refs):
            languages = (ref.language,) if ref.language else flow.languages
            for lang in languages:
                if flow.prompt_file(ref, lang) is None:
                    raise fail(
                        ("nodes", name, field, index),
                        f"a prompt that exists in {lang!r} (shipped, or in {_dirs(flow)})",
                        str(ref),
                    )


def _dirs(flow: Flow) -> str:
    return ", ".join(str(d) for d in flow.prompt_dirs) or "no prompt_dirs"


def _check_loops(flow: Flow, fail: _Fail) -> None:
    """A cycle made only of nodes that never wait (set, switch, hours, wait) spins forever."""
    instant = {name for name, node in flow.nodes.items() if not node.waits}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        trail.append(name)
        for target in flow.nodes[name].targets().values():
            if target not in instant:
                continue
            if state.get(target) == 1:
                loop = [*trail[trail.index(target) :], target]
                raise fail(("nodes", name), "a flow whose loops wait for the caller",
                           " -> ".join(loop))  # fmt: skip
            if target not in state:
                visit(target, trail)
        trail.pop()
        state[name] = 2

    for name in sorted(instant):
        if name not in state:
            visit(name, [])


def _reachable(flow: Flow) -> set[str]:
    seen = {flow.start}
    todo = [flow.start]
    while todo:
        for target in flow.nodes[todo.pop()].targets().values():
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


class _Fail(Protocol):
    """The error factory the checks share."""

    def __call__(
        self, path: Iterable[str | int], expected: str, got: object = None
    ) -> ConfigError: ...
