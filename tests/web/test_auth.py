"""Authentication: who may call the API, and how they prove it."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from starlette.routing import Route

from callcenter_sdk import ValidationError
from callcenter_sdk.store import Accounts, ScryptCost, Store
from callcenter_sdk.store._rows import AccountRow
from callcenter_sdk.web import RateLimiter, SessionBook

from .conftest import PASSWORD, PEOPLE, Rig


async def _me_with(rig: Rig, cookie: str) -> int:
    """The status of ``/api/me`` for a client holding only this session cookie."""
    async with rig.client() as client:
        client.cookies.set("callcenter_session", cookie, domain="testserver.local")
        return (await client.get("/api/me")).status_code


def _paths(rig: Rig) -> list[tuple[str, str]]:
    params = {"{agent}": "ag.alice", "{contact}": "c-1", "{campaign}": "acme-hotline"}
    found = []
    for route in rig.app.routes:
        if isinstance(route, Route) and route.path.startswith("/api/"):
            path = route.path
            for name, value in params.items():
                path = path.replace(name, value)
            found += [(m, path) for m in sorted((route.methods or set()) - {"HEAD"})]
    return found


async def test_every_route_refuses_a_request_without_credentials(rig: Rig) -> None:
    """Without a session or a token each route answers 401 and changes nothing
    (login and token creation: 401 for a wrong password)."""
    async with rig.client() as client:
        for method, path in _paths(rig):
            body = {"person": "ag.alice", "password": "wrong password"}
            answer = await client.request(method, path, json=body)
            assert answer.status_code == 401, (method, path, answer.text)
            assert answer.json()["error"] == "unauthorized"
        assert await _me_with(rig, "abc.def") == 401
        answer = await client.get("/api/me", headers={"Authorization": "Bearer nope"})
        assert answer.status_code == 401
        answer = await client.get("/api/me", headers={"Authorization": "Basic eDp5"})
        assert answer.status_code == 401


async def test_state_changes_need_the_csrf_token_and_our_origin(rig: Rig) -> None:
    """With a valid session cookie, a command without the CSRF header, with
    another session's token, from another site's Origin or with
    ``Sec-Fetch-Site: cross-site`` is a 403 and does nothing; from our own
    origin with the token it passes. Reads need no token."""
    async with rig.client() as alice, rig.client() as farid:
        token = await rig.login(alice, "ag.alice")
        other = await rig.login(farid, "ag.farid")
        del alice.headers["X-CSRF-Token"]
        ready = "/api/agents/ag.alice/ready"
        refusals = [
            ({}, "csrf"),
            ({"X-CSRF-Token": other}, "csrf"),
            ({"X-CSRF-Token": token, "Origin": "https://evil.example"}, "cross-site"),
            ({"X-CSRF-Token": token, "Origin": "null"}, "cross-site"),
            ({"X-CSRF-Token": token, "Sec-Fetch-Site": "cross-site"}, "cross-site"),
        ]
        for headers, error in refusals:
            answer = await alice.post(ready, headers=headers)
            assert (answer.status_code, answer.json()["error"]) == (403, error), headers
        assert rig.center.engine.agent_status("ag.alice").state.value == "not_ready"
        assert (await alice.get("/api/me")).status_code == 200
        own = {
            "X-CSRF-Token": token,
            "Origin": "http://testserver",
            "Sec-Fetch-Site": "same-origin",
        }
        assert (await alice.post(ready, headers=own)).status_code == 200
        assert rig.center.engine.agent_status("ag.alice").state.value == "ready"
        login = {"person": "ag.alice", "password": PASSWORD}
        cross = await alice.post(
            "/api/login", json=login, headers={"Origin": "https://evil.example"}
        )
        assert cross.status_code == 403  # no login CSRF either


async def test_a_session_cannot_be_fixed(rig: Rig) -> None:
    """A session id planted before the login is never the one issued; each
    login issues a new one, the cookie is HttpOnly and SameSite=Strict, and
    after logout the old cookie opens nothing."""
    async with rig.client() as client:
        client.cookies.set("callcenter_session", "planted.value", domain="testserver.local")
        answer = await client.post("/api/login", json={"person": "ag.alice", "password": PASSWORD})
        header = answer.headers["set-cookie"].lower()
        assert "httponly" in header
        assert "samesite=strict" in header
        first = client.cookies["callcenter_session"]
        assert first != "planted.value"
        await rig.login(client, "ag.alice")
        second = client.cookies["callcenter_session"]
        assert second != first
        assert await _me_with(rig, first) == 401
        assert (await client.get("/api/me")).status_code == 200
        assert (await client.post("/api/logout")).status_code == 200
        assert await _me_with(rig, second) == 401


async def test_api_clients_use_a_bearer_token_until_revoked(rig: Rig) -> None:
    """A token traded for the password works without cookie or CSRF token,
    acts as its person, and stops working once revoked."""
    async with rig.client() as client:
        login = {"person": "ag.farid", "password": PASSWORD, "label": "crm"}
        token = (await client.post("/api/tokens", json=login)).json()["token"]
        bearer = {"Authorization": f"Bearer {token}"}
        me = await client.get("/api/me", headers=bearer)
        assert me.json()["person"] == "ag.farid"
        assert (await client.post("/api/agents/ag.farid/ready", headers=bearer)).status_code == 200
        assert rig.center.engine.agent_status("ag.farid").state.value == "ready"
        assert (await client.delete("/api/tokens/current", headers=bearer)).status_code == 200
        assert (await client.get("/api/me", headers=bearer)).status_code == 401


async def test_login_is_rate_limited_per_account_and_per_address(rig: Rig) -> None:
    """Five wrong passwords lock alice's account (429 with Retry-After, even
    with the right password) while others still log in; twenty failures from
    one address lock that address for everyone."""
    async with rig.client() as client:
        for _ in range(5):
            wrong = await client.post(
                "/api/login", json={"person": "ag.alice", "password": "x" * 9}
            )
            assert wrong.status_code == 401
        right = {"person": "ag.alice", "password": PASSWORD}
        locked = await client.post("/api/login", json=right)
        assert locked.status_code == 429
        assert int(locked.headers["retry-after"]) > 800
        assert (await client.post("/api/tokens", json=right)).status_code == 429
        await rig.login(client, "ag.farid")
        others = [p for p in PEOPLE if p != "ag.alice"]
        for i in range(15):
            body = {"person": others[i % len(others)], "password": "not it at all"}
            assert (await client.post("/api/login", json=body)).status_code == 401
        refused = await client.post("/api/login", json={"person": "d.moreau", "password": PASSWORD})
        assert refused.status_code == 429


def test_the_rate_limiter_forgets_failures_older_than_its_window() -> None:
    """At the limit a key waits until its oldest failure leaves the window; a
    success clears the key."""
    now = [0.0]
    limiter = RateLimiter(2, 60.0, now=lambda: now[0])
    limiter.failed("k")
    now[0] = 10.0
    limiter.failed("k")
    assert limiter.retry_after("k") == pytest.approx(50.0)
    now[0] = 60.0
    assert limiter.retry_after("k") == 0.0
    limiter.failed("k")
    assert limiter.retry_after("k") == pytest.approx(10.0)
    limiter.clear("k")
    assert limiter.retry_after("k") == 0.0


def test_sessions_expire_and_a_tampered_cookie_names_nothing() -> None:
    """A session ends after its lifetime; a cookie whose id or signature was
    changed finds nothing; two sessions never share an id or CSRF token."""
    now = [0.0]
    book = SessionBook(b"k" * 32, lifetime=100.0, now=lambda: now[0])
    cookie, session = book.open("ag.alice")
    other, second = book.open("ag.alice")
    assert cookie != other
    assert session.csrf != second.csrf
    assert book.find(cookie) == session
    sid, _, mac = cookie.partition(".")
    assert book.find(f"{sid}x.{mac}") is None
    assert book.find(f"{sid}.{mac[:-1]}{'B' if mac.endswith('A') else 'A'}") is None
    assert SessionBook(b"j" * 32).find(cookie) is None
    now[0] = 100.0
    assert book.find(cookie) is None


async def test_a_session_outlives_the_server_and_a_logout_ends_it_everywhere(rig: Rig) -> None:
    """A second app on the same store (a restarted server, another node) knows
    a session begun on the first, with the same CSRF token, so the page's
    commands still pass; after logging out on the second, it no longer knows
    the cookie (the first learns it on its next look at the store: see
    ``test_kept_sessions_are_not_bearer_tokens_and_expire``)."""
    from callcenter_sdk.web import create_app

    again = create_app(rig.center, accounts=rig.accounts, poll=0.05)
    async with again.router.lifespan_context(again), rig.client() as alice:
        token = await rig.login(alice, "ag.alice")
        cookie = alice.cookies["callcenter_session"]
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=again), base_url="http://testserver"
        ) as restarted:
            restarted.cookies.set("callcenter_session", cookie, domain="testserver.local")
            assert (await restarted.get("/api/me")).json()["person"] == "ag.alice"
            ready = "/api/agents/ag.alice/ready"
            answer = await restarted.post(ready, headers={"X-CSRF-Token": token})
            assert answer.status_code == 200, answer.text
            assert rig.center.engine.agent_status("ag.alice").state.value == "ready"
            logout = await restarted.post("/api/logout", headers={"X-CSRF-Token": token})
            assert logout.status_code == 200
            restarted.cookies.set("callcenter_session", cookie, domain="testserver.local")
            assert (await restarted.get("/api/me")).status_code == 401


def test_kept_sessions_are_not_bearer_tokens_and_expire(store: Store) -> None:
    """A kept browser session's id is refused as a bearer token (and cannot be
    revoked as one), no token may take the sessions' label, a book with a
    keeper recalls a session begun by another book until its lifetime ends,
    a logout in one book ends the session in another once its ``recheck``
    time has passed, and a new login sweeps the store of sessions past their
    lifetime."""
    from callcenter_sdk.store._accounts import SESSION_LABEL

    accounts = Accounts(store)
    now = [1_000.0]
    first = SessionBook(b"k" * 32, lifetime=100.0, now=lambda: now[0], keeper=accounts)
    cookie, session = first.open("ag.alice")
    sid = cookie.partition(".")[0]
    assert accounts.token_owner(sid) is None
    assert not accounts.revoke_token(sid)
    with pytest.raises(ValidationError, match="browser sessions"):
        accounts.create_token("ag.alice", at=1.0, label=SESSION_LABEL)
    second = SessionBook(b"k" * 32, lifetime=100.0, now=lambda: now[0], keeper=accounts)
    assert second.find(cookie) is None  # memory only
    assert second.recall(cookie) == session
    kept, kept_session = first.open("ag.bruno")
    assert second.recall(kept) == kept_session
    first.close(kept)
    assert second.find(kept) == kept_session  # trusted for `recheck` seconds
    now[0] += 5.0
    assert second.find(kept) is None
    assert second.recall(kept) is None
    now[0] = 1_000.0
    assert SessionBook(b"j" * 32, keeper=accounts).recall(cookie) is None  # another secret
    third = SessionBook(b"k" * 32, lifetime=100.0, now=lambda: now[0], keeper=accounts)
    now[0] = 1_150.0
    assert third.recall(cookie) is None
    third.open("ag.farid")  # sweeps alice's old session from the store
    assert accounts.session_started(sid) is None


def test_the_cookie_secret_is_made_once_per_store(store: Store) -> None:
    """Every ``Accounts`` of one store gets the same 32-byte cookie secret, made
    on first use; another store gets another."""
    from callcenter_sdk.store import create_store

    secret = Accounts(store).cookie_secret(at=1.0)
    assert len(secret) == 32
    assert Accounts(store).cookie_secret(at=2.0) == secret
    with create_store("sqlite://") as other:
        assert Accounts(other).cookie_secret(at=1.0) != secret


def test_passwords_are_stored_as_salted_scrypt_hashes(store: Store) -> None:
    """Two people with one password get different hashes, neither holding the
    password; the right password matches, a wrong one, an unknown person and
    a person without a password do not; a hash made with older parameters
    still matches and is reported stale; too short a password is refused."""
    accounts = Accounts(store)
    accounts.set_password("ag.alice", "same password", at=1.0)
    accounts.set_password("ag.bruno", "same password", at=1.0)
    with store.transaction("read") as session:
        hashes = session.scalars(select(AccountRow.password_hash)).all()
    assert len(set(hashes)) == 2
    assert all(h.startswith("scrypt$16384$8$1$") and "same password" not in h for h in hashes)
    assert accounts.check_password("ag.alice", "same password").ok
    assert not accounts.check_password("ag.alice", "same passwore").ok
    assert not accounts.check_password("nobody", "same password").ok
    weaker = Accounts(store, cost=ScryptCost(n=2**10))
    weaker.set_password("ag.chloe", "another password", at=2.0)
    check = accounts.check_password("ag.chloe", "another password")
    assert (check.ok, check.stale) == (True, True)
    with pytest.raises(ValidationError, match="8 to 1024"):
        accounts.set_password("ag.alice", "short", at=3.0)
    token = accounts.create_token("ag.alice", at=4.0)
    assert accounts.token_owner(token) == "ag.alice"
    accounts.remove("ag.alice")
    assert accounts.token_owner(token) is None
    assert not accounts.has_password("ag.alice")
    assert not accounts.check_password("ag.alice", "same password").ok
