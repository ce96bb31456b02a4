"""The endpoints: small functions over a running call center, its accounts and its feed.

Every command names the authenticated person as the actor: nothing in a
request body says who acts. The runtime checks the person's rights
(:mod:`callcenter_sdk.runtime` raises :class:`~callcenter_sdk.PermissionDenied`);
the read endpoints and the live events show only what the org lets the
person see (:func:`~callcenter_sdk.web._scope.may_see`).

Each endpoint's docstring ends with its OpenAPI fragment (after ``---``),
which :func:`~callcenter_sdk.web.create_app` serves at ``/openapi.json``.

.. versionadded:: 0.1
"""

from __future__ import annotations

import hmac
import json
from collections.abc import AsyncIterator, Iterable
from typing import Any

import anyio.to_thread
import attrs
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .._errors import CallCenterError, ValidationError
from ..acd import AgentStatus
from ..media import MonitorMode
from ..org import PERMISSIONS, Action, Org, Placement
from ..runtime import CallCenter
from ..store import Accounts
from ._auth import COOKIE, CSRF_HEADER, RateLimiter, Session, SessionBook, same_origin
from ._errors import HttpError
from ._feed import LiveFeed
from ._scope import Grant, Judgements, Visibility, may_see

__all__ = ["Api", "Identity"]

_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
_MAX_BODY = 64 * 1024


@attrs.frozen
class Identity:
    """The authenticated person of a request.

    Attributes:
        person: Their id in the org.
        session: Their browser session (``None`` for a bearer token).
        cookie: The session's cookie value, to notice a logout mid-stream.
    """

    person: str
    session: Session | None = None
    cookie: str | None = None


def _ok(**fields: Any) -> JSONResponse:
    return JSONResponse({"ok": True, **fields})


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    if len(raw) > _MAX_BODY:
        raise ValidationError(f"the body is {len(raw)} bytes; the limit is {_MAX_BODY}")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ValidationError("the body must be a JSON object")
    return body


def _text(body: dict[str, Any], name: str, default: str | None = None) -> str:
    value = body.get(name, default)
    if value is None:
        raise ValidationError(f"{name} is missing")
    if not isinstance(value, str) or not value or len(value) > 10_000:
        raise ValidationError(f"{name} must be a non-empty string")
    return value


def _optional_int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise ValidationError(f"{name} must be an integer")
    return value


class Api:
    """The endpoints of one app, with everything they need passed in.

    Args:
        center: The running call center (its org decides who may see and do what).
        accounts: Passwords and API tokens.
        sessions: Browser sessions.
        feed: The live events.
        per_account: Login failures allowed per account.
        per_address: Login failures allowed per client address.
        allowed_origins: Origins trusted like this server's own.
        secure_cookies: Mark the cookie ``Secure`` (``None``: when the request is HTTPS).
        center_id: The center unplaceable figures belong to.
        ping: Seconds between keep-alive comments on the live events.
        retry_ms: The reconnection delay the live events suggest to browsers.
    """

    def __init__(
        self,
        center: CallCenter,
        *,
        accounts: Accounts,
        sessions: SessionBook,
        feed: LiveFeed,
        per_account: RateLimiter,
        per_address: RateLimiter,
        allowed_origins: Iterable[str] = (),
        secure_cookies: bool | None = None,
        center_id: str | None = None,
        ping: float = 15.0,
        retry_ms: int = 1_000,
    ) -> None:
        self.center = center
        self.accounts = accounts
        self.sessions = sessions
        self.feed = feed
        self.per_account = per_account
        self.per_address = per_address
        self.allowed_origins = frozenset(allowed_origins)
        self.secure_cookies = secure_cookies
        self.center_id = center_id
        self.ping = ping
        self.retry_ms = retry_ms
        self.judgements = Judgements()

    # -- who asks ---------------------------------------------------------------------------
    @property
    def org(self) -> Org:
        """The org now (read on every request and event: it may be replaced)."""
        org = self.center.config.org
        if org is None:  # create_app refuses a center without one
            raise HttpError(503, "no-org", "this call center has no org")
        return org

    def _check_origin(self, request: Request) -> None:
        own = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"
        origin = request.headers.get("origin")
        if not same_origin(
            origin, request.headers.get("sec-fetch-site"), own, self.allowed_origins
        ):
            raise HttpError(403, "cross-site", f"requests from {origin or 'another site'} refused")

    async def identify(self, request: Request) -> Identity:
        """The authenticated person; a state-changing request must also pass the CSRF checks.

        Raises:
            HttpError: 401 without valid credentials, 403 from another site or
                without the session's CSRF token.
        """
        if request.method not in _SAFE:
            self._check_origin(request)
        identity = await self._credentials(request)
        try:
            self.org.person(identity.person)
        except CallCenterError:
            raise _unauthorized("the person is no longer in the org") from None
        if identity.session is not None and request.method not in _SAFE:
            sent = request.headers.get(CSRF_HEADER, "")
            if not sent or not _equal(sent, identity.session.csrf):
                raise HttpError(403, "csrf", f"the {CSRF_HEADER} header is missing or wrong")
        return identity

    async def _credentials(self, request: Request) -> Identity:
        header = request.headers.get("authorization")
        if header is not None:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise _unauthorized("use Authorization: Bearer <token>")
            person = await anyio.to_thread.run_sync(self.accounts.token_owner, token.strip())
            if person is None:
                raise _unauthorized("unknown or revoked token")
            return Identity(person)
        cookie = request.cookies.get(COOKIE)
        session = self.sessions.find(cookie)
        if session is None and cookie:  # not confirmed lately, begun before a restart...
            session = await anyio.to_thread.run_sync(self.sessions.recall, cookie)
        if session is None:
            raise _unauthorized("log in first")
        return Identity(session.person, session, cookie)

    async def _signed_in(self, cookie: str | None) -> bool:
        """Whether the session of ``cookie`` still lives (asking the store now and then)."""
        if self.sessions.find(cookie) is not None:
            return True
        return await anyio.to_thread.run_sync(self.sessions.recall, cookie) is not None

    # -- accounts ---------------------------------------------------------------------------
    async def _check_login(self, request: Request) -> tuple[str, dict[str, Any]]:
        """Check a person and password, rate-limited; return the person and the body."""
        self._check_origin(request)
        body = await _body(request)
        person = _text(body, "person")
        address = request.client.host if request.client else "unknown"
        wait = max(
            self.per_account.retry_after(f"person:{person}"),
            self.per_address.retry_after(f"address:{address}"),
        )
        if wait > 0:
            raise HttpError(
                429,
                "too-many-attempts",
                f"too many failed logins: try again in {wait:.0f} s",
                headers={"Retry-After": str(max(1, round(wait)))},
            )
        password = body.get("password")
        check = await anyio.to_thread.run_sync(
            self.accounts.check_password, person, password if isinstance(password, str) else ""
        )
        known = self._known(person)
        if not (check.ok and known):
            self.per_account.failed(f"person:{person}")
            self.per_address.failed(f"address:{address}")
            raise _unauthorized("wrong person or password")
        self.per_account.clear(f"person:{person}")
        return person, body

    def _known(self, person: str) -> bool:
        try:
            self.org.person(person)
        except CallCenterError:
            return False
        return True

    async def login(self, request: Request) -> Response:
        """Log in with a password: a new session cookie and its CSRF token.

        ---
        summary: Log in (browsers)
        tags: [accounts]
        requestBody:
          content:
            application/json:
              schema:
                type: object
                required: [person, password]
                properties:
                  person: {type: string}
                  password: {type: string}
        responses:
          200: {description: "The person, role and csrf_token; the session cookie is set."}
          401: {description: Wrong person or password.}
          403: {description: The request comes from another site.}
          429: {description: Too many failed attempts for this person or address.}
        """
        person, _ = await self._check_login(request)
        # a new id at every login
        await anyio.to_thread.run_sync(self.sessions.close, request.cookies.get(COOKIE))
        cookie, session = await anyio.to_thread.run_sync(self.sessions.open, person)
        role = self.org.person(person).role.value
        response = JSONResponse({"person": person, "role": role, "csrf_token": session.csrf})
        secure = (
            request.url.scheme == "https" if self.secure_cookies is None else self.secure_cookies
        )
        response.set_cookie(
            COOKIE,
            cookie,
            max_age=int(self.sessions.lifetime),
            httponly=True,
            samesite="strict",
            secure=secure,
            path="/",
        )
        return response

    async def logout(self, request: Request) -> Response:
        """End the browser session.

        ---
        summary: Log out
        tags: [accounts]
        responses:
          200: {description: The session is closed and the cookie cleared.}
        """
        identity = await self.identify(request)
        await anyio.to_thread.run_sync(self.sessions.close, identity.cookie)
        response = _ok()
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response

    async def create_token(self, request: Request) -> Response:
        """Trade a person's password for a bearer token (API clients; shown once).

        ---
        summary: Get an API token
        tags: [accounts]
        requestBody:
          content:
            application/json:
              schema:
                type: object
                required: [person, password]
                properties:
                  person: {type: string}
                  password: {type: string}
                  label: {type: string}
        responses:
          200: {description: "{token}: send it as Authorization: Bearer <token>."}
          401: {description: Wrong person or password.}
          429: {description: Too many failed attempts.}
        """
        person, body = await self._check_login(request)
        label = _text(body, "label", "api")
        at = self.center.clock.now()
        token = await anyio.to_thread.run_sync(
            lambda: self.accounts.create_token(person, at=at, label=label)
        )
        return JSONResponse({"person": person, "token": token})

    async def revoke_token(self, request: Request) -> Response:
        """Revoke the bearer token this request carries.

        ---
        summary: Revoke the current API token
        tags: [accounts]
        responses:
          200: {description: The token no longer works.}
          401: {description: No valid bearer token.}
        """
        identity = await self.identify(request)
        if identity.session is not None:
            raise _unauthorized("this request carries no bearer token")
        token = request.headers["authorization"].partition(" ")[2].strip()
        await anyio.to_thread.run_sync(self.accounts.revoke_token, token)
        return _ok()

    # -- reading ----------------------------------------------------------------------------
    async def me(self, request: Request) -> Response:
        """Who the authenticated person is, their place in the org and their reach per action.

        ---
        summary: The authenticated person
        tags: [reading]
        responses:
          200:
            description: >-
              person, name, role, scope (centers, floors, campaigns, teams) and
              permissions (each action's reach).
          401: {description: Not authenticated.}
        """
        identity = await self.identify(request)
        org = self.org
        person = org.person(identity.person)
        reach = org.reach(person.id)
        return JSONResponse(
            {
                "person": person.id,
                "name": person.name,
                "role": person.role.value,
                "scope": {
                    "centers": sorted(reach.centers),
                    "floors": sorted(reach.floors),
                    "campaigns": sorted(reach.campaigns),
                    "teams": sorted(reach.teams),
                },
                "permissions": {
                    action.value: PERMISSIONS[person.role][action].name.lower() for action in Action
                },
            }
        )

    def _figures(self, placement: Placement) -> Visibility:
        return Visibility((Grant(placement, (Action.VIEW_KPIS,)),), center=self.center_id)

    async def agents(self, request: Request) -> Response:
        """The state of every agent whose figures the person may see.

        ---
        summary: Agents' states
        tags: [reading]
        responses:
          200:
            description: >-
              agents: [{agent, state, presence, reason, on_hold, offers, contacts,
              wrap_up, wrap_up_until}]
          401: {description: Not authenticated.}
        """
        identity = await self.identify(request)
        org, engine = self.org, self.center.engine
        shown = [
            _agent(engine.agent_status(agent))
            for agent in engine.agent_ids()
            if may_see(org, identity.person, self._figures(Placement(person=agent)))
        ]
        return JSONResponse({"agents": shown})

    async def queues(self, request: Request) -> Response:
        """The figures of every queue whose campaign the person may see the figures of.

        ---
        summary: Queues' figures
        tags: [reading]
        responses:
          200:
            description: >-
              queues: [{queue, campaign, waiting, oldest_wait, logged_in, available,
              average_handle_time, estimated_wait}]
          401: {description: Not authenticated.}
        """
        identity = await self.identify(request)
        org, engine = self.org, self.center.engine
        campaigns = self.center.config.campaigns
        shown = []
        for queue in engine.queue_names():
            campaign = campaigns.get(queue)
            place = Placement(campaign=campaign, center=None if campaign else self.center_id)
            if may_see(org, identity.person, self._figures(place)):
                status = attrs.asdict(engine.queue_status(queue))
                shown.append({**status, "campaign": campaign})
        return JSONResponse({"queues": shown})

    # -- agents' state ----------------------------------------------------------------------
    async def set_ready(self, request: Request) -> Response:
        """Make an agent ready for contacts (themself, or one their role reaches).

        ---
        summary: Ready
        tags: [agents]
        responses:
          200: {description: Done.}
          403: {description: The person may not change this agent's state.}
          404: {description: No such agent.}
          409: {description: The agent's state does not allow it.}
        """
        who = (await self.identify(request)).person
        await self.center.set_ready(request.path_params["agent"], actor=who)
        return _ok()

    async def set_not_ready(self, request: Request) -> Response:
        """Pause an agent with a reason (``break`` by default).

        ---
        summary: Not ready
        tags: [agents]
        requestBody:
          content:
            application/json:
              schema: {type: object, properties: {reason: {type: string}}}
        responses:
          200: {description: Done.}
          403: {description: The person may not change this agent's state.}
          422: {description: A bad reason.}
        """
        who = (await self.identify(request)).person
        reason = _text(await _body(request), "reason", "break")
        await self.center.set_not_ready(request.path_params["agent"], reason, actor=who)
        return _ok()

    async def end_wrap_up(self, request: Request) -> Response:
        """End an agent's wrap-up before its timer.

        ---
        summary: End wrap-up
        tags: [agents]
        responses:
          200: {description: Done.}
          403: {description: The person may not change this agent's state.}
          409: {description: The agent is not in wrap-up.}
        """
        who = (await self.identify(request)).person
        await self.center.end_wrap_up(request.path_params["agent"], actor=who)
        return _ok()

    async def reject(self, request: Request) -> Response:
        """Decline the contact ringing at an agent's desk; the ACD offers it elsewhere.

        ---
        summary: Reject the ringing offer
        tags: [agents]
        requestBody:
          content:
            application/json:
              schema: {type: object, properties: {reason: {type: string}}}
        responses:
          200: {description: Done.}
          403: {description: The person may not change this agent's state.}
          409: {description: Nothing rings for the agent.}
        """
        who = (await self.identify(request)).person
        reason = _text(await _body(request), "reason", "declined")
        await self.center.reject(request.path_params["agent"], actor=who, reason=reason)
        return _ok()

    async def monitor(self, request: Request) -> Response:
        """Listen, whisper or barge on an agent's live call from the person's own phone.

        ---
        summary: Monitor an agent
        tags: [agents]
        requestBody:
          content:
            application/json:
              schema:
                type: object
                required: [mode, device]
                properties:
                  mode: {type: string, enum: [listen, whisper, barge]}
                  device: {type: string, description: "The SIP URI of the person's phone."}
        responses:
          200: {description: "{call_id}: the monitoring leg (hang it up to stop)."}
          403: {description: The person may not monitor this agent in this mode.}
          409: {description: The agent is not on a call.}
        """
        who = (await self.identify(request)).person
        body = await _body(request)
        mode_name = _text(body, "mode")
        try:
            mode = MonitorMode(mode_name)
        except ValueError:
            modes = ", ".join(m.value for m in MonitorMode)
            raise ValidationError(f"mode must be one of {modes}, not {mode_name!r}") from None
        device = _text(body, "device")
        leg = await self.center.monitor(
            request.path_params["agent"], mode, actor=who, device=device
        )
        return _ok(call_id=leg)

    async def login_agent(self, request: Request) -> Response:
        """Log an agent in at a position (``center:number``) allocated to their campaign.

        ---
        summary: Log in at a position
        tags: [agents]
        requestBody:
          content:
            application/json:
              schema: {type: object, required: [position], properties: {position: {type: string}}}
        responses:
          200: {description: Done; the position's phone rings for the agent from now on.}
          403: {description: The person may not change this agent's state.}
          404: {description: No such agent or position.}
          409: {description: Someone else sits there.}
          422: {description: The position is not allocated to the agent's campaign.}
        """
        who = (await self.identify(request)).person
        position = _text(await _body(request), "position")
        await self.center.login(request.path_params["agent"], position=position, actor=who)
        return _ok()

    async def logout_agent(self, request: Request) -> Response:
        """Log an agent out once their current contacts end; the position is free again.

        ---
        summary: Log out of the position
        tags: [agents]
        responses:
          200: {description: Done.}
          403: {description: The person may not change this agent's state.}
        """
        who = (await self.identify(request)).person
        await self.center.logout(request.path_params["agent"], actor=who)
        return _ok()

    async def allocate_seats(self, request: Request) -> Response:
        """Allocate seats (numbers in the campaign's center) to a campaign (administrators).

        ---
        summary: Allocate seats to a campaign
        tags: [campaigns]
        requestBody:
          content:
            application/json:
              schema:
                type: object
                required: [seats]
                properties: {seats: {type: array, items: {type: integer}}}
        responses:
          200: {description: Done; the campaign's agents may log in there.}
          403: {description: The person may not manage this campaign's seats.}
          422: {description: A seat does not exist or belongs to another campaign.}
        """
        who = (await self.identify(request)).person
        seats = (await _body(request)).get("seats")
        if not isinstance(seats, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) for n in seats
        ):
            raise ValidationError("seats must be a list of seat numbers")
        await self.center.allocate_seats(request.path_params["campaign"], seats, actor=who)
        return _ok()

    # -- contacts ---------------------------------------------------------------------------
    async def dispose(self, request: Request) -> Response:
        """Record how a contact ended; a solved one resolves its ticket.

        ---
        summary: Dispose
        tags: [contacts]
        requestBody:
          content:
            application/json:
              schema:
                type: object
                required: [disposition]
                properties: {disposition: {type: string}}
        responses:
          200: {description: Done.}
          403: {description: The person may not handle this contact.}
          422: {description: No disposition.}
        """
        who = (await self.identify(request)).person
        disposition = _text(await _body(request), "disposition")
        await self.center.dispose(request.path_params["contact"], disposition, actor=who)
        return _ok()

    async def escalate(self, request: Request) -> Response:
        """Hand the contact's ticket to level 2, saying why.

        ---
        summary: Escalate
        tags: [contacts]
        requestBody:
          content:
            application/json:
              schema: {type: object, required: [reason], properties: {reason: {type: string}}}
        responses:
          200: {description: Done.}
          403: {description: The person may not handle this contact.}
          409: {description: The contact has no ticket open here.}
        """
        who = (await self.identify(request)).person
        reason = _text(await _body(request), "reason")
        await self.center.escalate(request.path_params["contact"], reason, actor=who)
        return _ok()

    async def note(self, request: Request) -> Response:
        """Write a note on the contact's ticket, signed by the person.

        ---
        summary: Add a note
        tags: [contacts]
        requestBody:
          content:
            application/json:
              schema:
                type: object
                required: [text]
                properties:
                  text: {type: string}
                  internal: {type: boolean}
                  expected_version:
                    type: integer
                    description: The ticket version shown; 409 if it changed since.
        responses:
          200: {description: Done.}
          403: {description: The person may not handle this contact.}
          409: {description: The ticket changed since expected_version, or there is none.}
        """
        who = (await self.identify(request)).person
        body = await _body(request)
        internal = body.get("internal", False)
        if not isinstance(internal, bool):
            raise ValidationError("internal must be true or false")
        await self.center.note(
            request.path_params["contact"],
            _text(body, "text"),
            actor=who,
            internal=internal,
            expected_version=_optional_int(body, "expected_version"),
        )
        return _ok()

    async def hangup(self, request: Request) -> Response:
        """End a live call from the desktop (the agent's leg and the caller's).

        ---
        summary: Hang up
        tags: [contacts]
        responses:
          200: {description: Done.}
          403: {description: The person may not handle this contact.}
          404: {description: No live call has this id.}
        """
        who = (await self.identify(request)).person
        await self.center.hangup(request.path_params["contact"], actor=who)
        return _ok()

    async def transfer(self, request: Request) -> Response:
        """Send a connected contact to another queue; the agent leaves the call.

        ---
        summary: Transfer to a queue
        tags: [contacts]
        requestBody:
          content:
            application/json:
              schema: {type: object, required: [queue], properties: {queue: {type: string}}}
        responses:
          200: {description: Done.}
          403: {description: The person may not handle this contact.}
          409: {description: The contact is not connected to an agent.}
        """
        who = (await self.identify(request)).person
        queue = _text(await _body(request), "queue")
        await self.center.transfer(request.path_params["contact"], queue, actor=who)
        return _ok()

    async def blind_transfer(self, request: Request) -> Response:
        """Transfer a connected contact to an outside number; the agent leaves.

        ---
        summary: Blind transfer to a number
        tags: [contacts]
        requestBody:
          content:
            application/json:
              schema: {type: object, required: [number], properties: {number: {type: string}}}
        responses:
          200: {description: Done.}
          403:
            description: >-
              The person may not handle this contact, or the dial plan refuses the number.
          409: {description: The contact is not connected to an agent.}
        """
        who = (await self.identify(request)).person
        number = _text(await _body(request), "number")
        await self.center.blind_transfer(request.path_params["contact"], number, actor=who)
        return _ok()

    async def attended_transfer(self, request: Request) -> Response:
        """Consult a colleague (``to_agent``) or a number while the caller hears hold music.

        ---
        summary: Start an attended transfer
        tags: [contacts]
        requestBody:
          content:
            application/json:
              schema:
                type: object
                properties:
                  to_agent: {type: string}
                  number: {type: string}
        responses:
          200: {description: The consultation rings.}
          403: {description: The person may not handle this contact.}
          409: {description: The contact is not connected, or the colleague is not ready.}
          422: {description: Neither or both of to_agent and number.}
        """
        who = (await self.identify(request)).person
        body = await _body(request)
        to_agent = _text(body, "to_agent") if "to_agent" in body else None
        number = _text(body, "number") if "number" in body else None
        await self.center.attended_transfer(
            request.path_params["contact"], actor=who, to_agent=to_agent, number=number
        )
        return _ok()

    async def complete_transfer(self, request: Request) -> Response:
        """Join the caller and the consulted party; the first agent leaves.

        ---
        summary: Complete the attended transfer
        tags: [contacts]
        responses:
          200: {description: Done.}
          403: {description: The person may not handle this contact.}
          409: {description: No consultation to complete.}
        """
        who = (await self.identify(request)).person
        await self.center.complete_transfer(request.path_params["contact"], actor=who)
        return _ok()

    async def cancel_transfer(self, request: Request) -> Response:
        """End the consultation and take the caller back.

        ---
        summary: Cancel the attended transfer
        tags: [contacts]
        responses:
          200: {description: Done.}
          403: {description: The person may not handle this contact.}
          409: {description: No consultation to cancel.}
        """
        who = (await self.identify(request)).person
        await self.center.cancel_transfer(request.path_params["contact"], actor=who)
        return _ok()

    # -- live events ------------------------------------------------------------------------
    async def events(self, request: Request) -> Response:
        """The live events the person may see, as Server-Sent Events.

        Each event's id is its sequence number in the event log: reconnect
        with ``Last-Event-ID`` (browsers do it themselves) or ``?from=<seq>``
        and the stream replays what was missed, then goes on live.

        ---
        summary: Live events (text/event-stream)
        tags: [events]
        parameters:
          - name: from
            in: query
            required: false
            schema: {type: integer}
            description: Replay after this sequence number.
          - {name: Last-Event-ID, in: header, required: false, schema: {type: integer}}
        responses:
          200:
            description: >-
              A stream: id = log sequence number, event = kind, data = the event as JSON.
          401: {description: Not authenticated.}
          422: {description: A Last-Event-ID or from that is not a sequence number.}
        """
        identity = await self.identify(request)
        start = _start(request, self.feed.head)
        return EventSourceResponse(
            self._stream(identity, start),
            ping=self.ping,
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def _stream(
        self, identity: Identity, after: int
    ) -> AsyncIterator[ServerSentEvent | bytes]:
        yield ServerSentEvent(retry=self.retry_ms, comment="callcenter live events")
        while True:
            if identity.session is not None and not await self._signed_in(identity.cookie):
                return  # logged out or expired: the stream ends with the session
            entries = await self.feed.since(after)
            if not entries:
                await self.feed.wait(after)
                continue
            org = self.org
            for entry in entries:
                if self.judgements.may_see(org, identity.person, entry.visibility):
                    yield entry.message
            after = entries[-1].seq


def _start(request: Request, head: int) -> int:
    raw = request.headers.get("last-event-id") or request.query_params.get("from")
    if raw is None or raw == "":
        return head
    try:
        start = int(raw)
    except ValueError:
        raise ValidationError(
            f"Last-Event-ID / from must be a sequence number, not {raw!r}"
        ) from None
    if start < 0:
        raise ValidationError("Last-Event-ID / from must not be negative")
    return start


def _agent(status: AgentStatus) -> dict[str, Any]:
    return {
        "agent": status.agent_id,
        "state": status.state.value,
        "presence": status.presence.value,
        "reason": status.reason,
        "on_hold": status.on_hold,
        "offers": list(status.offers),
        "contacts": list(status.contacts),
        "wrap_up": list(status.wrap_up),
        "wrap_up_until": status.wrap_up_until,
    }


def _equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _unauthorized(detail: str) -> HttpError:
    return HttpError(401, "unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})
