"""``callcenter import``: Asterisk and FreeSWITCH queue configurations carried over.

The fixtures (tests/acd/fixtures) are written for these tests in the peers'
formats; each assertion names the peer setting it carries over.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from callcenter_sdk import acd
from callcenter_sdk.cli import main
from callcenter_sdk.cli._import import from_asterisk, queues_from_tables
from callcenter_sdk.testing import AcdHarness

FIXTURES = Path(__file__).parents[1] / "acd" / "fixtures"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[dict[str, Any], str]:
    assert main(["import", *argv]) == 0
    out, err = capsys.readouterr()
    return tomllib.loads(out), err


def test_asterisk_queues_and_rules_become_queue_settings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """queues.conf with a template and queuerules.conf: every ACD setting carried over."""
    data, err = _run(
        capsys, "asterisk", str(FIXTURES / "queues.conf"), str(FIXTURES / "queuerules.conf")
    )
    queues = {q.name: q for q in queues_from_tables(data["queues"])}
    support, sales = queues["support"], queues["sales"]
    # inherited from the (!) template
    assert (support.strategy, support.offer_timeout, support.wrap_up) == ("round-robin", 20, 15)
    assert (support.service_level_threshold, support.ring_in_use) == (30, False)
    assert (support.autopause, support.autopause_delay) == (acd.AutoPause.QUEUE, 60)
    assert (support.max_length, support.penalty_members_limit) == (25, 3)
    assert support.join_empty_conditions == {
        acd.EmptyCondition.PAUSED,
        acd.EmptyCondition.UNAVAILABLE,
        acd.EmptyCondition.INVALID,
    }
    # leavewhenempty = strict: app_queue's penalty, invalid, paused and unavailable
    assert support.leave_when_empty is acd.EmptyRule.NEVER
    assert support.leave_empty_conditions == {
        acd.EmptyCondition.PENALTY,
        acd.EmptyCondition.INVALID,
        acd.EmptyCondition.PAUSED,
        acd.EmptyCondition.UNAVAILABLE,
    }
    assert support.announce_every == 45
    assert (support.retry, sales.retry) == (5, 0)  # app_queue's retry, from the template
    assert support.penalty_rules == (
        acd.PenaltyRule(after=30, max_penalty=2, relative_max=True),
        acd.PenaltyRule(after=60, max_penalty=10, min_penalty=1),
        acd.PenaltyRule(after=90, min_penalty=0, raise_penalty=3),  # the 4th field
    )
    assert (sales.strategy, sales.max_length, sales.weight) == ("weighted-random", None, 2)
    assert sales.join_when_empty is acd.EmptyRule.NEVER
    assert sales.join_empty_conditions == frozenset()  # joinempty = yes
    assert sales.autopause is acd.AutoPause.ALL
    assert sales.leave_empty_conditions == {acd.EmptyCondition.PAUSED, acd.EmptyCondition.IN_USE}
    members = {(m["agent"], m["queue"], m["penalty"]) for m in data["members"]}
    assert members == {
        ("alice", "support", 0),
        ("bob", "support", 2),
        ("carol", "support", 5),
        ("dave", "sales", 1),
    }
    for named in ("musicclass", "persistentmembers"):
        assert named in err
    assert "raise" not in err
    assert "leavewhenempty" not in err


def test_freeswitch_queues_agents_and_tiers(capsys: pytest.CaptureFixture[str]) -> None:
    """callcenter.conf.xml: strategies, max wait, the no-agent timeout, tier rules,
    per-agent wrap-up, delays, tiers."""
    data, err = _run(capsys, "freeswitch", str(FIXTURES / "callcenter.conf.xml"))
    queues = {q.name: q for q in queues_from_tables(data["queues"])}
    billing = queues["billing@default"]
    assert (billing.strategy, billing.max_wait) == ("least-talk-time", 300)
    assert billing.tier_rules == acd.TierRules(wait=20, multiply_level=True)
    assert (billing.no_agent_timeout, billing.no_agent_grace) == (120, 0)
    assert queues["vip@default"].max_wait is None
    vip = queues["vip@default"]
    assert (vip.strategy, vip.ring_progressively_delay) == ("ring-progressively", 5)
    assert data["policy"] == {
        "busy_delay": 60.0,
        "max_missed_offers": 3,
        "no_answer_delay": 0.0,
        "reject_delay": 10.0,
    }
    assert {a["id"]: a["wrap_up"] for a in data["agents"]} == {
        "1001@default": 10,
        "1002@default": 30,
    }
    tiers = {(m["agent"], m["queue"], m["penalty"]) for m in data["members"]}
    assert ("1002@default", "billing@default", 2) in tiers
    assert "ring-progressively" not in err
    for named in (
        "On Demand",
        "max-no-answer differ",
        "moh-sound",
    ):
        assert named in err
    policy = acd.RoutingPolicy(**data["policy"])
    assert policy.delay_after("busy") == 60


def test_imported_tier_rules_route_like_freeswitch() -> None:
    """The imported billing queue, run in the engine: the level-2 agent is offered the
    caller after 2 × tier-rule-wait-second = 40 s, as mod_callcenter does."""
    text = (FIXTURES / "callcenter.conf.xml").read_text(encoding="utf-8")
    from callcenter_sdk.cli._import import from_freeswitch

    (billing, _) = queues_from_tables(from_freeswitch(text).queues)
    h = AcdHarness()
    h.engine.add_queue(billing)
    h.agent("l2", [billing.name], penalty=2)
    h.arrive("c1", billing.name)
    h.later(39)
    assert h.capture.of(acd.ContactOffered) == []
    h.later(1)
    assert [e.agent_id for e in h.capture.of(acd.ContactOffered)] == ["l2"]


def test_output_file_and_comments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``-o`` writes the TOML, which lists what was not carried over as comments."""
    out = tmp_path / "queues.toml"
    assert main(["import", "asterisk", str(FIXTURES / "queues.conf"), "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "#   queues.conf [support] musicclass = default" in text
    assert tomllib.loads(text)["queues"][0]["name"] == "support"
    # defaultrule without a queuerules.conf is named, not guessed
    assert "defaultrule = widen: no such rule given" in capsys.readouterr().err


def test_unreadable_file_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A missing file is one line on stderr and exit code 2, not a traceback."""
    assert main(["import", "freeswitch", "/nonexistent/callcenter.conf.xml"]) == 2
    assert "import: error" in capsys.readouterr().err


def test_a_member_line_without_name_uses_the_interface() -> None:
    """``member => PJSIP/1001`` (no penalty, no name): the interface is the agent, penalty 0."""
    imported = from_asterisk("[q]\nmember => PJSIP/1001\n")
    assert imported.members == [{"agent": "PJSIP/1001", "queue": "q", "penalty": 0}]


def test_freeswitch_no_agent_no_wait_and_grace_are_carried_over() -> None:
    """tier-rule-no-agent-no-wait = true becomes TierRules.no_agent_no_wait, and
    max-wait-time-with-no-agent-time-reached the no-agent grace."""
    from callcenter_sdk.cli._import import from_freeswitch

    text = (FIXTURES / "callcenter.conf.xml").read_text(encoding="utf-8")
    text = text.replace(
        '"tier-rule-no-agent-no-wait" value="false"', '"tier-rule-no-agent-no-wait" value="true"'
    ).replace(
        '<param name="max-wait-time-with-no-agent" value="120"/>',
        '<param name="max-wait-time-with-no-agent" value="120"/>'
        '<param name="max-wait-time-with-no-agent-time-reached" value="15"/>',
    )
    resumed = text.replace(
        '"abandoned-resume-allowed" value="false"', '"abandoned-resume-allowed" value="true"'
    )
    (vip_less, _) = queues_from_tables(from_freeswitch(resumed).queues)
    assert vip_less.abandoned_resume == 60  # discard-abandoned-after
    imported = from_freeswitch(text)
    (billing, _) = queues_from_tables(imported.queues)
    assert billing.tier_rules == acd.TierRules(wait=20, no_agent_no_wait=True)
    assert (billing.no_agent_timeout, billing.no_agent_grace) == (120, 15)
    assert billing.abandoned_resume is None  # abandoned-resume-allowed = false
    assert not any("no-agent" in line for line in imported.unsupported)


@pytest.mark.parametrize(
    ("leavewhenempty", "conditions"),
    [
        ("paused,inuse", {"paused", "inuse"}),
        ("yes", {"penalty", "invalid", "paused"}),
        ("no", set()),
        ("loose", {"penalty", "invalid"}),
        ("ringing,wrapup,unknown", {"ringing", "wrapup", "unknown"}),
    ],
)
def test_leavewhenempty_words_become_leave_conditions(
    leavewhenempty: str, conditions: set[str]
) -> None:
    """app_queue reads leavewhenempty's yes/no the other way round from joinempty's
    (yes: leave when every member is paused, invalid or outside the penalty range; no:
    never leave); the conditions carry over as Queue.leave_empty_conditions."""
    imported = from_asterisk(f"[q]\nleavewhenempty = {leavewhenempty}\njoinempty = no\n")
    (queue,) = queues_from_tables(imported.queues)
    assert queue.leave_empty_conditions == conditions
    assert queue.join_empty_conditions == {"penalty", "invalid", "paused"}
    assert imported.unsupported == []


def test_imported_leavewhenempty_sends_callers_away_like_app_queue() -> None:
    """The imported ``leavewhenempty = paused,inuse`` run in the engine: the caller
    waiting while the only member takes another call leaves (EXITEMPTY)."""
    imported = from_asterisk("[q]\ntimeout = 30\nleavewhenempty = paused,inuse\n")
    (queue,) = queues_from_tables(imported.queues)
    h = AcdHarness()
    h.engine.add_queue(queue)
    h.agent("ann")
    h.arrive("c1")
    h.arrive("c2")
    assert h.capture.of(acd.ContactExited) == []
    h.engine.accept("o1")
    assert [(e.contact_id, e.reason) for e in h.capture.of(acd.ContactExited)] == [
        ("c2", acd.ExitReason.LEAVE_EMPTY)
    ]


def test_imported_ring_progressively_rings_one_more_member_per_delay() -> None:
    """The imported vip queue (ring-progressively, ring-progressively-delay = 5) run in
    the engine: its two members ring 5 s apart, the first still ringing."""
    from callcenter_sdk.cli._import import from_freeswitch

    text = (FIXTURES / "callcenter.conf.xml").read_text(encoding="utf-8")
    vip = queues_from_tables(from_freeswitch(text).queues)[1]
    h = AcdHarness()
    h.engine.add_queue(vip)
    h.agent("a", [vip.name])
    h.agent("b", [vip.name])
    h.arrive("c1", vip.name)
    h.later(5)
    assert [(e.agent_id, e.at) for e in h.capture.of(acd.ContactOffered)] == [
        ("a", 0.0),
        ("b", 5.0),
    ]
    assert h.engine.contact_status("c1").offers == ("a", "b")


def test_a_raise_penalty_rule_carries_over_and_runs() -> None:
    """queuerules.conf's fourth field (penaltychange => 10,,,2) becomes
    PenaltyRule.raise_penalty: from 10 s on, the penalty-0 member counts as 2 and
    reaches the caller whose range starts at 2."""
    rules = "[lift]\npenaltychange => 10,,,2\npenaltychange => 20,,,+1\n"
    imported = from_asterisk("[q]\ndefaultrule = lift\n", rules)
    (queue,) = queues_from_tables(imported.queues)
    assert queue.penalty_rules == (
        acd.PenaltyRule(after=10, raise_penalty=2),
        acd.PenaltyRule(after=20, raise_penalty=1, relative_raise=True),
    )
    h = AcdHarness()
    h.engine.add_queue(queue)
    h.agent("zero")
    h.arrive("c1", min_penalty=2)
    h.later(9)
    assert h.capture.of(acd.ContactOffered) == []
    h.later(1)
    assert [e.agent_id for e in h.capture.of(acd.ContactOffered)] == ["zero"]


def test_autopausebusy_and_timeoutrestart_carry_over() -> None:
    """The autopausebusy key becomes Queue.autopause_busy; timeoutrestart = yes is the
    engine's own behaviour (each offer rings for its full timeout) and needs no setting,
    while timeoutrestart = no is named as not carried over; so is autopauseunavail."""
    imported = from_asterisk(
        "[q]\nautopause = yes\nautopausebusy = yes\ntimeoutrestart = yes\n"
        "[r]\ntimeoutrestart = no\nautopauseunavail = yes\n"
    )
    q, r = queues_from_tables(imported.queues)
    assert (q.autopause, q.autopause_busy, r.autopause_busy) == (
        acd.AutoPause.QUEUE,
        True,
        False,
    )
    assert [line.split(":")[0] for line in imported.unsupported] == [
        "queues.conf [r] timeoutrestart = no",
        "queues.conf [r] autopauseunavail = yes",
    ]
