"""Who is asking: browser sessions, CSRF tokens, same-origin checks and login rate limits.

Browsers get a session cookie: a random id signed with the app's secret
(HMAC-SHA256), ``HttpOnly`` (no script reads it), ``SameSite=Strict`` (no
other site's page sends it) and ``Secure`` over HTTPS. The session lives in
this process's memory and, given a :class:`SessionKeeper` (the store's
:class:`~callcenter_sdk.store.Accounts`), in the store too, so a restarted
server (or another node) still knows it: a forged or stolen-then-closed id
names nothing. Every login makes a new id, whatever cookie came with it, so an
id planted before the login (session fixation) never becomes a session.

Each session has a CSRF token, an HMAC of its id: a page of ours reads it
from the login answer and sends it in the ``X-CSRF-Token`` header of every
state-changing request; another site cannot read it, and a request with a
cookie but without the token is refused. Requests whose ``Origin`` (or
``Sec-Fetch-Site``) shows another site are refused before anything else.

API clients send ``Authorization: Bearer <token>`` instead (tokens live in
the store, see :class:`~callcenter_sdk.store.Accounts`): a browser never
attaches those on its own, so they need no CSRF token.

.. versionadded:: 0.1
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Protocol

import attrs

__all__ = ["RateLimiter", "Session", "SessionBook", "SessionKeeper", "same_origin"]

COOKIE = "callcenter_session"
CSRF_HEADER = "x-csrf-token"


@attrs.frozen
class Session:
    """A browser's signed-in session.

    Attributes:
        person: The person signed in.
        csrf: The token their state-changing requests carry.
        expires: When it ends (the book's clock).
    """

    person: str
    csrf: str
    expires: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class SessionKeeper(Protocol):
    """Where sessions outlive the process (:class:`~callcenter_sdk.store.Accounts` is one).

    Its methods reach the database: call them off the event loop.

    .. versionadded:: 0.2
    """

    def keep_session(self, session_id: str, person_id: str, *, at: float) -> None:
        """Remember a new session."""

    def session_started(self, session_id: str) -> tuple[str, float] | None:
        """The person and start of a kept session, ``None`` if unknown."""

    def drop_session(self, session_id: str) -> None:
        """Forget one session."""

    def drop_sessions(self, *, person_id: str | None = None, before: float | None = None) -> int:
        """Forget a person's sessions, or those begun before a time."""


class SessionBook:
    """Browser sessions, in memory and in a keeper, behind signed cookie values.

    Without a keeper the sessions live in memory only: a restart signs
    everyone out. Methods that reach the keeper (:meth:`open`, :meth:`recall`,
    :meth:`close`, :meth:`close_person`) run on a worker thread in async code;
    :meth:`find` reads memory only.

    Args:
        secret: Signs cookie values and derives CSRF tokens (32 random bytes
            by default: then a restart makes every cookie unknown).
        lifetime: Seconds a session lasts from its login.
        now: The clock (wall seconds, as kept sessions outlive the process).
        keeper: Where sessions are kept for a restart or another node.
        recheck: Seconds a session found in memory is trusted before the
            keeper is asked again (so a logout on another node ends it here
            within that time).

    .. versionchanged:: 0.2
       ``keeper``; the clock is the wall clock by default.
    """

    def __init__(
        self,
        secret: bytes | None = None,
        *,
        lifetime: float = 8 * 3600.0,
        now: Callable[[], float] = time.time,
        keeper: SessionKeeper | None = None,
        recheck: float = 5.0,
    ) -> None:
        self._secret = secret or secrets.token_bytes(32)
        self.lifetime = lifetime
        self._now = now
        self._keeper = keeper
        self._recheck = recheck
        self._sessions: dict[str, Session] = {}
        self._checked: dict[str, float] = {}

    def _mac(self, purpose: str, value: str) -> str:
        return _b64(hmac.new(self._secret, f"{purpose}:{value}".encode(), hashlib.sha256).digest())

    def open(self, person: str) -> tuple[str, Session]:
        """Start a session for ``person``; return the cookie value and the session."""
        self._sweep()
        sid = secrets.token_urlsafe(32)
        now = self._now()
        session = Session(person=person, csrf=self._mac("csrf", sid), expires=now + self.lifetime)
        if self._keeper is not None:
            self._keeper.drop_sessions(before=now - self.lifetime)
            self._keeper.keep_session(sid, person, at=now)
        self._sessions[sid] = session
        self._checked[sid] = now
        return f"{sid}.{self._mac('cookie', sid)}", session

    def _sid(self, cookie: str) -> str | None:
        sid, _, mac = cookie.partition(".")
        if not sid or not hmac.compare_digest(mac.encode(), self._mac("cookie", sid).encode()):
            return None
        return sid

    def find(self, cookie: str | None) -> Session | None:
        """The live session a cookie value names, ``None`` if forged, closed or expired.

        Memory only: with a keeper, also ``None`` when the session was last
        confirmed by the keeper more than ``recheck`` seconds ago (then
        :meth:`recall` asks it).
        """
        sid = self._sid(cookie) if cookie else None
        session = self._sessions.get(sid) if sid else None
        now = self._now()
        if session is None or session.expires <= now:
            return None
        if self._keeper is not None and now - self._checked.get(sid or "", now) >= self._recheck:
            return None
        return session

    def recall(self, cookie: str | None) -> Session | None:
        """Like :meth:`find`, then from the keeper: a session begun before a restart.

        .. versionadded:: 0.2
        """
        found = self.find(cookie)
        sid = self._sid(cookie) if cookie and found is None else None
        if sid is None or self._keeper is None:
            return found
        kept = self._keeper.session_started(sid)
        now = self._now()
        if kept is None:
            self._forget(sid)
            return None
        person, began = kept
        session = Session(person=person, csrf=self._mac("csrf", sid), expires=began + self.lifetime)
        if session.expires <= now:
            self._forget(sid)
            return None
        self._sessions[sid] = session
        self._checked[sid] = now
        return session

    def _forget(self, sid: str) -> None:
        self._sessions.pop(sid, None)
        self._checked.pop(sid, None)

    def close(self, cookie: str | None) -> None:
        """End the session a cookie value names (logging out; idempotent)."""
        sid = self._sid(cookie) if cookie else None
        if sid:
            self._forget(sid)
            if self._keeper is not None:
                self._keeper.drop_session(sid)

    def close_person(self, person: str) -> None:
        """End every session of ``person`` (their password changed, they left)."""
        for sid in [s for s, v in self._sessions.items() if v.person == person]:
            self._forget(sid)
        if self._keeper is not None:
            self._keeper.drop_sessions(person_id=person)

    def __len__(self) -> int:
        return len(self._sessions)

    def _sweep(self) -> None:
        now = self._now()
        for sid in [s for s, v in self._sessions.items() if v.expires <= now]:
            self._forget(sid)


class RateLimiter:
    """At most ``limit`` failures per key in any ``window`` seconds.

    Login failures are counted per account (guessing one person's password)
    and per client address (trying many people's): once a key reaches the
    limit, every attempt with it is refused until its oldest failure is
    ``window`` seconds old, right password or not, so guessing gains nothing
    by going on.

    Args:
        limit: Failures allowed in a window.
        window: Seconds.
        now: The clock (monotonic seconds).
    """

    def __init__(
        self, limit: int, window: float, *, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._now = now
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may try again (0: it may now)."""
        times = self._failures.get(key)
        if not times:
            return 0.0
        now = self._now()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return 0.0
        return times[0] + self.window - now if len(times) >= self.limit else 0.0

    def failed(self, key: str) -> None:
        """Count a failure of ``key``."""
        times = self._failures.setdefault(key, deque())
        times.append(self._now())
        while len(times) > self.limit:
            times.popleft()
        if len(self._failures) > 100_000:  # a flood of keys: forget the quietest
            for stale in [k for k, v in self._failures.items() if len(v) < self.limit][:50_000]:
                del self._failures[stale]

    def clear(self, key: str) -> None:
        """Forget ``key``'s failures (the person logged in)."""
        self._failures.pop(key, None)


def same_origin(
    origin: str | None, fetch_site: str | None, own: str, allowed: Iterable[str]
) -> bool:
    """Whether a request comes from one of our own pages (or from no browser page at all).

    Args:
        origin: The ``Origin`` header, if any.
        fetch_site: The ``Sec-Fetch-Site`` header, if any.
        own: This server's origin as the request reached it (``http://host:port``).
        allowed: Other origins trusted like ours (a front end on another port).
    """
    if origin is not None and origin != "null":
        return origin == own or origin in set(allowed)
    if origin == "null":
        return False  # a sandboxed frame or a privacy redirect: nothing we served
    return fetch_site in (None, "same-origin", "none")
