"""The web chat's answers to frames another node relays (``ChatChannel.relay`` and its parts).

No socket here: these are the calls a standby's relay makes of the
leader's chat (through ``/internal/chat``, tested end to end on PostgreSQL
in ``tests/cluster/test_chat_standby.py``), on the embedded store.
"""

from __future__ import annotations

import pytest

from callcenter_sdk.channels import ChannelError

from .test_chat import live_chat


async def test_a_relayed_conversation_is_checked_as_a_socket_here() -> None:
    """Relayed, Jeanne's hello is welcomed with a token; her line, given with that token, is
    stored once (sent twice) and carries the ticket and contact; her typing is seen by the
    agent's side; an out-of-range ``seq``, an empty line and an unknown frame are refused
    as on a socket here, and nothing of them is stored."""
    async with live_chat() as live:
        chat = live.chat
        hello = {"type": "hello", "name": "Jeanne", "email": "jeanne@customer.test"}
        welcome = await chat.relay({"frame": hello})
        assert welcome["close"] is None
        assert welcome["frame"]["type"] == "welcome"
        assert welcome["idle_timeout"] == chat.settings.idle_timeout
        token = welcome["frame"]["token"]

        line = {"type": "message", "seq": 1, "text": "Hello."}
        first = await chat.line(token, line)
        again = await chat.relay({"token": token, "frame": line})
        assert first.frame == again["frame"] == {
            "type": "ack", "seq": 1, "id": f"chat:{first.conversation}:c000001",
        }  # fmt: skip
        assert (again["ticket"], again["contact"]) == (first.ticket_id, first.contact_id)
        assert first.ticket_id
        assert first.contact_id
        assert len(chat.intake.messages.of_ticket(first.ticket_id)) == 1

        typed = await chat.relay({"token": token, "frame": {"type": "typing"}})
        assert typed["frame"] is None
        assert chat.customer_typing(first.contact_id)

        for frame in (
            {"type": "message", "seq": 0, "text": "x"},
            {"type": "message", "seq": 2, "text": " "},
            {"type": "shout"},
            "not an object",
        ):
            answer = await chat.relay({"token": token, "frame": frame})
            assert answer["frame"]["type"] == "error", frame
            assert answer["close"] is None
        assert len(chat.intake.messages.of_ticket(first.ticket_id)) == 1


async def test_relayed_refusals_close_the_customers_socket() -> None:
    """A relayed first frame that is no hello, a hello without an identity, and any frame with
    a forged token are answered with an error and the refusal's close code (4001); the public
    calls raise ChannelError for them."""
    async with live_chat() as live:
        chat = live.chat
        welcome = await chat.hello({"type": "hello", "name": "Jeanne", "number": "C-1042"})
        assert welcome.frame is not None
        token = str(welcome.frame["token"])
        payload, _, signature = token.partition(".")
        forged = f"{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
        for request in (
            {"frame": {"type": "message", "seq": 1, "text": "hi"}},
            {"frame": {"type": "hello", "name": "Nobody"}},
            {"token": forged, "frame": {"type": "message", "seq": 1, "text": "hi"}},
            {"token": forged, "frame": {"type": "typing"}},
        ):
            answer = await chat.relay(request)
            assert answer["frame"]["type"] == "error", request
            assert answer["close"] == 4001, request
        with pytest.raises(ChannelError, match="not ours"):
            await chat.line(forged, {"type": "message", "seq": 1, "text": "hi"})
        with pytest.raises(ChannelError, match="not ours"):
            await chat.customer_typed(forged)
        with pytest.raises(ChannelError, match="e-mail"):
            await chat.hello({"type": "hello", "name": "Nobody"})
        assert live.center.tickets.active() == []
