"""The campaign's script followed by the agent on a call, step by step, answers in the log."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter_sdk import ManualClock, NotFoundError, PermissionDenied, StateError, ValidationError
from callcenter_sdk.acd import Agent, Membership, Queue
from callcenter_sdk.dialer import AnswerRecorded, loads_questionnaire
from callcenter_sdk.ivr import FlowBuilder, ToQueue
from callcenter_sdk.media import PartyScript, VirtualBackend
from callcenter_sdk.org import load_org
from callcenter_sdk.runtime import CallCenterConfig, Seat, open_call_center, run_virtual
from callcenter_sdk.store import temporary_store

ACME = load_org(Path(__file__).parents[2] / "examples" / "org" / "acme.toml")
SCRIPT = loads_questionnaire(
    """
name = "acme-support"
title = "ACME support"
converted_when = { question = "solved", equals = "yes" }

[[questions]]
id = "greet"
kind = "info"
text = "ACME support, you called from {caller_id} about {topic}."

[[questions]]
id = "symptom"
kind = "choice"
text = "What is wrong?"
choices = ["slow", "down"]

[[questions]]
id = "solved"
kind = "yes_no"
text = "Solved?"
"""
)


def _config(*, scripts: bool = True) -> CallCenterConfig:
    flow = FlowBuilder("acme", start="q").node("q", ToQueue(queue="hotline")).build()
    seats = [
        Seat(
            agent=Agent(id=a, skills={"hotline": 3}, memberships=[Membership("hotline")]),
            device=f"sip:{a}@phones",
        )
        for a in ("ag.alice", "ag.farid")
    ]
    return CallCenterConfig(
        flow=flow,
        queues=[Queue(name="hotline", wrap_up=30.0)],
        seats=seats,
        announce=False,
        org=ACME,
        campaigns={"hotline": "acme-hotline"},
        scripts={"acme-hotline": SCRIPT} if scripts else {},
    )


async def test_the_agent_follows_the_campaign_script_on_the_call() -> None:
    """Alice's call shows the script's first step filled from the call's data;
    she passes it, a wrong choice is refused and keeps the step, her answers
    are published as dialer.answer_recorded and the script ends converted.
    Farid, who does not handle the call, may not see nor answer it, nor may
    anyone follow a contact nobody handles; after the disposition the
    interview is forgotten."""
    clock = ManualClock(1_000.0)
    backend = VirtualBackend(clock)
    for agent in ("ag.alice", "ag.farid"):
        backend.add_phone(f"sip:{agent}@phones", PartyScript(answer_after=1.0))
    with temporary_store() as store:
        async with open_call_center(
            backend, _config(), store=store, clock=clock, run_timers=False
        ) as center:
            seen: list[object] = []
            center.subscribe(lambda _seq, event: seen.append(event))
            await center.set_ready("ag.alice", actor="ag.alice")
            call = backend.inject_call(
                "sip:+33142685399@trunk", "sip:hotline@center", PartyScript(talk_for=None)
            )
            await run_virtual(center, backend, 5.0)
            step = center.script(call, actor="ag.alice")
            assert (step.questionnaire, step.question, step.kind) == (
                "acme-support",
                "greet",
                "info",
            )
            assert step.text.startswith("ACME support, you called from +33142685399 about ")
            with pytest.raises(PermissionDenied):
                center.script(call, actor="ag.farid")
            with pytest.raises(PermissionDenied):
                center.answer_script(call, "slow", actor="ag.farid")
            step = center.skip_script(call, actor="ag.alice")  # the greeting is read
            assert (step.question, step.choices) == ("symptom", ("slow", "down"))
            with pytest.raises(ValidationError):  # a choice is required
                center.skip_script(call, actor="ag.alice")
            with pytest.raises(ValidationError):
                center.answer_script(call, "on fire", actor="ag.alice")
            assert center.script(call, actor="ag.alice").question == "symptom"
            center.answer_script(call, "down", actor="ag.alice")
            step = center.answer_script(call, "yes", actor="ag.alice")
            assert (step.done, step.converted) == (True, True)
            assert dict(step.answers) == {"symptom": "down", "solved": "yes"}
            with pytest.raises(StateError):
                center.answer_script(call, "no", actor="ag.alice")
            answers = [(e.question, e.value) for e in seen if isinstance(e, AnswerRecorded)]
            assert answers == [("symptom", "down"), ("solved", "yes")]
            with pytest.raises(PermissionDenied):  # nobody handles it: nothing to tell
                center.script("no-such-contact", actor="ag.alice")
            await center.hangup(call, actor="ag.alice")
            await run_virtual(center, backend, 2.0)
            await center.dispose(call, "solved", actor="ag.alice")
            assert call not in center.scripts._interviews


async def test_a_campaign_without_a_script_has_none() -> None:
    """Without ``scripts`` the handling agent is told the contact has none."""
    clock = ManualClock(1_000.0)
    backend = VirtualBackend(clock)
    backend.add_phone("sip:ag.alice@phones", PartyScript(answer_after=1.0))
    with temporary_store() as store:
        async with open_call_center(
            backend, _config(scripts=False), store=store, clock=clock, run_timers=False
        ) as center:
            await center.set_ready("ag.alice", actor="ag.alice")
            call = backend.inject_call(
                "sip:+33142685399@trunk", "sip:hotline@center", PartyScript(talk_for=None)
            )
            await run_virtual(center, backend, 5.0)
            with pytest.raises(NotFoundError, match="no script"):
                center.script(call, actor="ag.alice")
