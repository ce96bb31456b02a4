"""``callcenter import``: carry an Asterisk or FreeSWITCH queue configuration over.

``callcenter import asterisk queues.conf [queuerules.conf]`` and
``callcenter import freeswitch callcenter.conf.xml`` read the peer's file and
write the equivalent ACD configuration as TOML: ``[[queues]]`` tables whose
keys are :class:`~callcenter_sdk.acd.Queue` fields, ``[[members]]`` (agent,
queue, penalty), ``[[agents]]`` for per-agent settings and ``[policy]`` for
the engine-wide :class:`~callcenter_sdk.acd.RoutingPolicy`. Every setting that
could not be carried over is named, in the file (as comments) and on stderr;
the mapping and the reasons are in docs/acd.md.

.. versionadded:: 0.2
"""

from __future__ import annotations

import argparse
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from .._errors import ConfigError
from ..acd import PenaltyRule, Queue, TierRules
from ._main import COMMANDS, Command

__all__ = ["Imported", "from_asterisk", "from_freeswitch", "queues_from_tables", "to_toml"]


@attrs.frozen
class Imported:
    """A peer's queue configuration, translated.

    Attributes:
        queues: One table of :class:`~callcenter_sdk.acd.Queue` fields per queue.
        members: ``{"agent", "queue", "penalty"}`` tables (static members, tiers).
        agents: Per-agent settings (``{"id", "wrap_up"}``).
        policy: :class:`~callcenter_sdk.acd.RoutingPolicy` fields.
        unsupported: One line per setting not carried over, with where it was.
    """

    queues: list[dict[str, Any]] = attrs.field(factory=list)
    members: list[dict[str, Any]] = attrs.field(factory=list)
    agents: list[dict[str, Any]] = attrs.field(factory=list)
    policy: dict[str, Any] = attrs.field(factory=dict)
    unsupported: list[str] = attrs.field(factory=list)


# ------------------------------------------------------------------ Asterisk

_AST_STRATEGIES = {
    "ringall": "ring-all",
    "leastrecent": "longest-idle",
    "fewestcalls": "fewest-contacts",
    "random": "random",
    "rrmemory": "round-robin",
    "rrordered": "round-robin",
    "linear": "linear",
    "wrandom": "weighted-random",
}
# Settings about sound, recording and dialplan: the runtime's (IVR, media), not the ACD's.
_AST_MEDIA = re.compile(
    r"^(musicclass|musiconhold|announce.*|periodic-announce.*|queue-.*|context|"
    r"monitor-.*|membermacro|membergosub|reportholdtime|relative-periodic-announce|"
    r"min-announce-frequency|random-periodic-announce|round_seconds|setinterfacevar|"
    r"setqueuevar|setqueueentryvar|eventwhencalled|eventmemberstatus|log-restricted-caller-id)$"
)
_AST_NOT_SUPPORTED = {
    "timeoutrestart": "after a busy or refused offer the next member always rings for a "
    "full timeout (as timeoutrestart = yes)",
    "memberdelay": "the runtime bridges at once",
    "autopauseunavail": "the ACD has no input for an unreachable phone (the runtime logs "
    "out an agent whose phone is gone)",
}


def _ini(text: str) -> Iterator[tuple[str, list[str], list[tuple[str, str]]]]:
    """Sections of an Asterisk config: (name, template options, ordered key/values)."""
    name: str | None = None
    options: list[str] = []
    items: list[tuple[str, str]] = []
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        head = re.fullmatch(r"\[([^\]]+)\](?:\(([^)]*)\))?", line)
        if head:
            if name is not None:
                yield name, options, items
            name, items = head.group(1), []
            options = [o.strip() for o in (head.group(2) or "").split(",") if o.strip()]
            continue
        key, sep, value = line.partition("=")
        if not sep or name is None:
            continue
        items.append((key.strip(), value.lstrip(">").strip()))
    if name is not None:
        yield name, options, items


def _penalty_rules(text: str, where: str, out: Imported) -> dict[str, list[dict[str, Any]]]:
    rules: dict[str, list[dict[str, Any]]] = {}
    for name, _, items in _ini(text):
        rules[name] = []
        for key, value in items:
            if key != "penaltychange":
                out.unsupported.append(f"{where} [{name}] {key}: unknown rule")
                continue
            parts = [p.strip() for p in value.split(",")]
            rule: dict[str, Any] = {"after": float(parts[0])}
            fields = ("max_penalty", "min_penalty", "raise_penalty")
            for field, part in zip(fields, parts[1:4], strict=False):
                if part:
                    rule[field] = int(part)
                    if part[0] in "+-":
                        rule["relative_" + field.split("_")[0]] = True
            rules[name].append(rule)
    return rules


def _bool(value: str) -> bool:
    return value.strip().lower() in {"yes", "true", "1", "on", "y"}


_AST_CONDITIONS = {"paused", "penalty", "inuse", "ringing", "unavailable", "invalid", "unknown"}
_AST_CONDITIONS |= {"wrapup"}
_AST_EMPTY_WORDS = {
    "strict": ["invalid", "paused", "penalty", "unavailable"],
    "loose": ["invalid", "penalty"],
}
_AST_USUAL = ("invalid", "paused", "penalty")  # what yes (leave) / no (join) stands for
_AST_FALSE = {"no", "false", "0", "off", "n"}
_AST_TRUE = {"yes", "true", "1", "on", "y"}


def _empty_conditions(value: str, *, join: bool) -> list[str] | None:
    """app_queue's ``joinempty`` / ``leavewhenempty`` as the conditions it stands for.

    ``None`` means the caller always joins (stays). The words read as
    app_queue parses them: ``strict`` and ``loose`` stand for their
    conditions; a false word (``no``) is the usual set for ``joinempty`` and
    none for ``leavewhenempty``, a true word (``yes``) the reverse.
    """
    out: set[str] = set()
    for raw in value.split(","):  # in order: a set word replaces what came before
        word = raw.strip().lower()
        if word in _AST_FALSE or word in _AST_TRUE:
            usual = (word in _AST_FALSE) == join
            out = set(_AST_USUAL) if usual else set()
        elif word in _AST_EMPTY_WORDS:
            out = set(_AST_EMPTY_WORDS[word])
        elif word in _AST_CONDITIONS:
            out.add(word)
    return sorted(out) or None


def _join_conditions(value: str) -> list[str] | None:
    """app_queue's ``joinempty`` as the conditions it stands for (``None``: join always)."""
    return _empty_conditions(value, join=True)


def _leave_conditions(value: str) -> list[str] | None:
    """app_queue's ``leavewhenempty`` as its conditions (``None``: never leave)."""
    return _empty_conditions(value, join=False)


def from_asterisk(
    queues_conf: str, queuerules_conf: str = "", *, name: str = "queues.conf"
) -> Imported:
    """Translate an Asterisk ``queues.conf`` (and ``queuerules.conf``)."""
    out = Imported()
    rules = _penalty_rules(queuerules_conf, "queuerules.conf", out) if queuerules_conf else {}
    templates: dict[str, list[tuple[str, str]]] = {}
    for section, options, items in _ini(queues_conf):
        inherited = [kv for o in options if o in templates for kv in templates[o]]
        if "!" in options:
            templates[section] = inherited + items
            continue
        if section == "general":
            for key, value in items:
                out.unsupported.append(f"{name} [general] {key} = {value}: global option")
            continue
        _ast_queue(section, inherited + items, rules, name, out)
    return out


def _positive(value: str) -> float | None:
    number = float(value) if value else 0.0
    return number if number > 0 else None


def _positive_int(value: str) -> int | None:
    number = int(value) if value else 0
    return number if number > 0 else None


def _autopause(value: str) -> str:
    low = value.strip().lower()
    return "all" if low == "all" else "queue" if _bool(low) else "no"


_Convert = Callable[[str], object]
# queues.conf key -> (Queue field, converter); a converter's None means "leave the default".
_AST_FIELDS: dict[str, tuple[str, _Convert]] = {
    "strategy": ("strategy", _AST_STRATEGIES.get),
    "timeout": ("offer_timeout", _positive),
    "maxlen": ("max_length", _positive_int),
    "wrapuptime": ("wrap_up", float),
    "servicelevel": ("service_level_threshold", float),
    "weight": ("weight", lambda v: max(1.0, float(v))),
    "joinempty": ("join_empty_conditions", _join_conditions),
    "leavewhenempty": ("leave_empty_conditions", _leave_conditions),
    "announce-frequency": ("announce_every", _positive),
    "autopause": ("autopause", _autopause),
    "autopausedelay": ("autopause_delay", float),
    "autopausebusy": ("autopause_busy", _bool),
    "ringinuse": ("ring_in_use", _bool),
    "penaltymemberslimit": ("penalty_members_limit", int),
    "retry": ("retry", float),
    "timeoutpriority": ("max_wait_cuts_offer", lambda v: v.strip().lower() == "app"),
}


def _ast_queue(
    section: str,
    items: list[tuple[str, str]],
    rules: Mapping[str, list[dict[str, Any]]],
    name: str,
    out: Imported,
) -> None:
    q: dict[str, Any] = {"name": section}
    where = f"{name} [{section}]"
    for raw_key, value in items:
        key = raw_key.lower()
        if key in _AST_FIELDS:
            field, convert = _AST_FIELDS[key]
            converted = convert(value)
            if converted is not None:
                q[field] = converted
            elif key == "strategy":
                out.unsupported.append(f"{where} strategy = {value}: not supported")
        elif key == "member":
            fields = [f.strip() for f in value.split(",")]
            agent = fields[2] if len(fields) > 2 and fields[2] else fields[0]
            penalty = int(fields[1]) if len(fields) > 1 and fields[1] else 0
            out.members.append({"agent": agent, "queue": section, "penalty": penalty})
        elif key == "defaultrule" and value in rules:
            q["penalty_rules"] = rules[value]
        elif key == "defaultrule":
            out.unsupported.append(f"{where} defaultrule = {value}: no such rule given")
        elif key == "timeoutrestart" and _bool(value):
            pass  # the engine's behaviour: each offer has its own full timeout
        else:
            out.unsupported.append(f"{where} {key} = {value}: {_ast_why(key)}")
        if key == "announce-frequency":
            out.unsupported.append(f"{where} announce-frequency: the prompts are the IVR's")
    out.queues.append(q)


def _ast_why(key: str) -> str:
    if key in _AST_NOT_SUPPORTED:
        return _AST_NOT_SUPPORTED[key]
    if _AST_MEDIA.match(key):
        return "sound and dialplan belong to the IVR/runtime"
    return "not supported"


# ---------------------------------------------------------------- FreeSWITCH

_FS_STRATEGIES = {
    "ring-all": "ring-all",
    "longest-idle-agent": "longest-idle",
    "round-robin": "round-robin",
    "top-down": "linear",
    "agent-with-least-talk-time": "least-talk-time",
    "agent-with-fewest-calls": "fewest-contacts",
    "sequentially-by-agent-order": "linear",
    "random": "random",
    "ring-progressively": "ring-progressively",
}
_FS_AGENT_POLICY = {
    "max-no-answer": "max_missed_offers",
    "reject-delay-time": "reject_delay",
    "busy-delay-time": "busy_delay",
    "no-answer-delay-time": "no_answer_delay",
}
_FS_MEDIA = {"moh-sound", "record-template", "announce-sound", "time-base-score"}
_FS_NOT_SUPPORTED = {
    "skip-agents-with-external-calls": "the ACD sees only the calls it routes",
    "agent-no-answer-status": "missed offers pause with reason missed-offers",
    "calls-per-agent": "use the agent's capacity",
}


def from_freeswitch(text: str, *, name: str = "callcenter.conf.xml") -> Imported:
    """Translate a FreeSWITCH ``callcenter.conf.xml``."""
    try:
        root = ET.fromstring(text)  # noqa: S314 - the user's own configuration file
    except ET.ParseError as exc:
        raise ConfigError(name, (), "well-formed XML", str(exc)) from exc
    out = Imported()
    for queue in root.iter("queue"):
        _fs_queue(queue, name, out)
    _fs_agents(root, name, out)
    for tier in root.iter("tier"):
        level = int(tier.get("level", "1") or 1)
        out.members.append(
            {"agent": tier.get("agent", ""), "queue": tier.get("queue", ""), "penalty": level}
        )
        if tier.get("position") not in (None, "", "1"):
            out.unsupported.append(
                f"{name} tier {tier.get('agent')}@{tier.get('queue')} position: the order "
                "of joining stands for it"
            )
    return out


def _fs_agents(root: ET.Element, name: str, out: Imported) -> None:
    values: dict[str, set[str]] = {}
    for agent in root.iter("agent"):
        agent_id = agent.get("name", "")
        entry: dict[str, Any] = {"id": agent_id}
        for attr, value in agent.attrib.items():
            if attr == "wrap-up-time":
                entry["wrap_up"] = float(value)
            elif attr in _FS_AGENT_POLICY:
                values.setdefault(attr, set()).add(value)
            elif attr == "status" and "on demand" in value.lower():
                out.unsupported.append(
                    f"{name} agent {agent_id} status = {value}: a presence the runtime sets "
                    "(set_ready(on_demand=True))"
                )
            elif attr not in {"name", "type", "contact", "status"}:
                out.unsupported.append(f"{name} agent {agent_id} {attr} = {value}: not supported")
        out.agents.append(entry)
    for attr, seen in sorted(values.items()):
        chosen = min(seen, key=float)
        number = float(chosen)
        out.policy[_FS_AGENT_POLICY[attr]] = int(number) if attr == "max-no-answer" else number
        if len(seen) > 1:
            out.unsupported.append(
                f"{name} agents' {attr} differ ({', '.join(sorted(seen))}): the engine-wide "
                f"policy takes {chosen}"
            )
    if out.policy.get("max_missed_offers", 1) < 1:
        del out.policy["max_missed_offers"]  # FreeSWITCH's 0 means "never"
        out.unsupported.append(f"{name} max-no-answer = 0: the engine always pauses after some")


_FS_FIELDS: dict[str, tuple[str, _Convert]] = {
    "strategy": ("strategy", _FS_STRATEGIES.get),
    "max-wait-time": ("max_wait", _positive),
    "max-wait-time-with-no-agent": ("no_agent_timeout", _positive),
    "max-wait-time-with-no-agent-time-reached": ("no_agent_grace", _positive),
    "announce-frequency": ("announce_every", _positive),
    "ring-progressively-delay": ("ring_progressively_delay", _positive),
}


def _fs_queue(queue: ET.Element, name: str, out: Imported) -> None:
    qname = queue.get("name", "")
    q: dict[str, Any] = {"name": qname}
    where = f"{name} queue {qname}"
    params = {p.get("name", ""): p.get("value", "") for p in queue.iter("param")}
    tiers = _bool(params.pop("tier-rules-apply", "false"))
    wait = params.pop("tier-rule-wait-second", "")
    multiply = params.pop("tier-rule-wait-multiply-level", "true")
    no_wait = params.pop("tier-rule-no-agent-no-wait", "false")
    resume = _bool(params.pop("abandoned-resume-allowed", "false"))
    discard = params.pop("discard-abandoned-after", "60")  # mod_callcenter's default
    if resume:
        q["abandoned_resume"] = float(discard or 0)
    if tiers:
        q["tier_rules"] = {"wait": float(wait or 0), "multiply_level": _bool(multiply)}
        if _bool(no_wait):
            q["tier_rules"]["no_agent_no_wait"] = True
    for key, value in params.items():
        if key in _FS_FIELDS:
            field, convert = _FS_FIELDS[key]
            converted = convert(value)
            if converted is not None:
                q[field] = converted
            elif key == "strategy":
                out.unsupported.append(f"{where} strategy = {value}: not supported")
        elif key in _FS_NOT_SUPPORTED:
            if value and value not in {"0", "false"}:
                out.unsupported.append(f"{where} {key} = {value}: {_FS_NOT_SUPPORTED[key]}")
        elif key in _FS_MEDIA:
            if value:
                out.unsupported.append(f"{where} {key}: sound and scoring are the runtime's")
        else:
            out.unsupported.append(f"{where} {key} = {value}: not supported")
    out.queues.append(q)


# ------------------------------------------------------------------- output


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + " }"
    return "[" + ", ".join(_value(v) for v in value) + "]"


def to_toml(imported: Imported, source: str) -> str:
    """The TOML text of ``imported``, not-carried-over settings listed as comments first."""
    lines = [f"# Imported from {source} by `callcenter import`.", ""]
    if imported.unsupported:
        lines.append("# Not carried over (see docs/acd.md, mapping from app_queue/mod_callcenter):")
        lines += [f"#   {u}" for u in imported.unsupported]
        lines.append("")
    if imported.policy:
        lines.append("[policy]")
        lines += [f"{k} = {_value(v)}" for k, v in imported.policy.items()]
        lines.append("")
    for kind in ("queues", "agents", "members"):
        for table in getattr(imported, kind):
            lines.append(f"[[{kind}]]")
            lines += [f"{k} = {_value(v)}" for k, v in table.items()]
            lines.append("")
    return "\n".join(lines)


def queues_from_tables(tables: Sequence[Mapping[str, Any]]) -> list[Queue]:
    """Build :class:`~callcenter_sdk.acd.Queue` values from imported ``[[queues]]`` tables."""
    out: list[Queue] = []
    for table in tables:
        values = dict(table)
        if "penalty_rules" in values:
            values["penalty_rules"] = [PenaltyRule(**r) for r in values["penalty_rules"]]
        if "tier_rules" in values:
            values["tier_rules"] = TierRules(**values["tier_rules"])
        out.append(Queue(**values))
    return out


def _configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="peer", required=True, metavar="PEER")
    ast = sub.add_parser("asterisk", help="translate app_queue's queues.conf")
    ast.add_argument("queues_conf", help="queues.conf")
    ast.add_argument("queuerules_conf", nargs="?", help="queuerules.conf (penalty rules)")
    fs = sub.add_parser("freeswitch", help="translate mod_callcenter's callcenter.conf.xml")
    fs.add_argument("callcenter_conf", help="callcenter.conf.xml")
    for p in (ast, fs):
        p.add_argument("-o", "--output", help="write the TOML here instead of stdout")


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, (), "a readable file", str(exc)) from exc


def _run(args: argparse.Namespace) -> int:
    if args.peer == "asterisk":
        rules = _read(args.queuerules_conf) if args.queuerules_conf else ""
        source = args.queues_conf
        imported = from_asterisk(_read(source), rules, name=Path(source).name)
    else:
        source = args.callcenter_conf
        imported = from_freeswitch(_read(source), name=Path(source).name)
    queues_from_tables(imported.queues)  # every table must make a valid queue
    text = to_toml(imported, source)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    for line in imported.unsupported:
        print(f"not carried over: {line}", file=sys.stderr)
    return 0


COMMANDS["import"] = Command(
    "import", "translate an Asterisk or FreeSWITCH queue configuration", _configure, _run
)
