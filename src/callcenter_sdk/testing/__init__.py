"""Public test helpers: hypothesis strategies and fakes for your own tests.

Requires the ``testing`` extra (hypothesis alone); without it, importing
this package says which extra to install. Everything here is part of the
public API: use it to property-test your routing plugins and KPI pipelines.
"""

from __future__ import annotations

from . import _needs as _needs  # first: a clear error without hypothesis
from ._acd import AcdHarness as AcdHarness
from ._acd import EngineMachine as EngineMachine
from ._acd import EventCapture as EventCapture
from ._acd import acd_agents as acd_agents
from ._acd import acd_contacts as acd_contacts
from ._dialer import dialer_leads as dialer_leads
from ._dialer import sample_leads as sample_leads
from ._dialer import script_virtual_phones as script_virtual_phones
from ._kpi import agent_intervals as agent_intervals
from ._kpi import contact_records as contact_records
from ._org import agent_profiles as agent_profiles
from ._org import org_trees as org_trees

__all__: list[str] = [
    "AcdHarness",
    "EngineMachine",
    "EventCapture",
    "acd_agents",
    "acd_contacts",
    "agent_intervals",
    "agent_profiles",
    "contact_records",
    "dialer_leads",
    "org_trees",
    "sample_leads",
    "script_virtual_phones",
]
