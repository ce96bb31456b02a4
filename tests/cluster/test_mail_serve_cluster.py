"""Mail to any node of a cluster: every ``serve --cluster`` node runs the ``[email]`` SMTP
listener and relays what it takes to the leader's e-mail channel through the store.

Two ``callcenter serve --virtual --cluster`` processes share a PostgreSQL schema; each has
its own copy of the hotline's center file with its own ``listen`` port (on one machine two
nodes cannot share one). A customer's mail sent with ``smtplib`` to the standby is answered
250 once the leader stored it, and becomes a contact agent1 takes on the leader; the same
mail sent again (an MTA's retry) is answered 250 and stored once; after kill -9 of the
leader, the former standby, now leading, takes mail on its listener the same way.
"""

from __future__ import annotations

import contextlib
import signal
import smtplib
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from callcenter_sdk.store import Store, temporary_store
from callcenter_sdk.tickets import TicketMessages

from ..cli.processes import free_port
from .test_chat_serve_cluster import START, WAIT, Node, _accept, _start, _token
from .test_chat_serve_cluster import _file as chat_file

pytestmark = [pytest.mark.postgresql, pytest.mark.slow]


@pytest.fixture
def database(postgresql_url: str) -> Iterator[Store]:
    """A fresh, migrated PostgreSQL schema for this test only."""
    with temporary_store(postgresql_url) as store:
        yield store


def _file(folder: Path, store: Store, postgresql_url: str, smtp_port: int) -> Path:
    """The hotline's file on the test's schema, agent1 taking mail, a listener on ``smtp_port``."""
    folder.mkdir()
    mailbox = f"""
[email]
address = "support@fibrenet.test"
queue = "general"
listen = "127.0.0.1:{smtp_port}"
acknowledge = false
smtp_port = 9
"""
    return chat_file(folder, store, postgresql_url, capacity="voice = 1, email = 3", extra=mailbox)


def _mail(n: int) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "jeanne@customer.test"
    mail["To"] = "support@fibrenet.test"
    mail["Subject"] = f"Outage number {n}"
    mail["Message-ID"] = f"<outage-{n}@customer.test>"
    mail.set_content(f"The line is down again ({n}).")
    return mail


def _send(port: int, mail: EmailMessage) -> None:
    """Send ``mail`` to the listener on ``port``; the server accepts it (250) or this fails."""
    with smtplib.SMTP("127.0.0.1", port, timeout=WAIT) as smtp:
        assert smtp.send_message(mail) == {}


def test_mail_to_the_standby_is_stored_by_the_leader_and_to_the_new_leader_after_a_kill(
    tmp_path: Path, database: Store, postgresql_url: str
) -> None:
    """The standby's listener answers 250 only once leader a stored the mail, which becomes
    an e-mail contact agent1 takes on a, with its text; the MTA's retry of the same mail is
    answered 250 and stored once. After kill -9 of a, b leads and takes a new mail on its
    listener itself; agent1 takes it on b."""
    ports = {"a": free_port(), "b": free_port()}
    files = {n: _file(tmp_path / n, database, postgresql_url, p) for n, p in ports.items()}
    node = contextlib.contextmanager(_start)
    with contextlib.ExitStack() as started:
        nodes: dict[str, Node] = {"a": started.enter_context(node(files["a"], "a"))}
        nodes["a"].command.wait_for_line("leader a epoch 1", START)
        nodes["b"] = started.enter_context(node(files["b"], "b"))
        nodes["b"].command.wait_for_line("web: ", START)
        relayed = f"mail: smtp://127.0.0.1:{ports['b']} for support@fibrenet.test (relayed)"
        assert nodes["b"].command.wait_for_line("mail: ", START) == relayed

        token = _token(files["a"])
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=nodes["a"].url, headers=headers, timeout=30) as api:
            assert api.post("/api/agents/agent1/login", json={"position": "hotline:1"}).is_success
            assert api.post("/api/agents/agent1/ready").is_success
            _send(ports["b"], _mail(1))
            contact = _accept(api)
            read = api.get(f"/api/contacts/{contact}/messages").json()["messages"]
            assert "The line is down again (1)." in read[0]["text"]
            _send(ports["b"], _mail(1))  # the MTA's retry
        stored = TicketMessages(database).get("<outage-1@customer.test>")
        assert stored is not None
        assert stored.handed_over

        nodes["a"].command.process.send_signal(signal.SIGKILL)
        nodes["b"].command.wait_for_line("leader b epoch 2", START)
        with httpx.Client(base_url=nodes["b"].url, headers=headers, timeout=30) as api:
            _send(ports["b"], _mail(2))
            deadline = time.monotonic() + WAIT
            while True:
                taken = api.post("/api/agents/agent1/accept")
                if taken.status_code == 200:
                    break
                assert time.monotonic() < deadline, taken.text
                time.sleep(0.2)  # polling the ACD over HTTP: nothing to wait on here
            read = api.get(f"/api/contacts/{taken.json()['contact']}/messages").json()
            assert "The line is down again (2)." in read["messages"][0]["text"]
