"""The ACD alone in real time: timers on the ticker, async API, action and event streams."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import anyio
import pytest

import callcenter_sdk as cc
from callcenter_sdk import acd
from callcenter_sdk.runtime import AcdRuntime, open_acd_runtime

# Timers are tiny so the tests are quick; every wait has a generous ceiling
# so a slow machine delays a test but never fails it.
PATIENCE = 20


@pytest.fixture
def stack() -> Iterator[ExitStack]:
    """Closes the event subscriptions a test opens."""
    with ExitStack() as exits:
        yield exits


async def _next(stream: anyio.abc.ObjectReceiveStream[cc.Event], kind: type[cc.Event]) -> cc.Event:
    with anyio.fail_after(PATIENCE):
        async for event in stream:
            if isinstance(event, kind):
                return event
    raise AssertionError(f"stream ended before a {kind.__name__}")


async def _setup(rt: AcdRuntime, **queue: object) -> None:
    await rt.add_queue(acd.Queue(name="q", **queue))  # type: ignore[arg-type]
    await rt.add_agent(acd.Agent(id="ann", memberships=[acd.Membership("q")]))


async def test_offer_times_out_in_real_time(stack: ExitStack) -> None:
    """An unanswered offer becomes OfferNotAnswered when its timeout passes, untouched."""
    async with open_acd_runtime() as rt:
        await _setup(rt, offer_timeout=0.05)
        events = stack.enter_context(rt.subscribe())
        await rt.login("ann", ready=True)
        actions = await rt.arrive(acd.Contact(id="c1"), "q")
        assert [type(a) for a in actions] == [acd.Announce, acd.Offer]
        missed = await _next(events, acd.OfferNotAnswered)
        assert missed.contact_id == "c1"  # type: ignore[attr-defined]


async def test_wrap_up_ends_by_itself_and_actions_are_streamed(stack: ExitStack) -> None:
    """Wrap-up ends on its timer; the action stream carries Offer and Connect in order."""
    async with open_acd_runtime() as rt:
        await _setup(rt, wrap_up=0.05)
        events = stack.enter_context(rt.subscribe())
        await rt.login("ann", ready=True)
        await rt.arrive(acd.Contact(id="c1"), "q")
        actions = rt.actions()
        with anyio.fail_after(PATIENCE):
            kinds = [type(await actions.receive()) for _ in range(2)]
        assert kinds == [acd.Announce, acd.Offer]
        offer_id = rt.engine.agent_status("ann").offers[0]
        await rt.accept(offer_id)
        await rt.hangup("c1")
        with anyio.fail_after(PATIENCE):
            while True:
                change = await _next(events, acd.AgentStateChanged)
                if change.reason == "wrap-up-ended":  # type: ignore[attr-defined]
                    break
        assert rt.engine.agent_status("ann").state is acd.AgentState.READY


async def test_max_wait_overflow_fires_while_idle(stack: ExitStack) -> None:
    """A waiting contact overflows at max wait with no input arriving meanwhile."""
    async with open_acd_runtime() as rt:
        await rt.add_queue(acd.Queue(name="later"))
        await rt.add_queue(
            acd.Queue(
                name="q",
                max_wait=0.05,
                overflow=acd.Overflow(target="queue", queue="later"),
            )
        )
        events = stack.enter_context(rt.subscribe())
        await rt.arrive(acd.Contact(id="c1"), "q")
        over = await _next(events, acd.ContactOverflowed)
        assert over.to_queue == "later"  # type: ignore[attr-defined]
        assert rt.engine.contact_status("c1").queue == "later"


async def test_a_slow_subscriber_is_closed_not_waited_for(stack: ExitStack) -> None:
    """A subscriber that never reads is closed when its buffer fills; the ACD goes on."""
    async with open_acd_runtime() as rt:
        await _setup(rt)
        stuck = stack.enter_context(rt.subscribe(max_buffer=1))
        live = stack.enter_context(rt.subscribe())
        await rt.login("ann", ready=True)
        await rt.set_not_ready("ann", "lunch")
        received = [e async for e in stuck]  # ends: it was closed
        assert len(received) == 1
        assert isinstance(await _next(live, acd.AgentStateChanged), acd.AgentStateChanged)


async def test_runtimes_share_the_application_ticker(stack: ExitStack) -> None:
    """Given a running ticker, two runtimes join its one loop: each engine's timers fire
    on it, and a runtime that closes leaves it without stopping the other."""
    clock = cc.WallClock()
    ticker = cc.Ticker(clock)
    async with anyio.create_task_group() as tg:
        await tg.start(ticker.run)
        async with open_acd_runtime(acd.Engine(clock=clock), ticker=ticker) as first:
            async with open_acd_runtime(acd.Engine(clock=clock), ticker=ticker) as second:
                for rt in (first, second):
                    await _setup(rt, offer_timeout=0.05)
                    await rt.login("ann", ready=True)
                streams = [stack.enter_context(rt.subscribe()) for rt in (first, second)]
                for rt in (first, second):
                    await rt.arrive(acd.Contact(id="c1"), "q")
                for events in streams:
                    await _next(events, acd.OfferNotAnswered)
            assert ticker.next_deadline() == first.engine.next_deadline()
            events = stack.enter_context(first.subscribe())
            await first.set_ready("ann")  # the missed offer made her not ready: c1 rings again
            missed = await _next(events, acd.OfferNotAnswered)
            assert missed.contact_id == "c1"  # type: ignore[attr-defined]
        assert ticker.next_deadline() is None
        with pytest.raises(cc.StateError):
            await ticker.run()  # the application runs one loop
        tg.cancel_scope.cancel()


async def test_manual_inputs_through_call() -> None:
    """Any engine input can be run by name, with its actions delivered."""
    clock = cc.WallClock()
    engine = acd.Engine(clock=clock)
    async with open_acd_runtime(engine) as rt:
        await _setup(rt)
        await rt.login("ann")
        actions = await rt.call("set_ready", "ann")
        assert actions == []
        assert rt.engine is engine


async def test_new_inputs_through_the_async_api() -> None:
    """Restored arrivals, callbacks, agent transfers and deferred logout go through the runtime."""
    clock = cc.WallClock()
    engine = acd.Engine(clock=clock)
    async with open_acd_runtime(engine) as rt:
        await _setup(rt)
        for agent_id in ("bob", "cy"):
            await rt.add_agent(acd.Agent(id=agent_id, memberships=[acd.Membership("q")]))
        await rt.login("bob", ready=True)
        since = clock.now() - 10
        actions = await rt.arrive(acd.Contact(id="c1"), "q", entered_at=since)
        assert engine.contact_status("c1").entered_at == since
        [offer] = [a for a in actions if isinstance(a, acd.Offer)]
        await rt.accept(offer.offer_id)
        await rt.arrive(acd.Contact(id="c2"), "q")
        await rt.keep_place_for_callback("c2", "+33100")
        actions = await rt.login("ann", ready=True)
        assert [(a.contact_id, a.callback) for a in actions if isinstance(a, acd.Offer)] == [
            ("c2", "+33100")
        ]
        await rt.login("cy", ready=True)
        actions = await rt.transfer_to_agent("c1", "cy")
        [transfer] = [a for a in actions if isinstance(a, acd.Offer)]
        assert transfer.transfer_from == "bob"
        await rt.reject(transfer.offer_id)
        await rt.logout("bob", when_idle=True)
        assert engine.agent_status("bob").logout_pending
        await rt.hangup("c1")
        assert engine.agent_status("bob").presence is acd.AgentState.OFFLINE
