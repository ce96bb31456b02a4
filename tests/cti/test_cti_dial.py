"""Click-to-dial on the virtual media backend."""

from __future__ import annotations

import anyio
import pytest

from callcenter_sdk import EventStream, ManualClock
from callcenter_sdk.cti import (
    ClickToDial,
    DialConnected,
    DialFailed,
    DialState,
    OutboundDenied,
    OutboundGuard,
    OutboundPolicy,
    OutboundRefused,
)
from callcenter_sdk.media import PartyScript, VirtualBackend

AGENT = "sip:agent7@virtual"
CUSTOMER = "tel:+33612345678"
MOBILES = OutboundPolicy(allowed=[r"\+336\d{8}"])


async def _dial(backend: VirtualBackend, seconds: float) -> ClickToDial:
    dial = ClickToDial(
        backend,
        agent="agent7",
        agent_uri=AGENT,
        number="06 12 34 56 78",
        guard=OutboundGuard(MOBILES, clock=backend.clock),
        caller_id="+33142685300",
        clock=backend.clock,
        events=EventStream(keep=True),
    )
    async with anyio.create_task_group() as group:
        group.start_soon(dial.run)
        await backend.advance(seconds)
        group.cancel_scope.cancel()
    return dial


async def test_agent_first_then_customer_then_bridged() -> None:
    """The agent answers at 2 s, the customer at 2 + 5 s: then they hear each other."""
    backend = VirtualBackend()
    backend.add_phone(AGENT, PartyScript(answer_after=2))
    backend.add_phone(CUSTOMER, PartyScript(answer_after=5))
    dial = await _dial(backend, 30)
    assert dial.state is DialState.CONNECTED
    assert isinstance(dial.outcome, DialConnected)
    assert dial.outcome.at == 7.0
    assert dial.agent_call is not None
    assert dial.customer_call is not None
    assert f"leg:{dial.customer_call}" in backend.hearing(dial.agent_call)


async def test_a_busy_customer_hangs_up_the_agent_and_is_reported() -> None:
    """The customer's refusal ends the agent's leg too, and the reason is the event."""
    backend = VirtualBackend()
    backend.add_phone(AGENT, PartyScript(answer_after=1))
    backend.add_phone(CUSTOMER, PartyScript(answer_after=3, reject=486))
    dial = await _dial(backend, 30)
    assert dial.state is DialState.FAILED
    assert isinstance(dial.outcome, DialFailed)
    assert dial.outcome.reason == "customer: busy"
    assert backend.calls == ()


async def test_an_agent_who_never_answers_never_rings_the_customer() -> None:
    """No customer is called before the agent is on the line; cancelling cleans up."""
    backend = VirtualBackend()
    backend.add_phone(AGENT, PartyScript(answer_after=None, reject=None))
    backend.add_phone(CUSTOMER, PartyScript(answer_after=0))
    dial = await _dial(backend, 30)
    assert dial.state is DialState.RINGING_AGENT
    assert dial.customer_call is None
    await dial.cancel("agent: no answer in 30 s")
    assert isinstance(dial.outcome, DialFailed)
    assert dial.outcome.reason == "agent: no answer in 30 s"
    assert backend.calls == ()


@pytest.mark.parametrize(
    ("number", "reason"),
    [("12", "not-a-number"), ("+33 1 42 68 53 00", "not-allowed"), ("+882 1234 5678", "denied")],
)
def test_a_number_the_policy_refuses_dials_nothing(number: str, reason: str) -> None:
    """The outbound policy is asked before any leg is created, and the refusal is an event."""
    backend = VirtualBackend()
    events = EventStream(keep=True)
    guard = OutboundGuard(
        OutboundPolicy(allowed=[r"\+336\d{8}", r"\+882\d+"]), clock=ManualClock(), events=events
    )
    with pytest.raises(OutboundDenied) as refused:
        ClickToDial(backend, agent="a", agent_uri=AGENT, number=number, guard=guard)
    assert refused.value.reason == reason
    assert backend.calls == ()
    [event] = list(events)
    assert isinstance(event, OutboundRefused)
    assert (event.purpose, event.reason, event.actor) == ("click-to-dial", reason, "a")
