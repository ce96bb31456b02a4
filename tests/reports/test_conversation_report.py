"""``callcenter report --conversations``: written channels' KPIs from the stored events."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from callcenter_sdk import Event
from callcenter_sdk.acd import ContactEnteredQueue
from callcenter_sdk.cli import main
from callcenter_sdk.kpi import (
    Channel,
    Direction,
    first_response_service_level,
    first_response_time,
    messages_per_conversation,
    resolution_time,
)
from callcenter_sdk.org import loads_org
from callcenter_sdk.reports import conversation_report_from_store
from callcenter_sdk.runtime import (
    FIRST_RESPONSE_S,
    MessageReceived,
    ReplySent,
    conversation_records,
)
from callcenter_sdk.store import EventLog, create_store
from callcenter_sdk.tickets import TicketStatus, TicketStatusChanged

from .test_aggregates import _org_with_client_managers

WRITTEN = (Channel.EMAIL, Channel.CHAT, Channel.SMS, Channel.SOCIAL)


def _conversations(seed: int, count: int = 120) -> list[Event]:
    """A generated log: written conversations on four channels, with replies,
    customer messages, resolutions and some never answered; voice calls between."""
    rng = random.Random(seed)
    timed: list[tuple[float, int, Event]] = []
    for n in range(count):
        channel = rng.choice((*WRITTEN, Channel.VOICE))
        contact, ticket = f"c{n}", f"t{n}"
        at = rng.uniform(0.0, 4 * 3600.0)
        timed.append(
            (
                at,
                n,
                ContactEnteredQueue(
                    at=at,
                    contact_id=contact,
                    queue=f"{channel.value}-desk",
                    channel=channel,
                    direction=Direction.INBOUND,
                ),
            )
        )
        timed.append(
            (
                at,
                n,
                MessageReceived(at=at, contact_id=contact, channel=channel.value, ticket_id=ticket),
            )
        )
        t = at
        for _ in range(rng.randint(0, 4)):
            t += rng.expovariate(1 / 600.0)
            if rng.random() < 0.5:
                reply = ReplySent(
                    at=t,
                    contact_id=contact,
                    agent_id="a1",
                    channel=channel.value,
                    message_id=f"m{n}-{t}",
                )
                timed.append((t, n, reply))
            else:
                more = MessageReceived(
                    at=t, contact_id=contact, channel=channel.value, ticket_id=ticket
                )
                timed.append((t, n, more))
        if rng.random() < 0.6:
            t += rng.expovariate(1 / 1800.0)
            timed.append(
                (
                    t,
                    n,
                    TicketStatusChanged(
                        at=t,
                        ticket_id=ticket,
                        source=TicketStatus.OPEN,
                        target=TicketStatus.RESOLVED,
                    ),
                )
            )
    timed.sort(key=lambda x: (x[0], x[1]))
    return [e for _, _, e in timed]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_report_agrees_with_the_kpi_calculators(
    seed: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Per channel, and per channel and hour, the report's conversations, first
    response time and its service level, resolution time and messages per
    conversation equal the kpi calculators' over the same log's conversation
    records, at the time of the last stored event."""
    events = _conversations(seed)
    url = f"sqlite:///{tmp_path / 'talk.sqlite'}"
    with create_store(url) as store:
        EventLog(store).extend(events)
    now = events[-1].at
    records = conversation_records(events)
    for interval, length in ((None, None), ("60min", 3600.0)):
        args = ["report", "--url", url, "--conversations", "--format", "json"]
        assert main([*args, *(["--interval", interval] if interval else [])]) == 0
        rows = json.loads(capsys.readouterr().out)
        expected = {}
        for channel in WRITTEN:
            for hour in range(5):
                group = [
                    r
                    for r in records
                    if r.channel is channel and (length is None or r.arrived_at // length == hour)
                ]
                if not group:
                    continue
                threshold = FIRST_RESPONSE_S[channel]
                start = None if length is None else f"1970-01-01T{hour:02d}:00:00Z"
                expected[(start, channel.value)] = {
                    "conversations": len(group),
                    "responded": sum(r.first_response is not None for r in group),
                    "resolved": sum(r.resolution is not None for r in group),
                    "first_response": first_response_time(group),
                    "first_response_sl": first_response_service_level(
                        group, threshold=threshold, now=now
                    ),
                    "threshold": threshold,
                    "resolution": resolution_time(group),
                    "messages": messages_per_conversation(group),
                }
                if length is None:
                    break
        got = {
            (r.get("start"), r.pop("channel")): {k: v for k, v in r.items() if k != "start"}
            for r in rows
        }
        assert got == expected
        assert "voice" not in {channel for _, channel in got}
        assert sum(r["conversations"] for r in got.values()) == len(records) > 60


def test_a_client_manager_sees_only_their_campaigns_conversations(tmp_path: Path) -> None:
    """With the hotline's org, StreamTV's project manager's report counts only the
    conversations of the queue serving StreamTV's campaign; the analyst of both
    campaigns sees those of both queues; a conversation of a queue serving no
    campaign is the center's, which neither of them sees."""
    org = loads_org(_org_with_client_managers())
    events = _conversations(4)
    campaigns = {"chat-desk": "streamtv-support", "email-desk": "fibrenet-support"}
    with create_store(f"sqlite:///{tmp_path / 'talk.sqlite'}") as store:
        EventLog(store).extend(events)
        seen = {
            viewer: conversation_report_from_store(
                store, org=org, viewer=viewer, campaigns=campaigns
            )
            for viewer in ("pm-streamtv", "analyst")
        }
        everything = conversation_report_from_store(store)
    total = {r.keys["channel"]: r.conversations for r in everything.rows}
    assert [(r.keys["channel"], r.conversations) for r in seen["pm-streamtv"].rows] == [
        ("chat", total["chat"])
    ]
    assert {r.keys["channel"]: r.conversations for r in seen["analyst"].rows} == {
        "chat": total["chat"],
        "email": total["email"],
    }
    assert set(total) == {"chat", "email", "sms", "social"}
