"""Whether a stream is a terminal: the one test behind every bar and coloured table.

What is redrawn in place or drawn with box characters and colours is for a
person at a terminal. In a pipe or a log file it is noise (a CI log keeps
every redraw of a bar), so the CLI and the simulator's progress bar draw
only when :func:`is_terminal` says so and write plain text otherwise.

.. versionadded:: 0.2
"""

from __future__ import annotations

import os
from typing import TextIO

__all__ = ["is_terminal"]


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is an interactive terminal a bar can be redrawn on.

    A pipe, a file or a ``StringIO`` is not; nor is a terminal that says it
    cannot move the cursor (``TERM=dumb``, as Emacs shells set). Unlike
    Rich's own detection, ``FORCE_COLOR`` does not count: CI systems set it
    to get colours in their logs, where a redrawn bar is still noise.
    """
    isatty = getattr(stream, "isatty", None)
    if isatty is None:
        return False
    try:
        tty = bool(isatty())
    except ValueError:  # a closed stream
        return False
    return tty and os.environ.get("TERM", "") != "dumb"
