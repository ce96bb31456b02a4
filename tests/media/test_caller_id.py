"""The caller's number on CallIncoming: parsing, and over SIP from sipp and pjsua2 callers."""

from __future__ import annotations

import shutil
from pathlib import Path

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter_sdk.media import (
    CallEnded,
    CallIncoming,
    MediaEventLog,
    VirtualBackend,
    call_is,
    caller_number,
    create_media_pool,
    create_redirect_front,
    free_udp_port,
)
from callcenter_sdk.media._caller_id import asserted_identity

SCENARIOS = Path(__file__).parent / "sipp"


@given(
    digits=st.text("0123456789", min_size=4, max_size=15),
    plus=st.booleans(),
    seps=st.lists(st.sampled_from([" ", "-", ".", "(", ")"]), max_size=4),
)
def test_separators_are_dropped_and_the_digits_kept(
    digits: str, plus: bool, seps: list[str]
) -> None:
    """However the number is written in the From user part, the digits (and a
    leading +) come out in order and nothing else does."""
    written = ("+" if plus else "") + digits
    for index, sep in enumerate(seps):
        cut = 1 + index % (len(written) - 1)
        written = written[:cut] + sep + written[cut:]
    from_uri = f'"Someone" <sip:{written.replace(" ", "%20")}@10.0.0.1;user=phone>;tag=x'
    assert caller_number(from_uri) == ("+" if plus else "") + digits


def test_asserted_identity_wins_and_names_are_not_numbers() -> None:
    """P-Asserted-Identity (sip or tel, first usable of a list) beats From; a
    name or "anonymous" is no number."""
    assert caller_number("sip:alice@h") == ""
    assert caller_number("sip:anonymous@anonymous.invalid", "<tel:+33123456010>") == "+33123456010"
    pai = "<sip:anonymous@x>, <tel:+33 1 23>"
    assert caller_number("sip:0611@h", pai) == "+33123"
    assert caller_number("sip:0611@h", "<sip:bob@x>") == "0611"
    assert caller_number("sip:%2B331234@h") == "+331234"


def test_the_header_is_read_from_a_raw_message_but_never_from_the_body() -> None:
    """Only the message's header section counts (a body line that looks like the
    header is ignored); several header lines are all kept."""
    message = (
        "INVITE sip:ivr@h SIP/2.0\r\nFrom: <sip:a@b>;tag=1\r\n"
        "p-asserted-identity: <sip:+3312@h>\r\nP-Asserted-Identity: <tel:+3312>\r\n\r\n"
        "P-Asserted-Identity: <tel:+999>\r\n"
    )
    assert asserted_identity(message) == "<sip:+3312@h>,<tel:+3312>"
    assert asserted_identity("INVITE sip:ivr@h SIP/2.0\r\nFrom: <sip:a@b>\r\n\r\n") == ""


async def test_the_virtual_backend_reads_the_same_headers() -> None:
    """A call injected with a From and an asserted identity carries the same
    number the pjsua2 workers would report."""
    backend = VirtualBackend()
    backend.inject_call("sip:01.23.45@pstn")
    backend.inject_call("sip:anonymous@pstn", asserted_identity="<tel:+4420>")
    await backend.advance(0.1)
    events = backend.events()
    first, second = await events.__anext__(), await events.__anext__()
    assert isinstance(first, CallIncoming)
    assert isinstance(second, CallIncoming)
    assert (first.caller_number, second.caller_number) == ("012345", "+4420")


@pytest.mark.sip
async def test_a_pjsua2_callers_id_arrives_through_the_front_door() -> None:
    """A pjsua2 caller placing a call with ``caller_id`` (sent as P-Asserted-Identity)
    through the 302 front: the worker that answers reports the number, for a bare
    number and for a sip URI with separators."""
    async with (
        create_media_pool(1) as center,
        create_redirect_front(center) as front,
        create_media_pool(1) as phones,
    ):
        log = MediaEventLog(center.events())
        phone_log = MediaEventLog(phones.events())
        with anyio.fail_after(30):
            for caller_id, expected in (
                ("+33123456010", "+33123456010"),
                ("sip:01-23-45-60-10@127.0.0.1", "0123456010"),
            ):
                leg = await phones.originate(f"sip:hotline@{front.address}", caller_id=caller_id)
                incoming = await log.wait(CallIncoming)
                assert incoming.caller_number == expected
                assert "hotline@" in incoming.to_uri
                await phones.hangup(leg)
                await log.wait(CallEnded, call_is(incoming.call_id))
                await phone_log.wait(CallEnded, call_is(leg))


@pytest.mark.sip
@pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp is not installed (sip-tester)")
@pytest.mark.parametrize(
    ("from_user", "pai", "expected"),
    [
        ("01.23.45.60.10", "<sip:anonymous@anonymous.invalid>", "0123456010"),
        ("anonymous", "<tel:+33-1-23-45-60-10>", "+33123456010"),
    ],
)
async def test_a_sipp_callers_from_user_arrives_normalised(
    tmp_path: Path, from_user: str, pai: str, expected: str
) -> None:
    """The sipp caller (written by others) calls with a From user written with dots, or an
    anonymous From and a trunk's P-Asserted-Identity: the number arrives without
    separators, the asserted one winning."""
    async with create_media_pool(1) as pool:
        log = MediaEventLog(pool.events())
        command = [
            "timeout", "60", "sipp", "-sf", str(SCENARIOS / "caller_with_number.xml"),
            "-i", "127.0.0.1", "-p", str(free_udp_port()),
            "-mi", "127.0.0.1", "-mp", str(free_udp_port()),
            "-s", "hotline", "-key", "caller", from_user, "-key", "pai", pai,
            "-m", "1", "-nostdin", "-timeout", "45", "-timeout_error", pool.workers[0].address,
        ]  # fmt: skip
        result = []

        async def run() -> None:
            result.append(await anyio.run_process(command, cwd=tmp_path, check=False))

        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            incoming = await log.wait(CallIncoming)
            await log.wait(CallEnded, call_is(incoming.call_id))
        assert incoming.caller_number == expected
        assert from_user in incoming.from_uri
        assert result[0].returncode == 0, result[0].stdout.decode(errors="replace")[-3000:]
