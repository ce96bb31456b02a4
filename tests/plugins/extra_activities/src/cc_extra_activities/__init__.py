"""A third-party plugin that adds campaign activities, found through its entry point."""

from __future__ import annotations

from callcenter_sdk import hookimpl


@hookimpl
def callcenter_campaign_activities() -> list[str]:
    """Add two activities the built-in set does not know."""
    return ["debt-restructuring", "loyalty-winback"]
