"""The ACD's contacts survive the trip through the store as waiting records."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from callcenter_sdk.acd import Contact, RelaxStep, SkillRequirement
from callcenter_sdk.kpi import Channel
from callcenter_sdk.store import PendingWork, Store, contact_from_record, waiting_record
from callcenter_sdk.store._rows import WaitingContactRow
from callcenter_sdk.testing import acd_contacts


def test_an_email_contact_comes_back_identical_with_its_arrival_time(store: Store) -> None:
    """Skills, relax steps, caller id and attributes are all restored."""
    contact = Contact(
        id="mail-1",
        channel="email",
        caller_id="ana@example.org",
        dialled="support@example.com",
        priority=2,
        requirements=[SkillRequirement("billing", 3), SkillRequirement("french")],
        relax=[RelaxStep(after=600, requirements=[SkillRequirement("billing", 1)])],
        attributes={"subject": "Invoice", "lines": [1, 2]},
    )
    work = PendingWork(store)
    work.put_waiting(waiting_record(contact, queue="billing", arrived_at=1234.5))
    (record,) = work.waiting("billing")
    assert record.arrived_at == 1234.5
    assert contact_from_record(record) == contact


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    contacts=st.lists(
        acd_contacts(
            channels=[Channel.EMAIL, Channel.CHAT, Channel.SMS, Channel.CALLBACK],
            skills=["billing", "french", "tech"],
        ),
        max_size=5,
        unique_by=lambda c: c.id,
    ),
    arrived=st.floats(min_value=0, max_value=2e9, allow_nan=False),
)
def test_any_waiting_contact_round_trips(
    store: Store, contacts: list[Contact], arrived: float
) -> None:
    """Whatever the contact, the rebuilt ACD contact equals the original."""
    with store.transaction("empty the queue") as session:  # examples share the store; served
        session.execute(delete(WaitingContactRow))  # ids stay as tombstones, so start afresh
    work = PendingWork(store)
    work.put_waiting(*(waiting_record(c, queue="any", arrived_at=arrived) for c in contacts))
    rebuilt = {r.contact_id: contact_from_record(r) for r in work.waiting("any")}
    for contact in contacts:
        assert rebuilt[contact.id] == contact
