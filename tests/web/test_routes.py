"""Every REST route over httpx's ASGI transport: commands act as the authenticated person."""

from __future__ import annotations

from starlette.routing import Route

from callcenter_sdk.acd import AgentState
from callcenter_sdk.runtime import ContactDisposed

from .conftest import Rig


async def test_agent_state_commands_act_as_the_logged_in_person(rig: Rig) -> None:
    """Ready, not ready with a reason and ready again change alice's state; an
    ``actor`` in the body is ignored, so alice cannot act as her supervisor."""
    async with rig.client() as client:
        await rig.login(client, "ag.alice")
        engine = rig.center.engine
        answer = await client.post("/api/agents/ag.alice/ready", json={"actor": "sup.lambert"})
        assert answer.json() == {"ok": True}
        assert engine.agent_status("ag.alice").state is AgentState.READY
        answer = await client.post("/api/agents/ag.alice/not-ready", json={"reason": "lunch"})
        assert answer.status_code == 200
        status = engine.agent_status("ag.alice")
        assert (status.state, status.reason) == (AgentState.NOT_READY, "lunch")
        refused = await client.post("/api/agents/ag.farid/ready", json={"actor": "sup.lambert"})
        assert refused.status_code == 403
        assert refused.json()["error"] == "permission-denied"
        assert "ag.alice" in refused.json()["detail"]
        assert engine.agent_status("ag.farid").state is AgentState.NOT_READY
        nothing = await client.post("/api/agents/ag.alice/reject", json={})
        assert (nothing.status_code, nothing.json()["error"]) == (409, "conflict")


async def test_contact_commands_and_their_errors(rig: Rig) -> None:
    """On alice's finished call: a note, a stale note (409), an escalation, a
    disposition by alice and none by karim (403), no disposition (422), a
    transfer of a call that ended (409) and of one disposed and forgotten (404),
    then the end of her wrap-up."""
    contact = await rig.call("ag.alice")
    seen: list[ContactDisposed] = []
    rig.center.subscribe(lambda _s, e: seen.append(e) if isinstance(e, ContactDisposed) else None)
    url = f"/api/contacts/{contact}"
    async with rig.client() as alice, rig.client() as karim:
        await rig.login(alice, "ag.alice")
        await rig.login(karim, "ag.karim")
        assert (await alice.post(f"{url}/note", json={"text": "box rebooted"})).status_code == 200
        stale = await alice.post(f"{url}/note", json={"text": "late", "expected_version": 1})
        assert (stale.status_code, stale.json()["kind"]) == (409, "ConflictError")
        assert (await alice.post(f"{url}/escalate", json={"reason": "line"})).status_code == 200
        assert (await karim.post(f"{url}/dispose", json={"disposition": "x"})).status_code == 403
        missing = await alice.post(f"{url}/dispose", json={})
        assert (missing.status_code, missing.json()["detail"]) == (422, "disposition is missing")
        bad_json = await alice.post(f"{url}/dispose", content=b"{not json")
        assert bad_json.status_code == 422
        ended = await alice.post(f"{url}/transfer", json={"queue": "orders"})
        assert (ended.status_code, ended.json()["kind"]) == (409, "StateError")
        assert (await alice.post(f"{url}/dispose", json={"disposition": "solved"})).json() == {
            "ok": True
        }
        gone = await alice.post(f"{url}/transfer", json={"queue": "orders"})
        assert (gone.status_code, gone.json()["error"]) == (404, "not-found")
        assert rig.center.engine.agent_status("ag.alice").state is AgentState.WRAP_UP
        assert (await alice.post("/api/agents/ag.alice/end-wrap-up")).status_code == 200
        assert rig.center.engine.agent_status("ag.alice").state is AgentState.READY
    assert [(e.contact_id, e.agent_id, e.disposition) for e in seen] == [
        (contact, "ag.alice", "solved")
    ]


async def test_transfers_of_a_live_call(rig: Rig) -> None:
    """On a call alice is talking on: an attended transfer to an agent without a
    seat is a 404, one naming both a colleague and a number a 422, completing or
    cancelling a consultation that does not exist a 409, a blind transfer to a
    number the default dial plan refuses a 403, and a transfer to the orders
    queue hands the caller to karim."""
    contact = await rig.call("ag.alice", talk_for=None)
    url = f"/api/contacts/{contact}"
    async with rig.client() as alice:
        await rig.login(alice, "ag.alice")
        nobody = await alice.post(f"{url}/attended-transfer", json={"to_agent": "ag.nobody"})
        assert (nobody.status_code, nobody.json()["error"]) == (404, "not-found")
        both = {"to_agent": "ag.farid", "number": "+33142685300"}
        assert (await alice.post(f"{url}/attended-transfer", json=both)).status_code == 422
        assert (await alice.post(f"{url}/complete-transfer")).status_code == 409
        assert (await alice.post(f"{url}/cancel-transfer")).status_code == 409
        blind = await alice.post(f"{url}/blind-transfer", json={"number": "+33142685300"})
        assert (blind.status_code, blind.json()["kind"]) == (403, "OutboundDenied")
        await rig.center.set_ready("ag.karim", actor="ag.karim")
        moved = await alice.post(f"{url}/transfer", json={"queue": "orders"})
        assert moved.status_code == 200, moved.text
    await rig.run(5.0)
    assert contact in rig.center.engine.agent_status("ag.karim").contacts


async def test_a_supervisor_listens_in_and_an_agent_may_not(rig: Rig) -> None:
    """The monitor command rings the supervisor's phone beside alice's call;
    farid (an agent) is refused, and an unknown mode is a 422."""
    await rig.call("ag.alice", talk_for=None)
    rig.backend.add_phone("sip:lambert@phones")
    async with rig.client() as sup, rig.client() as farid:
        await rig.login(sup, "sup.lambert")
        await rig.login(farid, "ag.farid")
        body = {"mode": "listen", "device": "sip:lambert@phones"}
        answer = await sup.post("/api/agents/ag.alice/monitor", json=body)
        assert answer.status_code == 200, answer.text
        assert answer.json()["call_id"] in rig.backend.calls
        assert (await farid.post("/api/agents/ag.alice/monitor", json=body)).status_code == 403
        wrong = {"mode": "spy", "device": "sip:lambert@phones"}
        refused = await sup.post("/api/agents/ag.alice/monitor", json=wrong)
        assert refused.status_code == 422
        assert "listen, whisper, barge" in refused.json()["detail"]


async def test_read_endpoints_show_what_each_role_may_see(rig: Rig) -> None:
    """``/api/me`` names the person and their reach; ``/api/agents`` and
    ``/api/queues`` list only what the org lets each role see."""
    expected = {
        "ag.alice": ({"ag.alice"}, set()),
        "tl.andre": ({"ag.farid"}, set()),
        "sup.lambert": ({"ag.alice", "ag.farid", "ag.karim"}, {"hotline", "orders"}),
        "an.fournier": ({"ag.alice", "ag.farid", "ag.karim"}, {"hotline", "orders"}),
        "pm.mercier": (set(), set()),
        "d.moreau": ({"ag.alice", "ag.farid", "ag.karim"}, {"hotline", "orders"}),
    }
    for person, (agents, queues) in expected.items():
        async with rig.client() as client:
            await rig.login(client, person)
            me = (await client.get("/api/me")).json()
            assert me["person"] == person
            assert me["role"] == rig.center.config.org.person(person).role.value  # type: ignore[union-attr]
            shown = (await client.get("/api/agents")).json()["agents"]
            assert {a["agent"] for a in shown} == agents, person
            figures = (await client.get("/api/queues")).json()["queues"]
            assert {q["queue"] for q in figures} == queues, person
    async with rig.client() as client:
        await rig.login(client, "tl.andre")
        me = (await client.get("/api/me")).json()
        assert me["scope"]["teams"] == ["hotline-b"]
        assert me["permissions"]["listen"] == "team"


async def test_openapi_describes_every_route(rig: Rig) -> None:
    """``/openapi.json`` is an OpenAPI 3 document with every API path and method."""
    async with rig.client() as client:
        doc = (await client.get("/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    described = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    routed = {
        (route.path, method.lower())
        for route in rig.app.routes
        if isinstance(route, Route) and route.path.startswith("/api/")
        for method in (route.methods or set()) - {"HEAD"}
    }
    assert described == routed
    assert len(routed) == 45  # the API, the pages' reads (desk, wallboard, seats, chats), dial...
    dispose = doc["paths"]["/api/contacts/{contact}/dispose"]["post"]
    assert {"200", "403", "422"} <= set(dispose["responses"])


async def test_positions_seats_and_hanging_up(rig: Rig) -> None:
    """An administrator allocates seat 30 to the hotline (an agent may not); alice
    logs in there (not at an unallocated seat: 422) and out; karim may not hang
    up alice's call, alice may, and then the caller's leg is gone."""
    async with rig.client() as admin, rig.client() as alice, rig.client() as karim:
        await rig.login(admin, "adm.petit")
        await rig.login(alice, "ag.alice")
        await rig.login(karim, "ag.karim")
        seats = {"seats": [30]}
        assert (
            await alice.post("/api/campaigns/acme-hotline/seats", json=seats)
        ).status_code == 403
        bad = await admin.post("/api/campaigns/acme-hotline/seats", json={"seats": "30"})
        assert bad.status_code == 422
        assert (
            await admin.post("/api/campaigns/acme-hotline/seats", json=seats)
        ).status_code == 200
        elsewhere = await alice.post("/api/agents/ag.alice/login", json={"position": "lyon:31"})
        assert elsewhere.status_code == 422, elsewhere.text
        seated = await alice.post("/api/agents/ag.alice/login", json={"position": "lyon:30"})
        assert seated.status_code == 200, seated.text
        assert (await alice.post("/api/agents/ag.alice/logout")).status_code == 200
        assert rig.center.engine.agent_status("ag.alice").state is AgentState.OFFLINE
        await alice.post("/api/agents/ag.alice/login", json={"position": "lyon:30"})
        contact = await rig.call("ag.alice", talk_for=None)
        url = f"/api/contacts/{contact}/hangup"
        assert (await karim.post(url)).status_code == 403
        assert (await alice.post(url)).status_code == 200
        await rig.run(1.0)
        assert contact not in rig.backend.calls


async def test_campaign_and_queue_administration_routes(rig: Rig) -> None:
    """Globex's project manager stops and starts his campaign (the center
    follows) but may not stop ACME's (403), nor may an agent (403); the
    administrator changes the orders queue's offer timeout (the answer and
    /api/seats show it); a setting that cannot change live or a wrong value is
    a 422, an unknown queue a 404, and nothing changed."""
    async with rig.client() as pm, rig.client() as admin, rig.client() as agent:
        await rig.login(pm, "pm.mercier")
        await rig.login(admin, "adm.petit")
        await rig.login(agent, "ag.alice")
        assert (await pm.post("/api/campaigns/globex-complaints/stop")).json() == {"ok": True}
        assert rig.center.admin.stopped == frozenset({"globex-complaints"})
        read = (await pm.get("/api/seats")).json()
        globex = next(c for c in read["campaigns"] if c["id"] == "globex-complaints")
        assert (globex["stopped"], globex["may_run"], globex["may_seats"]) == (True, True, False)
        assert (await pm.post("/api/campaigns/globex-complaints/start")).status_code == 200
        assert rig.center.admin.stopped == frozenset()
        assert (await pm.post("/api/campaigns/acme-hotline/stop")).status_code == 403
        assert (await agent.post("/api/campaigns/acme-hotline/stop")).status_code == 403
        assert (await admin.post("/api/campaigns/nope/stop")).status_code == 404

        url = "/api/queues/orders/settings"
        answer = await admin.post(url, json={"settings": {"offer_timeout": 7}})
        assert answer.status_code == 200, answer.text
        assert answer.json()["settings"]["offer_timeout"] == 7.0
        assert rig.center.engine.queue_config("orders").offer_timeout == 7.0
        read = (await admin.get("/api/seats")).json()
        orders = next(c for c in read["campaigns"] if c["id"] == "acme-orders")
        assert orders["queues"][0]["settings"]["offer_timeout"] == 7.0
        for body in ({"settings": {"strategy": 1}}, {"settings": {"wrap_up": "long"}}, {}):
            refused = await admin.post(url, json=body)
            assert refused.status_code == 422, body
        assert (
            await admin.post("/api/queues/nope/settings", json={"settings": {"wrap_up": 1}})
        ).status_code == 404
        assert (await agent.post(url, json={"settings": {"wrap_up": 1}})).status_code == 403
        assert rig.center.engine.queue_config("orders").offer_timeout == 7.0


async def test_the_script_is_followed_through_the_api(rig: Rig) -> None:
    """On alice's call, GET /api/contacts/{c}/script shows the hotline script's
    first step; she passes it (skip), answers yes, and a wrong choice is a 422
    that keeps the step; farid may not read it (403); a skipped required step
    is a 422."""
    contact = await rig.call("ag.alice", talk_for=None)
    url = f"/api/contacts/{contact}/script"
    async with rig.client() as alice, rig.client() as farid:
        await rig.login(alice, "ag.alice")
        await rig.login(farid, "ag.farid")
        first = (await alice.get(url)).json()
        assert (first["questionnaire"], first["question"], first["kind"]) == (
            "fibrenet-support",
            "greet",
            "info",
        )
        assert (await farid.get(url)).status_code == 403
        assert (await alice.post(url, json={"skip": True})).json()["question"] == "identified"
        assert (await alice.post(url, json={"skip": True})).status_code == 422
        step = (await alice.post(url, json={"answer": "yes"})).json()
        assert (step["question"], step["answers"]) == ("symptom", {"identified": "yes"})
        assert "slow" in step["choices"]
        assert (await alice.post(url, json={"answer": "on fire"})).status_code == 422
        assert (await alice.get(url)).json()["question"] == "symptom"
