"""The layers of docs/concepts.md hold: an inner ring never imports an outer one.

Every module under ``src/callcenter_sdk`` is parsed with :mod:`ast`; what it
imports at run time (at module level or inside a function, but not under
``if TYPE_CHECKING:``) is collected with relative imports resolved. The rules
below are checked on that graph, so a violation fails here with the chain of
imports that causes it, before any user meets it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path

import callcenter_sdk

ROOT = "callcenter_sdk"
SOURCE = Path(callcenter_sdk.__file__).parent


def _module_name(path: Path) -> str:
    parts = [ROOT, *path.relative_to(SOURCE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(SOURCE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(nodes: Iterable[ast.stmt | ast.AST]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement run at some point, skipping ``if TYPE_CHECKING:`` bodies."""
    for node in nodes:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _import_nodes(node.orelse)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        else:
            yield from _import_nodes(ast.iter_child_nodes(node))


def _imports(module: str) -> set[str]:
    """The modules ``module`` imports at run time, as absolute dotted names.

    ``from package import name`` counts as importing ``package.name`` when that
    is a module of ours, else as importing ``package``.
    """
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8")).body):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        if node.module == "__future__":
            continue
        if node.level:
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            target = f"{base}.{node.module}" if node.module else base
        else:
            target = node.module or ""
        for alias in node.names:
            sub = f"{target}.{alias.name}"
            found.add(sub if sub in MODULES else target)
    return found


IMPORTS: dict[str, set[str]] = {name: _imports(name) for name in MODULES}


def _ours(name: str) -> str | None:
    """The module of ours that importing ``name`` runs (its nearest known parent)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _chains(start: str) -> dict[str, list[str]]:
    """Everything ``start`` loads at run time through our modules, each with its
    (shortest) chain of imports.

    An edge is an import written in the source: a module's parent packages
    are not followed implicitly.
    """
    chains: dict[str, list[str]] = {start: [start]}
    todo = deque([start])
    while todo:
        current = todo.popleft()
        for name in sorted(IMPORTS[current]):
            ours = _ours(name) if _in(name, [ROOT]) else None
            if (key := ours or name) not in chains:
                chains[key] = [*chains[current], key]
                if ours is not None:
                    todo.append(ours)
    return chains


def _in(name: str, packages: Iterable[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def _pkg(*names: str) -> list[str]:
    return [f"{ROOT}.{n}" for n in names]


IVR_FLOW_ENGINE = _pkg(
    "ivr._actions",
    "ivr._builder",
    "ivr._catalog",
    "ivr._engine",
    "ivr._flow",
    "ivr._nodes",
    "ivr._prompts",
    "ivr._schedule",
    "ivr._toml",
)
"""The IVR's sans-IO modules (``ivr._driver`` is the anyio adapter that runs a flow on media)."""

PURE_CORES = sorted(
    name
    for name in MODULES
    if _in(name, _pkg("acd", "kpi", "org"))
    or name in IVR_FLOW_ENGINE
    or name == f"{ROOT}.dialer._campaign"  # the campaign core
)
IO_LIBRARIES = ("anyio", "sqlalchemy", "pjsua2", "socket", "asyncio", "threading")
ADAPTERS = _pkg("store", "media", "runtime", "cti", "tickets", "web", "cli", "sim")

GROUND_FLOOR = [
    ROOT,  # the package's own __init__: the ground floor's public names
    *_pkg("_clock", "_errors", "_events", "_ticker", "hookspecs", "_plugins", "_datadir", "_tasks"),
]

SIM = f"{ROOT}.sim"
MAY_IMPORT_SIM = _pkg("cli", "testing", "sim")


def test_the_pure_cores_import_no_io_and_no_adapter() -> None:
    """acd, kpi, org, the IVR flow engine and the dialer's campaign core load, directly
    or through any module of ours, none of anyio, sqlalchemy, pjsua2, socket, asyncio,
    threading, and no adapter package: the same core runs live, simulated and under
    hypothesis."""
    assert f"{ROOT}.acd._engine" in PURE_CORES
    assert f"{ROOT}.ivr._engine" in PURE_CORES
    shortest: dict[str, list[str]] = {}  # each forbidden module, by its shortest chain
    for module in PURE_CORES:
        for name, chain in _chains(module).items():
            forbidden = name.split(".")[0] in IO_LIBRARIES or _in(name, ADAPTERS)
            if forbidden and (name not in shortest or len(chain) < len(shortest[name])):
                shortest[name] = chain
    violations = [" -> ".join(chain) for _, chain in sorted(shortest.items())]
    assert not violations, "\n".join(violations)


def test_the_ground_floor_imports_only_the_ground_floor() -> None:
    """Errors, clock, events, ticker, hookspecs, plugin host, data directory and tasks
    import no other package of callcenter_sdk at run time, so everything can build on
    them without an import circle (type-only references sit under TYPE_CHECKING)."""
    violations = [
        f"{module} imports {name}"
        for module in GROUND_FLOOR
        for name in sorted(IMPORTS[module])
        if _in(name, [ROOT]) and _ours(name) not in GROUND_FLOOR
    ]
    assert not violations, "\n".join(violations)


def test_only_the_cli_testing_and_sim_import_sim() -> None:
    """The simulator drives the cores in virtual time from outside: no core, adapter
    or driver below it (the dialer and the runtime among them) imports sim."""
    violations = [
        f"{module} imports {name}"
        for module in sorted(MODULES)
        if not _in(module, MAY_IMPORT_SIM)
        for name in sorted(IMPORTS[module])
        if _in(name, [SIM])
    ]
    assert not violations, "\n".join(violations)


def test_the_pure_cores_run_without_loading_anyio() -> None:
    """In a fresh interpreter, importing acd, kpi and org and running a tiny engine
    leaves anyio unloaded: the static rules above hold at run time too."""
    probe = (
        "import sys\n"
        "import callcenter_sdk as cc\n"
        "from callcenter_sdk import acd, kpi, org\n"
        "e = acd.Engine(clock=cc.ManualClock())\n"
        "e.add_queue(acd.Queue(name='q'))\n"
        "e.add_agent(acd.Agent(id='ann', memberships=[acd.Membership('q')]))\n"
        "e.login('ann')\n"
        "e.set_ready('ann')\n"
        "assert any(isinstance(a, acd.Offer) for a in e.arrive(acd.Contact(id='c'), 'q'))\n"
        "kpi.erlang_c(10, 12)\n"
        "print('anyio' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout
    assert out.strip() == "False"
