"""The compliance filter: windows in local time, do-not-call, consent, attempts, delays."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from callcenter_sdk import ValidationError
from callcenter_sdk.dialer import (
    CallingWindow,
    Campaign,
    Compliance,
    DoNotCallList,
    Lead,
    LeadHistory,
    Refusal,
)

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
HOUR = 3600.0


def at(zone: zoneinfo.ZoneInfo, *args: int) -> float:
    """Epoch seconds of a local wall time."""
    return dt.datetime(*args, tzinfo=zone).timestamp()  # type: ignore[arg-type,misc]


def lead(**kw: object) -> Lead:
    """A Paris lead of campaign 'spring'."""
    values: dict[str, object] = {
        "lead_id": "l1",
        "phone": "+33142685300",
        "campaign": "spring",
        "timezone": "Europe/Paris",
        "country": "FR",
    }
    values.update(kw)
    return Lead(**values)  # type: ignore[arg-type]


def test_default_window_is_nine_to_nine_in_the_leads_local_time() -> None:
    """09:00 local is allowed, 08:59 is refused until 09:00, 21:00 until 09:00 next day."""
    check = Compliance(Campaign(name="spring", mode="progressive")).check
    fresh = LeadHistory()
    assert check(lead(), fresh, at(PARIS, 2026, 11, 25, 9, 0)).allowed
    early = check(lead(), fresh, at(PARIS, 2026, 11, 25, 8, 59))
    assert early.refusal is Refusal.OUTSIDE_WINDOW
    assert early.not_before == at(PARIS, 2026, 11, 25, 9, 0)
    late = check(lead(), fresh, at(PARIS, 2026, 11, 25, 21, 0))
    assert late.not_before == at(PARIS, 2026, 11, 26, 9, 0)


def test_window_follows_each_leads_zone() -> None:
    """At 14:30 UTC a Paris lead may be called and a New York lead (09:30 local) too, but
    at 13:30 UTC (08:30 in New York) only the Paris lead."""
    compliance = Compliance(Campaign(name="spring", mode="progressive"))
    ny = lead(lead_id="l2", phone="+12125550100", timezone="America/New_York", country="US")
    utc = zoneinfo.ZoneInfo("UTC")
    assert compliance.check(ny, LeadHistory(), at(utc, 2026, 11, 25, 14, 30)).allowed
    refused = compliance.check(ny, LeadHistory(), at(utc, 2026, 11, 25, 13, 30))
    assert refused.refusal is Refusal.OUTSIDE_WINDOW
    assert refused.not_before == at(NEW_YORK, 2026, 11, 25, 9, 0)
    assert compliance.check(lead(), LeadHistory(), at(utc, 2026, 11, 25, 13, 30)).allowed


def test_country_window_and_weekdays_override_the_default() -> None:
    """A French window of 10:00-20:00 on weekdays refuses Saturday and 09:30; other
    countries keep the campaign's window."""
    campaign = Campaign(
        name="spring",
        mode="progressive",
        country_windows={"fr": CallingWindow(start="10:00", end="20:00", days=range(5))},
    )
    check = Compliance(campaign).check
    assert not check(lead(), LeadHistory(), at(PARIS, 2026, 11, 25, 9, 30)).allowed
    saturday = check(lead(), LeadHistory(), at(PARIS, 2026, 11, 28, 11, 0))
    assert saturday.not_before == at(PARIS, 2026, 11, 30, 10, 0)
    gb = lead(timezone="Europe/London", country="GB")
    assert check(gb, LeadHistory(), at(PARIS, 2026, 11, 28, 11, 0)).allowed


def test_window_opening_across_a_daylight_saving_change() -> None:
    """The night Paris moves to summer time, the window still opens at 09:00 local (07:00 UTC)."""
    check = Compliance(Campaign(name="spring", mode="progressive")).check
    verdict = check(lead(), LeadHistory(), at(PARIS, 2026, 3, 28, 22, 0))
    utc = zoneinfo.ZoneInfo("UTC")
    assert verdict.not_before == at(utc, 2026, 3, 29, 7, 0)


def test_do_not_call_lists_global_and_per_campaign() -> None:
    """A number on the global list or on the campaign's list is refused for good; another
    campaign's list does not apply."""
    dnc = DoNotCallList()
    compliance = Compliance(Campaign(name="spring", mode="progressive"), dnc)
    now = at(PARIS, 2026, 11, 25, 12, 0)
    dnc.add("+33142685300", campaign="autumn")
    assert compliance.check(lead(), LeadHistory(), now).allowed
    dnc.add("+33142685300", campaign="spring")
    assert compliance.check(lead(), LeadHistory(), now) == compliance.check(
        lead(), LeadHistory(), now + HOUR
    )
    refused = compliance.check(lead(), LeadHistory(), now)
    assert refused.refusal is Refusal.DO_NOT_CALL
    assert refused.not_before is None
    dnc.discard("+33142685300", campaign="spring")
    dnc.add("+33142685300")
    assert compliance.check(lead(), LeadHistory(), now).refusal is Refusal.DO_NOT_CALL
    assert len(dnc) == 2
    assert dnc.numbers() == {"+33142685300"}


def test_consent_flags() -> None:
    """A lead who refused consent is never called; unknown consent is refused only when the
    campaign requires consent."""
    now = at(PARIS, 2026, 11, 25, 12, 0)
    open_check = Compliance(Campaign(name="spring", mode="progressive")).check
    strict = Compliance(Campaign(name="spring", mode="progressive", require_consent=True)).check
    assert open_check(lead(consent=False), LeadHistory(), now).refusal is Refusal.NO_CONSENT
    assert open_check(lead(consent=None), LeadHistory(), now).allowed
    assert strict(lead(consent=None), LeadHistory(), now).refusal is Refusal.NO_CONSENT
    assert strict(lead(consent=True), LeadHistory(), now).allowed


def test_attempts_and_retry_delay() -> None:
    """After max_attempts the lead is refused for good; between dials the retry delay holds."""
    campaign = Campaign(name="spring", mode="progressive", max_attempts=2, min_retry_s=HOUR)
    check = Compliance(campaign).check
    now = at(PARIS, 2026, 11, 25, 12, 0)
    once = LeadHistory().dialled(now)
    soon = check(lead(), once, now + 60)
    assert soon.refusal is Refusal.RETRY_DELAY
    assert soon.not_before == now + HOUR
    assert check(lead(), once, now + HOUR).allowed
    twice = once.dialled(now + HOUR)
    assert check(lead(), twice, now + 10 * HOUR).refusal is Refusal.MAX_ATTEMPTS


def test_retry_delay_ending_after_the_window_moves_to_the_next_opening() -> None:
    """A retry due at 21:30 local waits for 09:00 the next day."""
    check = Compliance(Campaign(name="spring", mode="progressive", min_retry_s=HOUR)).check
    dialled = LeadHistory().dialled(at(PARIS, 2026, 11, 25, 20, 30))
    verdict = check(lead(), dialled, at(PARIS, 2026, 11, 25, 20, 45))
    assert verdict.not_before == at(PARIS, 2026, 11, 26, 9, 0)


def test_ofcom_forbids_redialling_a_dropped_number_for_72_hours() -> None:
    """Under Ofcom a dropped number waits 72 h; under FCC only the retry delay applies."""
    now = at(PARIS, 2026, 11, 25, 12, 0)
    dropped = LeadHistory().dialled(now, dropped=True)
    ofcom = Campaign(name="spring", mode="progressive", regime="ofcom", min_retry_s=60)
    fcc = Campaign(name="spring", mode="progressive", regime="fcc", min_retry_s=60)
    verdict = Compliance(ofcom).check(lead(), dropped, now + 71 * HOUR)
    assert verdict.refusal is Refusal.DROP_QUARANTINE
    assert verdict.not_before == now + 72 * HOUR
    assert Compliance(ofcom).check(lead(), dropped, now + 72 * HOUR).allowed
    assert Compliance(fcc).check(lead(), dropped, now + 120).allowed


def test_bad_windows_and_zones_are_refused() -> None:
    """A window ending before it starts, an unknown zone or no weekday are errors."""
    with pytest.raises(ValidationError, match="before it starts"):
        CallingWindow(start="21:00", end="09:00")
    with pytest.raises(ValidationError, match="time of day"):
        CallingWindow(start="nine")
    with pytest.raises(ValidationError, match="days"):
        CallingWindow(days=())
    with pytest.raises(ValidationError, match="time zone"):
        lead(timezone="Mars/Olympus")
    with pytest.raises(ValidationError, match=r"E\.164"):
        lead(phone="0142685300")
