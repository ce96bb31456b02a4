"""The outbound dialer: lead lists, dial modes, pacing under the legal drop cap, scripts.

The decision logic is pure (sans-IO) and shared by every driver: a
:class:`Pacer` says how many calls to place, the :class:`Compliance` filter
says whether a lead may be dialled now, the :class:`LeadScheduler` picks the
next lead and recycles it by result and disposition, and the
:class:`CampaignCore` runs a campaign's calls with them (timers, routing to
agents, results, dispositions), returning actions for its driver. Every
number passes the center's outbound policy (:func:`campaign_guard`) before
it is dialled. The live :class:`Dialer` drives the core on a media backend;
:func:`callcenter_sdk.sim.simulate_campaign` drives it in virtual time.
Scripts and survey questionnaires are small TOML files
(:func:`load_questionnaire`). See docs/dialer.md.
"""

from __future__ import annotations

from ._actions import Bridge as Bridge
from ._actions import CampaignAction as CampaignAction
from ._actions import Dial as Dial
from ._actions import Hangup as Hangup
from ._actions import PlayInformation as PlayInformation
from ._actions import RingAgent as RingAgent
from ._amd import amd_detector as amd_detector
from ._campaign import CAP_PAUSE_S as CAP_PAUSE_S
from ._campaign import CampaignCore as CampaignCore
from ._compliance import Compliance as Compliance
from ._compliance import DoNotCallList as DoNotCallList
from ._compliance import LeadHistory as LeadHistory
from ._compliance import Refusal as Refusal
from ._compliance import Verdict as Verdict
from ._config import load_campaign as load_campaign
from ._config import loads_campaign as loads_campaign
from ._driver import Dialer as Dialer
from ._events import AnswerRecorded as AnswerRecorded
from ._events import CallDropped as CallDropped
from ._events import CallPlaced as CallPlaced
from ._events import CallResulted as CallResulted
from ._events import LeadDisposed as LeadDisposed
from ._leads import LeadImport as LeadImport
from ._leads import import_do_not_call as import_do_not_call
from ._leads import import_leads_csv as import_leads_csv
from ._leads import zone_of_number as zone_of_number
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
from ._model import owner_skill as owner_skill
from ._outbound import SIMULATION_POLICY as SIMULATION_POLICY
from ._outbound import campaign_check as campaign_check
from ._outbound import campaign_guard as campaign_guard
from ._pacing import Pacer as Pacer
from ._pacing import PacingSnapshot as PacingSnapshot
from ._pacing import PowerPacer as PowerPacer
from ._pacing import PredictivePacer as PredictivePacer
from ._pacing import PreviewPacer as PreviewPacer
from ._pacing import ProgressivePacer as ProgressivePacer
from ._pacing import create_pacer as create_pacer
from ._pacing import drop_window_s as drop_window_s
from ._persist import DO_NOT_CALL_DOCUMENT as DO_NOT_CALL_DOCUMENT
from ._persist import load_do_not_call as load_do_not_call
from ._persist import load_leads as load_leads
from ._persist import record_attempt as record_attempt
from ._persist import restore_dispositions as restore_dispositions
from ._persist import restore_histories as restore_histories
from ._persist import restore_pacer as restore_pacer
from ._persist import save_do_not_call as save_do_not_call
from ._persist import save_leads as save_leads
from ._persist import save_run as save_run
from ._persist import stored_answers as stored_answers
from ._reports import conversion_by as conversion_by
from ._reports import export_answers_csv as export_answers_csv
from ._run import CampaignRun as CampaignRun
from ._scheduler import Callback as Callback
from ._scheduler import LeadScheduler as LeadScheduler
from ._scheduler import LeadStatus as LeadStatus
from ._script import END as END
from ._script import Interview as Interview
from ._script import Question as Question
from ._script import QuestionKind as QuestionKind
from ._script import Questionnaire as Questionnaire
from ._script import load_questionnaire as load_questionnaire
from ._script import loads_questionnaire as loads_questionnaire

__all__ = [
    "CAP_PAUSE_S",
    "DEFAULT_WINDOW",
    "DO_NOT_CALL_DOCUMENT",
    "END",
    "SIMULATION_POLICY",
    "AnswerRecorded",
    "Attempt",
    "Bridge",
    "CallDropped",
    "CallPlaced",
    "CallResult",
    "CallResulted",
    "Callback",
    "CallingWindow",
    "Campaign",
    "CampaignAction",
    "CampaignCore",
    "CampaignRun",
    "Compliance",
    "Dial",
    "DialMode",
    "Dialer",
    "Disposition",
    "DoNotCallList",
    "Hangup",
    "InformationMessage",
    "Interview",
    "Lead",
    "LeadDisposed",
    "LeadHistory",
    "LeadImport",
    "LeadScheduler",
    "LeadStatus",
    "Pacer",
    "PacingSnapshot",
    "PlayInformation",
    "PowerPacer",
    "PredictivePacer",
    "PreviewPacer",
    "ProgressivePacer",
    "Question",
    "QuestionKind",
    "Questionnaire",
    "Recycle",
    "Refusal",
    "RingAgent",
    "Verdict",
    "amd_detector",
    "campaign_check",
    "campaign_guard",
    "conversion_by",
    "create_pacer",
    "drop_window_s",
    "export_answers_csv",
    "import_do_not_call",
    "import_leads_csv",
    "load_campaign",
    "load_do_not_call",
    "load_leads",
    "load_questionnaire",
    "loads_campaign",
    "loads_questionnaire",
    "owner_skill",
    "record_attempt",
    "restore_dispositions",
    "restore_histories",
    "restore_pacer",
    "save_do_not_call",
    "save_leads",
    "save_run",
    "stored_answers",
    "zone_of_number",
]
