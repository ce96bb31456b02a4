"""The sans-IO IVR engine, driven by hand: every branch, retry and outcome of a flow."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter_sdk import ManualClock, StateError
from callcenter_sdk.acd import SkillRequirement
from callcenter_sdk.ivr import (
    Assign,
    Collect,
    CollectDigits,
    EndCall,
    Flow,
    FlowBuilder,
    HangUp,
    IvrAction,
    IvrSession,
    Menu,
    PlayPrompts,
    PromptRef,
    RecordVoicemail,
    RequestCallback,
    SetVariables,
    Switch,
    ToQueue,
    TransferToQueue,
    VoicemailLeft,
    load_flow,
    loads_flow,
)

HOTLINE = load_flow(Path(__file__).parents[2] / "examples" / "hotline" / "ivr.toml")
PARIS = ZoneInfo("Europe/Paris")


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> ManualClock:
    """A manual clock at a Paris local time."""
    return ManualClock(dt.datetime(year, month, day, hour, minute, tzinfo=PARIS).timestamp())


OPEN = at(2026, 11, 25, 10)  # a Wednesday morning
CLOSED = at(2026, 11, 25, 22)  # the same Wednesday night
HOLIDAY = at(2026, 12, 25, 10)  # Christmas, a Friday


def en(*names: str) -> tuple[PromptRef, ...]:
    """Prompts pinned to English."""
    return tuple(PromptRef(n, "en") for n in names)


def fr(*names: str) -> tuple[PromptRef, ...]:
    """Prompts pinned to French."""
    return tuple(PromptRef(n, "fr") for n in names)


def bilingual(name: str) -> tuple[PromptRef, ...]:
    """One prompt in English then in French."""
    return (PromptRef(name, "en"), PromptRef(name, "fr"))


def through_language(session: IvrSession, choice: str, caller: dict[str, str]) -> list[IvrAction]:
    """Start the hotline and choose a language; return the actions after the choice."""
    assert session.start(caller) == [PlayPrompts(prompts=bilingual("hotline_welcome"))]
    menu = session.prompts_finished()
    assert menu == [
        CollectDigits(prompts=bilingual("choose_language"), max_digits=1, terminator="#",
                      first_digit_timeout=5.0, inter_digit_timeout=3.0)
    ]  # fmt: skip
    return session.digits_collected(choice)


def test_menu_choice_transfers_to_its_queue_with_skills_and_attributes() -> None:
    """French, then 1: the internet queue, skill internet, attributes from caller data and flow."""
    session = IvrSession(HOTLINE, clock=OPEN)
    actions = through_language(session, "2", {"caller_id": "0601020304", "account": "A42"})
    assert actions == [
        SetVariables(values={"language": "fr"}),
        CollectDigits(prompts=fr("hotline_menu"), max_digits=1, terminator="#",
                      first_digit_timeout=6.0, inter_digit_timeout=3.0),
    ]  # fmt: skip
    assert session.digits_collected("1") == [
        SetVariables(values={"topic": "1"}),
        PlayPrompts(prompts=fr("please_hold")),
    ]
    transfer = TransferToQueue(
        queue="internet",
        priority=0,
        skills={"internet": 1},
        attributes={"language": "fr", "ivr_flow": "hotline", "topic": "internet",
                    "account": "A42"},
    )  # fmt: skip
    assert session.prompts_finished() == [transfer]
    assert session.done
    assert session.outcome == transfer
    assert session.trail == ["welcome", "language", "french", "hours", "tier", "menu",
                             "internet", "internet_queue"]  # fmt: skip
    contact = transfer.contact("call-1", caller_id="0601020304")
    assert contact.requirements == (SkillRequirement("internet", 1),)
    assert contact.attributes["account"] == "A42"


@pytest.mark.parametrize(("key", "queue"), [("1", "internet"), ("2", "tv"), ("3", "billing"),
                                            ("0", "general")])  # fmt: skip
def test_each_menu_key_reaches_its_queue(key: str, queue: str) -> None:
    """1 internet, 2 TV, 3 billing, 0 an agent."""
    session = IvrSession(HOTLINE, clock=OPEN)
    through_language(session, "1", {})
    session.digits_collected(key)
    (transfer,) = session.prompts_finished()
    assert isinstance(transfer, TransferToQueue)
    assert transfer.queue == queue


def test_invalid_then_missing_choice_apologise_then_fail_over_to_an_agent() -> None:
    """An unknown key replays the menu after "invalid", silence after "no input"; then failure."""
    session = IvrSession(HOTLINE, clock=OPEN)
    through_language(session, "1", {})
    retry = session.digits_collected("9")
    assert [a.prompts for a in retry if isinstance(a, CollectDigits)] == [
        en("invalid_choice", "hotline_menu")
    ]
    again = session.no_input()
    assert [a.prompts for a in again if isinstance(a, CollectDigits)] == [
        en("no_input", "hotline_menu")
    ]
    # retries = 2 are used up: the third miss goes to on_failure (the general queue).
    assert session.digits_collected("7") == [PlayPrompts(prompts=en("please_hold"))]
    assert session.node == "agent"


def test_language_menu_without_answer_defaults_to_english() -> None:
    """Two silences on the language menu (retries = 1) continue in English."""
    session = IvrSession(HOTLINE, clock=OPEN)
    session.start({})
    session.prompts_finished()
    session.no_input()
    actions = session.no_input()
    assert actions[0] == SetVariables(values={"language": "en"})
    assert session.language == "en"


def test_premium_caller_skips_the_menu_with_priority() -> None:
    """CTI tier "premium" goes straight to the general queue at priority 10."""
    session = IvrSession(HOTLINE, clock=OPEN)
    actions = through_language(session, "1", {"tier": "premium", "account": "P1"})
    assert actions[-1] == PlayPrompts(prompts=en("hotline_premium", "please_hold"))
    (transfer,) = session.prompts_finished()
    assert isinstance(transfer, TransferToQueue)
    assert transfer.queue == "general"
    assert transfer.priority == 10
    assert transfer.attributes["tier"] == "premium"


def test_out_of_hours_takes_a_voicemail_that_becomes_a_ticket() -> None:
    """Closed: hours, voicemail invitation, recording, ticket fields, confirmation, hang-up."""
    session = IvrSession(HOTLINE, clock=CLOSED)
    actions = through_language(session, "1", {"caller_id": "0601"})
    assert actions[-1] == PlayPrompts(prompts=en("closed", "hotline_hours"))
    assert session.prompts_finished() == [PlayPrompts(prompts=en("voicemail", "beep"))]
    assert session.prompts_finished() == [RecordVoicemail(max_seconds=120.0, terminator="#")]
    left, confirm = session.voicemail_finished("/tmp/vm.wav", 12.5)  # noqa: S108 - a name only
    assert left == VoicemailLeft(
        path="/tmp/vm.wav",  # noqa: S108
        seconds=12.5,
        ticket={"subject": "Hotline voicemail", "category": "hotline", "caller": "0601",
                "language": "en"},
        caller_id="0601",
    )  # fmt: skip
    assert confirm == PlayPrompts(prompts=en("voicemail_saved", "goodbye"))
    assert session.prompts_finished() == [HangUp(reason="voicemail")]
    assert session.done


def test_holiday_has_its_own_message() -> None:
    """On a holiday in opening hours, the holiday branch plays instead of the menu."""
    session = IvrSession(HOTLINE, clock=HOLIDAY)
    actions = through_language(session, "2", {})
    assert actions[-1] == PlayPrompts(prompts=fr("holiday", "hotline_hours"))


def test_long_wait_offers_a_callback_that_keeps_the_callers_number() -> None:
    """Wait above 300 s: the offer; 1 accepts: RequestCallback to caller_id, thanks with
    when to expect the call (the queue's estimated wait, 15 minutes), hang-up."""
    waits = {"billing": 900.0}
    session = IvrSession(HOTLINE, clock=OPEN, estimated_wait=waits.get)
    through_language(session, "1", {"caller_id": "0601"})
    offer = session.digits_collected("3")
    assert offer[-1] == CollectDigits(prompts=en("callback_offer"), max_digits=1, terminator="",
                                      first_digit_timeout=5.0, inter_digit_timeout=5.0)  # fmt: skip
    request, thanks = session.digits_collected("1")
    assert isinstance(request, RequestCallback)
    assert (request.queue, request.number, dict(request.skills)) == ("billing", "0601",
                                                                     {"billing": 1})  # fmt: skip
    assert thanks == PlayPrompts(
        prompts=en("callback_confirmed", "estimated_wait", "about", "15", "minutes", "goodbye")
    )
    assert session.prompts_finished() == [HangUp(reason="callback")]


@pytest.mark.parametrize("answer", ["2", ""])
def test_declined_or_ignored_callback_offer_queues_the_call(answer: str) -> None:
    """Another key, or none, keeps the caller in line for the queue."""
    session = IvrSession(HOTLINE, clock=OPEN, estimated_wait=lambda queue: 900.0)
    through_language(session, "1", {})
    session.digits_collected("2")
    assert session.digits_collected(answer) == [PlayPrompts(prompts=en("please_hold"))]
    assert session.node == "tv_queue"


def test_short_or_unknown_wait_queues_without_an_offer() -> None:
    """A wait at or under the threshold, or an unknown one, goes straight to the queue."""
    for estimate in (300.0, None):
        estimates: dict[str, float | None] = {"internet": estimate}
        session = IvrSession(HOTLINE, clock=OPEN, estimated_wait=estimates.get)
        through_language(session, "1", {})
        session.digits_collected("1")
        assert session.node == "internet_queue"


def python_flow(source: str = "<python>") -> Flow:
    """An account-number flow written with the builder."""
    return (
        FlowBuilder("accounts", start="ask", source=source)
        .node("ask", Collect(prompts=["enter_number"], variable="account", min_digits=4,
                             max_digits=8, retries=1, on_failure="bye", next="route"))
        .node("route", Switch(variable="account", cases={"0000": "bye"}, default="vip"))
        .node("vip", Assign(values={"segment": "known", "copy": "$account"}, next="queue"))
        .node("queue", ToQueue(queue="accounts", priority=3,
                               attributes={"account": "$account", "segment": "$segment"}))
        .node("bye", EndCall(prompts=["goodbye"], reason="no account"))
        .build()
    )  # fmt: skip


PYTHON_FLOW_TOML = """
[flow]
name = "accounts"
start = "ask"

[nodes.ask]
kind = "collect"
prompts = ["enter_number"]
variable = "account"
min_digits = 4
max_digits = 8
retries = 1
on_failure = "bye"
next = "route"

[nodes.route]
kind = "switch"
variable = "account"
cases = { "0000" = "bye" }
default = "vip"

[nodes.vip]
kind = "set"
values = { segment = "known", copy = "$account" }
next = "queue"

[nodes.queue]
kind = "queue"
queue = "accounts"
priority = 3
attributes = { account = "$account", segment = "$segment" }

[nodes.bye]
kind = "hangup"
prompts = "goodbye"
reason = "no account"
"""


def test_python_builder_and_toml_give_the_same_flow() -> None:
    """A flow written in Python equals the same flow read from TOML."""
    assert python_flow("<same>") == loads_flow(PYTHON_FLOW_TOML, source="<same>")


def test_collect_stores_digits_and_refuses_short_entries() -> None:
    """Too few digits is invalid (apology, ask again); a good entry is stored and used."""
    session = IvrSession(python_flow(), clock=ManualClock())
    (ask,) = session.start({})
    assert isinstance(ask, CollectDigits)
    assert (ask.max_digits, ask.terminator) == (8, "#")
    (again,) = session.digits_collected("12")
    assert isinstance(again, CollectDigits)
    assert again.prompts == en("invalid_choice", "enter_number")
    actions = session.digits_collected("123456")
    assert actions == [
        SetVariables(values={"account": "123456"}),
        SetVariables(values={"segment": "known", "copy": "123456"}),
        TransferToQueue(queue="accounts", priority=3, skills={},
                        attributes={"language": "en", "ivr_flow": "accounts",
                                    "account": "123456", "segment": "known"}),
    ]  # fmt: skip


def test_switch_on_a_collected_value_and_hangup_with_goodbye() -> None:
    """Account 0000 branches to the goodbye node, which plays then hangs up with its reason."""
    session = IvrSession(python_flow(), clock=ManualClock())
    session.start({})
    assert session.digits_collected("0000")[-1] == PlayPrompts(prompts=en("goodbye"))
    assert session.prompts_finished() == [HangUp(reason="no account")]


def test_caller_hanging_up_is_an_ivr_abandon_once() -> None:
    """hung_up() ends the flow with HangUp(by_caller=True); a second call reports nothing."""
    session = IvrSession(HOTLINE, clock=OPEN)
    session.start({})
    assert session.hung_up() == [HangUp(reason="caller", by_caller=True)]
    assert session.done
    assert session.hung_up() == []


def test_inputs_out_of_turn_are_state_errors() -> None:
    """Digits while prompts play, or anything before start, is refused with the node named."""
    session = IvrSession(HOTLINE, clock=OPEN)
    with pytest.raises(StateError, match="waits for start"):
        session.prompts_finished()
    session.start({})
    with pytest.raises(StateError, match="at node 'welcome' waits for prompts, not digits"):
        session.digits_collected("1")
    with pytest.raises(StateError):
        session.start({})


def test_caller_language_is_kept_when_the_flow_speaks_it() -> None:
    """A language in caller data (from CTI) is the call's language; an unknown one is ignored."""
    session = IvrSession(HOTLINE, clock=OPEN)
    session.start({"language": "fr"})
    assert session.language == "fr"
    other = IvrSession(HOTLINE, clock=OPEN)
    other.start({"language": "de"})
    assert other.language == "en"


def test_an_unchecked_flow_that_spins_is_stopped() -> None:
    """A loop without input in a flow nobody checked raises instead of hanging the call."""
    flow = Flow(
        name="spin",
        start="a",
        nodes={
            "a": Switch(variable="x", cases={}, default="b"),
            "b": Assign(values={"y": "1"}, next="a"),
        },
    )
    with pytest.raises(StateError, match="loops without waiting"):
        IvrSession(flow, clock=ManualClock()).start({})


def test_menu_digits_can_be_stored() -> None:
    """A menu with ``variable`` records the keys chosen (the hotline's topic)."""
    menu = Menu(prompts=["welcome"], options={"1": "x"}, on_failure="x", variable="choice")
    assert menu.max_digits == 1


_INPUT = st.sampled_from(["", "0", "1", "2", "3", "9", "12", "*"])


@settings(max_examples=150, deadline=None)
@given(
    st.lists(_INPUT, min_size=40, max_size=40),
    st.sampled_from([OPEN, CLOSED, HOLIDAY]),
    st.sampled_from([None, 10.0, 1000.0]),
    st.sampled_from(["", "premium"]),
)
def test_any_caller_behaviour_ends_the_flow_with_playable_prompts(
    keys: list[str], clock: ManualClock, wait: float | None, tier: str
) -> None:
    """Whatever keys come, the hotline ends in a few steps, asking only for existing prompts."""
    session = IvrSession(HOTLINE, clock=clock, estimated_wait=lambda queue: wait)
    actions = session.start({"caller_id": "0601", "tier": tier})
    steps = 0
    while not session.done:
        steps += 1
        assert steps < len(keys)
        waiting = actions[-1]
        for action in actions:
            for ref in getattr(action, "prompts", ()):
                assert ref.language in HOTLINE.languages
                assert HOTLINE.prompt_file(ref, ref.language) is not None
        if isinstance(waiting, PlayPrompts):
            actions = session.prompts_finished()
        elif isinstance(waiting, CollectDigits):
            actions = session.digits_collected(keys[steps])
        else:
            assert isinstance(waiting, RecordVoicemail)
            actions = session.voicemail_finished("vm.wav", 3.0)
    assert isinstance(session.outcome, TransferToQueue | HangUp)
