"""``callcenter serve`` and ``callcenter accounts``: a center from its file, people in it."""

from __future__ import annotations

import importlib.util
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from callcenter_sdk.store import Accounts, create_store

from .processes import ROOT, free_port, hotline_center_file, running, wait_for_http

PASSWORD = "a long passphrase"  # noqa: S105 - a test account's


def _cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callcenter_sdk", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_serve_virtual_refuses_strangers_lets_people_in_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    """``serve --virtual`` answers ``/api/me`` with 401; after ``accounts
    set-password`` the person logs in (cookie) and is known (200), and a
    token from ``accounts token`` works too; SIGTERM stops it with exit 0,
    "stopped", and no process of it left."""
    config = hotline_center_file(tmp_path)
    port = free_port()
    with running("serve", str(config), "--virtual", "--port", str(port)) as serve:
        url = f"http://127.0.0.1:{port}"
        assert wait_for_http(f"{url}/api/me", serve, timeout=120).status_code == 401
        assert serve.wait_for_line("web: ", timeout=10).startswith(f"web: {url}/ ")

        done = _cli("accounts", "set-password", "agent1", "--config", str(config), stdin=PASSWORD)
        assert done.returncode == 0, done.stderr
        with httpx.Client(base_url=url) as browser:
            login = browser.post("/api/login", json={"person": "agent1", "password": PASSWORD})
            assert login.status_code == 200, login.text
            me = browser.get("/api/me")
            assert me.status_code == 200
            assert me.json()["person"] == "agent1"

        made = _cli("accounts", "token", "agent1", "--config", str(config), "--label", "crm")
        assert made.returncode == 0, made.stderr
        token = made.stdout.strip()
        me = httpx.get(f"{url}/api/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
        assert me.json()["role"] == "agent"

        assert serve.stop(signal.SIGTERM) == 0, "\n".join(serve.errors)
        assert serve.lines[-1] == "stopped"
        assert serve.leftovers() == []
    with create_store(f"sqlite:///{tmp_path / 'center.sqlite'}") as store:
        assert Accounts(store).check_password("agent1", PASSWORD).ok


@pytest.mark.sip
@pytest.mark.skipif(
    importlib.util.find_spec("pjsua2") is None,
    reason="pjsua2 is not installed (pip install pjsua2-python)",
)
def test_serve_over_sip_prints_its_address_and_leaves_no_media_worker(tmp_path: Path) -> None:
    """Without ``--virtual`` the center runs two pjsua2 media workers behind its
    front door: it prints the SIP address and the URL, the workers run as its
    children, and after Ctrl-C (SIGINT to the command alone) none is left."""
    sip_port = free_port(socket.SOCK_DGRAM)
    config = hotline_center_file(tmp_path, sip_port=sip_port)
    port = free_port()
    with running("serve", str(config), "--port", str(port)) as serve:
        response = wait_for_http(f"http://127.0.0.1:{port}/api/me", serve, timeout=120)
        assert response.status_code == 401
        line = serve.wait_for_line("center 'hotline' at ", timeout=10)
        assert line.startswith(f"center 'hotline' at sip:hotline@127.0.0.1:{sip_port} ")
        assert serve.wait_for_line("  sip:3900@", timeout=10)
        assert len(serve.leftovers()) >= 3  # the command and its two workers
        assert serve.stop(signal.SIGINT) == 0, "\n".join(serve.errors)
        assert serve.leftovers() == []


def test_serve_a_broken_file_is_one_line(tmp_path: Path) -> None:
    """A mistake in the center's file is one line naming the file, the path and
    the expectation, exit code 2, no traceback."""
    config = hotline_center_file(tmp_path)
    config.write_text(
        config.read_text().replace("offer_timeout = 30", "offer_timeout = 0"), encoding="utf-8"
    )
    done = _cli("serve", str(config), "--virtual")
    assert done.returncode == 2
    assert done.stderr == (
        f"callcenter serve: error: {config}: at queues[5].offer_timeout:"
        " expected seconds > 0, got 0\n"
    )


def test_serve_on_a_taken_port_is_one_line(tmp_path: Path) -> None:
    """A web port someone already listens on is one line, before anything starts."""
    config = hotline_center_file(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _cli("serve", str(config), "--virtual", "--port", str(port))
    assert done.returncode == 2
    assert done.stderr.startswith(
        f"callcenter serve: error: {config}: at web.port: expected a free TCP port on 127.0.0.1,"
        f" got {port}"
    )
    assert done.stderr.count("\n") == 1


def test_accounts_refuses_a_person_the_org_does_not_have(tmp_path: Path) -> None:
    """With ``--config``, a person who is not in the center's org gets no
    account (a typo would make one nobody can use): one line, exit 2."""
    config = hotline_center_file(tmp_path)
    done = _cli("accounts", "set-password", "agent9", "--config", str(config), stdin=PASSWORD)
    assert done.returncode == 2
    assert done.stderr == (
        f"callcenter accounts: error: {config}: the org has no person 'agent9'\n"
    )
    assert not (tmp_path / "center.sqlite").exists()


def test_accounts_with_a_store_url_sets_and_removes(tmp_path: Path) -> None:
    """``--store URL`` works without a center file: the password is read from
    standard input, stored as a hash that checks, a short one is refused, and
    ``remove`` forgets it."""
    url = f"sqlite:///{tmp_path / 'accounts.sqlite'}"
    done = _cli("accounts", "set-password", "ag.alice", "--store", url, stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    with create_store(url) as store:
        assert Accounts(store).check_password("ag.alice", PASSWORD).ok
    short = _cli("accounts", "set-password", "ag.alice", "--store", url, stdin="short\n")
    assert short.returncode == 2
    assert short.stderr.startswith("callcenter accounts: error: a password has 8 to")
    assert _cli("accounts", "remove", "ag.alice", "--store", url).returncode == 0
    with create_store(url) as store:
        assert not Accounts(store).has_password("ag.alice")
