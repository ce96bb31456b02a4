"""The organisation: clients, centers, floors, campaigns, teams, agents and roles."""

from __future__ import annotations

from ._plugin import BUILTIN_ACTIVITIES as BUILTIN_ACTIVITIES

__all__ = ["BUILTIN_ACTIVITIES"]
