"""Running the customer-lookup plugins within a time budget.

Routing must not wait on a slow CRM: every ``callcenter_lookup_customer``
implementation runs concurrently under one deadline (anyio
``move_on_after``). The answer of the first plugin in pluggy's call order
that found a customer wins, as soon as every plugin before it has answered.
A plugin that raises, answers nonsense or misses the deadline becomes an
event; the contact always goes on, identified or not.

Synchronous implementations run in a worker thread so that even a blocking
one is abandoned at the deadline. A coroutine that blocks the event loop
cannot be interrupted: write async plugins with async I/O.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
import attrs

from .._clock import Clock, WallClock
from .._events import Event, EventStream
from ._events import CustomerIdentified, CustomerLookupFailed, CustomerLookupTimedOut
from ._model import Customer, CustomerQuery

if TYPE_CHECKING:
    import pluggy

    from .._plugins import PluginHost
    from ._directory import CustomerDirectory

__all__ = ["DEFAULT_BUDGET", "LookupResult", "lookup_customer"]

DEFAULT_BUDGET = 2.0
"""Seconds the lookup may take before routing goes on without the slow plugins."""


@attrs.frozen
class LookupResult:
    """The outcome of a customer lookup.

    Attributes:
        customer: The customer found, or ``None``.
        plugin: The name of the plugin that found it.
        events: What happened: identification, failures and timeouts.
    """

    customer: Customer | None
    plugin: str | None
    events: tuple[Event, ...]


@attrs.frozen
class _Failed:
    error: str


_PENDING = object()


def _decided(answers: list[object]) -> bool:
    for answer in answers:
        if answer is _PENDING:
            return False
        if isinstance(answer, Customer):
            return True
    return True


async def _answer(impl: pluggy.HookImpl, kwargs: dict[str, Any]) -> object:
    call: Callable[[], Any] = functools.partial(
        impl.function, **{n: kwargs[n] for n in impl.argnames}
    )
    result: Any
    if inspect.iscoroutinefunction(impl.function):
        result = await call()
    else:
        result = await anyio.to_thread.run_sync(call, abandon_on_cancel=True)
    if inspect.isawaitable(result):
        result = await result
    if result is not None and not isinstance(result, Customer):
        return _Failed(f"answered {type(result).__name__}, not a Customer or None")
    return result


async def lookup_customer(
    host: PluginHost,
    query: CustomerQuery,
    *,
    directory: CustomerDirectory | None = None,
    budget: float = DEFAULT_BUDGET,
    clock: Clock | None = None,
    events: EventStream | None = None,
) -> LookupResult:
    """Ask every lookup plugin who is contacting us, within ``budget`` seconds.

    Never raises because of a plugin; only cancellation of the caller stops it.

    Args:
        host: The plugin host whose ``callcenter_lookup_customer`` hooks run.
        query: What is known about the contact.
        directory: The store's customer directory, for the built-in plugin.
        budget: Seconds after which unfinished plugins are abandoned.
        clock: Stamps the events (wall clock by default).
        events: Where to publish the events, if anywhere.
    """
    clock = clock or WallClock()
    impls = list(reversed(host.manager.hook.callcenter_lookup_customer.get_hookimpls()))
    kwargs = {"query": query, "directory": directory}
    answers: list[object] = [_PENDING] * len(impls)

    async def run(index: int, impl: pluggy.HookImpl, group: anyio.abc.TaskGroup) -> None:
        try:
            answers[index] = await _answer(impl, kwargs)
        except Exception as exc:  # noqa: BLE001 - a plugin's bug must not lose the contact
            answers[index] = _Failed(f"{type(exc).__name__}: {exc}")
        if _decided(answers):
            group.cancel_scope.cancel()

    with anyio.move_on_after(budget) as deadline:
        async with anyio.create_task_group() as group:
            for index, impl in enumerate(impls):
                group.start_soon(run, index, impl, group)
    now = clock.now()
    found: list[Event] = []
    customer: Customer | None = None
    plugin: str | None = None
    for impl, answer in zip(impls, answers, strict=True):
        if isinstance(answer, _Failed):
            found.append(
                CustomerLookupFailed(
                    at=now, contact_id=query.contact_id, plugin=impl.plugin_name, error=answer.error
                )
            )
        elif answer is _PENDING and deadline.cancelled_caught and customer is None:
            found.append(
                CustomerLookupTimedOut(
                    at=now, contact_id=query.contact_id, plugin=impl.plugin_name, budget=budget
                )
            )
        elif isinstance(answer, Customer) and customer is None:
            customer, plugin = answer, impl.plugin_name
            found.append(
                CustomerIdentified(
                    at=now, contact_id=query.contact_id, customer=answer.number, plugin=plugin
                )
            )
    if events is not None:
        for event in found:
            events.publish(event)
    return LookupResult(customer, plugin, tuple(found))
