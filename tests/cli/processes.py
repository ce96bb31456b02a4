"""A ``callcenter`` command running as a process of its own, for tests that talk to it.

It runs in a session of its own, so that whatever it started (a media
worker) can be found afterwards, and must not be there any more.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).parents[2]
HOTLINE = ROOT / "examples" / "hotline"


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port of 127.0.0.1 nobody listens on now (TCP, or UDP with ``SOCK_DGRAM``)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def session_processes(sid: int) -> list[int]:
    """The live processes of session ``sid`` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


class Command:
    """``python -m callcenter_sdk ARGS``, its output collected line by line as it comes."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "callcenter_sdk", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self.errors: list[str] = []
        self._changed = threading.Condition()
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, self.lines)),
            threading.Thread(target=self._read, args=(self.process.stderr, self.errors)),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: object, into: list[str]) -> None:
        assert hasattr(stream, "readline")
        for line in iter(stream.readline, ""):
            with self._changed:
                into.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, prefix: str, timeout: float) -> str:
        """The first output line starting with ``prefix``; fails after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines:
                    if line.startswith(prefix):
                        return line
                left = deadline - time.monotonic()
                assert self.process.poll() is None or any(r.is_alive() for r in self._readers), (
                    f"exited {self.process.returncode} before {prefix!r}:\n"
                    + "\n".join(self.lines + self.errors)
                )
                assert left > 0, f"no {prefix!r} line within {timeout} s:\n{self.output}"
                self._changed.wait(min(left, 1.0))

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 60) -> int:
        """Send ``signum`` to the command only (not its children) and wait for it to exit."""
        self.process.send_signal(signum)
        code = self.process.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=10)
        return code

    def leftovers(self) -> list[int]:
        """Processes the command started that are still alive."""
        return session_processes(self.process.pid)

    def close(self) -> None:
        """Wait for the output to be read to its end, and close the pipes."""
        for reader in self._readers:
            reader.join(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def kill(self) -> None:
        for pid in self.leftovers():
            os.kill(pid, signal.SIGKILL)


@contextmanager
def running(*args: str) -> Iterator[Command]:
    """Run the command for the block; whatever is still alive after it is killed."""
    command = Command(*args)
    try:
        yield command
    finally:
        command.kill()
        if command.process.poll() is None:
            command.process.kill()
            command.process.wait()
        command.close()


def wait_for_http(url: str, command: Command, timeout: float) -> httpx.Response:
    """GET ``url`` until the server answers (anything); fails after ``timeout`` seconds,
    or at once if ``command`` exited."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            code = command.process.poll()
            assert code is None, f"exited {code}:\n{command.output}\n" + "\n".join(command.errors)
            assert time.monotonic() < deadline, f"nothing answered at {url} within {timeout} s"
            time.sleep(0.1)  # polling a port: nothing to wait on


def hotline_center_file(folder: Path, *, sip_port: int = 5060) -> Path:
    """The hotline's center file, with its store in ``folder`` and the given SIP port."""
    text = (HOTLINE / "center.toml").read_text(encoding="utf-8")
    for name in ("org.toml", "flow.toml", "streamtv.toml", "script.toml"):
        text = text.replace(f'"{name}"', f'"{HOTLINE / name}"')
    text = text.replace('language = "en"', 'language = "en"\nstore = "sqlite:///center.sqlite"')
    text = text.replace("workers = 6", "workers = 2").replace("port = 5060", f"port = {sip_port}")
    file = folder / "center.toml"
    file.write_text(text, encoding="utf-8")
    return file
