"""The organisation: clients, centers, floors, campaigns, teams, people and their rights.

Build an :class:`Org` from Python values or load one with :func:`load_org`;
ask it who supervises whom and whom an agent escalates to; decide what a
person may do with :func:`can` and :func:`require`. Everything here is pure:
no I/O except :func:`load_org` reading its file.
"""

from __future__ import annotations

from ._index import Reach as Reach
from ._model import CHANNELS as CHANNELS
from ._model import MAX_PROFICIENCY as MAX_PROFICIENCY
from ._model import MAX_SEATS as MAX_SEATS
from ._model import MIN_PROFICIENCY as MIN_PROFICIENCY
from ._model import AgentProfile as AgentProfile
from ._model import Campaign as Campaign
from ._model import ContactCenter as ContactCenter
from ._model import Direction as Direction
from ._model import Floor as Floor
from ._model import Organisation as Organisation
from ._model import OrganisationKind as OrganisationKind
from ._model import Person as Person
from ._model import Role as Role
from ._model import Seat as Seat
from ._model import Skill as Skill
from ._model import Team as Team
from ._org import PYTHON_SOURCE as PYTHON_SOURCE
from ._org import Org as Org
from ._permissions import PERMISSIONS as PERMISSIONS
from ._permissions import Action as Action
from ._permissions import Placement as Placement
from ._permissions import Scope as Scope
from ._permissions import Target as Target
from ._permissions import can as can
from ._permissions import permission_table as permission_table
from ._permissions import placement_of as placement_of
from ._permissions import reach_of as reach_of
from ._permissions import relation as relation
from ._permissions import require as require
from ._plugin import BUILTIN_ACTIVITIES as BUILTIN_ACTIVITIES
from ._seats import assign_seats as assign_seats
from ._seats import release_seats as release_seats
from ._seats import with_campaign_seats as with_campaign_seats
from ._toml import dumps_org as dumps_org
from ._toml import load_org as load_org
from ._toml import loads_org as loads_org

__all__ = [
    "BUILTIN_ACTIVITIES",
    "CHANNELS",
    "MAX_PROFICIENCY",
    "MAX_SEATS",
    "MIN_PROFICIENCY",
    "PERMISSIONS",
    "PYTHON_SOURCE",
    "Action",
    "AgentProfile",
    "Campaign",
    "ContactCenter",
    "Direction",
    "Floor",
    "Org",
    "Organisation",
    "OrganisationKind",
    "Person",
    "Placement",
    "Reach",
    "Role",
    "Scope",
    "Seat",
    "Skill",
    "Target",
    "Team",
    "assign_seats",
    "can",
    "dumps_org",
    "load_org",
    "loads_org",
    "permission_table",
    "placement_of",
    "reach_of",
    "relation",
    "release_seats",
    "require",
    "with_campaign_seats",
]
