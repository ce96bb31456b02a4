"""The built-in customer lookup: the store's :class:`CustomerDirectory`.

Registered through :data:`callcenter_sdk.DEFAULT_PLUGINS` like any plugin.
It runs last, so a CRM plugin's answer is preferred when it has one.
"""

from __future__ import annotations

from ..hookspecs import hookimpl
from ._directory import CustomerDirectory
from ._model import Customer, CustomerQuery


@hookimpl(trylast=True)
def callcenter_lookup_customer(
    query: CustomerQuery, directory: CustomerDirectory | None
) -> Customer | None:
    """Find the customer in the store's directory (number, then e-mail, then phone)."""
    return None if directory is None else directory.find(query)
