"""The caller's number on CallIncoming: parsing, and over SIP from sipp and pjsua2 callers."""

from __future__ import annotations

import ipaddress
import shutil
from pathlib import Path

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter_sdk import ValidationError
from callcenter_sdk.media import (
    CallEnded,
    CallerIdentity,
    CallIncoming,
    MediaEventLog,
    VirtualBackend,
    call_is,
    caller_number,
    create_media_pool,
    create_redirect_front,
    free_udp_port,
    identify_caller,
    trusted_networks,
)
from callcenter_sdk.media._caller_id import header_values

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
    header is ignored); several header lines are all kept, folded lines unfolded."""
    message = (
        "INVITE sip:ivr@h SIP/2.0\r\nFrom: <sip:a@b>;tag=1\r\n"
        "p-asserted-identity: <sip:+3312@h>\r\nP-Asserted-Identity: <tel:+3312>\r\n"
        "Remote-Party-ID: <sip:+44@t>\r\n ;party=calling\r\n\r\n"
        "P-Asserted-Identity: <tel:+999>\r\n"
    )
    assert header_values(message, "P-Asserted-Identity") == "<sip:+3312@h>,<tel:+3312>"
    assert header_values(message, "Remote-Party-ID") == "<sip:+44@t> ;party=calling"
    bare = "INVITE sip:ivr@h SIP/2.0\r\nFrom: <sip:a@b>\r\n\r\n"
    assert header_values(bare, "P-Asserted-Identity") == ""


TRUNK = ("192.0.2.0/24", "2001:db8::/32")


@pytest.mark.parametrize(
    ("asserted", "expected"),
    [
        ("<sip:+88212345678@carrier;user=phone>", "+88212345678"),
        ('"Ada" <sips:01.23.45.67.89@carrier>', "0123456789"),
        ("<tel:+33-1-23-45-60-10;phone-context=+33>", "+33123456010"),
        ("<sip:anonymous@anonymous.invalid>, <tel:+4420>", "+4420"),
        ('"Doe, John" <sip:+4420@carrier>', "+4420"),
    ],
)
def test_a_trusted_trunks_asserted_identity_is_the_verified_number(
    asserted: str, expected: str
) -> None:
    """From a trusted address, P-Asserted-Identity (sip, sips or tel URI; the first
    usable entry of a list; commas in a display name are no separators) gives the
    number, verified, whatever the From says."""
    identity = identify_caller(
        "sip:0611@192.0.2.7", asserted=asserted, source="192.0.2.7:5060", trusted=TRUNK
    )
    assert identity == CallerIdentity(expected, verified=True, source="192.0.2.7")


@pytest.mark.parametrize(
    ("remote_party", "expected"),
    [
        ('"Ada" <sip:+4420@trunk;user=phone>;party=calling;screen=yes;privacy=off', "+4420"),
        ("<sip:+4420@trunk>", "+4420"),  # no party: the calling party
        ("<sip:+4499@trunk>;party=called, <tel:+4420>;party=calling", "+4420"),
        ('<sip:+4420@trunk>;screen="yes";party="calling"', "+4420"),
    ],
)
def test_a_trusted_remote_party_id_names_the_calling_party(
    remote_party: str, expected: str
) -> None:
    """Remote-Party-ID from a trusted address: the calling party's entry gives the
    verified number; the called party's entry is not the caller."""
    identity = identify_caller(
        "sip:anonymous@x", remote_party=remote_party, source="192.0.2.7", trusted=TRUNK
    )
    assert (identity.number, identity.verified) == (expected, True)


def test_asserted_identity_beats_remote_party_id_and_falls_back_to_it() -> None:
    """With both headers from a trusted trunk, P-Asserted-Identity wins; when it
    carries no number (anonymous) the Remote-Party-ID does; when neither does,
    the From user is the number, unverified."""

    def both(asserted: str, remote_party: str) -> tuple[str, bool]:
        identity = identify_caller("sip:0611@x", asserted=asserted, remote_party=remote_party,
                                   source="192.0.2.7", trusted=TRUNK)  # fmt: skip
        return identity.number, identity.verified

    assert both("<tel:+331>", "<tel:+442>;party=calling") == ("+331", True)
    assert both("<sip:anonymous@x>", "<tel:+442>;party=calling") == ("+442", True)
    assert both("<sip:anonymous@x>", "<sip:anonymous@x>") == ("0611", False)


def test_an_unscreened_remote_party_id_is_not_verified() -> None:
    """A Remote-Party-ID the network marks ``screen=no`` is the caller's own claim,
    even through a trusted trunk: it is not believed."""
    identity = identify_caller("sip:0611@x", remote_party="<tel:+4420>;party=calling;screen=no",
                               source="192.0.2.7", trusted=TRUNK)  # fmt: skip
    assert (identity.number, identity.verified) == ("0611", False)


@pytest.mark.parametrize(
    "garbage",
    ["<<<", "sip:", "<tel:abc>", "<sip:+@x>", ";party=calling", '"unterminated <tel:+1', ",,,"],
)
def test_garbage_in_the_headers_falls_back_to_the_from_user(garbage: str) -> None:
    """Headers that carry no number, even broken ones, never raise: the From
    user is the number, unverified."""
    identity = identify_caller("sip:0611@x", asserted=garbage, remote_party=garbage,
                               source="192.0.2.7", trusted=TRUNK)  # fmt: skip
    assert (identity.number, identity.verified) == ("0611", False)


@pytest.mark.parametrize(
    ("source", "ip", "trusted"),
    [
        ("192.0.2.7:5060", "192.0.2.7", True),
        ("192.0.2.7", "192.0.2.7", True),
        ("[2001:db8::7]:5060", "2001:db8::7", True),
        ("[2001:DB8:0:0::7]:5060", "2001:db8::7", True),
        ("2001:db8::7", "2001:db8::7", True),
        ("[::ffff:192.0.2.7]:5060", "192.0.2.7", True),  # IPv4-mapped: the IPv4 address
        ("[2001:db9::7]:5060", "2001:db9::7", False),
        ("198.51.100.1:5060", "198.51.100.1", False),
        ("127.0.0.1:5060", "127.0.0.1", False),
        ("", "", False),
        ("trunk.example:5060", "", False),
        ("[2001:db8::7:5060", "", False),
        ("192.0.2.999:5060", "", False),
        ("192.0.2.7:sip", "", False),
        ("[2001:db8::7]x", "", False),
    ],
)
def test_the_source_address_is_parsed_and_matched(source: str, ip: str, trusted: bool) -> None:
    """A transport source (``ip:port``, ``[ipv6]:port``, bare) gives its IP in
    canonical form, matched against IPv4 and IPv6 networks; what is no address
    gives "" and is never trusted."""
    identity = identify_caller("sip:0611@x", asserted="<tel:+4420>", source=source, trusted=TRUNK)
    assert identity.source == ip
    assert identity.verified is trusted
    assert identity.number == ("+4420" if trusted else "0611")


@given(
    asserted=st.text(max_size=40),
    remote_party=st.text(max_size=40),
    last=st.integers(min_value=0, max_value=255),
)
def test_from_an_untrusted_source_the_headers_never_matter(
    asserted: str, remote_party: str, last: int
) -> None:
    """Whatever P-Asserted-Identity and Remote-Party-ID an untrusted sender writes,
    the number is the From user's and it is not verified: as if they were stripped."""
    identity = identify_caller(
        "sip:0611@x",
        asserted=asserted,
        remote_party=remote_party,
        source=f"198.51.100.{last}:5060",
        trusted=TRUNK,
    )
    assert identity == CallerIdentity("0611", verified=False, source=f"198.51.100.{last}")


def test_nobody_is_trusted_by_default() -> None:
    """With no trusted sources, even the loopback's asserted identity is ignored."""
    identity = identify_caller("sip:0611@x", asserted="<tel:+4420>", source="127.0.0.1:5060")
    assert (identity.number, identity.verified) == ("0611", False)


@pytest.mark.parametrize(
    ("sources", "says"),
    [
        ("127.0.0.1", "single string"),
        (("10.0.0.1/8",), "did you mean 10.0.0.0/8"),
        (("trunk.example",), "'trunk.example' is not an IP address"),
        (("",), "is not an IP address"),
        (("10.0.0.0/33",), "is not an IP address"),
        ((5060,), "got 5060"),
    ],
)
def test_bad_trusted_sources_are_refused_clearly(sources: object, says: str) -> None:
    """A trusted-source setting that is one string, a name, a network with host
    bits, a bad prefix or no string at all is refused with a message saying what."""
    with pytest.raises(ValidationError, match=says):
        trusted_networks(sources)  # type: ignore[arg-type]


def test_trusted_sources_become_networks() -> None:
    """Addresses become one-address networks; IPv4 and IPv6 networks are kept."""
    assert trusted_networks(
        [" 192.0.2.7", "2001:db8::/32", ipaddress.ip_network("10.0.0.0/8")]
    ) == (
        ipaddress.ip_network("192.0.2.7/32"),
        ipaddress.ip_network("2001:db8::/32"),
        ipaddress.ip_network("10.0.0.0/8"),
    )


async def test_the_virtual_backend_reads_the_same_headers() -> None:
    """A call injected with a From and an asserted identity carries the same
    number the pjsua2 workers would report: the From user's when it comes from
    an untrusted address (the default 127.0.0.1 when nobody is trusted), the
    trunk's asserted one, verified, when its source is trusted."""
    backend = VirtualBackend(trusted=("192.0.2.0/24",))
    backend.inject_call("sip:01.23.45@pstn")
    backend.inject_call("sip:0611@pstn", asserted_identity="<sip:+88212345678@evil>")
    backend.inject_call("sip:anonymous@pstn", asserted_identity="<tel:+4420>", source="192.0.2.7")
    backend.inject_call("sip:anonymous@pstn", remote_party_id="<tel:+4421>;party=calling",
                        source="192.0.2.8")  # fmt: skip
    await backend.advance(0.1)
    events = backend.events()
    seen = [await events.__anext__() for _ in range(4)]
    assert [(e.caller_number, e.caller_verified, e.source) for e in seen] == [  # type: ignore[attr-defined]
        ("012345", False, "127.0.0.1"),
        ("0611", False, "127.0.0.1"),
        ("+4420", True, "192.0.2.7"),
        ("+4421", True, "192.0.2.8"),
    ]


def test_the_virtual_backend_refuses_bad_trust_and_bad_sources() -> None:
    """A virtual backend checks its trusted sources when built and each call's
    source when injected, as the pool does."""
    with pytest.raises(ValidationError, match="not an IP address"):
        VirtualBackend(trusted=("trunk.example",))
    with pytest.raises(ValidationError, match="source is an IP address"):
        VirtualBackend().inject_call("sip:0611@pstn", source="trunk.example")


async def test_a_pool_with_a_bad_trusted_source_does_not_start() -> None:
    """create_media_pool checks ``trusted`` before it starts any worker process."""
    with pytest.raises(ValidationError, match=r"did you mean 127\.0\.0\.0/8"):
        async with create_media_pool(1, trusted=("127.0.0.1/8",)):
            pass  # pragma: no cover - never reached


@pytest.mark.sip
async def test_a_pjsua2_callers_id_arrives_through_the_front_door() -> None:
    """A pjsua2 caller placing a call with ``caller_id`` (sent as P-Asserted-Identity)
    through the 302 front into workers that trust the loopback: the worker that
    answers reports the number, verified, for a bare number and for a sip URI with
    separators, with the caller's own address as the source (the redirected INVITE
    comes straight from the caller)."""
    async with (
        create_media_pool(1, trusted=("127.0.0.0/8",)) as center,
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
                assert (incoming.caller_number, incoming.caller_verified) == (expected, True)
                assert incoming.source == "127.0.0.1"
                assert "hotline@" in incoming.to_uri
                await phones.hangup(leg)
                await log.wait(CallEnded, call_is(incoming.call_id))
                await phone_log.wait(CallEnded, call_is(leg))


@pytest.mark.sip
async def test_a_pjsua2_callers_id_is_in_from_too_for_peers_that_do_not_trust_it() -> None:
    """``originate(caller_id=...)`` puts the number in the From user as well as in
    P-Asserted-Identity: a center that does not trust the caller's address still
    shows the number, unverified, as it would a phone's."""
    async with create_media_pool(1) as center, create_media_pool(1) as phones:
        log = MediaEventLog(center.events())
        with anyio.fail_after(30):
            leg = await phones.originate(
                f"sip:hotline@{center.workers[0].address}", caller_id="+33 1 23 45 60 10"
            )
            incoming = await log.wait(CallIncoming)
            await phones.hangup(leg)
            await log.wait(CallEnded, call_is(incoming.call_id))
    assert (incoming.caller_number, incoming.caller_verified) == ("+33123456010", False)
    assert "+33123456010@" in incoming.from_uri


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
    """The sipp caller (written by others, from a trusted address) calls with a From
    user written with dots, or an anonymous From and a trunk's P-Asserted-Identity:
    the number arrives without separators, the asserted one winning."""
    async with create_media_pool(1, trusted=("127.0.0.1",)) as pool:
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
