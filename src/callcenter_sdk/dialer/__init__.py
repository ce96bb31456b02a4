"""The outbound dialer: lead lists, dial modes, pacing under the legal drop cap, scripts.

The decision logic is pure (sans-IO) and shared by every driver: a
:class:`Pacer` says how many calls to place, the :class:`Compliance` filter
says whether a lead may be dialled now, the :class:`LeadScheduler` picks the
next lead and recycles it by result and disposition. :func:`simulate_campaign`
runs them against the real ACD engine in virtual time. Scripts and survey
questionnaires are small TOML files (:func:`load_questionnaire`). See
docs/dialer.md.
"""

from __future__ import annotations

from ._compliance import Compliance as Compliance
from ._compliance import DoNotCallList as DoNotCallList
from ._compliance import LeadHistory as LeadHistory
from ._compliance import Refusal as Refusal
from ._compliance import Verdict as Verdict
from ._events import AnswerRecorded as AnswerRecorded
from ._events import CallDropped as CallDropped
from ._events import CallPlaced as CallPlaced
from ._events import CallResulted as CallResulted
from ._events import LeadDisposed as LeadDisposed
from ._model import DEFAULT_WINDOW as DEFAULT_WINDOW
from ._model import Attempt as Attempt
from ._model import CallingWindow as CallingWindow
from ._model import CallResult as CallResult
from ._model import Campaign as Campaign
from ._model import DialMode as DialMode
from ._model import Disposition as Disposition
from ._model import InformationMessage as InformationMessage
from ._model import Lead as Lead
from ._model import Recycle as Recycle
from ._pacing import Pacer as Pacer
from ._pacing import PacingSnapshot as PacingSnapshot
from ._pacing import PowerPacer as PowerPacer
from ._pacing import PredictivePacer as PredictivePacer
from ._pacing import PreviewPacer as PreviewPacer
from ._pacing import ProgressivePacer as ProgressivePacer
from ._pacing import create_pacer as create_pacer
from ._scheduler import Callback as Callback
from ._scheduler import LeadScheduler as LeadScheduler
from ._scheduler import LeadStatus as LeadStatus
from ._simulate import CampaignRun as CampaignRun
from ._simulate import OutcomeModel as OutcomeModel
from ._simulate import simulate_campaign as simulate_campaign

__all__ = [
    "DEFAULT_WINDOW",
    "AnswerRecorded",
    "Attempt",
    "CallDropped",
    "CallPlaced",
    "CallResult",
    "CallResulted",
    "Callback",
    "CallingWindow",
    "Campaign",
    "CampaignRun",
    "Compliance",
    "DialMode",
    "Disposition",
    "DoNotCallList",
    "InformationMessage",
    "Lead",
    "LeadDisposed",
    "LeadHistory",
    "LeadScheduler",
    "LeadStatus",
    "OutcomeModel",
    "Pacer",
    "PacingSnapshot",
    "PowerPacer",
    "PredictivePacer",
    "PreviewPacer",
    "ProgressivePacer",
    "Recycle",
    "Refusal",
    "Verdict",
    "create_pacer",
    "simulate_campaign",
]
