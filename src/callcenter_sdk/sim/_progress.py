"""A progress bar for long simulations, drawn only on a terminal.

A bar redrawn in place is for a person watching a terminal. Written into a
pipe or a log file, its carriage returns and partial lines are noise (a CI
log keeps every redraw), so the bar decides from the stream it draws on:
on a terminal it is a Rich progress bar; anywhere else it draws nothing.

.. versionadded:: 0.1
.. versionchanged:: 0.2
   Drawn with Rich, and only when the stream is a terminal;
   ``force_terminal``.
"""

from __future__ import annotations

import atexit
import sys
from collections.abc import Callable
from typing import TextIO

from .._terminal import is_terminal

__all__ = ["text_progress"]


def text_progress(
    label: str = "simulating",
    *,
    stream: TextIO | None = None,
    width: int = 30,
    force_terminal: bool | None = None,
) -> Callable[[float], None]:
    """Return a progress callback that draws a bar on a terminal, and nothing elsewhere.

    Pass it as ``progress=`` to :func:`simulate` or :func:`replicate`. The
    bar shows the label, the bar, the percentage and the time elapsed; it is
    redrawn only when the whole percentage changes, so it costs nothing in
    the simulation loop, and it stays on screen, finished, at 100 %.

    Args:
        label: The words before the bar.
        stream: Where to draw (default: standard error).
        width: The bar's width in characters.
        force_terminal: ``True`` draws even when ``stream`` is not a
            terminal (to record a bar in a test); ``False`` never draws;
            ``None`` draws only on a terminal (``FORCE_COLOR`` does not
            make a pipe one).
    """
    out = stream if stream is not None else sys.stderr
    draw = is_terminal(out) if force_terminal is None else force_terminal
    if not draw:
        return _nothing

    from rich.console import Console  # noqa: PLC0415 - only a terminal needs Rich
    from rich.progress import (  # noqa: PLC0415
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(bar_width=width),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=Console(file=out, force_terminal=True),
        # Redrawn by the callback alone: no refresh thread running beside the
        # simulation, and print() is never captured, so a run that raises
        # leaves standard output as it found it.
        auto_refresh=False,
        redirect_stdout=False,
        redirect_stderr=False,
    )
    task = bar.add_task(label, total=100)
    last = -1

    def update(fraction: float) -> None:
        nonlocal last
        percent = max(0, min(100, int(fraction * 100)))
        if percent == last:
            return
        if last < 0:
            bar.start()
            atexit.register(bar.stop)  # a run that raised still gives the cursor back
        last = percent
        bar.update(task, completed=percent, refresh=percent < 100)
        if percent == 100:
            bar.stop()  # draws the finished bar, once
            atexit.unregister(bar.stop)

    return update


def _nothing(fraction: float) -> None:
    """The progress callback where no bar can be drawn."""
