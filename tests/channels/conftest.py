"""A real Dovecot IMAP server and a real SMTP relay (the customers' side), on loopback.

Dovecot (Debian's ``dovecot-imapd``, installed by ``make test``) runs
without systemd from a config in a temporary directory, holding two
mailboxes: ``support`` (the center's) and ``customer``. The relay is an
aiosmtpd server that files each mail it accepts into the recipient's
Dovecot mailbox with ``doveadm save``: customers send through it, and the
center sends its answers through it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest
import uvicorn
from aiosmtpd.smtp import SMTP, Envelope, Session

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"
PASSWORD = "secret"  # noqa: S105 - the test mailboxes' password
USERS = ("support", "customer")
DOMAIN = "acme.example"


@pytest.fixture
def anyio_backend() -> str:
    """Aiosmtpd serves on asyncio: the e-mail channel runs on the asyncio backend."""
    return "asyncio"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@attrs.frozen
class Dovecot:
    """A running Dovecot: its IMAP port and the config ``doveadm`` needs."""

    port: int
    config: Path

    def save(self, user: str, raw: bytes) -> None:
        """File ``raw`` into ``user``'s INBOX (what a delivery agent does)."""
        subprocess.run([DOVEADM, "-c", str(self.config), "save", "-u", user], input=raw, check=True)


_CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
ssl = no
disable_plaintext_auth = no
mail_location = maildir:{d}/mail/%n/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {d}/users
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={d}/mail/%n
}}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
}}
"""


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A fresh Dovecot with empty ``support`` and ``customer`` mailboxes.

    Its directory is not under pytest's ``tmp_path``: Dovecot's own users must
    traverse it, and pytest's base directory is private to its owner.
    """
    if not (os.path.exists(DOVECOT) and os.path.exists(DOVEADM)):
        pytest.skip("Dovecot is not installed (Debian's dovecot-imapd): `make test` installs it")
    with tempfile.TemporaryDirectory(prefix="dovecot-") as base:
        os.chmod(base, 0o755)  # noqa: S103 - Dovecot's users read the config and mailboxes
        yield from _run_dovecot(Path(base))


def _run_dovecot(d: Path) -> Iterator[Dovecot]:
    (d / "run").mkdir(parents=True)
    (d / "state").mkdir()
    (d / "users").write_text("".join(f"{u}:{{PLAIN}}{PASSWORD}\n" for u in USERS))
    for user in USERS:
        (d / "mail" / user).mkdir(parents=True)
    subprocess.run(["chown", "-R", "nobody:nogroup", str(d / "mail")], check=True)
    port = _free_port()
    config = d / "dovecot.conf"
    config.write_text(_CONFIG.format(d=d, port=port))
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(config)])
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError((d / "dovecot.log").read_text()) from None
                time.sleep(0.05)
        yield Dovecot(port, config)
    finally:
        process.terminate()
        process.wait(timeout=30)


class Relay:
    """The customers' SMTP server: files each accepted mail into Dovecot."""

    def __init__(self, dovecot: Dovecot) -> None:
        self.dovecot = dovecot
        self.port = 0

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        for rcpt in envelope.rcpt_tos:
            user = rcpt.partition("@")[0].partition("+")[0]
            process = await asyncio.create_subprocess_exec(
                DOVEADM, "-c", str(self.dovecot.config), "save", "-u", user,
                stdin=asyncio.subprocess.PIPE,
            )  # fmt: skip
            await process.communicate(raw)
            if process.returncode:
                return "451 4.3.0 delivery failed"
        return "250 OK"


@asynccontextmanager
async def open_relay(dovecot: Dovecot) -> AsyncIterator[Relay]:
    """An SMTP relay on a free loopback port delivering into ``dovecot``."""
    relay = Relay(dovecot)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(relay, hostname="relay.test", loop=loop), host="127.0.0.1", port=0
    )
    relay.port = server.sockets[0].getsockname()[1]
    try:
        yield relay
    finally:
        server.close()
        await server.wait_closed()


@asynccontextmanager
async def serve(app: Any, *, lifespan: bool = False) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn (wsproto, as the web extra installs) on a free loopback port.

    ``lifespan``: run the app's lifespan (the web app's live feed needs it).
    """
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            ws="wsproto",
            lifespan="on" if lifespan else "off",
            log_level="warning",
        )
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve)
        with anyio.fail_after(30):
            while not server.started:  # noqa: ASYNC110 - uvicorn offers no event
                await anyio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
        server.should_exit = True  # uvicorn closes the open sockets and returns
