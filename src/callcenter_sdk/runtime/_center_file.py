r"""A whole call center from one TOML file, for ``callcenter serve``.

::

    org = "org.toml"              # files are relative to this one
    flow = "flow.toml"            # what a call to a number not listed runs
    back_office = "back-office"   # the queue escalated tickets join ("": none)

    [center]
    name = "hotline"              # the node's name on the work it claims in the store
    language = "en"
    store = "sqlite:///center.sqlite"   # default: center.sqlite in the data directory

    [[queues]]
    name = "internet"
    campaign = "fibrenet-support" # the org's campaign it serves
    offer_timeout = 12
    wrap_up = 6
    announce_every = 30

    [[numbers]]                   # another client's number, with its own IVR
    number = "3900"
    campaign = "streamtv-support"
    flow = "streamtv.toml"

    [seats]                       # who takes contacts: the campaigns' agents in the org
    campaigns = ["fibrenet-support", "streamtv-support"]
    general = "general"           # every one of them also joins this queue

    [seats.agents.tech1]          # skills, queues, capacity, device the org does not give
    skills = { level-2 = 4 }
    queues = ["back-office"]
    capacity = { ticket = 2 }

    [scripts]                     # a campaign's script or questionnaire, on the desktop
    fibrenet-support = "script.toml"

    [[positions]]                 # hot-desking: the phones on the center's seats
    center = "hotline"
    numbers = "1-12"
    device = "sip:pos{number}@10.0.0.5"

    [dial_plan]
    allowed = ['\+33\d{9}']
    gateway = "sip:{number}@trunk.example.net"

    [sip]                         # the media workers and the public SIP address
    workers = 6
    host = "0.0.0.0"
    port = 5060

    [web]
    host = "127.0.0.1"
    port = 8080

    [cluster]                     # callcenter serve --cluster (PostgreSQL store)
    ttl = 5                       # seconds the leader's lease and each heartbeat last

Every key is checked; a mistake is a :class:`~callcenter_sdk.ConfigError`
naming the file, the path (``queues[2].offer_timeout``) and what was
expected, as the campaign and org files do. So are the references between
parts: a queue a flow sends callers to, a campaign or center the org does not
have, an agent with no phone in a center without positions.

.. versionadded:: 0.2
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from .._datadir import DataDir, data_dir
from .._errors import CallCenterError, ConfigError, ValidationError
from .._plugins import create_plugin_host
from ..acd import (
    Agent,
    AutoPause,
    Capacity,
    EmptyCondition,
    EmptyRule,
    Membership,
    Overflow,
    OverflowTarget,
    PenaltyRule,
    Queue,
    TierRules,
)
from ..cti import DENIED_BY_DEFAULT
from ..dialer import Questionnaire, load_questionnaire
from ..ivr import Flow, load_flow
from ..kpi import Channel
from ..org import Org, Role, load_org
from ..store import Store, create_store
from ._channel_sections import ChannelReader, ChannelSections
from ._config import CallCenterConfig, DialPlan, InboundNumber, Position, Seat

__all__ = ["CenterSetup", "ClusterSettings", "SipSettings", "WebSettings", "load_center"]

_Path = tuple[str | int, ...]

STORE_FILE = "center.sqlite"
"""The SQLite file in the data directory when ``[center]`` names no store."""

_TOP = (
    "center",
    "org",
    "flow",
    "topics",
    "queues",
    "numbers",
    "seats",
    "positions",
    "back_office",
    "scripts",
    "dial_plan",
    "sip",
    "web",
    "cluster",
    "chat",
    "email",
    "messaging",
)


def _positive(value: float) -> bool:
    return value > 0


def _non_negative(value: float) -> bool:
    return value >= 0


def _ttl(value: float) -> bool:
    return 0.5 <= value <= 600


def _port(value: float) -> bool:
    return 0 <= value <= 65535


_NUMBER = (int, float)
# key: (type, expectation, range check or None)
_Spec = tuple[type | tuple[type, ...], str, Callable[[Any], bool] | None]

_CENTER: dict[str, _Spec] = {
    "name": (str, "a non-empty name", bool),
    "language": (str, 'a language tag such as "en"', bool),
    "store": (str, "a SQLAlchemy URL (sqlite:///file or postgresql+psycopg://...)", bool),
    "callback_key": (str, 'one key of 0-9, * or #, or "" for no callback', None),
    "announce": (bool, "true or false", None),
    "lookup_budget": (_NUMBER, "seconds > 0", _positive),
    "queue_cap": (int, "a whole number >= 1", _positive),
    "solved_dispositions": (list, "a list of dispositions (strings)", None),
    "escalated_dispositions": (list, "a list of dispositions (strings)", None),
}

_QUEUE: dict[str, _Spec] = {
    "name": (str, "a non-empty queue name", bool),
    "campaign": (str, "the id of a campaign of the org", bool),
    "strategy": (str, "the name of a routing strategy", bool),
    "channels": (list, f"a list of channels among {', '.join(Channel)}", None),
    "weight": (_NUMBER, "a number > 0", _positive),
    "aging_rate": (_NUMBER, "priority points per second >= 0", _non_negative),
    "service_level_threshold": (_NUMBER, "seconds >= 0", _non_negative),
    "max_length": (int, "a whole number >= 0", _non_negative),
    "max_wait": (_NUMBER, "seconds >= 0", _non_negative),
    "overflow": (dict, "a table: target (and queue when target is queue)", None),
    "join_when_empty": (str, ", ".join(EmptyRule), None),
    "leave_when_empty": (str, ", ".join(EmptyRule), None),
    "offer_timeout": (_NUMBER, "seconds > 0", _positive),
    "wrap_up": (_NUMBER, "seconds >= 0", _non_negative),
    "ring_size": (int, "a whole number >= 1", _positive),
    "candidate_limit": (int, "a whole number >= 1", _positive),
    "initial_handle_time": (_NUMBER, "seconds > 0", _positive),
    "announce_every": (_NUMBER, "seconds > 0", _positive),
    "max_length_counts_ringing": (bool, "true or false", None),
    "penalty_rules": (list, "a list of penalty rule tables (after, max_penalty...)", None),
    "tier_rules": (dict, "a table: wait (and multiply_level, no_agent_no_wait)", None),
    "penalty_members_limit": (int, "a whole number >= 0", _non_negative),
    "ring_in_use": (bool, "true or false", None),
    "autopause": (str, ", ".join(AutoPause), None),
    "autopause_delay": (_NUMBER, "seconds >= 0", _non_negative),
    "exit_keys": (str, "the keys (0-9, * or #) that take a caller out of the queue", None),
    "no_agent_timeout": (_NUMBER, "seconds >= 0", _non_negative),
    "no_agent_grace": (_NUMBER, "seconds >= 0", _non_negative),
    "retry": (_NUMBER, "seconds >= 0", _non_negative),
    "max_wait_cuts_offer": (bool, "true or false", None),
    "abandoned_resume": (_NUMBER, "seconds >= 0", _non_negative),
    "join_empty_conditions": (list, f"a list among {', '.join(EmptyCondition)}", None),
    "leave_empty_conditions": (list, f"a list among {', '.join(EmptyCondition)}", None),
    "ring_progressively_delay": (_NUMBER, "seconds > 0", _positive),
    "autopause_busy": (bool, "true or false", None),
}
_PENALTY_RULE: dict[str, _Spec] = {
    "after": (_NUMBER, "seconds >= 0", _non_negative),
    "max_penalty": (int, "a whole number (a change with relative_max)", None),
    "min_penalty": (int, "a whole number (a change with relative_min)", None),
    "relative_max": (bool, "true or false", None),
    "relative_min": (bool, "true or false", None),
    "raise_penalty": (int, "a whole number (a change with relative_raise)", None),
    "relative_raise": (bool, "true or false", None),
}
_TIER_RULES: dict[str, _Spec] = {
    "wait": (_NUMBER, "seconds >= 0", _non_negative),
    "multiply_level": (bool, "true or false", None),
    "no_agent_no_wait": (bool, "true or false", None),
}

_SIP: dict[str, _Spec] = {
    "workers": (int, "a whole number of media worker processes >= 1", _positive),
    "host": (str, "the address the workers and the front door listen on", bool),
    "port": (int, "the front door's UDP port, 0 to 65535", _port),
    "trusted": (list, "a list of addresses or networks (CIDR) of trusted trunks", None),
    "max_new_calls_per_second": (_NUMBER, "new legs per worker per second > 0", _positive),
    "worker_port": (int, "the first worker's UDP port, 1 to 65535, or 0 for any", _port),
}

_WEB: dict[str, _Spec] = {
    "host": (str, "the address the web server listens on", bool),
    "port": (int, "a TCP port, 0 to 65535", _port),
    "allowed_origins": (list, "a list of origins (https://crm.example.com)", None),
}

_CLUSTER: dict[str, _Spec] = {
    "ttl": (_NUMBER, "seconds from 0.5 to 600 (the lease's and each heartbeat's life)", _ttl),
}

_DIAL_PLAN = (
    "allowed",
    "denied",
    "default_denied",
    "per_number_per_hour",
    "per_hour",
    "gateway",
    "region",
)

_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


@attrs.frozen(kw_only=True)
class SipSettings:
    """Where the center's SIP side runs.

    Attributes:
        workers: pjsua2 media worker processes (4 calls each on the stock wheel).
        host: The address the workers and the front door bind to.
        port: The front door's UDP port: the center's public SIP address.
        trusted: Trunks (or the proxy) whose identity headers name the caller.
        max_new_calls_per_second: New legs one worker takes per second.
        worker_port: Worker ``n`` listens on ``worker_port + n``: fixed
            addresses a proxy's dispatcher list can name (``callcenter
            kamailio``); 0 lets the system pick.

    .. versionadded:: 0.2
    .. versionchanged:: 0.2
       ``worker_port``.
    """

    workers: int = 2
    host: str = "127.0.0.1"
    port: int = 5060
    trusted: tuple[str, ...] = ()
    max_new_calls_per_second: float = 20.0
    worker_port: int = 0

    @property
    def worker_ports(self) -> tuple[int, ...] | None:
        """Each worker's SIP port, or ``None`` when the system picks them."""
        if not self.worker_port:
            return None
        return tuple(range(self.worker_port, self.worker_port + self.workers))


@attrs.frozen(kw_only=True)
class WebSettings:
    """Where the HTTP API and the pages are served.

    Attributes:
        host: The address; 127.0.0.1 by default, so nothing is exposed by
            accident (put the server behind an HTTPS proxy to open it).
        port: The TCP port.
        allowed_origins: Other origins whose pages may send commands.

    .. versionadded:: 0.2
    """

    host: str = "127.0.0.1"
    port: int = 8080
    allowed_origins: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class ClusterSettings:
    """How the nodes of ``callcenter serve --cluster`` keep the lease and report themselves.

    Attributes:
        ttl: Seconds the leader's lease lasts without a renewal, and each
            node's heartbeat without the next one. Renewals and heartbeats
            come every third of it; a dead leader is replaced after about
            ``ttl`` to ``ttl * 4 / 3`` seconds. Shorter is a faster takeover
            and more writes to the database; a stall (a pause of the
            process, a slow database) longer than it costs the leader its term.

    .. versionadded:: 0.2
    """

    ttl: float = 5.0


@attrs.frozen(kw_only=True)
class CenterSetup:
    """A call center read from its file: the runtime's config and where to run it.

    Attributes:
        source: The file it was read from.
        config: What :func:`~callcenter_sdk.runtime.open_call_center` runs.
        store_url: The database; ``None`` for ``center.sqlite`` in the data
            directory (created, mode 0700, when the store is opened).
        sip: The media workers and the front door.
        web: The web server.
        cluster: The lease and heartbeats of ``serve --cluster``.
        channels: The web chat, mailbox and messaging providers the center
            opens besides the phone (``[chat]``, ``[email]``, ``[[messaging]]``).

    .. versionadded:: 0.2
    """

    source: str
    config: CallCenterConfig
    store_url: str | None
    sip: SipSettings
    web: WebSettings
    cluster: ClusterSettings = ClusterSettings()
    channels: ChannelSections = attrs.field(factory=ChannelSections)

    @property
    def org(self) -> Org:
        """The center's org (a center file always names one)."""
        org = self.config.org
        assert org is not None  # noqa: S101 - load_center always sets it
        return org

    def database_url(self) -> str:
        """The store's URL, the data directory's ``center.sqlite`` by default.

        The default looks the data directory up without creating it.
        """
        if self.store_url is not None:
            return self.store_url
        return f"sqlite:///{DataDir.default().path / STORE_FILE}"

    def open_store(self) -> Store:
        """Open the center's store and bring its schema up to date.

        Raises:
            UnsafeDirectoryError: The data directory (default store) is not private.
            StoreError: The database cannot be reached.
        """
        if self.store_url is None:
            return create_store(f"sqlite:///{data_dir().path / STORE_FILE}")
        return create_store(self.store_url)


def load_center(path: str | os.PathLike[str]) -> CenterSetup:
    """Read and check the call center described by the TOML file at ``path``.

    The org and flow files it names are read too, relative to its folder.

    Raises:
        ConfigError: The file (or a file it names) cannot be read, is not
            TOML, or describes an invalid center; the error names the file,
            the path and the expectation.

    .. versionadded:: 0.2
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as handle:
            text = handle.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(name, (), "a readable UTF-8 TOML file", detail=str(exc)) from exc
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(name, (), "valid TOML", detail=str(exc)) from exc
    return _Reader(name).setup(doc)


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source
        self.folder = Path(source).absolute().parent
        self.flows: dict[Path, Flow] = {}

    # -- checks -------------------------------------------------------------

    def fail(self, path: _Path, expected: str, got: object = None, detail: str = "") -> ConfigError:
        return ConfigError(self.source, path, expected, got, detail=detail)

    def table(self, value: object, path: _Path) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, "a table", value)
        return value

    def array(self, value: object, path: _Path, what: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(path, what, value)
        return value

    def known(self, table: Mapping[str, Any], path: _Path, keys: Iterable[str]) -> None:
        allowed = sorted(keys)
        unknown = sorted(set(table) - set(allowed))
        if unknown:
            raise self.fail((*path, unknown[0]), f"one of {', '.join(allowed)}")

    def typed(self, value: object, path: _Path, spec: _Spec) -> Any:
        kind, what, check = spec
        is_bool = isinstance(value, bool)
        ok = isinstance(value, kind) and (kind is bool or not is_bool)
        if not ok or (check is not None and not check(value)):
            raise self.fail(path, what, value)
        return value

    def scalars(
        self, table: Mapping[str, Any], path: _Path, specs: Mapping[str, _Spec]
    ) -> dict[str, Any]:
        self.known(table, path, specs)
        return {key: self.typed(table[key], (*path, key), specs[key]) for key in table}

    def strings(self, value: object, path: _Path, what: str) -> list[str]:
        items = self.array(value, path, what)
        for i, item in enumerate(items):
            if not isinstance(item, str) or not item:
                raise self.fail((*path, i), what, item)
        return items

    def file(self, value: object, path: _Path, what: str) -> Path:
        if not isinstance(value, str) or not value:
            raise self.fail(path, f"{what} (a path relative to this file)", value)
        found = self.folder / value
        if not found.is_file():
            raise self.fail(
                path, f"{what} (a path relative to this file)", value, f"no file {found}"
            )
        return found

    def flow(self, value: object, path: _Path) -> Flow:
        found = self.file(value, path, "an IVR flow TOML file")
        if found not in self.flows:
            self.flows[found] = load_flow(found)
        return self.flows[found]

    # -- the file -----------------------------------------------------------

    def setup(self, doc: Mapping[str, Any]) -> CenterSetup:
        self.known(doc, (), _TOP)
        center = self.scalars(self.table(doc.get("center", {}), ("center",)), ("center",), _CENTER)
        if "org" not in doc:
            raise self.fail(("org",), "the org TOML file of the center's people")
        org_file = self.file(doc["org"], ("org",), "the org TOML file")
        org = load_org(org_file, activities=create_plugin_host().campaign_activities())
        if "flow" not in doc:
            raise self.fail(("flow",), "the IVR flow TOML file calls run by default")
        flow = self.flow(doc["flow"], ("flow",))
        queues, campaigns = self.queues(doc.get("queues"), org)
        names = [q.name for q in queues]
        self.routed(flow, ("flow",), names)
        numbers = self.numbers(doc.get("numbers", []), org, names)
        back_office = self.back_office(doc.get("back_office", ""), queues)
        positions = self.positions(doc.get("positions", []), org)
        seats = self.seats(doc.get("seats", {}), org, queues, campaigns, bool(positions))
        values: dict[str, Any] = {
            "flow": flow,
            "queues": queues,
            "seats": seats,
            "org": org,
            "campaigns": campaigns,
            "numbers": numbers,
            "positions": positions,
            "back_office": back_office,
            "scripts": self.scripts(doc.get("scripts", {}), org),
            "topics": self.topics(doc.get("topics", {})),
            "dial_plan": self.dial_plan(doc.get("dial_plan", {})),
        }
        renamed = {"name": "node"}
        for key, value in center.items():
            if key.endswith("_dispositions"):
                values[key] = frozenset(self.strings(value, ("center", key), _CENTER[key][1]))
            elif key == "callback_key" and value not in ("", *"0123456789*#"):
                raise self.fail(("center", key), _CENTER[key][1], value)
            elif key != "store":
                values[renamed.get(key, key)] = value
        try:
            config = CallCenterConfig(**values)
        except ValidationError as exc:
            raise self.fail((), "a consistent call center", detail=str(exc)) from exc
        return CenterSetup(
            source=self.source,
            config=config,
            store_url=self.store(center["store"]) if "store" in center else None,
            sip=self.sip(doc.get("sip", {})),
            web=self.web(doc.get("web", {})),
            cluster=self.cluster(doc.get("cluster", {})),
            channels=ChannelReader(self.source, names).read(doc),
        )

    def store(self, url: str) -> str:
        """The URL, a relative SQLite file taken from this file's folder (not the cwd's)."""
        path: _Path = ("center", "store")
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise self.fail(path, _CENTER["store"][1], url, str(exc)) from exc
        backend = parsed.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise self.fail(path, _CENTER["store"][1], url)
        database = parsed.database or ""
        relative = database not in ("", ":memory:") and not Path(database).is_absolute()
        if backend == "sqlite" and relative:
            parsed = parsed.set(database=str(self.folder / database))
        return parsed.render_as_string(hide_password=False)

    def queues(self, raw: object, org: Org) -> tuple[list[Queue], dict[str, str]]:
        if raw is None:
            raise self.fail(("queues",), "at least one [[queues]] table")
        items = self.array(raw, ("queues",), "[[queues]] tables")
        if not items:
            raise self.fail(("queues",), "at least one [[queues]] table")
        strategies = sorted(create_plugin_host().routing_strategies())
        queues: list[Queue] = []
        campaigns: dict[str, str] = {}
        for i, item in enumerate(items):
            path: _Path = ("queues", i)
            queue, campaign = self.queue(item, path, org, strategies)
            if any(q.name == queue.name for q in queues):
                raise self.fail((*path, "name"), "a name no other queue has", queue.name)
            if campaign is not None:
                campaigns[queue.name] = campaign
            queues.append(queue)
        names = [q.name for q in queues]
        for i, queue in enumerate(queues):
            target = queue.overflow.queue if queue.overflow is not None else ""
            if target and target not in names:
                raise self.fail(
                    ("queues", i, "overflow", "queue"),
                    f"one of the queues: {', '.join(names)}",
                    target,
                )
        return queues, campaigns

    def queue(
        self, item: object, path: _Path, org: Org, strategies: list[str]
    ) -> tuple[Queue, str | None]:
        values = self.scalars(self.table(item, path), path, _QUEUE)
        if "name" not in values:
            raise self.fail((*path, "name"), _QUEUE["name"][1])
        campaign = values.pop("campaign", None)
        if campaign is not None:
            self.campaign(org, campaign, (*path, "campaign"))
        if "strategy" in values and values["strategy"] not in strategies:
            expected = f"one of {', '.join(strategies)}"
            raise self.fail((*path, "strategy"), expected, values["strategy"])
        if "channels" in values:
            values["channels"] = self.channels(values["channels"], (*path, "channels"))
        for key in ("join_when_empty", "leave_when_empty"):
            if key in values and values[key] not in set(EmptyRule):
                raise self.fail((*path, key), _QUEUE[key][1], values[key])
        if "overflow" in values:
            values["overflow"] = self.overflow(values["overflow"], (*path, "overflow"))
        self.waiting_rules(values, path)
        queue: Queue = self.build(path, "a valid queue", Queue, **values)
        return queue, campaign

    def waiting_rules(self, values: dict[str, Any], path: _Path) -> None:
        """Check and build the 0.2 keys: join conditions, auto-pause, penalty and tier rules."""
        for key in ("join_empty_conditions", "leave_empty_conditions"):
            if key not in values:
                continue
            words = self.strings(values[key], (*path, key), _QUEUE[key][1])
            for i, word in enumerate(words):
                if word not in set(EmptyCondition):
                    raise self.fail((*path, key, i), _QUEUE[key][1], word)
        if "autopause" in values and values["autopause"] not in set(AutoPause):
            raise self.fail((*path, "autopause"), _QUEUE["autopause"][1], values["autopause"])
        if "penalty_rules" in values:
            values["penalty_rules"] = self.penalty_rules(
                values["penalty_rules"], (*path, "penalty_rules")
            )
        if "tier_rules" in values:
            tier_path = (*path, "tier_rules")
            tier = self.scalars(values["tier_rules"], tier_path, _TIER_RULES)
            if "wait" not in tier:
                raise self.fail((*tier_path, "wait"), _TIER_RULES["wait"][1])
            values["tier_rules"] = self.build(tier_path, "valid tier rules", TierRules, **tier)

    def penalty_rules(self, raw: list[Any], path: _Path) -> list[PenaltyRule]:
        rules: list[PenaltyRule] = []
        for i, item in enumerate(raw):
            rule_path = (*path, i)
            values = self.scalars(self.table(item, rule_path), rule_path, _PENALTY_RULE)
            if "after" not in values:
                raise self.fail((*rule_path, "after"), _PENALTY_RULE["after"][1])
            rules.append(self.build(rule_path, "a valid penalty rule", PenaltyRule, **values))
        return rules

    def channels(self, raw: list[Any], path: _Path) -> list[Channel]:
        what = f"a list of channels among {', '.join(Channel)}"
        values = self.strings(raw, path, what)
        for i, value in enumerate(values):
            if value not in set(Channel):
                raise self.fail((*path, i), what, value)
        return [Channel(v) for v in values]

    def overflow(self, raw: Mapping[str, Any], path: _Path) -> Overflow:
        self.known(raw, path, ("target", "queue"))
        target = raw.get("target")
        if target not in set(OverflowTarget):
            raise self.fail((*path, "target"), f"one of {', '.join(OverflowTarget)}", target)
        queue = raw.get("queue", "")
        if not isinstance(queue, str):
            raise self.fail((*path, "queue"), "a queue name", queue)
        overflow: Overflow = self.build(
            path, "a queue name exactly for target queue", Overflow, target=target, queue=queue
        )
        return overflow

    def build(self, path: _Path, what: str, factory: Any, **values: Any) -> Any:
        try:
            return factory(**values)
        except ValidationError as exc:
            raise self.fail(path, what, detail=str(exc)) from exc

    def campaign(self, org: Org, value: str, path: _Path) -> None:
        ids = [c.id for c in org.campaigns]
        if value not in ids:
            raise self.fail(path, f"a campaign of the org: {', '.join(ids)}", value)

    def queue_name(self, value: object, path: _Path, names: list[str]) -> str:
        if not isinstance(value, str) or value not in names:
            raise self.fail(path, f"one of the queues: {', '.join(names)}", value)
        return value

    def routed(self, flow: Flow, path: _Path, names: list[str]) -> None:
        """Every queue the flow sends callers to is a queue of the file."""
        for node_name, node in flow.nodes.items():
            queue = getattr(node, "queue", None)
            if isinstance(queue, str) and queue not in names:
                raise self.fail(
                    path,
                    f"a flow whose queues are among {', '.join(names)}",
                    detail=f"its node {node_name!r} sends callers to queue {queue!r}",
                )

    def numbers(self, raw: object, org: Org, names: list[str]) -> list[InboundNumber]:
        numbers: list[InboundNumber] = []
        for i, item in enumerate(self.array(raw, ("numbers",), "[[numbers]] tables")):
            path: _Path = ("numbers", i)
            table = self.table(item, path)
            self.known(table, path, ("number", "campaign", "flow"))
            number = table.get("number")
            if not isinstance(number, str) or not number:
                raise self.fail((*path, "number"), "the dialled number (a string)", number)
            if any(n.number == number for n in numbers):
                raise self.fail((*path, "number"), "a number no other [[numbers]] has", number)
            campaign = table.get("campaign")
            if not isinstance(campaign, str):
                raise self.fail((*path, "campaign"), "the id of a campaign of the org", campaign)
            self.campaign(org, campaign, (*path, "campaign"))
            if "flow" not in table:
                raise self.fail((*path, "flow"), "the IVR flow TOML file answering the number")
            flow = self.flow(table["flow"], (*path, "flow"))
            self.routed(flow, (*path, "flow"), names)
            numbers.append(InboundNumber(number=number, campaign=campaign, flow=flow))
        return numbers

    def scripts(self, raw: object, org: Org) -> dict[str, Questionnaire]:
        """``[scripts]``: campaign id -> the questionnaire TOML file its agents follow."""
        table = self.table(raw, ("scripts",))
        found: dict[str, Questionnaire] = {}
        for campaign, value in table.items():
            path: _Path = ("scripts", campaign)
            try:
                org.campaign(campaign)
            except CallCenterError:
                known = ", ".join(c.id for c in org.campaigns)
                raise self.fail(path, f"a campaign of the org ({known})", campaign) from None
            found[campaign] = load_questionnaire(
                self.file(value, path, "a script or questionnaire TOML file")
            )
        return found

    def back_office(self, raw: object, queues: list[Queue]) -> str:
        if raw == "":
            return ""
        names = [q.name for q in queues]
        name = self.queue_name(raw, ("back_office",), names)
        if Channel.TICKET not in queues[names.index(name)].channels:
            raise self.fail(("back_office",), "a queue whose channels include ticket", name)
        return name

    def positions(self, raw: object, org: Org) -> list[Position]:
        positions: list[Position] = []
        for i, item in enumerate(self.array(raw, ("positions",), "[[positions]] tables")):
            path: _Path = ("positions", i)
            table = self.table(item, path)
            self.known(table, path, ("center", "numbers", "device"))
            center = table.get("center")
            ids = [c.id for c in org.centers]
            if center not in ids:
                raise self.fail((*path, "center"), f"a center of the org: {', '.join(ids)}", center)
            assert isinstance(center, str)  # noqa: S101 - it is one of the ids
            device = table.get("device")
            if not isinstance(device, str) or not re.match(r"^sips?:\S+$", device):
                raise self.fail(
                    (*path, "device"),
                    'a SIP URI template such as "sip:pos{number}@10.0.0.5"',
                    device,
                )
            seats = org.center(center).seats
            for number in self.seat_numbers(table.get("numbers"), (*path, "numbers"), seats):
                try:
                    uri = device.format(number=number, center=center)
                except (KeyError, IndexError, ValueError) as exc:
                    raise self.fail(
                        (*path, "device"), "a template using only {number} and {center}", device
                    ) from exc
                position = Position(center=center, number=number, device=uri)
                if any(p.id == position.id for p in positions):
                    raise self.fail(
                        (*path, "numbers"), "seats no other [[positions]] lists", number
                    )
                positions.append(position)
        return positions

    def seat_numbers(self, raw: object, path: _Path, seats: int) -> list[int]:
        what = f'seat numbers 1 to {seats}: "1-12", "1-8, 10" or a list of numbers'
        parts: list[object]
        if isinstance(raw, str):
            parts = [p for p in raw.split(",") if p.strip()]
        elif isinstance(raw, list):
            parts = raw
        else:
            raise self.fail(path, what, raw)
        numbers: list[int] = []
        for part in parts:
            if isinstance(part, int) and not isinstance(part, bool):
                low = high = part
            elif isinstance(part, str) and (match := _RANGE.match(part)):
                low, high = int(match[1]), int(match[2] or match[1])
            else:
                raise self.fail(path, what, raw)
            if not 1 <= low <= high <= seats:
                raise self.fail(path, what, raw)
            numbers += range(low, high + 1)
        if not numbers:
            raise self.fail(path, what, raw)
        return numbers

    def seats(
        self,
        raw: object,
        org: Org,
        queues: list[Queue],
        campaigns: Mapping[str, str],
        positions: bool,
    ) -> list[Seat]:
        """The agents of the ACD: the campaigns' people, their skills and their phones.

        Unlike :func:`seats_from_org`, a person without a phone of their own
        is seated too, with no device, when the center has positions: they
        log in at one to be rung (hot-desking).
        """
        path: _Path = ("seats",)
        table = self.table(raw, path)
        self.known(table, path, ("campaigns", "general", "roles", "agents"))
        names = [q.name for q in queues]
        served = list(dict.fromkeys(campaigns.values()))
        chosen = self.strings(
            table.get("campaigns", served), (*path, "campaigns"), "a list of campaign ids"
        )
        for i, campaign in enumerate(chosen):
            self.campaign(org, campaign, (*path, "campaigns", i))
        general = None
        if "general" in table:
            general = self.queue_name(table["general"], (*path, "general"), names)
        role_names = [r.value for r in Role]
        roles = self.strings(
            table.get("roles", ["agent", "team-lead"]),
            (*path, "roles"),
            f"a list of roles among {', '.join(role_names)}",
        )
        for i, role in enumerate(roles):
            if role not in role_names:
                raise self.fail((*path, "roles", i), f"one of {', '.join(role_names)}", role)
        people = _people(org, chosen, {Role(r) for r in roles})
        agents = self.table(table.get("agents", {}), (*path, "agents"))
        for person_id in agents:
            if person_id not in people:
                raise self.fail(
                    (*path, "agents", person_id),
                    "a person of seats.campaigns with one of seats.roles",
                )
        seats = []
        for person_id, campaign in people.items():
            own = self.table(agents.get(person_id, {}), (*path, "agents", person_id))
            seats.append(
                self.seat(
                    org,
                    person_id,
                    own,
                    path=(*path, "agents", person_id),
                    campaign_queues=[q for q in names if campaigns.get(q) == campaign],
                    names=names,
                    general=general,
                    positions=positions,
                )
            )
        return seats

    def seat(
        self,
        org: Org,
        person_id: str,
        own: Mapping[str, Any],
        *,
        path: _Path,
        campaign_queues: list[str],
        names: list[str],
        general: str | None,
        positions: bool,
    ) -> Seat:
        self.known(own, path, ("skills", "queues", "capacity", "device"))
        profile = org.person(person_id).profile
        skills: dict[str, int] = {s.name: s.proficiency for s in profile.skills} if profile else {}
        capacity: dict[str, int] = dict(profile.capacity) if profile else {}
        device = (profile.sip_uri if profile else None) or ""
        if "skills" in own:
            skills = self.levels(own["skills"], (*path, "skills"), "proficiency 1 to 5", 5)
        if "capacity" in own:
            capacity = self.levels(own["capacity"], (*path, "capacity"), "contacts >= 1", None)
            for channel in capacity:
                if channel not in set(Channel):
                    raise self.fail(
                        (*path, "capacity", channel), f"a channel among {', '.join(Channel)}"
                    )
        if "device" in own:
            device = own["device"]
            if not isinstance(device, str) or not re.match(r"^sips?:\S+$", device):
                raise self.fail((*path, "device"), 'a SIP URI such as "sip:alice@10.0.0.5"', device)
        if not device and not positions:
            raise self.fail(
                (*path, "device"),
                f"a phone for {person_id} (here, or sip_uri in their org profile), "
                "or [[positions]] to log in at",
            )
        if "queues" in own:
            joined = self.strings(own["queues"], (*path, "queues"), "a list of queue names")
            for i, name in enumerate(joined):
                self.queue_name(name, (*path, "queues", i), names)
        else:
            joined = [q for q in campaign_queues if q in skills] + ([general] if general else [])
        limits = {Channel(c): n for c, n in capacity.items() if c in set(Channel)}
        agent = self.build(
            path,
            "a valid agent",
            Agent,
            id=person_id,
            skills=skills,
            memberships=[Membership(q) for q in joined],
            capacity=Capacity(limits=limits or {Channel.VOICE: 1}),
        )
        return Seat(agent=agent, device=device)

    def levels(self, raw: object, path: _Path, what: str, top: int | None) -> dict[str, int]:
        table = self.table(raw, path)
        for key, value in table.items():
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
            if not ok or (top is not None and value > top):
                raise self.fail((*path, key), what, value)
        return dict(table)

    def topics(self, raw: object) -> dict[str, str]:
        table = self.table(raw, ("topics",))
        for key, value in table.items():
            if not isinstance(value, str):
                raise self.fail(
                    ("topics", key), "the words the knowledge base is searched with", value
                )
        return dict(table)

    def dial_plan(self, raw: object) -> DialPlan:
        path: _Path = ("dial_plan",)
        table = self.table(raw, path)
        self.known(table, path, _DIAL_PLAN)
        values: dict[str, Any] = {}
        what = "a list of regular expressions (strings) over E.164 numbers"
        if "allowed" in table:
            values["allowed"] = self.strings(table["allowed"], (*path, "allowed"), what)
        keep = self.typed(
            table.get("default_denied", True),
            (*path, "default_denied"),
            (bool, "true or false", None),
        )
        denied = self.strings(table.get("denied", []), (*path, "denied"), what)
        values["denied"] = [*(DENIED_BY_DEFAULT if keep else ()), *denied]
        for key in ("per_number_per_hour", "per_hour"):
            if key in table:
                value = table[key]
                spec: _Spec = (int, "a whole number >= 1, or false for no cap", _positive)
                values[key] = None if value is False else self.typed(value, (*path, key), spec)
        if "gateway" in table:
            gateway = table["gateway"]
            if not isinstance(gateway, str) or "{number}" not in gateway:
                raise self.fail((*path, "gateway"), "a SIP URI template with {number}", gateway)
            values["gateway"] = gateway
        if "region" in table:
            values["region"] = self.typed(
                table["region"], (*path, "region"), (str, 'a country code such as "FR"', bool)
            )
        for i, pattern in enumerate([*values.get("allowed", []), *denied]):
            try:
                re.compile(pattern)
            except re.error as exc:
                key = "allowed" if i < len(values.get("allowed", [])) else "denied"
                raise self.fail((*path, key), what, pattern, str(exc)) from exc
        return self.build(path, "a valid dial plan", DialPlan, **values)  # type: ignore[no-any-return]

    def sip(self, raw: object) -> SipSettings:
        path: _Path = ("sip",)
        values = self.scalars(self.table(raw, path), path, _SIP)
        if "trusted" in values:
            values["trusted"] = tuple(
                self.strings(values["trusted"], (*path, "trusted"), _SIP["trusted"][1])
            )
        sip = SipSettings(**values)
        ports = sip.worker_ports or ()
        if ports and (ports[-1] > 65535 or sip.port in ports):
            raise self.fail(
                (*path, "worker_port"),
                f"room for {sip.workers} worker ports up to 65535, apart from port {sip.port}",
                sip.worker_port,
            )
        return sip

    def web(self, raw: object) -> WebSettings:
        path: _Path = ("web",)
        values = self.scalars(self.table(raw, path), path, _WEB)
        if "allowed_origins" in values:
            values["allowed_origins"] = tuple(
                self.strings(
                    values["allowed_origins"],
                    (*path, "allowed_origins"),
                    _WEB["allowed_origins"][1],
                )
            )
        return WebSettings(**values)

    def cluster(self, raw: object) -> ClusterSettings:
        path: _Path = ("cluster",)
        values = self.scalars(self.table(raw, path), path, _CLUSTER)
        return ClusterSettings(**{key: float(value) for key, value in values.items()})


def _people(org: Org, campaigns: Iterable[str], roles: set[Role]) -> dict[str, str]:
    """The campaigns' people who take contacts (agents, their teams' leaders in ``roles``).

    Each person maps to their campaign (the first listed, for someone in two).
    """
    people: dict[str, str] = {}
    for campaign in campaigns:
        found = [p for p in org.agents_of_campaign(campaign) if p.role in roles]
        for team in org.teams_of_campaign(campaign):
            leaders = [org.person(p) for p in (team.team_lead, team.supervisor) if p is not None]
            found += [p for p in leaders if p.role in roles]
        for person in found:
            people.setdefault(person.id, campaign)
    return people
