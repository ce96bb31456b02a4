"""Entry point of a media worker process: ``python -m callcenter_sdk.media._worker_main FD``.

The supervisor starts workers as fresh interpreters (not ``fork``: pjsua2 and
anyio threads do not survive it; not ``multiprocessing`` spawn: that re-runs
the user's ``__main__``). ``FD`` is the worker's end of a socket pair; the
first message on it is the :class:`WorkerConfig`.
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
