"""Routing strategies: each built-in, the plugin hook, misbehaving plugins and sticky agent."""

from __future__ import annotations

import collections
import importlib
import importlib.util
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import callcenter_sdk as cc
from callcenter_sdk import acd
from callcenter_sdk.testing import AcdHarness

STICKY_DIST = Path(__file__).parents[1] / "plugins" / "sticky_agent"


def _winner(h: AcdHarness, contact_id: str, **fields: Any) -> list[str]:
    return [a.agent_id for a in h.arrive(contact_id, **fields) if isinstance(a, acd.Offer)]


def _serve(h: AcdHarness, contact_id: str, talk: float = 10.0) -> str:
    """Offer, accept, talk and hang up one contact; return the agent who took it."""
    offer = next(a for a in h.arrive(contact_id) if isinstance(a, acd.Offer))
    h.engine.accept(offer.offer_id)
    h.later(talk)
    h.engine.hangup(contact_id)
    return offer.agent_id


def _team(strategy: str, names: Sequence[str] = ("a", "b", "c"), **queue: object) -> AcdHarness:
    h = AcdHarness(policy=acd.RoutingPolicy(missed_offer_delay=0))
    h.queue("q", strategy=strategy, **queue)
    for name in names:
        h.agent(name)
        h.later(1)
    return h


def test_builtins_come_through_the_plugin_hook() -> None:
    """Every built-in strategy is provided by the built-in plugin via the routing hook."""
    host = cc.create_plugin_host(entry_points=False)
    assert set(host.routing_strategies()) == set(acd.BUILTIN_STRATEGIES)
    bare = cc.create_plugin_host(builtins=False, entry_points=False)
    assert bare.routing_strategies() == {}


class _Clash:
    @cc.hookimpl
    def callcenter_routing_strategies(self) -> Mapping[str, object]:
        return {"longest-idle": lambda options: None}


class _Nonsense:
    @cc.hookimpl
    def callcenter_routing_strategies(self) -> object:
        return {"Bad Name": 3}


def test_host_rejects_clashing_or_invalid_strategy_plugins() -> None:
    """Two plugins claiming a name, a bad name or a non-callable raise PluginError."""
    with pytest.raises(cc.PluginError, match="two plugins"):
        cc.create_plugin_host(entry_points=False, plugins=[_Clash()]).routing_strategies()
    with pytest.raises(cc.PluginError, match="Bad Name"):
        cc.create_plugin_host(entry_points=False, plugins=[_Nonsense()]).routing_strategies()


def test_longest_idle_picks_the_agent_free_for_longest() -> None:
    """The agent idle since the earliest time gets the contact."""
    h = _team("longest-idle")
    assert _winner(h, "c1") == ["a"]
    assert _winner(h, "c2") == ["b"]


def test_round_robin_remembers_where_it_stopped() -> None:
    """Round-robin continues after the last agent chosen, wrapping around."""
    h = _team("round-robin")
    assert [_serve(h, f"c{i}") for i in range(5)] == ["a", "b", "c", "a", "b"]


def test_linear_always_starts_from_the_top() -> None:
    """Linear (top-down) offers the first member in order whenever they are free."""
    h = _team("linear")
    assert [_serve(h, f"c{i}") for i in range(3)] == ["a", "a", "a"]


def test_fewest_contacts_balances_the_count() -> None:
    """The agent with the fewest contacts handled since login is chosen."""
    h = _team("fewest-contacts")
    taken = [_serve(h, f"c{i}") for i in range(6)]
    assert collections.Counter(taken) == {"a": 2, "b": 2, "c": 2}


def test_least_talk_time_prefers_the_least_talked() -> None:
    """After a long call, that agent is skipped in favour of those who talked less."""
    h = _team("least-talk-time")
    assert _serve(h, "long", talk=300) == "a"
    assert _serve(h, "short", talk=5) == "b"
    assert _serve(h, "next", talk=5) == "c"
    assert _serve(h, "again", talk=5) == "b"


def test_random_is_seeded_and_stays_in_the_best_tier() -> None:
    """Seeded random repeats itself and never picks a higher-penalty agent over a lower one."""

    def run() -> list[str]:
        h = AcdHarness(policy=acd.RoutingPolicy(missed_offer_delay=0))
        h.queue("q", strategy="random", strategy_options={"seed": 7})
        for name in ("a", "b", "c"):
            h.agent(name)
        h.agent("z", penalty=5)
        return [_serve(h, f"c{i}") for i in range(12)]

    first = run()
    assert first == run()
    assert set(first) <= {"a", "b", "c"}
    assert len(set(first)) > 1


def test_weighted_random_follows_the_weights() -> None:
    """A weight of 8 against 1 wins most draws (fixed seed, so not flaky)."""
    h = AcdHarness(policy=acd.RoutingPolicy(missed_offer_delay=0))
    h.queue("q", strategy="weighted-random", strategy_options={"seed": 1, "weights": {"a": 8}})
    h.agent("a")
    h.agent("b")
    counts = collections.Counter(_serve(h, f"c{i}") for i in range(90))
    assert counts["a"] > 2 * counts["b"] > 0


def test_skills_best_fit_prefers_proficiency_then_idle() -> None:
    """The most proficient agent wins; equal proficiency falls back to the longest idle."""
    h = AcdHarness()
    h.queue("q", strategy="skills-best-fit")
    h.agent("ok", skills={"billing": 2})
    h.later(1)
    h.agent("best", skills={"billing": 5})
    h.later(1)
    h.agent("best-too", skills={"billing": 5})
    need = [acd.SkillRequirement("billing", 1)]
    assert _winner(h, "c1", requirements=need) == ["best"]
    assert _winner(h, "c2", requirements=need) == ["best-too"]
    assert _winner(h, "c3", requirements=need) == ["ok"]


def test_indexed_strategies_answer_the_same_from_a_snapshot() -> None:
    """IndexedStrategy.select mirrors the engine's index order (usable without an engine)."""

    def cand(agent_id: str, **kw: float) -> acd.Candidate:
        base = {"penalty": 0, "order": 0, "idle_since": 0.0, "active": 0, "handled": 0}
        base.update(kw)
        return acd.Candidate(agent_id=agent_id, talk_time=0.0, skills={}, **base)  # type: ignore[arg-type]

    candidates = (cand("x", idle_since=5, order=0), cand("y", idle_since=1, order=1))
    request = acd.RoutingRequest(
        contact=acd.Contact(id="c"),
        queue="q",
        now=10,
        candidates=candidates,
        lookup=lambda _id: None,
        ring_size=2,
    )
    idle = acd.IndexedStrategy(acd.IndexKey.IDLE)
    assert idle.select(request) == ["y"]
    assert acd.IndexedStrategy(acd.IndexKey.ORDER).select(request) == ["x"]
    assert acd.IndexedStrategy(acd.IndexKey.IDLE, ring=True).select(request) == ["y", "x"]


class _Bad:
    """A generic strategy misbehaving in a chosen way."""

    index_key: acd.IndexKey | None = None
    ring = False

    def __init__(self, how: str) -> None:
        self.how = how

    def select(self, request: acd.RoutingRequest) -> Sequence[str]:
        if self.how == "raise":
            raise RuntimeError("boom")
        if self.how == "stranger":
            return ["nobody"]
        if self.how == "duplicate":
            return [request.candidates[0].agent_id] * 2
        if self.how == "empty":
            return []
        return [request.candidates[-1].agent_id]  # "slow" or "good": the last candidate

    def on_connected(self, contact: acd.Contact, agent_id: str) -> None:
        if self.how == "good":
            raise ValueError("observer broke")


def _bad_harness(how: str) -> AcdHarness:
    ticks: Iterator[float] = iter(range(0, 10_000, 1))  # one second per perf_counter read
    perf = (lambda: float(next(ticks))) if how == "slow" else None

    def make(options: Mapping[str, object]) -> acd.RoutingStrategy:
        return _Bad(how)

    strategies = {**acd.BUILTIN_STRATEGIES, "bad": make}
    h = AcdHarness(strategies=strategies, perf_counter=perf)
    h.queue("q", strategy="bad")
    h.agent("first")
    h.later(1)
    h.agent("second")
    return h


@pytest.mark.parametrize(
    ("how", "fault"),
    [
        ("raise", "raised"),
        ("stranger", "invalid"),
        ("duplicate", "invalid"),
        ("empty", "invalid"),
        ("slow", "slow"),
    ],
)
def test_misbehaving_plugin_falls_back_to_longest_idle(how: str, fault: str) -> None:
    """A plugin that raises, answers a non-candidate or nothing, or is too slow: the
    contact still goes to the longest-idle agent and a PluginFault is published."""
    h = _bad_harness(how)
    assert _winner(h, "c1") == ["first"]
    faults = h.capture.of(acd.PluginFault)
    assert [(f.strategy, f.contact_id, f.fault) for f in faults] == [("bad", "c1", fault)]


def test_a_good_answer_is_used_and_a_broken_observer_only_reported() -> None:
    """A valid answer is followed; an on_connected hook that raises is reported, not fatal."""
    h = _bad_harness("good")
    offer = next(a for a in h.arrive("c1") if isinstance(a, acd.Offer))
    assert offer.agent_id == "second"
    h.engine.accept(offer.offer_id)
    assert h.engine.contact_status("c1").phase is acd.ContactPhase.CONNECTED
    assert [f.detail for f in h.capture.of(acd.PluginFault)] == ["ValueError('observer broke')"]


def _sticky_module(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(STICKY_DIST / "src"))
    return importlib.import_module("cc_sticky_agent")


def test_sticky_agent_sends_a_repeat_caller_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """A repeat caller goes to their last agent if ready, else to the longest idle."""
    plugin = _sticky_module(monkeypatch)
    host = cc.create_plugin_host(entry_points=False, plugins=[plugin])
    h = AcdHarness(strategies=host.routing_strategies())
    h.queue("q", strategy="sticky-agent")
    h.queue("other", strategy="sticky-agent")
    h.agent("a", ["q", "other"])
    h.later(1)
    h.agent("b", ["q", "other"])
    first = next(a for a in h.arrive("c1", caller_id="+331") if isinstance(a, acd.Offer))
    assert first.agent_id == "a"
    h.engine.accept(first.offer_id)
    h.engine.hangup("c1")
    h.later(5)
    # b is now the longest idle, but the repeat caller goes back to a (in any queue).
    assert _winner(h, "c2", caller_id="+331") == ["a"]
    assert _winner(h, "c3", caller_id="+332") == ["b"]
    assert not h.capture.of(acd.PluginFault)


def test_sticky_agent_is_proven_by_the_engine_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The public EngineMachine checks the plugin against every ACD promise."""
    from hypothesis import settings
    from hypothesis.stateful import run_state_machine_as_test

    from callcenter_sdk.testing import EngineMachine

    host = cc.create_plugin_host(entry_points=False, plugins=[_sticky_module(monkeypatch)])

    class StickyMachine(EngineMachine):
        strategy = "sticky-agent"

        def routing_strategies(self) -> Mapping[str, acd.StrategyFactory]:
            # Each call of the hook gives the plugin a fresh memory: a memory
            # shared between runs made hypothesis's replays differ (flaky).
            return host.routing_strategies()

    run_state_machine_as_test(
        StickyMachine, settings=settings(max_examples=150, stateful_step_count=20, deadline=None)
    )


def _install_offline(dist: Path, target: Path) -> None:
    """pip-install ``dist`` into ``target`` without the network.

    pip needs the build backend (hatchling) already installed for an offline
    build. Where it is missing, the test lays out what pip would: the package
    and a ``.dist-info`` with the entry points, which is all importlib.metadata
    reads.
    """
    if importlib.util.find_spec("hatchling") is not None:
        subprocess.run(
            [
                sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                "--no-build-isolation", "--no-index", "--target", str(target), str(dist),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        return
    shutil.copytree(dist / "src" / "cc_sticky_agent", target / "cc_sticky_agent")
    info = target / "cc_sticky_agent-1.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: cc-sticky-agent\nVersion: 1.0.0\n")
    (info / "entry_points.txt").write_text("[callcenter_sdk]\nsticky_agent = cc_sticky_agent\n")


@pytest.mark.slow
def test_sticky_agent_distribution_is_found_through_its_entry_point(tmp_path: Path) -> None:
    """Installing tests/plugins/sticky_agent (offline) makes ``sticky-agent`` appear in
    create_plugin_host().routing_strategies() with no registration code, and routes."""
    target = tmp_path / "site"
    _install_offline(STICKY_DIST, target)
    probe = (
        "import json, callcenter_sdk as cc\n"
        "from callcenter_sdk import acd\n"
        "host = cc.create_plugin_host()\n"
        "names = sorted(host.routing_strategies())\n"
        "off = sorted(cc.create_plugin_host(entry_points=False).routing_strategies())\n"
        "engine = acd.Engine(clock=cc.ManualClock(), strategies=host.routing_strategies())\n"
        "engine.add_queue(acd.Queue(name='q', strategy='sticky-agent'))\n"
        "engine.add_agent(acd.Agent(id='a', memberships=[acd.Membership('q')]))\n"
        "engine.login('a'); engine.set_ready('a')\n"
        "offers = [x.agent_id for x in engine.arrive(acd.Contact(id='c'), 'q')"
        " if isinstance(x, acd.Offer)]\n"
        "print(json.dumps([host.plugin_names(), names, off, offers]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        check=True,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(target), "PATH": ""},
    ).stdout
    plugins, with_entry_points, without, offers = json.loads(out)
    assert "sticky_agent" in plugins
    assert set(with_entry_points) - set(without) == {"sticky-agent"}
    assert offers == ["a"]


class _Crowd:
    """A generic strategy naming two agents, with or without ``ring``."""

    index_key: acd.IndexKey | None = None

    def __init__(self, ring: bool) -> None:
        self.ring = ring

    def select(self, request: acd.RoutingRequest) -> Sequence[str]:
        return [c.agent_id for c in request.candidates[:2]]


@pytest.mark.parametrize("ring", [True, False])
def test_only_ringing_strategies_may_name_several_agents(ring: bool) -> None:
    """Two names ring two phones for a ring strategy; for any other it is a fault."""

    def make(options: Mapping[str, object]) -> acd.RoutingStrategy:
        return _Crowd(ring)

    h = AcdHarness(strategies={"crowd": make})
    h.queue("q", strategy="crowd")
    h.agent("a")
    h.agent("b")
    assert len(_winner(h, "c1")) == (2 if ring else 1)
    assert bool(h.capture.of(acd.PluginFault)) is not ring
