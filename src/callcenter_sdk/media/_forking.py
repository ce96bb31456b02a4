"""The supervisor's side of the media workers' fork server (:mod:`._forkserver`).

:class:`ForkServer` starts the server process, asks it for workers and turns
its reports into :class:`ForkedProcess` handles, which the pool kills, waits
for and reaps as it did the processes it used to start itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from typing import TYPE_CHECKING

import anyio

from .._errors import BackendUnavailableError, MediaError

if TYPE_CHECKING:
    from anyio.abc import Process, TaskGroup

__all__ = ["ForkServer", "ForkedProcess"]


class ForkedProcess:
    """A worker the fork server forked: killed by pid, its end reported by the server.

    Attributes:
        pid: The worker's process id.
        returncode: Its exit code once it ended (negative: killed by that
            signal), ``None`` before, or when the server died without saying.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._ended = anyio.Event()

    def kill(self) -> None:
        """Send SIGKILL, unless the worker is already known to have ended."""
        if not self._ended.is_set():
            os.kill(self.pid, signal.SIGKILL)

    async def wait(self) -> int | None:
        """Wait until the server reports the worker's end; return its exit code."""
        await self._ended.wait()
        return self.returncode

    async def aclose(self) -> None:
        """Nothing to release: the server reaps the process (kept for the pool's ``_reap``)."""

    def _end(self, code: int | None) -> None:
        if not self._ended.is_set():
            self.returncode = code
            self._ended.set()


class ForkServer:
    """One running fork server; build it with :meth:`start`, close it with :meth:`aclose`."""

    def __init__(self, process: Process, control: socket.socket) -> None:
        self._process = process
        self._control = control
        self._children: dict[int, ForkedProcess] = {}
        self._lock = anyio.Lock()
        self._forked: list[int] = []
        self._news = anyio.Event()
        self.alive = True

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self._process.pid

    @classmethod
    async def start(
        cls,
        task_group: TaskGroup,
        *,
        quiet: bool,
        timeout: float,  # noqa: ASYNC109 - the pool's start_timeout, also spent in imports
    ) -> ForkServer:
        """Start a server, wait until it has imported the worker's code, read it in ``task_group``.

        Args:
            task_group: Where the server's reports are read until it ends.
            quiet: Send the workers' standard output to ``/dev/null`` (pjlib
                logs its start-up before any log level applies).
            timeout: Seconds the server may take to import pjsua2.

        Raises:
            BackendUnavailableError: pjsua2 cannot be imported (the message says how to get it).
            MediaError: The server did not start.
        """
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with theirs:
            process = await anyio.open_process(
                [sys.executable, "-m", "callcenter_sdk.media._forkserver", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL if quiet else None,
                stderr=None,
            )
        ours.setblocking(False)
        server = cls(process, ours)
        try:
            with anyio.fail_after(timeout):
                await anyio.wait_readable(ours)
                first = ours.recv(65536)
        except BaseException as exc:
            await server.aclose()
            if isinstance(exc, TimeoutError | OSError):
                raise MediaError(
                    f"the media workers' fork server failed to start: {exc!r}"
                ) from exc
            raise
        if first.startswith(b"unavailable "):
            await server.aclose()
            raise BackendUnavailableError(first.removeprefix(b"unavailable ").decode())
        if first != b"ready":
            await server.aclose()
            raise MediaError(f"the media workers' fork server failed to start: {first!r}")
        task_group.start_soon(server._read, name="media fork server reader")
        return server

    async def fork(self, fd: int) -> ForkedProcess:
        """Fork a worker that serves the socket ``fd`` (a copy is sent; close yours)."""
        async with self._lock:
            if not self.alive:
                raise MediaError("the media workers' fork server is gone")
            try:
                socket.send_fds(self._control, [b"fork"], [fd])
            except OSError as exc:
                raise MediaError(f"the media workers' fork server is gone: {exc!r}") from exc
            while not self._forked:
                if not self.alive:
                    raise MediaError("the media workers' fork server died while forking")
                news = self._news
                await news.wait()
            return self._children[self._forked.pop(0)]

    async def _read(self) -> None:
        try:
            while True:
                await anyio.wait_readable(self._control)
                try:
                    message = self._control.recv(256)
                except BlockingIOError:
                    continue
                except OSError:
                    break
                if not message:
                    break
                what, *numbers = message.split()
                if what == b"pid":
                    pid = int(numbers[0])
                    self._children[pid] = ForkedProcess(pid)
                    self._forked.append(pid)
                elif what == b"exit":
                    child = self._children.pop(int(numbers[0]), None)
                    if child is not None:
                        child._end(int(numbers[1]))
                self._notify()
        finally:
            self.alive = False
            for child in self._children.values():  # killed with the server (PR_SET_PDEATHSIG)
                child._end(None)
            self._children.clear()
            self._notify()

    def _notify(self) -> None:
        self._news.set()
        self._news = anyio.Event()

    async def aclose(self) -> None:
        """Close the server's socket so that it exits, and reap it (killed after 5 s)."""
        with contextlib.suppress(OSError):
            self._control.shutdown(socket.SHUT_RDWR)  # the server sees its end: it exits
        with anyio.CancelScope(shield=True):
            with anyio.move_on_after(5):
                await self._process.wait()
            if self._process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    self._process.kill()
                await self._process.wait()
            await self._process.aclose()
        self._control.close()
