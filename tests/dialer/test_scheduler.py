"""The lead scheduler: priorities, recycling by result and disposition, callbacks."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter_sdk import NotFoundError, StateError, ValidationError
from callcenter_sdk.dialer import (
    Callback,
    CallResult,
    Campaign,
    Compliance,
    Disposition,
    DoNotCallList,
    Lead,
    LeadScheduler,
    LeadStatus,
    Recycle,
    Refusal,
)
from callcenter_sdk.testing import dialer_leads

NOON = dt.datetime(2026, 11, 25, 12, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")).timestamp()
MIN = 60.0
DISPOSITIONS = (
    Disposition(code="sale", converted=True),
    Disposition(code="not-interested"),
    Disposition(code="call-back", callback=True),
    Disposition(code="think-it-over", recycle=Recycle(after_s=30 * MIN)),
    Disposition(code="remove-me", do_not_call=True),
)


def campaign(**kw: object) -> Campaign:
    """A progressive campaign with short delays."""
    values: dict[str, object] = {
        "name": "spring",
        "mode": "progressive",
        "min_retry_s": 10 * MIN,
        "dispositions": DISPOSITIONS,
    }
    values.update(kw)
    return Campaign(**values)  # type: ignore[arg-type]


def lead(n: int, priority: int = 0) -> Lead:
    """Lead number ``n`` in Paris."""
    return Lead(
        lead_id=f"l{n}",
        phone=f"+3314268530{n}",
        campaign="spring",
        timezone="Europe/Paris",
        priority=priority,
    )


def scheduler(*leads: Lead, **kw: object) -> LeadScheduler:
    """A scheduler over ``leads`` due at noon."""
    return LeadScheduler(Compliance(campaign(**kw)), leads, now=NOON)


def test_higher_priority_first_then_first_due() -> None:
    """Leads come out by priority, then in the order they became due."""
    s = scheduler(lead(1), lead(2, priority=5), lead(3))
    picked = [s.next_lead(NOON) for _ in range(4)]
    assert [p.lead_id if p else None for p in picked] == ["l2", "l1", "l3", None]
    assert s.status("l2") is LeadStatus.DIALLING


def test_busy_recycles_after_its_delay_and_the_retry_delay() -> None:
    """Busy recycles after 15 min by default; the campaign's 10 min retry delay is shorter."""
    s = scheduler(lead(1))
    assert s.next_lead(NOON) is not None
    s.dialled("l1", CallResult.BUSY, NOON)
    assert s.next_lead(NOON + 14 * MIN) is None
    assert s.next_due() == NOON + 15 * MIN
    again = s.next_lead(NOON + 15 * MIN)
    assert again is not None
    assert s.history("l1").attempts == 1


def test_results_without_a_recycling_rule_finish_the_lead() -> None:
    """Invalid numbers are not recycled by default."""
    s = scheduler(lead(1))
    s.next_lead(NOON)
    s.dialled("l1", CallResult.INVALID, NOON)
    assert s.status("l1") is LeadStatus.DONE
    assert s.next_lead(NOON + 1e6) is None


def test_attempt_cap_ends_recycling() -> None:
    """With max_attempts 2, the second no-answer takes the lead out of the pool."""
    s = scheduler(lead(1), max_attempts=2)
    t = NOON
    for _ in range(2):
        picked = s.next_lead(t)
        assert picked is not None
        s.dialled("l1", CallResult.NO_ANSWER, t)
        t += 3 * 3600
    assert s.status("l1") is LeadStatus.REFUSED
    assert s.refusal("l1") is Refusal.MAX_ATTEMPTS


def test_dispositions_convert_recycle_or_block() -> None:
    """A sale ends the lead, 'think it over' comes back in 30 min, 'remove me' adds the
    number to the campaign's do-not-call list."""
    s = scheduler(lead(1), lead(2), lead(3))
    for _ in range(3):
        s.next_lead(NOON)
    for n in (1, 2, 3):
        s.dialled(f"l{n}", CallResult.CONNECTED, NOON)
    s.dispose("l1", "sale", NOON)
    s.dispose("l2", "think-it-over", NOON)
    s.dispose("l3", "remove-me", NOON)
    assert s.status("l1") is LeadStatus.DONE
    assert s.status("l3") is LeadStatus.REFUSED
    assert s.compliance.do_not_call.numbers("spring") == {"+33142685303"}
    assert s.next_lead(NOON + 29 * MIN) is None
    back = s.next_lead(NOON + 30 * MIN)
    assert back is not None
    assert back.lead_id == "l2"
    assert s.counts()[LeadStatus.DIALLING] == 1


def test_owned_callbacks_go_to_their_agent_and_open_ones_to_anyone() -> None:
    """An owned callback is handed only to its agent once due; an open one to anyone."""
    s = scheduler(lead(1), lead(2), lead(3, priority=9))
    for _ in range(2):
        s.next_lead(NOON)
    s.dialled("l3", CallResult.CONNECTED, NOON)
    s.dialled("l1", CallResult.CONNECTED, NOON)
    s.dispose("l3", "call-back", NOON, callback_at=NOON + 3600, callback_agent="ann")
    s.dispose("l1", "call-back", NOON, callback_at=NOON + 7200)
    assert s.status("l3") is LeadStatus.CALLBACK
    assert not s.due_callback("ann", NOON + 3599)
    assert s.due_callback("ann", NOON + 3600)
    bob = s.next_lead(NOON + 3600, agent="bob")
    assert bob is not None
    assert bob.lead_id == "l2"
    ann = s.next_lead(NOON + 3600, agent="ann")
    assert ann is not None
    assert ann.lead_id == "l3"
    anyone = s.next_lead(NOON + 7200)
    assert anyone is not None
    assert anyone.lead_id == "l1"


def test_callback_disposition_needs_a_time() -> None:
    """A callback disposition without its time is refused."""
    s = scheduler(lead(1))
    s.next_lead(NOON)
    s.dialled("l1", CallResult.CONNECTED, NOON)
    with pytest.raises(ValidationError, match="callback time"):
        s.dispose("l1", "call-back", NOON)
    with pytest.raises(ValidationError, match="no disposition"):
        s.dispose("l1", "maybe", NOON)


def test_refused_leads_wait_or_leave_the_pool() -> None:
    """A lead outside its window comes back when it opens; a consent refusal never does."""
    night = NOON + 10 * 3600  # 22:00 in Paris
    refused = Lead(lead_id="no", phone="+33142685399", campaign="spring", consent=False)
    s = LeadScheduler(Compliance(campaign()), [lead(1), refused], now=night)
    assert s.next_lead(night) is None
    assert s.refusal("no") is Refusal.NO_CONSENT
    due = s.next_due()
    assert due is not None
    assert s.next_lead(due) is not None


def test_release_and_schedule_errors() -> None:
    """A released lead is dialled next; unknown leads, foreign campaigns and wrong states raise."""
    s = scheduler(lead(1))
    s.next_lead(NOON)
    s.release("l1", NOON)
    assert s.next_lead(NOON) is not None
    with pytest.raises(NotFoundError):
        s.schedule_callback(Callback(lead_id="zz", due_at=NOON))
    with pytest.raises(StateError):
        scheduler(lead(2)).dialled("l2", CallResult.BUSY, NOON)
    with pytest.raises(ValidationError, match="campaign"):
        s.add([Lead(lead_id="x", phone="+33142685300", campaign="other")], now=NOON)
    with pytest.raises(ValidationError, match="already"):
        s.add([lead(1)], now=NOON)


@settings(max_examples=60, deadline=None)
@given(
    leads=dialer_leads(campaign="spring", min_size=1, max_size=15),
    steps=st.lists(
        st.tuples(
            st.floats(0, 6 * 3600),
            st.sampled_from([*CallResult, "sale", "call-back", "think-it-over", "remove-me"]),
        ),
        max_size=60,
    ),
    max_attempts=st.integers(1, 4),
    min_retry_s=st.sampled_from([0.0, 600.0, 3600.0]),
    regime=st.sampled_from(["fcc", "ofcom"]),
    blocked=st.sets(st.integers(0, 14), max_size=4),
)
def test_every_pick_obeys_the_rules(
    *,
    leads: list[Lead],
    steps: list[tuple[float, object]],
    max_attempts: int,
    min_retry_s: float,
    regime: str,
    blocked: set[int],
) -> None:
    """Whatever happens between picks, a lead handed out is in its local window, not on a
    do-not-call list, with consent not refused, under its attempt cap, at least the retry
    delay after its last dial and (Ofcom) 72 h after a drop."""
    c = campaign(max_attempts=max_attempts, min_retry_s=min_retry_s, regime=regime)
    dnc = DoNotCallList()
    for i in blocked:
        if i < len(leads):
            dnc.add(leads[i].phone, campaign="spring" if i % 2 else None)
    s = LeadScheduler(Compliance(c, dnc), leads, now=NOON)
    check = Compliance(c, dnc)
    now = NOON
    last: dict[str, tuple[float, bool]] = {}
    counts: dict[str, int] = {}
    for wait, what in steps:
        now += wait
        picked = s.next_lead(now)
        if picked is None:
            continue
        assert check.in_window(picked, now)
        assert not dnc.blocks(picked.phone, "spring")
        assert picked.consent is not False
        counts[picked.lead_id] = counts.get(picked.lead_id, 0) + 1
        assert counts[picked.lead_id] <= max_attempts
        if picked.lead_id in last:
            at, dropped = last[picked.lead_id]
            assert now - at >= min_retry_s
            if dropped and regime == "ofcom":
                assert now - at >= 72 * 3600
        if isinstance(what, CallResult):
            s.dialled(picked.lead_id, what, now)
            last[picked.lead_id] = (now, what is CallResult.DROPPED)
            if what is CallResult.CONNECTED:
                s.dispose(picked.lead_id, "think-it-over", now)
        else:
            s.dialled(picked.lead_id, CallResult.CONNECTED, now)
            last[picked.lead_id] = (now, False)
            s.dispose(picked.lead_id, str(what), now, callback_at=now + 60.0)
