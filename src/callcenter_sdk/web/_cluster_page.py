"""A cluster node's operations surface: ``/api/cluster``, the ``/cluster`` page and ``/metrics``.

:class:`ClusterOps` wraps the node's web front (``callcenter serve
--cluster``) and answers, on every node, leader or standby:

- ``GET /api/cluster``: to anyone, which node this is, who leads, at which
  epoch, and this node's role (the fields a load balancer checks, as
  before); to a person allowed to see the cluster (a session cookie or a
  bearer token), also ``ttl``, the event log's ``head_seq`` and ``nodes``:
  each node's role, state, heartbeat age, lag, store and media health and
  addresses, from the heartbeat table (:class:`~callcenter_sdk.store.Nodes`).
- ``GET /cluster``: the same as a page, in French or English; without a
  session it sends the browser to ``/login``, and it is refused (403) to a
  person who may not see it.
- ``GET /metrics``: the cluster's Prometheus series
  (:class:`~callcenter_sdk.reports.ClusterMetrics`), and the center's
  while the node leads; unauthenticated, as scrapers expect.
- ``/static/...``: the pages' style sheet and scripts, so a standby renders
  the page too.

Who may see the cluster follows the org's permission table: a person whose
role reaches at least a whole campaign for viewing KPIs or configuring
routing (supervisors, project and floor managers, directors, analysts,
administrators; the org has no separate IT role: IT staff are
administrators). Agents, team leads and coaches may not: node names,
addresses and health are the operators' business.

Sessions and tokens are the store's (:class:`~callcenter_sdk.store.Accounts`),
so a person signed in on the leader is known on every node.

.. versionadded:: 0.2
"""

from __future__ import annotations

import html
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from .._errors import CallCenterError
from ..org import PERMISSIONS, Action, Org
from ..org import Scope as Reach
from ..store import Accounts, ClusterView, Nodes, NodeStatus
from ._auth import COOKIE, SessionBook
from ._i18n import LANG_COOKIE, TEXTS, choose_language
from ._pages import _json_for_html, _template
from ._standby import STATUS_PATH, ClusterStatus

__all__ = ["PAGE_PATH", "ClusterOps", "may_see_cluster", "node_json"]

PAGE_PATH = "/cluster"
METRICS_PATH = "/metrics"

_SEE = (Action.VIEW_KPIS, Action.CONFIGURE_ROUTING)


def may_see_cluster(org: Org, person: str) -> bool:
    """Whether ``person`` may see the cluster's nodes (the page, the full ``/api/cluster``).

    Their role must reach at least a whole campaign for viewing KPIs or
    configuring routing in the org's permission table. Unknown people may not.

    .. versionadded:: 0.2
    """
    try:
        role = org.person(person).role
    except CallCenterError:
        return False
    return any(PERMISSIONS[role][action] >= Reach.CAMPAIGN for action in _SEE)


def node_json(n: NodeStatus) -> dict[str, Any]:
    """One node as ``/api/cluster`` shows it to those allowed.

    ``state`` is ``up`` (heartbeat valid), ``down`` (older than its ttl: the
    node died, stalled or is cut off) or ``left`` (it stopped cleanly).
    ``lag_events`` and ``heartbeat_age_s`` are defined in
    :mod:`callcenter_sdk.store._nodes`.

    .. versionadded:: 0.2
    """
    health = n.health
    return {
        "node": n.node,
        "role": n.role.value,
        "state": "left" if n.left_at is not None else "up" if n.up else "down",
        "epoch": n.epoch,
        "heartbeat_age_s": round(n.age, 3),
        "lag_events": n.lag,
        "applied_seq": n.applied_seq,
        "store": "ok" if health.store_ok else "degraded",
        "unwritten_events": health.unwritten,
        "media_workers_alive": health.media_alive,
        "media_workers": health.media_total,
        "web": n.web,
        "media": n.media,
        "started_at": n.started_at,
        "last_seen": n.last_seen,
    }


class ClusterOps:
    """The ASGI app in front of a cluster node's front: status, page, metrics; the rest passes.

    Args:
        app: What serves every other request (the node's
            :class:`~callcenter_sdk.web.ClusterFront`).
        status: This node's status (the four public fields of ``/api/cluster``).
        nodes: The heartbeat table.
        domain: The routing domain.
        org: The org now (who people are and their roles).
        accounts: Passwords, tokens and sessions (the store's).
        ttl: The heartbeats' ttl, shown on the page.
        metrics: The ``/metrics`` app (``None``: no ``/metrics`` here).
        before_scrape: Awaited before each scrape (to refresh the collector's snapshot).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        status: Callable[[], Awaitable[ClusterStatus]],
        nodes: Nodes,
        domain: str,
        org: Callable[[], Org],
        accounts: Accounts,
        ttl: float,
        metrics: ASGIApp | None = None,
        before_scrape: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._app = app
        self._status = status
        self._nodes = nodes
        self._domain = domain
        self._org = org
        self._accounts = accounts
        self._ttl = ttl
        self._metrics = metrics
        self._before_scrape = before_scrape
        self._sessions: SessionBook | None = None
        self._static = StaticFiles(packages=[("callcenter_sdk.web", "static")])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        path = scope["path"]
        if path.startswith("/static/"):
            inner = {**scope, "root_path": "", "path": path[len("/static") :]}
            await self._static(inner, receive, send)
            return
        handler = {STATUS_PATH: self._api, PAGE_PATH: self._page, METRICS_PATH: self._scrape}.get(
            path
        )
        if handler is None:
            await self._app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            response: ASGIApp = JSONResponse({"error": "GET only"}, 405, {"Allow": "GET"})
        else:
            response = await handler(Request(scope, receive))
        await response(scope, receive, send)

    # -- who asks ---------------------------------------------------------------------------
    async def _person(self, request: Request) -> str | None:
        """The person of the request's bearer token or session cookie, ``None`` if none."""
        header = request.headers.get("authorization")
        try:
            if header is not None:
                scheme, _, token = header.partition(" ")
                if scheme.lower() != "bearer" or not token.strip():
                    return None
                return await anyio.to_thread.run_sync(self._accounts.token_owner, token.strip())
            cookie = request.cookies.get(COOKIE)
            if not cookie:
                return None
            sessions = await self._book()
            session = sessions.find(cookie)
            if session is None:
                session = await anyio.to_thread.run_sync(sessions.recall, cookie)
        except CallCenterError:
            return None  # the store is down: nobody can be recognised
        return None if session is None else session.person

    async def _book(self) -> SessionBook:
        if self._sessions is None:
            secret = await anyio.to_thread.run_sync(
                lambda: self._accounts.cookie_secret(at=time.time())
            )
            self._sessions = SessionBook(secret, keeper=self._accounts)
        return self._sessions

    async def _view(self) -> ClusterView | None:
        try:
            return await anyio.to_thread.run_sync(
                self._nodes.view, self._domain, abandon_on_cancel=True
            )
        except CallCenterError:
            return None

    # -- the routes -------------------------------------------------------------------------
    async def _api(self, request: Request) -> Response:
        body: dict[str, Any] = dict(await self._status())
        person = await self._person(request)
        if person is not None and may_see_cluster(self._org(), person):
            view = await self._view()
            body["ttl"] = self._ttl
            body["head_seq"] = None if view is None else view.head_seq
            body["nodes"] = None if view is None else [node_json(n) for n in view.nodes]
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    async def _scrape(self, _request: Request) -> ASGIApp:
        if self._metrics is None:
            return JSONResponse({"error": "no metrics on this node (the reports extra)"}, 404)
        if self._before_scrape is not None:
            await self._before_scrape()
        return _Passed(self._metrics)

    async def _page(self, request: Request) -> Response:
        lang, picked = choose_language(
            request.query_params.get("lang"),
            request.cookies.get(LANG_COOKIE),
            request.headers.get("accept-language"),
        )
        texts = TEXTS[lang]
        person = await self._person(request)
        if person is None:
            return RedirectResponse(f"/login?next={quote(PAGE_PATH)}", status_code=303)
        org = self._org()
        if not may_see_cluster(org, person):
            body = f'<p class="bad" id="refused">{html.escape(texts["cluster_refused"])}</p>'
            return self._document(
                texts=texts, lang=lang, picked=picked, org=org, person=person, body=body, status=403
            )
        status = await self._status()
        view = await self._view()
        body = _body(texts, status, view, self._ttl, self._domain)
        return self._document(
            texts=texts, lang=lang, picked=picked, org=org, person=person, body=body, status=200
        )

    def _document(
        self,
        *,
        texts: Any,
        lang: str,
        picked: bool,
        org: Org,
        person: str,
        body: str,
        status: int,
    ) -> Response:
        words = {f"t_{key}": html.escape(value) for key, value in texts.items()}
        who = org.person(person)
        document = _template("layout.html").substitute(
            words,
            lang=lang,
            page="cluster",
            title=html.escape(texts["title_cluster"]),
            csrf="",
            person=html.escape(f"{who.name or who.id} ({who.role.value})"),
            signed_in="hidden",  # signing out needs the leader's API: done from the other pages
            body=body,
            texts=_json_for_html(texts),
            config=_json_for_html({"lang": lang, "ttl": self._ttl}),
        )
        response = HTMLResponse(
            document,
            status,
            headers={
                "Cache-Control": "no-store",
                "Content-Security-Policy": (
                    "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                    "script-src 'self'; frame-ancestors 'none'"
                ),
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "same-origin",
            },
        )
        if picked:
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="strict", path="/")
        return response


class _Passed:
    """A response that hands the request to another ASGI app (the metrics exposition)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


def _body(
    texts: Any, status: ClusterStatus, view: ClusterView | None, ttl: float, domain: str
) -> str:
    """The page's content: the leader and epoch, then one row per node."""

    def e(value: object) -> str:
        return html.escape(str(value))

    leader = status["leader"] or texts["cluster_no_leader"]
    summary = (
        '<section class="panel"><h2>'
        f'{e(texts["cluster_summary"])} <span id="domain">{e(domain)}</span></h2>'
        f'<p>{e(texts["cluster_leader"])}: <strong id="leader">{e(leader)}</strong> · '
        f'{e(texts["cluster_epoch"])}: <strong id="epoch">{e(status["epoch"] or "")}</strong> · '
        f'{e(texts["cluster_this_node"])} <strong id="this-node">{e(status["node"])}</strong> '
        f"({e(texts['cluster_' + status['role'] + '_role'])}) · "
        f'{e(texts["cluster_head"])}: <span id="head">'
        f"{e('' if view is None else view.head_seq)}</span> · "
        f"{e(texts['cluster_ttl'])}: {e(f'{ttl:g}')} s</p></section>"
    )
    heads = ("node", "role", "state", "epoch", "age", "lag", "store", "media", "web", "started")
    rows = "".join(_row(texts, n) for n in (view.nodes if view is not None else ()))
    if not rows:
        rows = (
            f'<tr><td colspan="{len(heads)}" class="muted">{e(texts["cluster_no_nodes"])}</td></tr>'
        )
    table = (
        f'<section class="panel"><h2>{e(texts["cluster_nodes"])}</h2><table id="nodes"><thead><tr>'
        + "".join(f"<th>{e(texts['cluster_' + h])}</th>" for h in heads)
        + f"</tr></thead><tbody>{rows}</tbody></table></section>"
    )
    return summary + table


def _row(texts: Any, n: NodeStatus) -> str:
    def e(value: object) -> str:
        return html.escape(str(value))

    data = node_json(n)
    state = data["state"]
    store = texts["cluster_store_ok"] if n.health.store_ok else texts["cluster_store_degraded"]
    if n.health.unwritten:
        store += f" ({n.health.unwritten} {texts['cluster_unwritten']})"
    media = (
        ""
        if n.health.media_alive is None
        else f"{n.health.media_alive}/{n.health.media_total or '?'}"
    )
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(n.started_at)) + " UTC"
    cells = (
        n.node,
        texts[f"cluster_{n.role.value}_role"],
        texts[f"cluster_{state}"],
        "" if n.epoch is None else n.epoch,
        f"{n.age:.1f}",
        "" if n.lag is None else n.lag,
        store,
        media,
        n.web,
        started,
    )
    klass = {"up": "ok", "down": "bad", "left": "muted"}[state]
    return (
        f'<tr data-node="{e(n.node)}" data-state="{e(state)}" class="{klass}">'
        + "".join(f"<td>{e(cell)}</td>" for cell in cells)
        + "</tr>"
    )
