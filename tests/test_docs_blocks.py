"""Every code block in docs/ runs, or says on purpose why it does not.

A block is Python that runs (a ``pycon`` block is a doctest), a console
session of ``callcenter`` commands that run and print what it shows, TOML
that parses, or it is marked by an HTML comment on the line before its
fence (invisible on the site):

* ``<!-- checked: tests/x/test_y.py -->``: a named test runs or loads it
  (that test reads this page);
* ``<!-- output -->``: what a command prints (a console session, a report);
* ``<!-- shell -->``: commands to type in a shell (a long run, a server);
* ``<!-- diagram -->``: a drawing (states, a hierarchy), not code;
* ``<!-- fragment: why -->``: an excerpt that cannot run alone (it needs a
  SIP trunk, a PostgreSQL server, a variable of a bigger program...).

Unmarked Python blocks of a page run in order in one namespace, as a reader
pastes them, in a scratch directory that sees the repository's ``examples``
(and is the data directory);
top-level ``await`` runs under anyio, and each ``test_*`` function a block
defines is called (a page may show a test, and the test must pass).
"""

from __future__ import annotations

import ast
import doctest
import inspect
import io
import re
import shlex
import tomllib
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest

from callcenter_sdk.cli import main

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
FENCE = re.compile(
    r"^(?P<indent> *)```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```",
    re.MULTILINE | re.DOTALL,
)
MARKER = re.compile(
    r"<!-- (?P<kind>checked|output|shell|diagram|fragment)(?::\s*(?P<why>.*?))? -->\s*$"
)
RUNS = frozenset({"python", "pycon", "toml", "console"})

# Pages other engineers were editing when this test was written: their blocks
# are not held to the rule yet. Mark or fix a page's blocks, then drop it here
# (the test fails once every block of a listed page is marked, so the list shrinks).
PENDING: frozenset[str] = frozenset()


@attrs.frozen
class Block:
    """One fenced code block of a page."""

    page: str
    line: int
    lang: str
    body: str
    marker: str | None
    why: str | None
    before: str

    @property
    def first(self) -> str:
        return self.body.splitlines()[0] if self.body.strip() else ""

    @property
    def pending(self) -> bool:
        return self.page in PENDING


def _blocks(path: Path) -> Iterator[Block]:
    text = path.read_text(encoding="utf-8")
    page = path.relative_to(DOCS).as_posix()
    for match in FENCE.finditer(text):
        indent = len(match["indent"])
        body = "\n".join(line[indent:] for line in match["body"].splitlines())
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = MARKER.search(before)
        yield Block(
            page=page,
            line=text.count("\n", 0, match.start()) + 1,
            lang=match["lang"],
            body=body,
            marker=marker["kind"] if marker else None,
            why=marker["why"] if marker else None,
            before=before,
        )


PAGES = sorted(DOCS.rglob("*.md"))
BLOCKS = [block for page in PAGES for block in _blocks(page)]


PYTHON = frozenset({"python", "pycon"})


def _runnable(page: str, langs: frozenset[str] = PYTHON) -> list[Block]:
    """The page's blocks in ``langs`` that must run: unmarked, on a page held to the rule."""
    return [b for b in BLOCKS if b.page == page and b.lang in langs and not (b.marker or b.pending)]


def _pages(langs: frozenset[str]) -> list[str]:
    return sorted({b.page for b in BLOCKS if b.lang in langs and not (b.marker or b.pending)})


async def _awaited(coroutine: Coroutine[Any, Any, Any]) -> None:
    await coroutine


def _doctest(body: str, where: str, namespace: dict[str, Any]) -> None:
    test = doctest.DocTestParser().get_doctest(body, namespace, where, where, 0)
    report = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    result = runner.run(test, out=report.write, clear_globs=False)
    assert not result.failed, report.getvalue()


@pytest.mark.parametrize("page", _pages(PYTHON))
def test_the_python_blocks_of_a_page_run(
    page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's unmarked Python blocks run in order in one namespace (doctests print
    what they show), and every test_* function they define passes."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CALLCENTER_DATA_DIR", str(tmp_path / "data"))
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    for block in _runnable(page):
        where = f"docs/{page}:{block.line}"
        if block.lang == "pycon":
            _doctest(block.body, where, namespace)
            continue
        code = compile(block.body, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        result = eval(code, namespace)  # noqa: S307 - our own documentation
        if inspect.iscoroutine(result):
            anyio.run(_awaited, result)
        for name in [n for n in namespace if n.startswith("test_")]:
            test = namespace.pop(name)
            if callable(test):
                test()


def _session(body: str) -> Iterator[tuple[str, list[str]]]:
    """The ``$ command`` lines of a console block, each with the output shown under it."""
    command: str | None = None
    shown: list[str] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            if command is not None:
                yield command, shown
            command, shown = line[2:], []
        elif command is not None:
            shown.append(line)
    if command is not None:
        yield command, shown


@pytest.mark.parametrize("page", _pages(frozenset({"console"})))
def test_the_console_sessions_of_a_page_print_what_they_show(
    page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each ``$ callcenter ...`` line of an unmarked console block runs (exit 0) and
    prints exactly the lines shown under it, when some are shown."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    for block in _runnable(page, frozenset({"console"})):
        for command, shown in _session(block.body):
            where = f"docs/{page}:{block.line}: {command}"
            args = shlex.split(command, comments=True)
            assert args[0] == "callcenter", f"{where}: only callcenter commands run; mark it"
            capsys.readouterr()
            assert main(args[1:]) == 0, where
            printed = [line.rstrip() for line in capsys.readouterr().out.splitlines()]
            expected = "\n".join(line.rstrip() for line in shown).strip("\n").splitlines()
            if expected:
                while printed and not printed[-1]:
                    printed.pop()
                assert printed == expected, where


def test_the_toml_blocks_parse() -> None:
    """Unmarked TOML blocks are whole TOML documents."""
    for block in BLOCKS:
        if block.lang == "toml" and not block.marker and not block.pending:
            try:
                tomllib.loads(block.body)
            except tomllib.TOMLDecodeError as exc:
                pytest.fail(f"docs/{block.page}:{block.line}: {exc}")


def test_every_other_block_is_marked_and_says_why() -> None:
    """A block that is not run (no Python, no TOML) carries a marker; a fragment says
    why it cannot run, and a checked block names a test that reads its page."""
    unmarked, reasons = [], []
    for block in BLOCKS:
        where = f"docs/{block.page}:{block.line}"
        if block.pending:
            continue
        if block.marker is None and block.lang not in RUNS:
            unmarked.append(f"{where} ({block.lang or 'no language'}): {block.first}")
        elif block.marker == "fragment" and not block.why:
            reasons.append(f"{where}: a fragment says why it cannot run")
        elif block.marker == "checked":
            test = ROOT / (block.why or "")
            if not block.why or not test.is_file():
                reasons.append(f"{where}: names no test file ({block.why!r})")
            elif Path(block.page).name not in test.read_text(encoding="utf-8"):
                reasons.append(f"{where}: {block.why} does not read {block.page}")
    assert not unmarked, "blocks to run or to mark:\n" + "\n".join(unmarked)
    assert not reasons, "\n".join(reasons)


def test_the_pending_list_only_shrinks() -> None:
    """A page left in PENDING still has an unmarked block: once all are marked, the
    page is held to the rule like every other."""
    done = sorted(page for page in PENDING if all(b.marker for b in BLOCKS if b.page == page))
    assert not done, f"drop from PENDING: {done}"


def test_few_blocks_are_fragments() -> None:
    """Fragments are the exception: at most one block in eight is one."""
    fragments = [b for b in BLOCKS if b.marker == "fragment"]
    assert len(fragments) * 8 <= len(BLOCKS), [f"{b.page}:{b.line}" for b in fragments]


def test_the_markers_are_known() -> None:
    """A comment before a fence that is not one of the markers (a misspelt one) fails,
    rather than leaving its block silently unmarked."""
    unknown = [
        f"docs/{b.page}:{b.line - 1}: {b.before}"
        for b in BLOCKS
        if b.marker is None and b.before.lstrip().startswith("<!--")
    ]
    assert not unknown, "\n".join(unknown)
