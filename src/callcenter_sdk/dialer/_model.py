"""The dialer's values: leads, call results, dispositions, calling windows, campaigns.

Everything here is frozen and validated when built, so a campaign that could
break the law (a window that never opens, a drop cap above the regulator's)
is refused where it is written, not discovered in production.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import zoneinfo
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

import attrs

from .._errors import ValidationError
from ..kpi import ContactRecord, DropRegime, Outcome
from ..kpi._records import member

if TYPE_CHECKING:  # a value the campaign carries; the core never reads it (cti is an adapter)
    from ..cti import OutboundPolicy

__all__ = [
    "DEFAULT_WINDOW",
    "Attempt",
    "CallResult",
    "CallingWindow",
    "Campaign",
    "DialMode",
    "Disposition",
    "InformationMessage",
    "Lead",
    "Recycle",
    "owner_skill",
]


class DialMode(enum.StrEnum):
    """How the dialer decides how many calls to place.

    ``PREVIEW``: the agent sees the record first and dials (one call per agent,
    never a drop). ``PROGRESSIVE``: one call per ready agent, placed at once.
    ``POWER``: a fixed number of calls per ready agent. ``PREDICTIVE``: an
    adaptive number from the live answer rate, handle time and agent
    availability, held under the campaign's drop cap.
    """

    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    POWER = "power"
    PREDICTIVE = "predictive"


class CallResult(enum.StrEnum):
    """What one dial attempt came to, before any agent disposition.

    ``CONNECTED`` is a live person put through to an agent; ``DROPPED`` a live
    person the dialer released (or kept waiting past the two-second rule)
    because no agent was free: the regulators' abandoned call.
    """

    CONNECTED = "connected"
    DROPPED = "dropped"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    MACHINE = "machine"
    INVALID = "invalid"

    @property
    def outcome(self) -> Outcome:
        """The KPI module's outcome for this result (``INVALID`` is ``FAILED``)."""
        return _OUTCOMES[self]

    @property
    def live(self) -> bool:
        """A person (not a machine) picked up."""
        return self in (CallResult.CONNECTED, CallResult.DROPPED)


_OUTCOMES = {
    CallResult.CONNECTED: Outcome.ANSWERED,
    CallResult.DROPPED: Outcome.DROPPED,
    CallResult.NO_ANSWER: Outcome.NO_ANSWER,
    CallResult.BUSY: Outcome.BUSY,
    CallResult.MACHINE: Outcome.MACHINE,
    CallResult.INVALID: Outcome.FAILED,
}


def _finite_nonneg(what: str, value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise ValidationError(f"{what} must be a finite number >= 0, got {value!r}")


@attrs.frozen(kw_only=True)
class Recycle:
    """When a lead comes back to the dialing pool after a result or disposition.

    Attributes:
        after_s: Seconds to wait before the number may be dialled again.
        max_attempts: Stop recycling once the lead has this many attempts
            (the campaign's own cap applies too); ``None`` for no extra cap.
    """

    after_s: float
    max_attempts: int | None = None

    def __attrs_post_init__(self) -> None:
        _finite_nonneg("recycle after_s", self.after_s)
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValidationError(f"recycle max_attempts must be >= 1, got {self.max_attempts}")


@attrs.frozen(kw_only=True)
class Disposition:
    """A wrap-up code an agent picks after a conversation, configured per campaign.

    Attributes:
        code: The stored code (``"sale"``, ``"not-interested"``).
        label: What the agent sees.
        converted: Choosing it counts the contact as converted (a sale, an
            appointment, a completed survey).
        right_party: The intended person was reached.
        recycle: Dial the lead again later (``None``: the lead is finished).
        callback: The agent must give a callback time (``callback requested``).
        do_not_call: The person asked not to be called: the number joins the
            campaign's do-not-call list.
    """

    code: str
    label: str = ""
    converted: bool = False
    right_party: bool = True
    recycle: Recycle | None = None
    callback: bool = False
    do_not_call: bool = False

    def __attrs_post_init__(self) -> None:
        if not self.code:
            raise ValidationError("a disposition needs a non-empty code")


def _time(value: dt.time | str) -> dt.time:
    if isinstance(value, dt.time):
        return value
    try:
        return dt.time.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"a time of day is HH:MM, got {value!r}") from None


def _days(value: Iterable[int]) -> frozenset[int]:
    days = frozenset(int(d) for d in value)
    if not days or any(not 0 <= d <= 6 for d in days):
        raise ValidationError(f"days are 0 (Monday) .. 6 (Sunday), at least one; got {value!r}")
    return days


@attrs.frozen(kw_only=True)
class CallingWindow:
    """The hours a lead may be called, in the lead's own local time.

    Attributes:
        start: First minute calls may start (inclusive), local time.
        end: Calls must be placed before this (exclusive), local time.
        days: Weekdays allowed, 0 = Monday .. 6 = Sunday.
    """

    start: dt.time = attrs.field(default=dt.time(9, 0), converter=_time)
    end: dt.time = attrs.field(default=dt.time(21, 0), converter=_time)
    days: frozenset[int] = attrs.field(default=frozenset(range(7)), converter=_days)

    def __attrs_post_init__(self) -> None:
        if self.end <= self.start:
            raise ValidationError(f"calling window ends {self.end} before it starts {self.start}")

    def allows(self, local: dt.datetime) -> bool:
        """Whether a call may be placed at the local wall time ``local``."""
        return local.weekday() in self.days and self.start <= local.time() < self.end

    def next_open(self, local: dt.datetime) -> dt.datetime:
        """The first local time at or after ``local`` when calls are allowed."""
        if self.allows(local):
            return local
        day = local.date()
        if local.time() < self.start and local.weekday() in self.days:
            return dt.datetime.combine(day, self.start, tzinfo=local.tzinfo)
        for offset in range(1, 8):
            nxt = day + dt.timedelta(days=offset)
            if nxt.weekday() in self.days:
                return dt.datetime.combine(nxt, self.start, tzinfo=local.tzinfo)
        raise AssertionError("unreachable: days is never empty")  # pragma: no cover


DEFAULT_WINDOW = CallingWindow()
"""09:00-21:00 local time, every day: the default of every campaign."""


def _zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"unknown time zone {value!r}") from None
    return value


def _plain(value: Mapping[str, object] | None) -> Mapping[str, object]:
    return MappingProxyType(dict(value or {}))


@attrs.frozen(kw_only=True)
class Lead:
    """One person to call for one campaign.

    Attributes:
        lead_id: Unique id (stable across imports).
        phone: The number in E.164 (``+33142685300``).
        campaign: The campaign it is assigned to.
        list_id: The list it was imported from (conversion is tracked per list).
        timezone: IANA zone of the lead (``Europe/Paris``): calling windows are
            in this local time.
        country: ISO country of the number (``FR``): selects per-country windows.
        priority: Higher is called first.
        consent: ``True``/``False`` when the lead's consent to be called is
            known; ``None`` when not recorded (refused by campaigns that
            require consent).
        customer: A stable customer key, if known.
        data: What the script needs (name, offer...).
    """

    lead_id: str
    phone: str
    campaign: str
    list_id: str = ""
    timezone: str = attrs.field(default="UTC", converter=_zone)
    country: str = ""
    priority: int = 0
    consent: bool | None = None
    customer: str | None = None
    data: Mapping[str, object] = attrs.field(factory=dict, converter=_plain)

    def __attrs_post_init__(self) -> None:
        if not self.lead_id:
            raise ValidationError("a lead needs a non-empty id")
        if not self.phone.startswith("+"):
            raise ValidationError(f"lead {self.lead_id!r}: phone must be E.164, got {self.phone!r}")


@attrs.frozen(kw_only=True)
class InformationMessage:
    """The message played to a person whose call is dropped.

    Regulators require that a live person the dialer cannot put through hears,
    within the two-second limit, who called and how to call back (Ofcom), or
    an automated message with a number to opt out (FCC).

    Attributes:
        company: Who is calling.
        callback_number: A number the person can call back free of charge.
        seconds: How long the message lasts (the call ends after it). The
            recording itself is the live :class:`Dialer`'s ``information_prompt``.
    """

    company: str
    callback_number: str
    seconds: float = 8.0

    def __attrs_post_init__(self) -> None:
        if not self.company or not self.callback_number:
            raise ValidationError("an information message names the company and a callback number")
        _finite_nonneg("information message seconds", self.seconds)

    @property
    def text(self) -> str:
        """The words of the message."""
        return (
            f"This call was from {self.company}. We are sorry we could not connect you."
            f" To call us back, dial {self.callback_number}. We will not call you again today."
        )


def _dispositions(value: Iterable[Disposition]) -> Mapping[str, Disposition]:
    if isinstance(value, Mapping):
        value = value.values()
    out: dict[str, Disposition] = {}
    for d in value:
        if d.code in out:
            raise ValidationError(f"disposition {d.code!r} is defined twice")
        out[d.code] = d
    return MappingProxyType(out)


def _recycling(value: Mapping[CallResult | str, Recycle]) -> Mapping[CallResult, Recycle]:
    return MappingProxyType(
        {member(CallResult, "result", str(k), ValidationError): v for k, v in value.items()}
    )


def _windows(value: Mapping[str, CallingWindow]) -> Mapping[str, CallingWindow]:
    return MappingProxyType({k.upper(): v for k, v in value.items()})


def _mode(value: str) -> DialMode:
    return member(DialMode, "dial mode", value, ValidationError)


def _regime(value: str) -> DropRegime:
    return member(DropRegime, "regime", value, ValidationError)


def _default_recycling() -> Mapping[CallResult, Recycle]:
    return MappingProxyType(
        {
            CallResult.NO_ANSWER: Recycle(after_s=2 * 3600),
            CallResult.BUSY: Recycle(after_s=15 * 60),
            CallResult.MACHINE: Recycle(after_s=4 * 3600),
            CallResult.DROPPED: Recycle(after_s=3600),
        }
    )


@attrs.frozen(kw_only=True)
class Campaign:
    """An outbound campaign's dialing, compliance and wrap-up rules.

    Attributes:
        name: Unique name; also the ACD queue its answered calls wait in.
        mode: Preview, progressive, power or predictive.
        ratio: Calls per ready agent in power mode (>= 1).
        drop_cap: The legal ceiling on the drop rate (0.03 under FCC and Ofcom).
        regime: Which regulator's definition measures the drop rate.
        connect_limit_s: Seconds after the greeting within which a live person
            must reach an agent (2 under both regimes).
        amd_false_positive_rate: Ofcom's reasoned estimate of live people
            taken for machines (counted as drops).
        window: Default calling window, in the lead's local time.
        country_windows: Windows by ISO country overriding ``window``.
        max_attempts: Dial a lead at most this many times.
        min_retry_s: Seconds between two dials of the same lead, whatever
            the recycling rules say.
        drop_redial_s: After a drop, seconds before the number may be
            dialled again (72 h under Ofcom; ``None`` for the regime default).
        require_consent: Only leads with ``consent=True`` are dialled.
        ring_timeout_s: Seconds a number rings before the dialer gives up.
        dispositions: The wrap-up codes of the campaign, by code.
        recycling: Recycling of leads by call result (no answer, busy,
            machine, dropped); a missing result finishes the lead.
        preview_s: Seconds an agent reads the record before dialling (preview).
        information: The message played on a dropped call; required in power
            and predictive modes, which drop calls by design.
        outbound: Which numbers the campaign may dial, and how often (the
            ``[outbound]`` table of its file); ``None`` when the campaign does
            not say, and then the live :class:`Dialer` needs a guard built
            from another policy (the center's). See :func:`campaign_guard`.

    .. versionchanged:: 0.2
       ``outbound``.
    """

    name: str
    mode: DialMode = attrs.field(default=DialMode.PREDICTIVE, converter=_mode)
    ratio: float = 1.0
    drop_cap: float = 0.03
    regime: DropRegime = attrs.field(default=DropRegime.FCC, converter=_regime)
    connect_limit_s: float = 2.0
    amd_false_positive_rate: float = 0.0
    window: CallingWindow = DEFAULT_WINDOW
    country_windows: Mapping[str, CallingWindow] = attrs.field(factory=dict, converter=_windows)
    max_attempts: int = 5
    min_retry_s: float = 3600.0
    drop_redial_s: float | None = None
    require_consent: bool = False
    ring_timeout_s: float = 25.0
    dispositions: Mapping[str, Disposition] = attrs.field(factory=tuple, converter=_dispositions)
    recycling: Mapping[CallResult, Recycle] = attrs.field(
        factory=_default_recycling, converter=_recycling
    )
    preview_s: float = 10.0
    information: InformationMessage | None = None
    outbound: OutboundPolicy | None = None

    def __attrs_post_init__(self) -> None:
        if not self.name:
            raise ValidationError("a campaign needs a non-empty name")
        if not (math.isfinite(self.ratio) and self.ratio >= 1):
            raise ValidationError(f"campaign {self.name!r}: ratio must be >= 1, got {self.ratio}")
        if not 0 < self.drop_cap <= 0.03:
            raise ValidationError(
                f"campaign {self.name!r}: drop_cap must be in (0, 0.03] (the legal ceiling),"
                f" got {self.drop_cap}"
            )
        if not 0 <= self.amd_false_positive_rate <= 1:
            raise ValidationError(f"campaign {self.name!r}: amd_false_positive_rate not in [0, 1]")
        if self.max_attempts < 1:
            raise ValidationError(f"campaign {self.name!r}: max_attempts must be >= 1")
        for what in ("connect_limit_s", "min_retry_s", "preview_s"):
            _finite_nonneg(f"campaign {self.name!r}: {what}", getattr(self, what))
        if not (math.isfinite(self.ring_timeout_s) and self.ring_timeout_s > 0):
            raise ValidationError(f"campaign {self.name!r}: ring_timeout_s must be > 0")
        if self.information is None and self.mode in (DialMode.POWER, DialMode.PREDICTIVE):
            raise ValidationError(
                f"campaign {self.name!r}: {self.mode} mode drops calls by design and needs"
                " the information message played on a dropped call"
            )
        if self.drop_redial_s is not None:
            _finite_nonneg(f"campaign {self.name!r}: drop_redial_s", self.drop_redial_s)

    @property
    def drop_quarantine_s(self) -> float:
        """Seconds a dropped number may not be redialled: 72 h under Ofcom, else 0 by default."""
        if self.drop_redial_s is not None:
            return self.drop_redial_s
        return 72 * 3600.0 if self.regime is DropRegime.OFCOM else 0.0

    def window_for(self, country: str) -> CallingWindow:
        """The calling window for leads of ``country`` (the campaign default otherwise)."""
        return self.country_windows.get(country.upper(), self.window)

    def disposition(self, code: str) -> Disposition:
        """The disposition ``code`` of this campaign.

        Raises:
            ValidationError: The campaign has no such disposition.
        """
        found = self.dispositions.get(code)
        if found is None:
            known = ", ".join(sorted(self.dispositions)) or "none"
            raise ValidationError(
                f"campaign {self.name!r} has no disposition {code!r} (known: {known})"
            )
        return found


@attrs.frozen(kw_only=True)
class Attempt:
    """One dial attempt and everything the KPIs need about it.

    Attributes:
        lead_id: The lead dialled.
        list_id: The list the lead came from (conversion per list).
        phone: The number dialled.
        result: What the dial came to.
        record: The contact record of the call (``ContactRecord`` with the
            outbound fields: live answer, greeting end, agent, disposition,
            conversion), ready for the KPI module and the store.
    """

    lead_id: str
    list_id: str
    phone: str
    result: CallResult = attrs.field(converter=CallResult)
    record: ContactRecord


def owner_skill(agent_id: str) -> str:
    """The ACD skill that routes a call to the one agent who dialled it.

    Calls an agent dials (preview, their own callbacks) must reach that agent,
    not whoever is free: give every agent of an outbound campaign this skill
    at level 1 (``Agent(skills={owner_skill("ann"): 1, ...})``); the dialers
    require it on such calls.
    """
    return f"owner:{agent_id}"
