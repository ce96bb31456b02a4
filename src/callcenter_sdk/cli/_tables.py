"""Tables the commands print: Rich on a terminal, plain aligned columns elsewhere.

A person at a terminal gets a Rich table (a ruled header, columns sized to
the screen). Piped into ``awk``, a file or a CI log, the same rows are plain
text: one line per row, columns right-aligned and separated by two spaces,
with no box characters and no colour codes, so scripts and tests read them.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from .._terminal import is_terminal

__all__ = ["print_table"]


def print_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    stream: TextIO | None = None,
    force_terminal: bool | None = None,
) -> None:
    """Print ``rows`` under ``headers``, every column right-aligned.

    Args:
        headers: The column names.
        rows: The cells, as text, one sequence per row (as long as ``headers``).
        stream: Where to print (default: standard output).
        force_terminal: ``True`` draws the Rich table whatever the stream;
            ``None`` draws it only on a terminal.
    """
    out = stream if stream is not None else sys.stdout
    if not (is_terminal(out) if force_terminal is None else force_terminal):
        widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
        for cells in (headers, *rows):
            out.write("  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)) + "\n")
        return

    from rich import box  # noqa: PLC0415 - only a terminal needs Rich
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    table = Table(box=box.SIMPLE_HEAD, header_style="bold")
    for header in headers:
        table.add_column(header, justify="right", no_wrap=True)
    for cells in rows:
        table.add_row(*cells)
    console = Console(file=out, force_terminal=True)
    # A figure cut to "0.8…" is worse than a line the terminal wraps.
    wide = console.options.update_width(10_000)
    console.width = max(console.width, console.measure(table, options=wide).maximum)
    console.print(table)
