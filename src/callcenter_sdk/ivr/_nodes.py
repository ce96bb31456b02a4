"""The nodes of an IVR flow: frozen values, the same whether read from TOML or built in Python.

Each node does one thing and names the nodes that follow by their names
(:meth:`targets`), so a flow is a graph that can be checked before a single
call runs through it (see :func:`~callcenter_sdk.ivr.check_flow`).

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import ClassVar

import attrs

from .._errors import ValidationError
from ._prompts import PromptRef

__all__ = [
    "NODE_KINDS",
    "Assign",
    "Callback",
    "Collect",
    "EndCall",
    "Hours",
    "Menu",
    "Node",
    "Play",
    "Switch",
    "ToQueue",
    "Voicemail",
    "WaitBranch",
]

_DIGITS = frozenset("0123456789*#ABCD")


def _prompts(value: Iterable[PromptRef | str]) -> tuple[PromptRef, ...]:
    if isinstance(value, str | PromptRef):
        value = (value,)
    return tuple(p if isinstance(p, PromptRef) else PromptRef.parse(p) for p in value)


def _str_map(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType({str(k): str(v) for k, v in (value or {}).items()})


def _skills(value: Mapping[str, int] | None) -> Mapping[str, int]:
    out = {str(k): int(v) for k, v in (value or {}).items()}
    for skill, level in out.items():
        if not 1 <= level <= 5:
            raise ValidationError(f"skill {skill!r}: a level is 1..5, got {level}")
    return MappingProxyType(out)


def _timeout(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0:
        raise ValidationError(f"{attribute.name} must be > 0 seconds, got {value!r}")


def _non_negative(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 0:
        raise ValidationError(f"{attribute.name} must be >= 0, got {value!r}")


def _terminator(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if len(value) > 1 or (value and value not in _DIGITS):
        raise ValidationError(f"{attribute.name} is one DTMF key or empty, got {value!r}")


@attrs.frozen(kw_only=True)
class _Input:
    """Settings shared by the nodes that wait for keys (menu, collect)."""

    prompts: tuple[PromptRef, ...] = attrs.field(converter=_prompts)
    first_digit_timeout: float = attrs.field(default=5.0, converter=float, validator=_timeout)
    inter_digit_timeout: float = attrs.field(default=3.0, converter=float, validator=_timeout)
    terminator: str = attrs.field(default="#", validator=_terminator)
    retries: int = attrs.field(default=2, converter=int, validator=_non_negative)
    invalid_prompts: tuple[PromptRef, ...] = attrs.field(
        default=("invalid_choice",), converter=_prompts
    )
    no_input_prompts: tuple[PromptRef, ...] = attrs.field(default=("no_input",), converter=_prompts)
    on_failure: str
    barge_in: bool = True


@attrs.frozen(kw_only=True)
class Menu(_Input):
    """Play a menu and branch on the key(s) pressed.

    After ``retries`` more tries following an invalid choice or no input, the
    call goes to ``on_failure`` (often an agent queue, or a goodbye).

    Attributes:
        prompts: What to play before listening (keys pressed during it interrupt it).
        options: Key sequence (``"1"``, ``"*9"``) -> the node to go to.
        variable: When set, the chosen keys are stored in this variable.
        first_digit_timeout: Seconds to wait for the first key after the prompts.
        inter_digit_timeout: Seconds to wait for each further key.
        terminator: A key that ends the entry early (``""``: none).
        retries: Further attempts after an invalid or missing choice.
        invalid_prompts: Played before repeating the menu after an unknown choice.
        no_input_prompts: Played before repeating the menu when nothing was pressed.
        on_failure: Where to go once the retries are used up.
        barge_in: Whether a key pressed during the prompts stops them.
    """

    kind: ClassVar[str] = "menu"
    waits: ClassVar[bool] = True
    options: Mapping[str, str] = attrs.field(converter=_str_map)
    variable: str | None = None

    @property
    def max_digits(self) -> int:
        """The longest option: how many keys to collect at most."""
        return max((len(k) for k in self.options), default=1)

    def targets(self) -> dict[tuple[str, ...], str]:
        """The nodes this node can lead to, by the path of the field naming each."""
        out: dict[tuple[str, ...], str] = {
            ("options", key): target for key, target in self.options.items()
        }
        out[("on_failure",)] = self.on_failure
        return out


@attrs.frozen(kw_only=True)
class Collect(_Input):
    """Collect a number (an account, a ticket id) into a variable.

    Attributes:
        prompts: What to play before listening.
        variable: The variable that receives the digits.
        min_digits: Fewer digits than this count as invalid.
        max_digits: Collection stops at this many digits.
        next: Where to go with a valid entry.
        first_digit_timeout: Seconds to wait for the first key after the prompts.
        inter_digit_timeout: Seconds to wait for each further key.
        terminator: A key that ends the entry early (``""``: none).
        retries: Further attempts after an invalid or missing entry.
        invalid_prompts: Played before asking again after a too-short entry.
        no_input_prompts: Played before asking again when nothing was pressed.
        on_failure: Where to go once the retries are used up.
        barge_in: Whether a key pressed during the prompts stops them.
    """

    kind: ClassVar[str] = "collect"
    waits: ClassVar[bool] = True
    variable: str
    min_digits: int = attrs.field(default=1, converter=int)
    max_digits: int = attrs.field(default=20, converter=int)
    next: str

    def __attrs_post_init__(self) -> None:
        if not 1 <= self.min_digits <= self.max_digits:
            raise ValidationError(
                f"collect needs 1 <= min_digits <= max_digits, got {self.min_digits}, "
                f"{self.max_digits}"
            )

    def targets(self) -> dict[tuple[str, ...], str]:
        """The nodes this node can lead to, by the path of the field naming each."""
        return {("next",): self.next, ("on_failure",): self.on_failure}


@attrs.frozen(kw_only=True)
class Play:
    """Play prompts, then go on.

    Attributes:
        prompts: The prompts, in order.
        next: Where to go once they have played.
    """

    kind: ClassVar[str] = "play"
    waits: ClassVar[bool] = True
    prompts: tuple[PromptRef, ...] = attrs.field(converter=_prompts)
    next: str

    def targets(self) -> dict[tuple[str, ...], str]:
        """The nodes this node can lead to, by the path of the field naming each."""
        return {("next",): self.next}


@attrs.frozen(kw_only=True)
class Switch:
    """Branch on a variable: caller data (a CTI tier, the dialled number) or a choice.

    Attributes:
        variable: The variable to look at.
        cases: Its value -> the node to go to.
        default: Where to go for any other value, or when it is unset.
    """

    kind: ClassVar[str] = "switch"
    waits: ClassVar[bool] = False
    variable: str
    cases: Mapping[str, str] = attrs.field(converter=_str_map)
    default: str

    def targets(self) -> dict[tuple[str, ...], str]:
        """The nodes this node can lead to, by the path of the field naming each."""
        out: dict[tuple[str, ...], str] = {
            ("cases", value): target for value, target in self.cases.items()
        }
        out[("default",)] = self.default
        return out


@attrs.frozen(kw_only=True)
class Hours:
    """Branch on business hours: the flow's schedule at the clock's time.

    Attributes:
        schedule: The name of a schedule of the flow.
        open: Where to go while open.
        closed: Where to go while closed.
        holiday: Where to go on a holiday (``None``: same as ``closed``).
    """

    kind: ClassVar[str] = "hours"
    waits: ClassVar[bool] = False
    schedule: str
    open: str
    closed: str
    holiday: str | None = None

    def targets(self) -> dict[tuple[str, ...], str]:
        """The nodes this node can lead to, by the path of the field naming each."""
        out: dict[tuple[str, ...], str] = {("open",): self.open, ("closed",): self.closed}
        if self.holiday is not None:
            out[("holiday",)] = self.holiday
        return out


@attrs.frozen(kw_only=True)
class WaitBranch:
    """Branch on a queue's estimated wait (for instance, to offer a callback first).

    Attributes:
        queue: The ACD queue whose estimated wait is asked.
        above: Seconds; a longer estimate goes to ``long``.
        long: Where to go when the wait is longer than ``above``.
        short: Where to go otherwise (and when no estimate is known).
    """

    kind: ClassVar[str] = "wait"
    waits: ClassVar[bool] = False
    queue: str
    above: float = attrs.field(converter=float, validator=_non_negative)
    long: str
    short: str

    def targets(self) -> dict[tuple[str, ...], str]:
        """The nodes this node can lead to, by the path of the field naming each."""
        return {("long",): self.long, ("short",): self.short}


@attrs.frozen(kw_only=True)
class Assign:
    """Set variables (``language = "fr"`` switches the prompts' language).

    Attributes:
        values: Variable -> value.
        next: Where to go next.
    """

    kind: ClassVar[str] = "set"
    waits: ClassVar[bool] = False
    values: Mapping[str, str] = attrs.field(converter=_str_map)
    next: str

    def targets(self) -> dict[tuple[str, ...], str]:
        """The nodes this node can lead to, by the path of the field naming each."""
        return {("next",): self.next}


@attrs.frozen(kw_only=True)
class _Routing:
    """How the contact is queued: shared by queue transfers and callbacks."""

    queue: str
    priority: int = attrs.field(default=0, converter=int)
    skills: Mapping[str, int] = attrs.field(factory=dict, converter=_skills)
    attributes: Mapping[str, str] = attrs.field(factory=dict, converter=_str_map)


@attrs.frozen(kw_only=True)
class ToQueue(_Routing):
    """Hand the call to an ACD queue; the IVR is done with it.

    Attributes:
        queue: The ACD queue's name.
        priority: The contact's priority (higher first).
        skills: Required skills, skill -> minimum level 1..5.
        attributes: Contact attributes; a value ``"$name"`` takes variable ``name``.
        prompts: Played before the transfer (``"please_hold"``).
    """

    kind: ClassVar[str] = "queue"
    waits: ClassVar[bool] = True
    prompts: tuple[PromptRef, ...] = attrs.field(default=(), converter=_prompts)

    def targets(self) -> dict[tuple[str, ...], str]:
        """A transfer ends the flow: no target."""
        return {}


@attrs.frozen(kw_only=True)
class Callback(_Routing):
    """Offer to call the caller back instead of waiting, keeping their place.

    Attributes:
        queue: The ACD queue the callback waits in.
        priority: The callback's priority.
        skills: Required skills of the agent who calls back.
        attributes: Contact attributes; ``"$name"`` takes variable ``name``.
        prompts: The offer.
        accept: The key that accepts.
        first_digit_timeout: Seconds to wait for the answer after the prompts.
        confirm_prompts: Played after an accepted offer, before hanging up.
        declined: Where to go when another key or nothing is pressed.
        number_variable: The variable holding the number to call back.
    """

    kind: ClassVar[str] = "callback"
    waits: ClassVar[bool] = True
    prompts: tuple[PromptRef, ...] = attrs.field(default=("callback_offer",), converter=_prompts)
    accept: str = "1"
    first_digit_timeout: float = attrs.field(default=5.0, converter=float, validator=_timeout)
    confirm_prompts: tuple[PromptRef, ...] = attrs.field(
        default=("callback_confirmed", "goodbye"), converter=_prompts
    )
    declined: str
    number_variable: str = "caller_id"

    def __attrs_post_init__(self) -> None:
        if len(self.accept) != 1 or self.accept not in _DIGITS:
            raise ValidationError(f"accept is one DTMF key, got {self.accept!r}")

    def targets(self) -> dict[tuple[str, ...], str]:
        """The nodes this node can lead to, by the path of the field naming each."""
        return {("declined",): self.declined}


@attrs.frozen(kw_only=True)
class Voicemail:
    """Record a message that becomes a ticket, then hang up.

    Attributes:
        prompts: Played before recording (the invitation and the beep).
        max_seconds: The longest message.
        terminator: The key that ends the message (``""``: only time or hang-up).
        ticket: Fields for the ticket (``subject``, ``category``...), ``"$name"`` takes a variable.
        confirm_prompts: Played after the message, before hanging up.
    """

    kind: ClassVar[str] = "voicemail"
    waits: ClassVar[bool] = True
    prompts: tuple[PromptRef, ...] = attrs.field(default=("voicemail", "beep"), converter=_prompts)
    max_seconds: float = attrs.field(default=120.0, converter=float, validator=_timeout)
    terminator: str = attrs.field(default="#", validator=_terminator)
    ticket: Mapping[str, str] = attrs.field(factory=dict, converter=_str_map)
    confirm_prompts: tuple[PromptRef, ...] = attrs.field(
        default=("voicemail_saved", "goodbye"), converter=_prompts
    )

    def targets(self) -> dict[tuple[str, ...], str]:
        """A voicemail ends the flow: no target."""
        return {}


@attrs.frozen(kw_only=True)
class EndCall:
    """Say goodbye (optionally) and end the call.

    Attributes:
        prompts: Played before hanging up.
        reason: Why, for the records (``"closed"``, ``"failed menu"``).
    """

    kind: ClassVar[str] = "hangup"
    waits: ClassVar[bool] = True
    prompts: tuple[PromptRef, ...] = attrs.field(default=(), converter=_prompts)
    reason: str = "flow ended"

    def targets(self) -> dict[tuple[str, ...], str]:
        """Hanging up ends the flow: no target."""
        return {}


Node = (
    Menu | Collect | Play | Switch | Hours | WaitBranch | Assign | ToQueue | Callback
    | Voicemail | EndCall
)  # fmt: skip
"""Any node of a flow."""

NODE_KINDS: Mapping[str, type[Node]] = MappingProxyType({
    cls.kind: cls
    for cls in (Menu, Collect, Play, Switch, Hours, WaitBranch, Assign, ToQueue, Callback,
                Voicemail, EndCall)
})  # fmt: skip
"""Node classes by the ``kind`` a TOML flow names them with."""
