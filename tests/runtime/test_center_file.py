"""``load_center``: a whole call center from one TOML file, every mistake named."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from callcenter_sdk import ConfigError, ManualClock, acd
from callcenter_sdk.cli._import import Imported, from_asterisk, from_freeswitch, to_toml
from callcenter_sdk.kpi import Channel
from callcenter_sdk.media import VirtualBackend
from callcenter_sdk.runtime import load_center, open_call_center
from callcenter_sdk.store import temporary_store

HOTLINE = Path(__file__).parents[2] / "examples" / "hotline"
EXAMPLE = HOTLINE / "center.toml"


def _example_elsewhere(folder: Path) -> str:
    """The example's text with its files named absolutely, to be written in another folder."""
    text = EXAMPLE.read_text(encoding="utf-8")
    for name in ("org.toml", "flow.toml", "streamtv.toml", "script.toml"):
        text = text.replace(f'"{name}"', f'"{HOTLINE / name}"')
    return text


def _replace(old: str, new: str, count: int = 1) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert text.count(old) >= count, old
        return text.replace(old, new, count)

    return edit


def _nth(old: str, new: str, index: int) -> Callable[[str], str]:
    """Replace only the ``index``-th (from 0) occurrence of ``old``."""

    def edit(text: str) -> str:
        parts = text.split(old)
        assert len(parts) > index + 1, old
        return old.join(parts[: index + 1]) + new + old.join(parts[index + 1 :])

    return edit


def test_the_hotline_file_describes_the_hotline() -> None:
    """The example reads into the hotline's center: its queues and their campaigns,
    StreamTV's number and flow, agents with their skills and queues (the
    technician on the back office, two tickets at a time), twelve positions,
    the dial plan, and the defaults for the store and the web server."""
    setup = load_center(EXAMPLE)
    config = setup.config
    assert [q.name for q in config.queues] == [
        "internet",
        "tv",
        "billing",
        "general",
        "streamtv",
        "back-office",
    ]
    assert config.queues[0].offer_timeout == 12.0
    assert config.queues[0].announce_every == 30.0
    assert config.campaigns["streamtv"] == "streamtv-support"
    assert "back-office" not in config.campaigns
    assert config.flow.name == "hotline-demo"
    (number,) = config.numbers
    assert (number.number, number.campaign, number.flow.name) == (
        "3900",
        "streamtv-support",
        "streamtv",
    )
    seats = {s.agent.id: s for s in config.seats}
    assert sorted(seats) == [*(f"agent{n}" for n in range(1, 7)), "tech1"]
    agent1 = seats["agent1"].agent
    assert dict(agent1.skills) == {"internet": 5, "tv": 2}
    assert [m.queue for m in agent1.memberships] == ["internet", "tv", "general"]
    assert [m.queue for m in seats["agent5"].agent.memberships] == ["streamtv", "general"]
    tech = seats["tech1"].agent
    assert [m.queue for m in tech.memberships] == ["back-office"]
    assert tech.capacity.limits == {Channel.TICKET: 2}
    assert all(s.device == "" for s in config.seats)  # they log in at a position
    assert [p.id for p in config.positions] == [f"hotline:{n}" for n in range(1, 13)]
    assert config.positions[4].device == "sip:pos5@127.0.0.1:5080"
    assert config.back_office == "back-office"
    assert config.dial_plan.resolve("+33612345678") == "sip:+33612345678@127.0.0.1:5090"
    assert config.node == "hotline"
    assert config.topics["billing"] == "bill payment"
    assert setup.org.center("hotline").seats == 20
    assert (setup.web.host, setup.web.port) == ("127.0.0.1", 8080)
    assert (setup.sip.workers, setup.sip.port) == (6, 5060)
    assert setup.sip.worker_ports is None, "the system picks the workers' ports"
    assert setup.store_url is None
    assert setup.database_url().endswith("/center.sqlite")


def test_worker_port_fixes_each_workers_port(tmp_path: Path) -> None:
    """``worker_port = 5070`` puts worker n on port 5070 + n, the addresses a
    proxy's dispatcher list names."""
    file = tmp_path / "center.toml"
    text = _example_elsewhere(tmp_path).replace("port = 5060", "port = 5060\nworker_port = 5070")
    file.write_text(text, encoding="utf-8")
    assert load_center(file).sip.worker_ports == (5070, 5071, 5072, 5073, 5074, 5075)


def test_cluster_ttl_is_the_lease_and_heartbeat_life(tmp_path: Path) -> None:
    """``[cluster] ttl`` (5 s when absent) is read as seconds; a whole number is a float."""
    assert load_center(EXAMPLE).cluster.ttl == 5.0
    file = tmp_path / "center.toml"
    file.write_text(_example_elsewhere(tmp_path) + "\n[cluster]\nttl = 2\n", encoding="utf-8")
    assert load_center(file).cluster.ttl == 2.0


def test_a_relative_sqlite_store_is_next_to_the_file(tmp_path: Path) -> None:
    """``store = "sqlite:///center.sqlite"`` is a file beside the center's file,
    wherever the command is run from; opening it runs the migrations."""
    text = _example_elsewhere(tmp_path).replace(
        'language = "en"', 'language = "en"\nstore = "sqlite:///db/center.sqlite"'
    )
    (tmp_path / "db").mkdir()
    (tmp_path / "center.toml").write_text(text, encoding="utf-8")
    setup = load_center(tmp_path / "center.toml")
    assert setup.store_url == f"sqlite:///{tmp_path / 'db' / 'center.sqlite'}"
    with setup.open_store() as store:
        assert store.revision() is not None
    assert (tmp_path / "db" / "center.sqlite").is_file()


BROKEN: list[tuple[str, Callable[[str], str], str, str]] = [
    (
        "script of an unknown campaign",
        _replace('\nfibrenet-support = "', '\nfibrenet-sales = "'),
        "scripts.fibrenet-sales",
        "a campaign of the org (fibrenet-support, streamtv-support), got 'fibrenet-sales'",
    ),
    (
        "script file missing",
        _replace('script.toml"', 'nope.toml"'),
        "scripts.fibrenet-support",
        "a script or questionnaire TOML file (a path relative to this file), got '",
    ),
    (
        "negative offer timeout",
        _nth("offer_timeout = 12", "offer_timeout = -1", 2),
        "queues[2].offer_timeout",
        "seconds > 0, got -1",
    ),
    (
        "unknown campaign",
        _replace('campaign = "fibrenet-support"', 'campaign = "fibrenet-sales"'),
        "queues[0].campaign",
        "a campaign of the org: fibrenet-support, streamtv-support, got 'fibrenet-sales'",
    ),
    ("misspelt table", _replace("[[queues]]", "[[queue]]"), "queue", "one of back_office,"),
    (
        "a flow file that does not exist",
        _replace('streamtv.toml"', 'stream.toml"'),
        "numbers[0].flow",
        "an IVR flow TOML file (a path relative to this file)",
    ),
    (
        "a queue the flow needs is missing",
        _replace('name = "billing"', 'name = "bills"'),
        "flow",
        "a flow whose queues are among internet, tv, bills",
    ),
    (
        "a person not in the campaigns",
        _replace("agent1 = {", "nobody = {"),
        "seats.agents.nobody",
        "a person of seats.campaigns",
    ),
    (
        "a skill level out of range",
        _replace("internet = 5, tv = 2", "internet = 7, tv = 2"),
        "seats.agents.agent1.skills.internet",
        "proficiency 1 to 5, got 7",
    ),
    (
        "positions beyond the center's seats",
        _replace('numbers = "1-12"', 'numbers = "1-99"'),
        "positions[0].numbers",
        "seat numbers 1 to 20",
    ),
    (
        "a back office that takes no tickets",
        _replace('channels = ["ticket"]', 'channels = ["voice"]'),
        "back_office",
        "a queue whose channels include ticket, got 'back-office'",
    ),
    (
        "a dial pattern that is no regular expression",
        _replace("allowed = ['\\+33\\d{9}']", "allowed = ['(']"),
        "dial_plan.allowed",
        "a list of regular expressions",
    ),
    (
        "a SIP port out of range",
        _replace("port = 5060", "port = 70000"),
        "sip.port",
        "the front door's UDP port, 0 to 65535, got 70000",
    ),
    (
        "worker ports past 65535",
        _replace("port = 5060", "port = 5060\nworker_port = 65535"),
        "sip.worker_port",
        "room for 6 worker ports up to 65535, apart from port 5060, got 65535",
    ),
    (
        "worker ports over the front door's",
        _replace("port = 5060", "port = 5060\nworker_port = 5058"),
        "sip.worker_port",
        "room for 6 worker ports up to 65535, apart from port 5060, got 5058",
    ),
    (
        "a web port as a string",
        _replace("port = 8080", 'port = "8080"'),
        "web.port",
        "a TCP port, 0 to 65535, got '8080'",
    ),
    (
        "a store that is no database we know",
        _replace('language = "en"', 'language = "en"\nstore = "mysql://db/x"'),
        "center.store",
        "a SQLAlchemy URL",
    ),
    (
        "a callback key of two keys",
        _replace('callback_key = ""', 'callback_key = "12"'),
        "center.callback_key",
        "one key of 0-9, * or #",
    ),
    (
        "no org",
        _replace('org = "', '# org = "'),
        "org",
        "the org TOML file of the center's people",
    ),
    ("not TOML", _replace("[seats]", "[seats"), "<root>", "valid TOML"),
    (
        "cluster ttl zero",
        lambda text: text + "\n[cluster]\nttl = 0\n",
        "cluster.ttl",
        "seconds from 0.5 to 600 (the lease's and each heartbeat's life), got 0",
    ),
    (
        "cluster ttl a string",
        lambda text: text + '\n[cluster]\nttl = "5s"\n',
        "cluster.ttl",
        "seconds from 0.5 to 600",
    ),
    (
        "cluster unknown key",
        lambda text: text + "\n[cluster]\nlease = 5\n",
        "cluster.lease",
        "one of ttl",
    ),
]


@pytest.mark.parametrize(
    ("edit", "path", "expected"),
    [pytest.param(edit, path, expected, id=name) for name, edit, path, expected in BROKEN],
)
def test_each_mistake_names_the_file_the_path_and_what_was_expected(
    tmp_path: Path, edit: Callable[[str], str], path: str, expected: str
) -> None:
    """A broken center file is a ConfigError whose message starts with the file,
    then the dotted path to the mistake, then what a right value looks like."""
    file = tmp_path / "center.toml"
    file.write_text(edit(_example_elsewhere(tmp_path)), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_center(file)
    assert str(caught.value).startswith(f"{file}: at {path}: expected {expected}")


def test_an_agent_with_no_phone_needs_positions(tmp_path: Path) -> None:
    """Without positions, an agent with no phone of their own could never be
    rung: the error names the person's device and both ways to give one."""
    text = _example_elsewhere(tmp_path)
    text = text[: text.index("[[positions]]")] + text[text.index("# Callbacks go") :]
    file = tmp_path / "center.toml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_center(file)
    assert str(caught.value).startswith(
        f"{file}: at seats.agents.agent1.device: expected a phone for agent1"
    )
    assert "[[positions]]" in str(caught.value)
    fixed = text.replace(
        "agent1 = { skills = { internet = 5, tv = 2 } }",
        'agent1 = { skills = { internet = 5, tv = 2 }, device = "sip:agent1@10.0.0.7" }',
    )
    file.write_text(fixed, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"seats\.agents\.agent2\.device"):
        load_center(file)


def test_an_unreadable_file_is_named() -> None:
    """A file that does not exist is a ConfigError naming it, not an OSError."""
    with pytest.raises(ConfigError, match=r"^nowhere\.toml: at <root>: expected a readable"):
        load_center("nowhere.toml")


def _imported_queues(peer: str) -> str:
    """The ``[[queues]]`` tables ``callcenter import`` writes for the fixture of ``peer``."""
    fixtures = Path(__file__).parents[1] / "acd" / "fixtures"
    if peer == "asterisk":
        imported = from_asterisk(
            (fixtures / "queues.conf").read_text(encoding="utf-8"),
            (fixtures / "queuerules.conf").read_text(encoding="utf-8"),
        )
    else:
        imported = from_freeswitch((fixtures / "callcenter.conf.xml").read_text(encoding="utf-8"))
    written = tomllib.loads(to_toml(imported, peer))
    return to_toml(Imported(queues=written["queues"]), peer)


@pytest.mark.parametrize("peer", ["asterisk", "freeswitch"])
async def test_imported_queues_serve_in_a_center(tmp_path: Path, peer: str) -> None:
    """The queues ``callcenter import asterisk|freeswitch`` writes are keys of the
    center file: added to a center's ``[[queues]]`` they load with every setting
    (penalty rules, tier rules, ring-in-use, auto-pause...) and a center starts on
    the virtual backend with them."""
    text = _example_elsewhere(tmp_path) + "\n" + _imported_queues(peer)
    (tmp_path / "center.toml").write_text(text, encoding="utf-8")
    setup = load_center(tmp_path / "center.toml")
    queues = {q.name: q for q in setup.config.queues}
    if peer == "asterisk":
        support = queues["support"]
        assert [r.after for r in support.penalty_rules] == [30.0, 60.0, 90.0]
        assert support.penalty_rules[0].relative_max
        assert (support.ring_in_use, support.autopause, support.autopause_delay) == (
            False,
            acd.AutoPause.QUEUE,
            60.0,
        )
        assert support.penalty_members_limit == 3
        assert queues["sales"].autopause is acd.AutoPause.ALL
        names = ["support", "sales"]
    else:
        assert queues["billing@default"].tier_rules == acd.TierRules(wait=20.0)
        names = ["billing@default", "vip@default"]
    clock = ManualClock(1_000.0)
    with temporary_store() as store:
        async with open_call_center(
            VirtualBackend(clock), setup.config, store=store, clock=clock, run_timers=False
        ) as center:
            for name in names:
                assert center.engine.queue_status(name).waiting == 0
                assert center.engine.expected_wait(name) > 0


def test_a_bad_penalty_rule_is_named(tmp_path: Path) -> None:
    """A penalty rule with an unknown key or no ``after`` is named with its path."""
    base = _example_elsewhere(tmp_path)
    for rule, where in (
        ("{ after = 5, maxpenalty = 2 }", "queues[6].penalty_rules[0].maxpenalty"),
        ("{ max_penalty = 2 }", "queues[6].penalty_rules[0].after"),
    ):
        extra = f'\n[[queues]]\nname = "extra"\npenalty_rules = [{rule}]\n'
        (tmp_path / "center.toml").write_text(base + extra, encoding="utf-8")
        with pytest.raises(ConfigError) as info:
            load_center(tmp_path / "center.toml")
        assert where in str(info.value)
