"""Public test helpers: hypothesis strategies and fakes for your own tests.

Requires the ``test`` extra (hypothesis). Everything here is part of the
public API: use it to property-test your routing plugins and KPI pipelines.
"""

from __future__ import annotations

from ._kpi import agent_intervals as agent_intervals
from ._kpi import contact_records as contact_records
from ._org import agent_profiles as agent_profiles
from ._org import org_trees as org_trees

__all__: list[str] = [
    "agent_intervals",
    "agent_profiles",
    "contact_records",
    "org_trees",
]
