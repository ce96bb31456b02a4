"""Entry point of a media worker process: ``python -m callcenter_sdk.media._worker_main FD``.

The pool forks its workers from its fork server (:mod:`._forkserver`), a
fresh interpreter with no thread that imported this module and pjsua2 once,
and each fork runs :func:`main`. Workers are never forked from the
supervisor (its anyio threads would not survive it) nor started by
``multiprocessing`` spawn (that re-runs the user's ``__main__``). Run as a
script, this module starts one worker in a fresh interpreter instead. ``FD``
is the worker's end of a socket pair; the first message on it is the
:class:`WorkerConfig`.
"""

from __future__ import annotations

import sys
from multiprocessing.connection import Connection

from .._errors import BackendUnavailableError


def main(argv: list[str]) -> int:
    """Run the worker on the socket named by ``argv[1]``; return the exit status."""
    conn = Connection(int(argv[1]))
    config = conn.recv()
    try:
        from ._pjsua2 import run_worker  # noqa: PLC0415 - only workers import pjsua2
    except BackendUnavailableError as exc:
        conn.send(exc)
        return 3
    run_worker(conn, config)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
