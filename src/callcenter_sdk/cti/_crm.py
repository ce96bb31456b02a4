"""CRM write-back: what an agent achieved on a contact, sent to the customer system.

An agent's outcome — an order taken, an appointment set, a quote to follow
up — is worth nothing to the client until it is in their CRM. The call center
does not know the CRM: every ``callcenter_record_outcome`` plugin receives
the :class:`Outcome` and answers with the CRM's reference for what it wrote.
:func:`write_back` runs them all concurrently within a time budget, like the
customer lookup, because the agent's wrap-up must not wait on a slow CRM.
A plugin that raises, answers nonsense or misses the deadline becomes an
event naming it; the other plugins' references are kept, and the caller
never sees the plugin's exception.

A plugin cut off at the deadline may still finish its write (a synchronous
one keeps running in its abandoned worker thread), and a caller that retries
the plugins that did not answer sends the same outcome again. So every
outcome carries an idempotency :attr:`~Outcome.key`: a plugin stores it with
the record and answers the existing reference when it sees the key again.

.. versionadded:: 0.2
"""

from __future__ import annotations

import enum
import functools
import inspect
import reprlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

import anyio
import anyio.to_thread
import attrs

from .._clock import Clock, WallClock
from .._errors import ValidationError
from .._events import Event, EventStream

if TYPE_CHECKING:
    import pluggy

    from .._plugins import PluginHost

__all__ = [
    "WRITE_BACK_BUDGET",
    "Outcome",
    "OutcomeFailed",
    "OutcomeKind",
    "OutcomeTimedOut",
    "OutcomeWritten",
    "WriteBackResult",
    "write_back",
]

WRITE_BACK_BUDGET = 5.0
"""Seconds the CRM plugins are given before the agent's wrap-up goes on without them."""


class OutcomeKind(enum.Enum):
    """What an agent achieved, as the CRM files it.

    The conventional :attr:`Outcome.details` of each kind are listed on
    :class:`Outcome`; plugins file kinds they do not handle nowhere (they
    answer ``None``).
    """

    ORDER = "order"
    APPOINTMENT = "appointment"
    QUOTE = "quote"
    CALLBACK = "callback"
    SURVEY = "survey"
    OTHER = "other"


def _frozen(value: object) -> object:
    return tuple(value) if isinstance(value, list | tuple) else value


def _details(values: Mapping[str, object]) -> Mapping[str, object]:
    for name in values:
        if not isinstance(name, str):
            raise ValidationError(f"outcome details are named by strings, got {name!r}")
    return MappingProxyType({name: _frozen(value) for name, value in values.items()})


@attrs.frozen(kw_only=True)
class Outcome:
    """What an agent achieved on one contact, for the CRM.

    Several plugins receive the same outcome concurrently, so it is immutable
    all the way down: ``details`` is a read-only mapping and its lists become
    tuples.

    Conventional ``details`` by kind (plugins may ask for more; amounts are
    decimal strings, never floats, so no cent is lost on the way):

    * ``order``: ``items`` (product codes), ``amount``, ``currency``;
    * ``appointment``: ``when`` (ISO 8601 with its UTC offset), ``where``,
      ``what``;
    * ``quote``: ``items``, ``amount``, ``currency``, ``follow_up`` (ISO date
      the customer is to be called again);
    * ``callback``: ``when``; ``survey``: the answers by question.

    Attributes:
        contact_id: The contact it was achieved on.
        agent_id: The agent who achieved it.
        campaign: The campaign the contact belongs to.
        disposition: The disposition code the agent picked.
        kind: What the CRM should file (an :class:`OutcomeKind` or its value).
        at: When the agent disposed the contact (clock seconds).
        customer: The customer number shared with the CRM, if known
            (:attr:`Customer.number`, a lead's ``customer`` column).
        lead_id: The outbound lead called, if any (the CRM gave the list).
        phone: The customer's number in E.164, if known.
        details: What was ordered, when and where to meet, how much was quoted.
        key: The idempotency key: the same outcome written twice carries the
            same key, so a plugin can recognise the second write. By default
            the contact and the kind (one order per call, one appointment...).
    """

    contact_id: str
    agent_id: str
    campaign: str
    disposition: str
    kind: OutcomeKind = attrs.field(converter=OutcomeKind)
    at: float
    customer: str | None = None
    lead_id: str | None = None
    phone: str | None = None
    details: Mapping[str, object] = attrs.field(factory=dict, converter=_details)
    key: str = attrs.field()

    @key.default
    def _key(self) -> str:
        return f"{self.contact_id}:{self.kind.value}"

    def __attrs_post_init__(self) -> None:
        if not self.contact_id:
            raise ValidationError("an outcome needs the contact it was achieved on")
        if not self.key:
            raise ValidationError(f"outcome of contact {self.contact_id!r}: empty key")


def _references(values: Iterable[Sequence[str]]) -> tuple[tuple[str, str], ...]:
    return tuple((plugin, reference) for plugin, reference in values)


@attrs.frozen(kw_only=True)
class OutcomeWritten(Event):
    """CRM plugins wrote an outcome and answered their references.

    Attributes:
        contact_id: The contact.
        key: The outcome's idempotency key.
        outcome: Its kind.
        references: ``(plugin, reference)`` pairs, in the plugins' call order.
    """

    kind: ClassVar[str] = "cti.outcome_written"

    contact_id: str
    key: str
    outcome: OutcomeKind = attrs.field(converter=OutcomeKind)
    references: tuple[tuple[str, str], ...] = attrs.field(converter=_references)


@attrs.frozen(kw_only=True)
class OutcomeFailed(Event):
    """A CRM plugin raised or answered something that is not a reference.

    The outcome may not be in that plugin's CRM: writing it again with the
    same key is safe.

    Attributes:
        contact_id: The contact.
        key: The outcome's idempotency key.
        plugin: The plugin at fault.
        error: What went wrong, in one line.
    """

    kind: ClassVar[str] = "cti.outcome_failed"

    contact_id: str
    key: str
    plugin: str
    error: str


@attrs.frozen(kw_only=True)
class OutcomeTimedOut(Event):
    """A CRM plugin did not answer within the budget; it was not waited for.

    It may still have written the outcome (its key makes a retry harmless).

    Attributes:
        contact_id: The contact.
        key: The outcome's idempotency key.
        plugin: The slow plugin.
        budget: The seconds it was given.
    """

    kind: ClassVar[str] = "cti.outcome_timed_out"

    contact_id: str
    key: str
    plugin: str
    budget: float


@attrs.frozen
class WriteBackResult:
    """What became of one outcome.

    Attributes:
        outcome: The outcome written.
        references: The CRM's reference by plugin, for the plugins that
            wrote it (a plugin answering ``None`` did not take it).
        unfinished: Plugins that failed or missed the deadline, in call
            order: the ones to retry with the same outcome.
        events: What happened: the write, failures and timeouts.
    """

    outcome: Outcome
    references: Mapping[str, str]
    unfinished: tuple[str, ...]
    events: tuple[Event, ...]


@attrs.frozen
class _Failed:
    error: str


_PENDING = object()


async def _answer(impl: pluggy.HookImpl, outcome: Outcome) -> object:
    wanted = {"outcome": outcome}
    call: Callable[[], Any] = functools.partial(
        impl.function, **{n: wanted[n] for n in impl.argnames}
    )
    result: Any
    if inspect.iscoroutinefunction(impl.function):
        result = await call()
    else:
        result = await anyio.to_thread.run_sync(call, abandon_on_cancel=True)
    if inspect.isawaitable(result):
        result = await result
    if result is not None and not (isinstance(result, str) and result):
        return _Failed(f"answered {reprlib.repr(result)}, not a reference string or None")
    return result


async def write_back(
    host: PluginHost,
    outcome: Outcome,
    *,
    budget: float = WRITE_BACK_BUDGET,
    clock: Clock | None = None,
    events: EventStream | None = None,
) -> WriteBackResult:
    """Send ``outcome`` to every ``callcenter_record_outcome`` plugin, within ``budget`` seconds.

    Every plugin is waited for (each may write to a different system), up to
    the deadline. Never raises because of a plugin; only cancellation of the
    caller stops it.

    Args:
        host: The plugin host whose ``callcenter_record_outcome`` hooks run.
        outcome: What the agent achieved.
        budget: Seconds after which unfinished plugins are abandoned.
        clock: Stamps the events (wall clock by default).
        events: Where to publish the events, if anywhere.
    """
    clock = clock or WallClock()
    impls = list(reversed(host.manager.hook.callcenter_record_outcome.get_hookimpls()))
    answers: list[object] = [_PENDING] * len(impls)

    async def run(index: int, impl: pluggy.HookImpl) -> None:
        try:
            answers[index] = await _answer(impl, outcome)
        except Exception as exc:  # noqa: BLE001 - a plugin's bug must not fail the wrap-up
            answers[index] = _Failed(f"{type(exc).__name__}: {exc}")

    with anyio.move_on_after(budget):
        async with anyio.create_task_group() as group:
            for index, impl in enumerate(impls):
                group.start_soon(run, index, impl)
    now = clock.now()
    found: list[Event] = []
    references: dict[str, str] = {}
    unfinished: list[str] = []
    for impl, answer in zip(impls, answers, strict=True):
        name = impl.plugin_name
        if isinstance(answer, str):
            references[name] = answer
        elif isinstance(answer, _Failed):
            unfinished.append(name)
            found.append(
                OutcomeFailed(
                    at=now,
                    contact_id=outcome.contact_id,
                    key=outcome.key,
                    plugin=name,
                    error=answer.error,
                )
            )
        elif answer is _PENDING:
            unfinished.append(name)
            found.append(
                OutcomeTimedOut(
                    at=now,
                    contact_id=outcome.contact_id,
                    key=outcome.key,
                    plugin=name,
                    budget=budget,
                )
            )
    if references:
        found.insert(
            0,
            OutcomeWritten(
                at=now,
                contact_id=outcome.contact_id,
                key=outcome.key,
                outcome=outcome.kind,
                references=tuple(references.items()),
            ),
        )
    if events is not None:
        for event in found:
            events.publish(event)
    return WriteBackResult(outcome, MappingProxyType(references), tuple(unfinished), tuple(found))
