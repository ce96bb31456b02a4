"""The ``callcenter`` command line.

Each subcommand lives in its own private module and registers itself in
:data:`COMMANDS`; :func:`main` builds the parser from them.
"""

from __future__ import annotations

from ._main import COMMANDS as COMMANDS
from ._main import SUBCOMMANDS as SUBCOMMANDS
from ._main import Command as Command
from ._main import main as main

__all__ = ["COMMANDS", "SUBCOMMANDS", "Command", "main"]
