"""Click-to-dial, callbacks and take-over over httpx's ASGI transport, as each person."""

from __future__ import annotations

from callcenter_sdk.acd import AgentState, Contact
from callcenter_sdk.cti import DialConnected
from callcenter_sdk.kpi import Channel
from callcenter_sdk.media import PartyScript
from callcenter_sdk.runtime import CallbackScheduled, CallTakenOver

from .conftest import CUSTOMER, Rig


async def test_click_to_dial_rings_the_persons_phone_then_the_customer(rig: Rig) -> None:
    """Alice dials a customer from her desk: the leg answered is her own phone's,
    the customer is reached through the gateway and she is paused while it lasts;
    a number the dial plan refuses is a 403 with nothing dialled, an empty one a
    422, and an analyst (who has no phone and may not dial) is refused."""
    rig.backend.add_phone(f"sip:{CUSTOMER}@trunk", PartyScript(answer_after=1.0, talk_for=20.0))
    await rig.center.set_ready("ag.alice", actor="ag.alice")
    seen: list[DialConnected] = []
    rig.center.subscribe(lambda _s, e: seen.append(e) if isinstance(e, DialConnected) else None)
    async with rig.client() as alice, rig.client() as analyst:
        await rig.login(alice, "ag.alice")
        await rig.login(analyst, "an.fournier")
        legs = set(rig.backend.calls)
        refused = await alice.post("/api/dial", json={"number": "+33142685300"})
        assert (refused.status_code, refused.json()["kind"]) == (403, "OutboundDenied")
        assert set(rig.backend.calls) == legs
        assert (await alice.post("/api/dial", json={"number": ""})).status_code == 422
        assert (await analyst.post("/api/dial", json={"number": CUSTOMER})).status_code == 403
        answer = await alice.post("/api/dial", json={"number": CUSTOMER})
        assert answer.status_code == 200, answer.text
        leg = answer.json()["call_id"]
        await rig.run(5.0)
        status = rig.center.engine.agent_status("ag.alice")
        assert (status.state, status.reason) == (AgentState.NOT_READY, "click-to-dial")
        assert rig.backend.hearing(leg) == {f"leg:{seen[0].customer_call}"}
    assert [e.number for e in seen] == [CUSTOMER]


async def test_a_callback_is_scheduled_for_the_contact_by_whoever_handles_it(rig: Rig) -> None:
    """During her call alice promises a callback in an hour: it is stored with the
    number and time sent; karim (another campaign) is refused, a time in the past
    or not a number is a 422, a number the dial plan refuses a 403."""
    contact = await rig.call("ag.alice", talk_for=None)
    seen: list[CallbackScheduled] = []
    rig.center.subscribe(lambda _s, e: seen.append(e) if isinstance(e, CallbackScheduled) else None)
    url = f"/api/contacts/{contact}/callback"
    due = rig.center.clock.now() + 3600.0
    async with rig.client() as alice, rig.client() as karim:
        await rig.login(alice, "ag.alice")
        await rig.login(karim, "ag.karim")
        body = {"number": CUSTOMER, "at": due}
        assert (await karim.post(url, json=body)).status_code == 403
        past = await alice.post(url, json={"number": CUSTOMER, "at": 10.0})
        assert (past.status_code, past.json()["kind"]) == (422, "ValidationError")
        for bad in ("tomorrow", True, None):
            answer = await alice.post(url, json={"number": CUSTOMER, "at": bad})
            assert answer.status_code == 422, bad
        abroad = await alice.post(url, json={"number": "+33142685300", "at": due})
        assert (abroad.status_code, abroad.json()["kind"]) == (403, "OutboundDenied")
        answer = await alice.post(url, json=body)
        assert answer.json() == {"ok": True}
    assert [(e.number, e.due_at) for e in seen] == [(CUSTOMER, due)]


async def test_a_supervisor_takes_a_call_over_and_others_may_not(rig: Rig) -> None:
    """Claire (alice's supervisor) takes alice's call over: her phone rings, and
    once it answers alice is in wrap-up and the take-over is recorded; farid (an
    agent) and André (team lead of another team) are refused first; a missing
    device is a 422, and taking over an agent with no call a 409."""
    contact = await rig.call("ag.alice", talk_for=None)
    rig.backend.add_phone("sip:lambert@phones", PartyScript(answer_after=1.0))
    seen: list[CallTakenOver] = []
    rig.center.subscribe(lambda _s, e: seen.append(e) if isinstance(e, CallTakenOver) else None)
    body = {"device": "sip:lambert@phones"}
    async with rig.client() as sup, rig.client() as farid, rig.client() as lead:
        await rig.login(sup, "sup.lambert")
        await rig.login(farid, "ag.farid")
        await rig.login(lead, "tl.andre")
        for refused in (farid, lead):
            answer = await refused.post("/api/agents/ag.alice/take-over", json=body)
            assert answer.status_code == 403
        assert (await sup.post("/api/agents/ag.alice/take-over", json={})).status_code == 422
        idle = await sup.post("/api/agents/ag.karim/take-over", json=body)
        assert idle.status_code == 409
        answer = await sup.post("/api/agents/ag.alice/take-over", json=body)
        assert answer.status_code == 200, answer.text
        assert answer.json()["call_id"] in rig.backend.calls
        await rig.run(3.0)
    assert rig.center.engine.agent_status("ag.alice").state is AgentState.WRAP_UP
    assert [(e.contact_id, e.agent_id, e.supervisor) for e in seen] == [
        (contact, "ag.alice", "sup.lambert")
    ]


class _Outbox:
    """The e-mail channel's stand-in: keeps what the center sends (the real adapters
    are tested against Dovecot and SMTP listeners in tests/channels)."""

    channel = Channel.EMAIL

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    async def send(self, contact: Contact, text: str, *, agent: str) -> str:
        self.sent.append((contact.id, text, agent))
        return f"<{len(self.sent)}@center>"


async def test_an_agent_answers_desk_work_through_its_channel(rig: Rig) -> None:
    """An e-mail waits in the hotline queue; alice takes it at the desk and answers:
    the answer goes out through the e-mail channel with her name; farid (same
    campaign, not handling it) is refused; an empty answer is a 422; an unknown
    contact a 404."""
    outbox = _Outbox()
    rig.center.add_channel(outbox)
    await rig.center.set_ready("ag.alice", actor="ag.alice")
    await rig.center.receive(Contact(id="mail:1", channel=Channel.EMAIL), "hotline")
    await rig.run(1.0)
    async with rig.client() as alice, rig.client() as farid:
        await rig.login(alice, "ag.alice")
        await rig.login(farid, "ag.farid")
        taken = await alice.post("/api/agents/ag.alice/accept")
        assert taken.status_code == 200, taken.text
        url = "/api/contacts/mail:1/reply"
        assert (await farid.post(url, json={"text": "hello"})).status_code == 403
        assert (await alice.post(url, json={"text": ""})).status_code == 422
        missing = await alice.post("/api/contacts/nope/reply", json={"text": "x"})
        assert missing.status_code in (403, 404)  # nobody handles it: refused before looked up
        answer = await alice.post(url, json={"text": "Your line is back."})
        assert answer.json() == {"ok": True, "message_id": "<1@center>"}
    assert outbox.sent == [("mail:1", "Your line is back.", "ag.alice")]


async def test_an_administrator_takes_seats_back_from_a_campaign(rig: Rig) -> None:
    """The administrator allocates seat 30 to the hotline, then takes it back: alice
    may sit there in between and not after; an agent may not release seats."""
    async with rig.client() as admin, rig.client() as alice:
        await rig.login(admin, "adm.petit")
        await rig.login(alice, "ag.alice")
        url = "/api/campaigns/acme-hotline/seats"
        assert (await admin.post(url, json={"seats": [30]})).status_code == 200
        assert (await alice.post(f"{url}/release", json={"seats": [30]})).status_code == 403
        sit = {"position": "lyon:30"}
        assert (await alice.post("/api/agents/ag.alice/login", json=sit)).status_code == 200
        await alice.post("/api/agents/ag.alice/logout")
        answer = await admin.post(f"{url}/release", json={"seats": [30]})
        assert answer.json() == {"ok": True}
        refused = await alice.post("/api/agents/ag.alice/login", json=sit)
        assert (refused.status_code, refused.json()["kind"]) == (422, "ValidationError")
