"""IVR: flows as data, a pure engine that walks them, and a driver for any media backend.

A :class:`Flow` is a graph of nodes (menus, digit collection, branches on
caller data or business hours, queue transfers, callback offers, voicemail to
a ticket) read from TOML (:func:`load_flow`) or built in Python
(:class:`FlowBuilder`), and checked before use (:func:`check_flow`).
:class:`IvrSession` walks one call through it without any I/O: inputs in,
actions out. :class:`IvrDriver` carries the actions out on any
:class:`~callcenter_sdk.media.MediaBackend`. :func:`announcement` turns a
queue position and an estimated wait into prompts; the prompts (numbers
included) ship in English and French (:func:`prompt_path`). See ``docs/ivr.md``.
"""

from __future__ import annotations

from ._actions import CollectDigits as CollectDigits
from ._actions import HangUp as HangUp
from ._actions import IvrAction as IvrAction
from ._actions import PlayPrompts as PlayPrompts
from ._actions import RecordVoicemail as RecordVoicemail
from ._actions import RequestCallback as RequestCallback
from ._actions import SetVariables as SetVariables
from ._actions import TransferToQueue as TransferToQueue
from ._actions import VoicemailLeft as VoicemailLeft
from ._builder import FlowBuilder as FlowBuilder
from ._catalog import LANGUAGES as LANGUAGES
from ._catalog import LIBRARY_PROMPTS as LIBRARY_PROMPTS
from ._driver import IvrDriver as IvrDriver
from ._driver import IvrResult as IvrResult
from ._engine import IvrSession as IvrSession
from ._flow import Flow as Flow
from ._flow import FlowWarning as FlowWarning
from ._flow import check_flow as check_flow
from ._nodes import Assign as Assign
from ._nodes import Callback as Callback
from ._nodes import Collect as Collect
from ._nodes import EndCall as EndCall
from ._nodes import Hours as Hours
from ._nodes import Menu as Menu
from ._nodes import Node as Node
from ._nodes import Play as Play
from ._nodes import Switch as Switch
from ._nodes import ToQueue as ToQueue
from ._nodes import Voicemail as Voicemail
from ._nodes import WaitBranch as WaitBranch
from ._prompts import PROMPTS_DIR as PROMPTS_DIR
from ._prompts import PromptRef as PromptRef
from ._prompts import announcement as announcement
from ._prompts import find_prompt as find_prompt
from ._prompts import prompt_path as prompt_path
from ._prompts import say_number as say_number
from ._schedule import OpeningHours as OpeningHours
from ._schedule import Schedule as Schedule
from ._toml import load_flow as load_flow
from ._toml import loads_flow as loads_flow

__all__ = [
    "LANGUAGES",
    "LIBRARY_PROMPTS",
    "PROMPTS_DIR",
    "Assign",
    "Callback",
    "Collect",
    "CollectDigits",
    "EndCall",
    "Flow",
    "FlowBuilder",
    "FlowWarning",
    "HangUp",
    "Hours",
    "IvrAction",
    "IvrDriver",
    "IvrResult",
    "IvrSession",
    "Menu",
    "Node",
    "OpeningHours",
    "Play",
    "PlayPrompts",
    "PromptRef",
    "RecordVoicemail",
    "RequestCallback",
    "Schedule",
    "SetVariables",
    "Switch",
    "ToQueue",
    "TransferToQueue",
    "Voicemail",
    "VoicemailLeft",
    "WaitBranch",
    "announcement",
    "check_flow",
    "find_prompt",
    "load_flow",
    "loads_flow",
    "prompt_path",
    "say_number",
]
