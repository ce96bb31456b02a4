"""Every extension point of callcenter_sdk, in one place.

Plugins implement these hooks with :data:`hookimpl` and are found through the
``callcenter_sdk`` entry-point group (or registered in code with
:meth:`callcenter_sdk.PluginHost.register`). Built-in behaviour is provided by
plugins registered exactly the same way, so a third-party plugin is never a
second-class citizen.

Rules that keep contacts safe:

* Routing hooks are synchronous and pure: they receive snapshots and return a
  choice. They never perform I/O.
* I/O hooks (customer lookup, CRM sync, recording storage) may be coroutines;
  the runtime gives them a time budget.
* A hook that raises or returns nonsense is reported as an event and the
  built-in answer is used; it never loses a contact.

Application code should call hooks through the typed
:class:`callcenter_sdk.PluginHost` facade rather than ``pm.hook``.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from .cti import Customer, CustomerDirectory, CustomerQuery

__all__ = ["PROJECT_NAME", "hookimpl", "hookspec"]

PROJECT_NAME = "callcenter_sdk"
"""The pluggy project name, which is also the entry-point group."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
"""Marks a hook specification (used only in this module)."""

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Marks a plugin's implementation of a hook: ``@hookimpl def callcenter_...``."""


@hookspec
def callcenter_campaign_activities() -> Iterable[str]:  # type: ignore[empty-body]
    """Return campaign activity names this plugin adds (``"debt-restructuring"``).

    The built-in activities (support, information, order taking, complaints,
    after-sales, appointment setting, prospecting, survey, quote follow-up,
    collections) come from the built-in org plugin through this same hook.
    Names are lower-case words joined by hyphens.
    """


@hookspec
def callcenter_routing_strategies() -> Mapping[str, Callable[..., Any]]:  # type: ignore[empty-body]
    """Return routing strategy factories by name (``{"sticky-agent": factory}``).

    A factory takes a queue's ``strategy_options`` mapping and returns an
    object following :class:`callcenter_sdk.acd.RoutingStrategy`. The built-in
    strategies (``longest-idle``, ``round-robin``, ``ring-all``...) come from
    the built-in ACD plugin through this same hook. Routing is synchronous and
    pure: factories and strategies never perform I/O. Names are lower-case
    words joined by hyphens and must be unique across plugins.
    """


@hookspec
def callcenter_lookup_customer(
    query: CustomerQuery, directory: CustomerDirectory | None
) -> Customer | Awaitable[Customer | None] | None:
    """Identify the customer of an arriving contact (CTI), or return ``None``.

    May be a coroutine function. Every implementation runs concurrently
    within the lookup budget; the first answer in call order that is a
    customer wins. A plugin that raises, answers something else or is too
    slow is reported as an event and ignored: the contact is never delayed
    beyond the budget nor lost. The built-in implementation (``trylast``)
    searches ``directory``, the store's customer directory, which is
    ``None`` when the deployment has no store.
    """


if TYPE_CHECKING:
    from .cti import Outcome


@hookspec
def callcenter_record_outcome(outcome: Outcome) -> str | Awaitable[str | None] | None:
    """Write an agent's outcome (an order, an appointment...) to the CRM.

    May be a coroutine function. Return the CRM's reference for the record
    written, or ``None`` when the outcome is not for this plugin (a kind it
    does not file). :func:`callcenter_sdk.cti.write_back` runs every
    implementation concurrently within its budget; a plugin that raises,
    answers something else or is too slow is reported as an event and the
    others' references are kept. The same outcome may arrive twice (a retry
    after a timeout): write nothing new for a known ``outcome.key`` and
    answer the reference already given.
    """


if TYPE_CHECKING:
    from .channels import MessagingProvider


@hookspec
def callcenter_messaging_providers() -> Mapping[  # type: ignore[empty-body]
    str, Callable[[Mapping[str, str]], MessagingProvider]
]:
    """Return messaging provider factories by name (``{"acme-sms": factory}``).

    A factory takes the provider's options (a deployment's settings: URLs,
    secrets) and returns an object following
    :class:`callcenter_sdk.channels.MessagingProvider`: it verifies the
    provider's webhook signatures, reads the customers' messages from them
    and sends the agents' replies through the provider's API. The reference
    provider (``json``) is :data:`callcenter_sdk.channels.json_provider_plugin`.
    :func:`callcenter_sdk.channels.messaging_providers` collects them; two
    plugins may not claim one name.

    .. versionadded:: 0.2
    """
