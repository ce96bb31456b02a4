"""The built-in org plugin: the standard campaign activities.

Registered through :data:`callcenter_sdk.DEFAULT_PLUGINS`, exactly like a
third-party plugin would be through its entry point.
"""

from __future__ import annotations

from ..hookspecs import hookimpl

BUILTIN_ACTIVITIES: tuple[str, ...] = (
    "support",
    "information",
    "order-taking",
    "complaints",
    "after-sales",
    "appointment-setting",
    "prospecting",
    "survey",
    "quote-follow-up",
    "collections",
)
"""The activities every deployment knows; plugins add more."""


@hookimpl
def callcenter_campaign_activities() -> tuple[str, ...]:
    """Provide the built-in campaign activities."""
    return BUILTIN_ACTIVITIES
