"""The IVR driver on the virtual backend: scripted callers pressing keys, on virtual time."""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import anyio
import attrs
import pytest

from callcenter_sdk import DATA_DIR_ENV, ManualClock
from callcenter_sdk.acd import Engine, Queue
from callcenter_sdk.ivr import (
    PROMPTS_DIR,
    FlowBuilder,
    HangUp,
    IvrDriver,
    IvrResult,
    Menu,
    RequestCallback,
    ToQueue,
    TransferToQueue,
    VoicemailLeft,
    load_flow,
)
from callcenter_sdk.media import (
    CallIncoming,
    MediaEvent,
    PartyScript,
    Prompt,
    PromptFinished,
    RecordingFinished,
    VirtualBackend,
)

HOTLINE = load_flow(Path(__file__).parents[2] / "examples" / "hotline" / "ivr.toml")
PARIS = ZoneInfo("Europe/Paris")
PROMPT = 2.0  # every prompt plays 2 virtual seconds: timings are easy to follow


def paris(year: int, month: int, day: int, hour: int) -> float:
    """Seconds since the epoch of a Paris local time."""
    return dt.datetime(year, month, day, hour, tzinfo=PARIS).timestamp()


OPEN = paris(2026, 11, 25, 10)  # Wednesday morning
CLOSED = paris(2026, 11, 25, 22)  # Wednesday night


def two_seconds(prompt: Prompt) -> float:
    """Every prompt lasts PROMPT seconds."""
    return PROMPT


@attrs.define
class Center:
    """A virtual backend with the hotline IVR serving it, and what the IVR handed over."""

    backend: VirtualBackend
    driver: IvrDriver
    results: list[IvrResult]
    events: list[MediaEvent]
    start: float

    def outcomes(self, call_id: str) -> list[tuple[float, object]]:
        """(seconds since start, action) handed over for ``call_id``."""
        return [(r.at - self.start, r.action) for r in self.results if r.call_id == call_id]


@asynccontextmanager
async def hotline(
    start: float,
    tmp_path: Path,
    *,
    estimated_wait: Callable[[str], float | None] | None = None,
    sink: Callable[[IvrResult], Awaitable[None]] | None = None,
    voicemail_dir: Path | None = None,
) -> AsyncIterator[Center]:
    """Serve the hotline flow on a virtual backend whose clock starts at ``start``."""
    backend = VirtualBackend(ManualClock(start), prompt_seconds=two_seconds)
    results: list[IvrResult] = []
    events: list[MediaEvent] = []

    async def handover(result: IvrResult) -> None:
        results.append(result)
        if sink is not None:
            await sink(result)

    async def forward(event: MediaEvent) -> None:
        events.append(event)

    driver = IvrDriver(
        backend,
        HOTLINE,
        clock=backend.clock,
        handover=handover,
        estimated_wait=estimated_wait,
        forward=forward,
        voicemail_dir=tmp_path / "voicemail" if voicemail_dir is None else voicemail_dir,
    )
    async with anyio.create_task_group() as tg:
        await tg.start(driver.serve)
        yield Center(backend, driver, results, events, start)
        await backend.aclose()


def caller(*presses: tuple[float, str], patience: float | None = None) -> PartyScript:
    """A caller pressing keys at given seconds after the answer."""
    return PartyScript(press=presses, patience=patience)


async def test_keys_with_barge_in_route_to_the_chosen_queue(tmp_path: Path) -> None:
    """2 (French) stops the language menu, 1 stops the main menu: internet queue at t=8 s."""
    async with hotline(OPEN, tmp_path) as center:
        call = center.backend.inject_call(
            "sip:0601020304@virtual", script=caller((5.0, "2"), (6.0, "1"))
        )
        await center.backend.advance(5.5)
        # The language menu was interrupted at 5 s: the French main menu plays now.
        assert center.backend.hearing(call) == {
            f"file:{HOTLINE.prompt_dirs[0]}/fr/hotline_menu.wav"
        }
        await center.backend.advance(60)
        [(when, action)] = center.outcomes(call)
        assert when == pytest.approx(8.0)
        assert isinstance(action, TransferToQueue)
        assert action.queue == "internet"
        assert action.attributes["language"] == "fr"
        result = center.results[0]
        assert result.variables["caller_id"] == "0601020304"
        assert result.variables["topic"] == "1"
        # The call is the application's now: still up, no longer in the IVR.
        assert call in center.backend.calls
        assert center.driver.active_calls == ()


async def test_keys_pressed_during_a_plain_message_are_kept_for_the_next_menu(
    tmp_path: Path,
) -> None:
    """2 then 3 pressed during the welcome (no barge-in) answer the next two menus at once."""
    async with hotline(OPEN, tmp_path) as center:
        call = center.backend.inject_call("sip:0601@virtual", script=caller((1.0, "23")))
        await center.backend.advance(60)
        [(when, action)] = center.outcomes(call)
        assert isinstance(action, TransferToQueue)
        assert (action.queue, action.attributes["language"]) == ("billing", "fr")
        # welcome 4 s, the menus are answered by type-ahead, then please_hold 2 s.
        assert when == pytest.approx(6.0)


async def test_silence_retries_then_fails_over_to_an_agent(tmp_path: Path) -> None:
    """No keys at all: timeouts, no-input apologies, retries, English, then the general queue."""
    async with hotline(OPEN, tmp_path) as center:
        call = center.backend.inject_call("sip:0601@virtual", script=caller())
        await center.backend.advance(120)
        [(when, action)] = center.outcomes(call)
        assert isinstance(action, TransferToQueue)
        assert action.queue == "general"
        # welcome 4, language menu 4 + 5, retry 6 + 5, main menu 2 + 6, retry 4 + 6,
        # retry 4 + 6, please_hold 2.
        assert when == pytest.approx(54.0)
        assert center.results[0].trail == (
            "welcome",
            "language",
            "english",
            "hours",
            "tier",
            "menu",
            "agent",
        )


async def test_invalid_key_apologises_and_asks_again(tmp_path: Path) -> None:
    """9 is not an option: "invalid choice" and the menu again, which 3 interrupts."""
    async with hotline(OPEN, tmp_path) as center:
        call = center.backend.inject_call(
            "sip:0601@virtual", script=caller((5.0, "1"), (6.0, "9"), (7.0, "3"))
        )
        await center.backend.advance(6.5)
        assert center.backend.hearing(call) == {f"file:{PROMPTS_DIR}/en/invalid_choice.wav"}
        await center.backend.advance(60)
        [(when, action)] = center.outcomes(call)
        assert isinstance(action, TransferToQueue)
        assert action.queue == "billing"
        assert when == pytest.approx(9.0)


async def test_out_of_hours_voicemail_ends_with_the_pound_key(tmp_path: Path) -> None:
    """Closed at 22:00: message, recording from 13 s to the # at 40 s, ticket, goodbye, hang-up."""
    async with hotline(CLOSED, tmp_path) as center:
        call = center.backend.inject_call(
            "sip:0601@virtual", script=caller((5.0, "1"), (40.0, "#"))
        )
        await center.backend.advance(120)
        [(left_at, left), (end_at, end)] = center.outcomes(call)
        assert isinstance(left, VoicemailLeft)
        assert left.seconds == pytest.approx(27.0)
        assert left_at == pytest.approx(40.0)
        assert left.ticket["caller"] == "0601"
        assert Path(left.path).parent == tmp_path / "voicemail"
        assert end == HangUp(reason="voicemail")
        assert end_at == pytest.approx(44.0)
        assert call not in center.backend.calls
        recorded = [e for e in center.events if isinstance(e, RecordingFinished)]
        assert [(e.call_id, e.path) for e in recorded] == [(call, left.path)]


async def test_voicemail_stops_at_its_time_limit(tmp_path: Path) -> None:
    """A caller who never presses # is cut at max_seconds (120 s) and still gets a ticket."""
    async with hotline(CLOSED, tmp_path) as center:
        call = center.backend.inject_call("sip:0601@virtual", script=caller((5.0, "1")))
        await center.backend.advance(300)
        left = center.outcomes(call)[0][1]
        assert isinstance(left, VoicemailLeft)
        assert left.seconds == pytest.approx(120.0)


async def test_hanging_up_after_the_message_still_makes_a_ticket(tmp_path: Path) -> None:
    """The usual way to end a message is to hang up: ticket first, then an IVR hang-up."""
    async with hotline(CLOSED, tmp_path) as center:
        call = center.backend.inject_call(
            "sip:0601@virtual", script=caller((5.0, "1"), patience=30.0)
        )
        await center.backend.advance(60)
        [(_, left), (end_at, end)] = center.outcomes(call)
        assert isinstance(left, VoicemailLeft)
        assert left.seconds == pytest.approx(17.0)
        assert end == HangUp(reason="caller", by_caller=True)
        assert end_at == pytest.approx(30.0)


async def test_callback_offer_accepted_on_a_long_wait(tmp_path: Path) -> None:
    """Wait 15 min: the offer; 1 accepts: a callback to the caller's number, thanks, when
    to expect it ("estimated wait about 15 minutes"), goodbye, hang-up."""
    async with hotline(OPEN, tmp_path, estimated_wait=lambda queue: 900.0) as center:
        call = center.backend.inject_call(
            "sip:0601020304@virtual", script=caller((5.0, "1"), (6.0, "2"), (7.0, "1"))
        )
        await center.backend.advance(60)
        [(_, request), (end_at, end)] = center.outcomes(call)
        assert isinstance(request, RequestCallback)
        assert (request.queue, request.number) == ("tv", "0601020304")
        assert end == HangUp(reason="callback")
        assert end_at == pytest.approx(19.0)  # six 2 s prompts after the 1 at 7 s
        assert call not in center.backend.calls


async def test_callback_offer_declined_keeps_the_caller_in_line(tmp_path: Path) -> None:
    """2 on the offer: the caller goes to the queue they chose."""
    async with hotline(OPEN, tmp_path, estimated_wait=lambda queue: 900.0) as center:
        call = center.backend.inject_call(
            "sip:0601@virtual", script=caller((5.0, "1"), (6.0, "2"), (7.0, "2"))
        )
        await center.backend.advance(60)
        [(_, action)] = center.outcomes(call)
        assert isinstance(action, TransferToQueue)
        assert action.queue == "tv"


async def test_caller_leaving_during_the_ivr_is_an_ivr_abandon(tmp_path: Path) -> None:
    """Hanging up during the welcome is reported at that instant, by the caller."""
    async with hotline(OPEN, tmp_path) as center:
        call = center.backend.inject_call("sip:0601@virtual", script=caller(patience=3.0))
        await center.backend.advance(30)
        [(when, action)] = center.outcomes(call)
        assert when == pytest.approx(3.0)
        assert action == HangUp(reason="caller", by_caller=True)
        assert center.driver.active_calls == ()


async def test_many_callers_at_once_each_reach_their_queue(tmp_path: Path) -> None:
    """Four simultaneous callers, one per menu key, are each routed by their own keys."""
    queues = {"1": "internet", "2": "tv", "3": "billing", "0": "general"}
    async with hotline(OPEN, tmp_path) as center:
        chosen = {}
        for n in range(4):
            key = "1230"[n % 4]
            call = center.backend.inject_call(
                f"sip:06{n:08d}@virtual", script=caller((5.0, "1"), (6.0, key))
            )
            chosen[call] = queues[key]
        await center.backend.advance(120)
        routed = {
            r.call_id: r.action.queue
            for r in center.results
            if isinstance(r.action, TransferToQueue)
        }
        assert routed == chosen


async def test_handover_to_the_acd_queues_the_contact(tmp_path: Path) -> None:
    """The handover can be the ACD's arrive: the caller then waits in the right queue."""
    clock = ManualClock(OPEN)
    acd = Engine(clock=clock)
    for name in ("internet", "tv", "billing", "general"):
        acd.add_queue(Queue(name=name))
    announced = []

    async def to_acd(result: IvrResult) -> None:
        if isinstance(result.action, TransferToQueue):
            contact = result.action.contact(result.call_id, caller_id=result.variables["caller_id"])
            announced.extend(acd.arrive(contact, result.action.queue))

    async with hotline(OPEN, tmp_path, sink=to_acd) as center:
        call = center.backend.inject_call("sip:0601@virtual", script=caller((5.0, "1"), (6.0, "2")))
        await center.backend.advance(30)
        assert acd.waiting_contacts("tv") == [call]
        assert len(announced) == 1


async def test_dispatch_lets_the_application_own_the_event_stream(tmp_path: Path) -> None:
    """Without serve(), the application reads events, calls dispatch and starts run_call."""
    backend = VirtualBackend(ManualClock(OPEN), prompt_seconds=two_seconds)
    results: list[IvrResult] = []

    async def handover(result: IvrResult) -> None:
        results.append(result)

    driver = IvrDriver(backend, HOTLINE, clock=backend.clock, handover=handover)
    finished: list[IvrResult] = []

    async def application() -> None:
        async with anyio.create_task_group() as tg:
            async for event in backend.events():
                driver.dispatch(event)
                if isinstance(event, CallIncoming):

                    async def run(call_id: str = event.call_id) -> None:
                        finished.append(await driver.run_call(call_id, {"caller_id": "42"}))

                    tg.start_soon(run)

    async with anyio.create_task_group() as tg:
        tg.start_soon(application)
        call = backend.inject_call("sip:x@virtual", script=caller((5.0, "1"), (6.0, "3")))
        await backend.advance(30)
        await backend.aclose()
    assert finished == results
    assert [r.call_id for r in results] == [call]
    assert isinstance(results[0].action, TransferToQueue)
    assert results[0].variables["caller_id"] == "42"


async def test_forward_sees_every_event(tmp_path: Path) -> None:
    """serve() forwards each backend event to the application, prompt ends included."""
    async with hotline(OPEN, tmp_path) as center:
        center.backend.inject_call("sip:0601@virtual", script=caller((5.0, "1"), (6.0, "1")))
        await center.backend.advance(30)
        kinds = [type(e) for e in center.events]
        assert kinds[0] is CallIncoming
        # The welcome's two prompts and "please hold"; both menus were interrupted.
        assert kinds.count(PromptFinished) == 3


async def test_cti_caller_data_reaches_the_flow(tmp_path: Path) -> None:
    """caller_data (a CTI lookup) adds the tier: a premium caller skips the menu."""

    async def lookup(event: CallIncoming) -> dict[str, str]:
        return {"tier": "premium", "account": "P-" + event.from_uri[4:8]}

    backend = VirtualBackend(ManualClock(OPEN), prompt_seconds=two_seconds)
    results: list[IvrResult] = []

    async def handover(result: IvrResult) -> None:
        results.append(result)

    driver = IvrDriver(backend, HOTLINE, clock=backend.clock, handover=handover,
                       caller_data=lookup)  # fmt: skip
    async with anyio.create_task_group() as tg:
        await tg.start(driver.serve)
        backend.inject_call("sip:0601@virtual", script=caller((5.0, "1")))
        await backend.advance(30)
        await backend.aclose()
    [result] = results
    assert isinstance(result.action, TransferToQueue)
    assert (result.action.queue, result.action.priority) == ("general", 10)
    assert result.action.attributes["account"] == "P-0601"


async def test_a_failing_call_is_hung_up_and_the_ivr_keeps_serving(tmp_path: Path) -> None:
    """A prompt with no file is a media error for that call only: it is hung up with the
    reason, and the next caller is served normally."""
    broken = (
        FlowBuilder("broken", start="menu")
        .node("menu", Menu(prompts=["not_recorded_yet"], options={"1": "q"}, on_failure="q"))
        .node("q", ToQueue(queue="support"))
        .build(prompts=False)
    )
    backend = VirtualBackend(ManualClock(OPEN), prompt_seconds=two_seconds)
    results: list[IvrResult] = []

    async def handover(result: IvrResult) -> None:
        results.append(result)

    driver = IvrDriver(backend, broken, clock=backend.clock, handover=handover)
    async with anyio.create_task_group() as tg:
        await tg.start(driver.serve)
        first = backend.inject_call("sip:1@virtual", script=caller())
        second = backend.inject_call("sip:2@virtual", script=caller(), after=10)
        await backend.advance(30)
        assert first not in backend.calls
        await backend.aclose()
    failed = HangUp(reason="media error: IVR flow 'broken': no prompt file for en:not_recorded_yet")
    assert [(r.call_id, r.action) for r in results] == [(first, failed), (second, failed)]


@pytest.mark.usefixtures("permissive_umask")
async def test_the_voicemail_directory_is_made_private(tmp_path: Path) -> None:
    """A missing voicemail directory is created 0700 even under umask 022: only the
    service's user can list or read the messages."""
    voicemail = tmp_path / "spool" / "voicemail"
    async with hotline(CLOSED, tmp_path, voicemail_dir=voicemail) as center:
        call = center.backend.inject_call("sip:0601@virtual", script=caller((5.0, "1")))
        await center.backend.advance(300)
        left = center.outcomes(call)[0][1]
    assert isinstance(left, VoicemailLeft)
    assert Path(left.path).parent == voicemail
    assert stat.S_IMODE(voicemail.stat().st_mode) == 0o700


@pytest.mark.usefixtures("permissive_umask")
async def test_voicemail_goes_to_the_data_directory_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without voicemail_dir, messages go to the data directory's voicemail/ (made 0700,
    looked up at the first message), never to the current directory."""
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    backend = VirtualBackend(ManualClock(CLOSED), prompt_seconds=two_seconds)
    results: list[IvrResult] = []

    async def handover(result: IvrResult) -> None:
        results.append(result)

    driver = IvrDriver(backend, HOTLINE, clock=backend.clock, handover=handover)
    assert driver.voicemail_dir is None
    assert not (tmp_path / "data").exists()  # nothing is made before a message is left
    async with anyio.create_task_group() as tg:
        await tg.start(driver.serve)
        backend.inject_call("sip:0601@virtual", script=caller((5.0, "1"), (40.0, "#")))
        await backend.advance(120)
        await backend.aclose()
    left = results[0].action
    assert isinstance(left, VoicemailLeft)
    assert Path(left.path).parent == tmp_path / "data" / "voicemail"
    assert stat.S_IMODE((tmp_path / "data" / "voicemail").stat().st_mode) == 0o700
    assert os.listdir(tmp_path) == ["data"]


async def test_an_unsafe_voicemail_directory_fails_that_call_only(tmp_path: Path) -> None:
    """A voicemail directory anyone may write to is refused: no message is recorded there,
    the call is hung up with the reason, and the IVR goes on serving."""
    voicemail = tmp_path / "voicemail"
    voicemail.mkdir()
    voicemail.chmod(0o777)
    async with hotline(CLOSED, tmp_path) as center:
        first = center.backend.inject_call("sip:0601@virtual", script=caller((5.0, "1")))
        second = center.backend.inject_call("sip:0602@virtual", script=caller(), after=30)
        await center.backend.advance(300)
        [(_, end)] = center.outcomes(first)
        assert isinstance(end, HangUp)
        assert end.reason.startswith("media error: no voicemail directory: ")
        assert str(voicemail) in end.reason
        assert first not in center.backend.calls
        assert center.outcomes(second)  # served as usual
    assert not any(isinstance(e, RecordingFinished) for e in center.events)
