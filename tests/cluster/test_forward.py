"""Stateless web nodes: a standby serves the desk and the live feed, the leader does the work.

Two ``callcenter serve --virtual --cluster`` processes on one PostgreSQL
schema (the fixtures of ``test_serve_failover``): node a leads, node b
stands by. A person signs in *through b*; b authenticates them, forwards
their requests to a through the table ``forwarded_requests`` and answers
with a's answer, and serves the live events itself from the shared log.
"""

# ruff: noqa: F811 - the fixtures come from test_serve_failover, and tests name them as parameters

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import func, select, text

from callcenter_sdk import NotFoundError
from callcenter_sdk.store import Accounts, Documents, EventLog, Store
from callcenter_sdk.store._forward import ForwardedRequestRow

from .test_serve_failover import (  # noqa: F401 - the fixtures
    AGENT,
    OPEN,
    PERIOD,
    POSITION,
    SLACK,
    START,
    TTL,
    Node,
    _agent,
    center_file,
    database,
    node_a,
    node_b,
    token,
)

pytestmark = [pytest.mark.postgresql, pytest.mark.slow]

PASSWORD = "correct horse battery"  # noqa: S105 - a test account's


def _up(node_a: Node, node_b: Node) -> None:
    node_b.command.wait_for_line("standby b for hotline", START)
    deadline = time.monotonic() + START
    while True:
        try:
            if node_b.cluster()["leader"] == "a":
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "b never answered its status"
        time.sleep(0.2)  # polling a server that is starting: nothing to wait on


def _rows(database: Store) -> int:
    with database.reading("count forwarded") as session:
        counted = select(func.count()).select_from(ForwardedRequestRow)
        return int(session.execute(counted).scalar_one())


def _sign_in(node: Node, database: Store) -> tuple[httpx.Client, str]:
    """A browser-like client signed in through ``node``: its cookie and CSRF token."""
    Accounts(database).set_password(AGENT, PASSWORD, at=time.time())
    client = httpx.Client(base_url=node.url, timeout=30, headers={"Origin": node.url})
    answer = client.post("/api/login", json={"person": AGENT, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return client, str(answer.json()["csrf_token"])


class Feed:
    """A live-event stream read in a thread: the (id, kind, data) it received."""

    def __init__(
        self, url: str, cookies: httpx.Cookies | None, headers: dict[str, str] | None = None
    ) -> None:
        self.url = url
        self.cookies = cookies
        self.headers = headers
        self.events: list[tuple[int, str, dict[str, object]]] = []
        self.received: dict[str, float] = {}
        """When (monotonic) the first event naming each pause reason arrived."""
        self.changed = threading.Condition()
        self.stop = threading.Event()
        self.ended: str | None = None
        self.client = httpx.Client(timeout=httpx.Timeout(10, read=120))

    def read(self) -> None:
        try:
            self._read()
        except httpx.HTTPError as exc:  # the server stopped at the test's end
            self.ended = repr(exc)

    def _read(self) -> None:
        with self.client.stream(
            "GET", self.url, cookies=self.cookies, headers=self.headers
        ) as stream:
            assert stream.status_code == 200, stream.read()
            seq, kind = 0, ""
            for line in stream.iter_lines():
                if self.stop.is_set():
                    return
                if line.startswith("id:"):
                    seq = int(line[3:].strip())
                elif line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:"):
                    data = json.loads(line[5:])
                    with self.changed:
                        self.received.setdefault(str(data.get("reason")), time.monotonic())
                        self.events.append((seq, kind, data))
                        self.changed.notify_all()

    def wait_reason(self, reason: str, timeout: float) -> float:
        """When the first event naming the pause ``reason`` arrived (waiting for it)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while reason not in self.received:
                left = deadline - time.monotonic()
                assert left > 0, f"no event with reason {reason} within {timeout} s: {self.ended}"
                self.changed.wait(left)
            return self.received[reason]

    def wait_for(self, kind: str, state: str, timeout: float) -> tuple[int, str, dict[str, object]]:
        """The first event of ``kind`` about the agent that names ``state``."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for event in self.events:
                    _seq, got, data = event
                    if got == kind and data.get("agent_id") == AGENT and state in data.values():
                        return event
                left = deadline - time.monotonic()
                assert left > 0, f"no {kind} {state} within {timeout} s: {self.events} {self.ended}"
                self.changed.wait(left)


@contextmanager
def _feed(
    url: str, cookies: httpx.Cookies | None, headers: dict[str, str] | None = None
) -> Iterator[Feed]:
    feed = Feed(url, cookies, headers)
    thread = threading.Thread(target=feed.read, daemon=True)
    thread.start()
    try:
        yield feed
    finally:
        feed.stop.set()
        feed.client.close()  # ends the read in the thread
        thread.join(30)


def test_an_agent_works_through_the_standby_and_sees_the_leaders_events_there(
    node_a: Node, node_b: Node, token: str, database: Store
) -> None:
    """Signed in through standby b (a's cookie, valid everywhere), the agent sits and goes ready:
    the commands are forwarded and take effect on leader a; b's own live feed streams a's events
    about it (ids are log sequence numbers); the desk page and reads come back through b; a
    command without the CSRF token and one carrying would-be internal headers without
    credentials are refused at b and never reach the table."""
    _up(node_a, node_b)
    client, csrf = _sign_in(node_b, database)
    try:
        _work_through_the_standby(node_a, node_b, client, csrf=csrf, token=token, database=database)
    finally:
        client.close()


def _work_through_the_standby(
    node_a: Node, node_b: Node, client: httpx.Client, *, csrf: str, token: str, database: Store
) -> None:
    head = EventLog(database).last_seq()
    with _feed(f"{node_b.url}/api/events?from={head}", client.cookies) as feed:
        agent = f"/api/agents/{AGENT}"
        headers = {"X-CSRF-Token": csrf}
        sat = client.post(f"{agent}/login", json={"position": POSITION}, headers=headers)
        assert sat.status_code == 200, sat.text
        ready = client.post(f"{agent}/ready", headers=headers)
        assert ready.status_code == 200, ready.text
        assert _agent(node_a, token)["state"] == "ready", "the leader did it"
        seq, _kind, _data = feed.wait_for("acd.agent_state_changed", "ready", 60)
        assert seq > 0

    agents = client.get("/api/agents").json()["agents"]
    assert [a["state"] for a in agents if a["agent"] == AGENT] == ["ready"]
    desk = client.get("/desk")
    assert desk.status_code == 200
    assert csrf in desk.text, "the page carries the session's token, rendered by the leader"
    assert client.get("/static/desk.js").status_code == 200

    before = _rows(database)
    no_token = client.post(f"{agent}/not-ready", json={"reason": "lunch"})
    assert no_token.status_code == 403
    forged = httpx.post(
        f"{node_b.url}{agent}/not-ready",
        json={"reason": "lunch"},
        headers={
            "X-Forwarded-For": "127.0.0.1",
            "X-Callcenter-Person": "admin",
            "X-Callcenter-Forwarded": "a",
            "Forwarded": "for=127.0.0.1;by=a",
        },
        timeout=30,
    )
    assert forged.status_code == 401, forged.text
    assert _rows(database) == before, "nothing refused reached the table"
    assert _agent(node_a, token)["state"] == "ready"


def test_kill_9_of_the_leader_mid_request_is_outcome_unknown_never_run_twice(
    node_a: Node, node_b: Node, database: Store
) -> None:
    """The admin stops a campaign through standby b while the leader a is blocked writing it
    (the test holds the table a writes to); a claimed the request, then is killed (kill -9).
    b takes the lease, answers the request 503 "outcome unknown" from the row a claimed, and
    does not run it again: the campaign is not stopped. Then the same browser session keeps
    working on b, now the leader."""
    _up(node_a, node_b)
    Accounts(database).set_password("admin", PASSWORD, at=time.time())
    with httpx.Client(base_url=node_b.url, timeout=60, headers={"Origin": node_b.url}) as client:
        _stop_while_the_leader_dies(node_a, node_b, client, database)


_STOP = "/api/campaigns/fibrenet-support/stop"
_stop_row = select(ForwardedRequestRow).where(ForwardedRequestRow.path == _STOP)


def _stop_while_the_leader_dies(
    node_a: Node, node_b: Node, client: httpx.Client, database: Store
) -> None:
    signed = client.post("/api/login", json={"person": "admin", "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    csrf = signed.json()["csrf_token"]
    answers: list[httpx.Response] = []

    with database.engine.connect() as blocker:
        with blocker.begin():
            blocker.execute(text("LOCK TABLE org_documents IN EXCLUSIVE MODE"))
            stop = threading.Thread(
                target=lambda: answers.append(client.post(_STOP, headers={"X-CSRF-Token": csrf}))
            )
            stop.start()
            deadline = time.monotonic() + 60
            while True:
                with database.reading("claimed?") as session:
                    row = session.scalars(_stop_row).one_or_none()
                    if row is not None and row.claimed_epoch is not None:
                        assert (row.claimed_by, row.claimed_epoch, row.status) == ("a", 1, None)
                        break
                assert time.monotonic() < deadline, "a never claimed the request"
                time.sleep(0.05)  # polling a table: nothing to wait on
            node_a.command.process.kill()
            node_a.command.process.wait(30)
        # the lock is released: a's blocked write finds its client gone and never commits
        stop.join(TTL + PERIOD + SLACK + OPEN + 60)
    assert not stop.is_alive()
    (answer,) = answers
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"] == "outcome-unknown"
    node_b.command.wait_for_line("leader b epoch 2", OPEN + 30)
    with database.reading("the row") as session:
        row = session.scalars(_stop_row).one()
        assert (row.claimed_by, row.claimed_epoch, row.status) == ("a", 1, 503)
    try:
        stopped = Documents(database).get("runtime.administration").content.get("stopped", [])
    except NotFoundError:
        stopped = []
    assert "fibrenet-support" not in stopped, "nobody ran the request after a"

    me = client.get("/api/me")
    assert me.status_code == 200, me.text
    assert me.json()["person"] == "admin", "the session signed in through b works on b the leader"


GRACE = 30.0
"""Seconds the leader waits after an agent's last desktop closed before pausing them."""


def test_the_leader_pauses_an_agent_whose_desk_on_the_standby_closed(
    node_a: Node, node_b: Node, token: str, database: Store
) -> None:
    """The agent, signed in through standby b, sits and goes ready there with their desk's live
    stream open on b; the stream closes (the tab is gone): b tells leader a, which pauses the
    agent with the reason desktop-lost after its grace time. (The leader sees nothing of b's
    streams but what b tells it: without that, the agent would stay ready.)"""
    _up(node_a, node_b)
    client, csrf = _sign_in(node_b, database)
    try:
        headers = {"X-CSRF-Token": csrf}
        agent = f"/api/agents/{AGENT}"
        with _feed(f"{node_b.url}/api/desk/events", client.cookies) as desk:
            sat = client.post(f"{agent}/login", json={"position": POSITION}, headers=headers)
            assert sat.status_code == 200, sat.text
            assert client.post(f"{agent}/ready", headers=headers).status_code == 200
            desk.wait_for("acd.agent_state_changed", "ready", 60)
        closed = time.monotonic()
        deadline = closed + GRACE + 60
        while (state := _agent(node_a, token))["state"] != "not_ready":
            assert time.monotonic() < deadline, f"not paused after the desk closed: {state}"
            time.sleep(0.5)  # polling the leader's API: nothing to wait on
        assert state["reason"] == "desktop-lost"
        print(f"paused {time.monotonic() - closed:.1f} s after the desk on b closed")
    finally:
        client.close()


ROUNDS = 100


def _percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p50 = ordered[len(ordered) // 2]
    p95 = ordered[min(len(ordered) - 1, round(len(ordered) * 0.95))]
    return f"p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"


def test_figures_of_forwarded_commands_and_of_the_standbys_feed(
    node_a: Node, node_b: Node, token: str
) -> None:
    """Figures, printed (run with -s), never asserted: the agent goes ready and pauses ROUNDS
    times through standby b (forwarded) and ROUNDS times through leader a (direct), each
    command answered 200; every pause reaches both nodes' live feeds. Printed: each way's
    command latency, and the delay from a direct command's answer to its event on each feed."""
    _up(node_a, node_b)
    bearer = {"Authorization": f"Bearer {token}"}
    agent = f"/api/agents/{AGENT}"
    with (
        httpx.Client(base_url=node_a.url, headers=bearer, timeout=60) as on_a,
        httpx.Client(base_url=node_b.url, headers=bearer, timeout=60) as on_b,
        _feed(f"{node_a.url}/api/events", None, bearer) as feed_a,
        _feed(f"{node_b.url}/api/events", None, bearer) as feed_b,
    ):
        assert on_a.post(f"{agent}/login", json={"position": POSITION}).status_code == 200
        latency: dict[str, list[float]] = {"forwarded (b)": [], "direct (a)": []}
        delay: dict[str, list[float]] = {"leader's feed (a)": [], "standby's feed (b)": []}
        for n in range(ROUNDS):
            for way, client in (("forwarded (b)", on_b), ("direct (a)", on_a)):
                for command, body in (("ready", None), ("not-ready", {"reason": f"{way}-{n}"})):
                    began = time.monotonic()
                    answer = client.post(f"{agent}/{command}", json=body)
                    latency[way].append(time.monotonic() - began)
                    assert answer.status_code == 200, answer.text
            answered = time.monotonic()
            reason = f"direct (a)-{n}"
            delay["leader's feed (a)"].append(feed_a.wait_reason(reason, 60) - answered)
            delay["standby's feed (b)"].append(feed_b.wait_reason(reason, 60) - answered)
        assert feed_b.wait_reason(f"forwarded (b)-{ROUNDS - 1}", 60) > 0
    for way, values in latency.items():
        print(f"command {way}: {_percentiles(values)} over {len(values)}")
    for feed, values in delay.items():
        print(f"answer to event on the {feed}: {_percentiles(values)} over {len(values)}")
