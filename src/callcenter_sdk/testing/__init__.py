"""Public test helpers: hypothesis strategies and fakes for your own tests.

Requires the ``test`` extra (hypothesis). Everything here is part of the
public API: use it to property-test your routing plugins and KPI pipelines.
"""

from __future__ import annotations

__all__: list[str] = []
