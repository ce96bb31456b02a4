"""The media workers' fork server: ``python -m callcenter_sdk.media._forkserver FD``.

Each worker used to be a fresh interpreter that imported Python, pjsua2's
bindings and our worker modules on its own: about 16 MiB of private memory
per worker, 17-18 MiB PSS, most of it the same bytes in every process. The
pool now starts this one process instead: it imports all of that once, with
no thread and no pjsua2 endpoint (pjlib is started by each worker, after the
fork), freezes the objects it made out of the garbage collector's way
(``gc.freeze``, so a collection in a worker does not write to the pages it
shares), and forks a worker each time the supervisor asks. A forked worker
shares those pages with the server and every other worker until it writes to
them, so it owns only what it changes and what its endpoint allocates.

The protocol on ``FD``, an ``AF_UNIX`` ``SOCK_SEQPACKET`` socket (one
message per packet):

* server → supervisor: ``ready`` once imported, or ``unavailable <why>``
  when pjsua2 cannot be imported (then it exits with status 3);
* supervisor → server: ``fork`` with one file descriptor attached (the
  worker's end of its socket pair, as ``_worker_main`` takes it);
* server → supervisor: ``pid <pid>`` for each fork, in order, and
  ``exit <pid> <code>`` when a worker has ended and been reaped (``code`` as
  ``subprocess`` gives it: negative for a signal). A worker's ``pid`` always
  comes before its ``exit``.

When the supervisor's end closes, the server exits. Each worker is killed
with the server (``PR_SET_PDEATHSIG``), so no worker outlives both.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import select
import signal
import socket
import sys
from collections.abc import Callable
from typing import NoReturn

from .._errors import BackendUnavailableError

__all__ = ["main"]

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def main(argv: list[str]) -> int:
    """Serve forks on the socket named by ``argv[1]``; return the exit status."""
    control = socket.socket(fileno=int(argv[1]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides when workers stop
    try:
        # imported here, once, and shared by every fork: the worker's modules and pjsua2
        from . import _pjsua2, _worker_main  # noqa: F401, PLC0415
    except BackendUnavailableError as exc:
        control.send(f"unavailable {exc}".encode())
        return 3
    gc.collect()
    gc.freeze()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda _signum, _frame: None)  # wakes select() through wake_w
    control.send(b"ready")
    try:
        while True:
            readable = select.select([control.fileno(), wake_r], [], [])[0]
            if wake_r in readable:
                os.read(wake_r, 512)
            _reap(control)
            if control.fileno() in readable:
                message, fds, _flags, _address = socket.recv_fds(control, 64, 1)
                if not message:  # the supervisor closed its end
                    return 0
                if message != b"fork" or len(fds) != 1:
                    for fd in fds:
                        os.close(fd)
                    continue
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    _child(_worker_main.main, fds[0], control, (wake_r, wake_w))
                os.close(fds[0])
                control.send(b"pid %d" % pid)
    except OSError:  # the supervisor is gone
        return 0
    finally:
        signal.set_wakeup_fd(-1)


def _reap(control: socket.socket) -> None:
    """Collect every ended worker and report its exit code."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:  # no child at all
            return
        if pid == 0:
            return
        control.send(b"exit %d %d" % (pid, os.waitstatus_to_exitcode(status)))


def _child(
    run: Callable[[list[str]], int], fd: int, control: socket.socket, pipe: tuple[int, int]
) -> NoReturn:  # pragma: no cover - runs in the forked worker (the pool tests run it)
    """Become the worker: drop the server's resources, then run it and exit."""
    status = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        control.close()
        for end in pipe:
            os.close(end)
        server = os.getppid()
        with contextlib.suppress(AttributeError, OSError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() == server:  # else the server died before prctl: nobody to serve
            status = run(["_worker_main", str(fd)])
    except BaseException:  # noqa: BLE001 - a worker never returns into the server's loop
        import traceback  # noqa: PLC0415

        traceback.print_exc()
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
