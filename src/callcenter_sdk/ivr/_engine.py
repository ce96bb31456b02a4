"""The IVR engine: one call's walk through a flow, sans-IO.

:class:`IvrSession` takes inputs (the call started with its caller data, the
prompts finished, keys collected, a message recorded, the caller hung up)
and returns :mod:`actions <callcenter_sdk.ivr>` to carry out. It reads the
time only through the injected :class:`~callcenter_sdk.Clock` (for business
hours) and a queue's expected wait only through the injected
``estimated_wait`` function, so the same walk runs live, in the simulator and
in tests, and every branch can be driven by hand.

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping

from .._clock import Clock
from .._errors import StateError
from . import _actions as act
from ._flow import Flow
from ._nodes import (
    Assign,
    Callback,
    Collect,
    EndCall,
    Hours,
    Menu,
    Node,
    Play,
    Switch,
    ToQueue,
    Voicemail,
    WaitBranch,
)
from ._prompts import PromptRef, announcement

__all__ = ["IvrSession"]

EstimatedWait = Callable[[str], float | None]
"""``estimated_wait(queue)``: the expected wait in seconds for a new caller, ``None`` if unknown."""


class _Await(enum.Enum):
    START = "start"
    PROMPTS = "prompts"  # the current node's own prompts are playing
    CONFIRM = "confirm"  # a closing message before a transfer or hang-up
    DIGITS = "digits"
    RECORDING = "recording"
    DONE = "done"


class IvrSession:
    """One call's way through a flow.

    Args:
        flow: The flow (checked with :func:`~callcenter_sdk.ivr.check_flow` beforehand).
        clock: The time source for business hours.
        estimated_wait: Answers :class:`~callcenter_sdk.ivr.WaitBranch` nodes;
            without it every wait counts as short.
    """

    def __init__(
        self, flow: Flow, *, clock: Clock, estimated_wait: EstimatedWait | None = None
    ) -> None:
        self.flow = flow
        self._clock = clock
        self._estimated_wait = estimated_wait
        self._variables: dict[str, str] = {}
        self._node = flow.start
        self._attempt = 0
        self._await = _Await.START
        self._closing: act.IvrAction | None = None
        self._outcome: act.IvrAction | None = None
        self.trail: list[str] = []
        """The nodes entered so far, in order (a node retried once appears once)."""

    # -- what a driver reads -----------------------------------------------------------
    @property
    def variables(self) -> Mapping[str, str]:
        """The call's variables: caller data, ``language``, choices and entries."""
        return dict(self._variables)

    @property
    def language(self) -> str:
        """The language prompts are played in now."""
        return self._variables["language"]

    @property
    def node(self) -> str:
        """The node the call is in."""
        return self._node

    @property
    def done(self) -> bool:
        """Whether the flow has ended (transfer, hang-up, or the caller left)."""
        return self._await is _Await.DONE

    @property
    def outcome(self) -> act.IvrAction | None:
        """How the flow ended: a TransferToQueue or a HangUp (``None`` while running)."""
        return self._outcome

    # -- inputs ------------------------------------------------------------------------
    def start(self, caller: Mapping[str, str] | None = None) -> list[act.IvrAction]:
        """The call is answered; ``caller`` is its data (``caller_id``, a CTI ``tier``...).

        A ``language`` in ``caller`` that the flow speaks replaces the flow's default.
        """
        self._expect(_Await.START)
        self._variables = {str(k): str(v) for k, v in (caller or {}).items()}
        if self._variables.get("language") not in self.flow.languages:
            self._variables["language"] = self.flow.language
        return self._go(self.flow.start)

    def prompts_finished(self) -> list[act.IvrAction]:
        """The prompts of the last :class:`PlayPrompts` have all played."""
        if self._await is _Await.CONFIRM:
            return self._finish(self._closing)
        self._expect(_Await.PROMPTS)
        node = self._current()
        if isinstance(node, Play):
            return self._go(node.next)
        if isinstance(node, ToQueue):
            return self._finish(self._transfer(node))
        if isinstance(node, Voicemail):
            self._await = _Await.RECORDING
            return [act.RecordVoicemail(max_seconds=node.max_seconds, terminator=node.terminator)]
        assert isinstance(node, EndCall)  # noqa: S101 - the only other node that plays
        return self._finish(act.HangUp(reason=node.reason))

    def digits_collected(self, digits: str) -> list[act.IvrAction]:
        """The keys collected for the last :class:`CollectDigits` (``""``: none in time)."""
        self._expect(_Await.DIGITS)
        node = self._current()
        if isinstance(node, Callback):
            if digits[:1] == node.accept:
                return self._accept_callback(node)
            return self._go(node.declined)
        assert isinstance(node, Menu | Collect)  # noqa: S101 - the nodes that collect
        if not digits:
            return self._retry(node, node.no_input_prompts)
        if isinstance(node, Menu):
            return self._chosen(node, digits)
        if len(digits) < node.min_digits:
            return self._retry(node, node.invalid_prompts)
        return [self._set({node.variable: digits}), *self._go(node.next)]

    def _chosen(self, node: Menu, digits: str) -> list[act.IvrAction]:
        target = node.options.get(digits)
        if target is None:
            return self._retry(node, node.invalid_prompts)
        out: list[act.IvrAction] = []
        if node.variable:
            out.append(self._set({node.variable: digits}))
        return out + self._go(target)

    def no_input(self) -> list[act.IvrAction]:
        """No key came before the timeouts (same as ``digits_collected("")``)."""
        return self.digits_collected("")

    def voicemail_finished(self, path: str, seconds: float) -> list[act.IvrAction]:
        """The message asked by :class:`RecordVoicemail` is in ``path``, ``seconds`` long."""
        self._expect(_Await.RECORDING)
        node = self._current()
        assert isinstance(node, Voicemail)  # noqa: S101 - only a voicemail node records
        left = act.VoicemailLeft(
            path=path,
            seconds=seconds,
            ticket=self._expand(node.ticket),
            caller_id=self._variables.get("caller_id", ""),
        )
        return [left, *self._closing_prompts(node.confirm_prompts, act.HangUp(reason="voicemail"))]

    def hung_up(self) -> list[act.IvrAction]:
        """The caller hung up; the flow ends (an IVR abandon unless it was already over)."""
        if self._await is _Await.DONE:
            return []
        return self._finish(act.HangUp(reason="caller", by_caller=True))

    def abort(self, reason: str) -> list[act.IvrAction]:
        """The driver could not carry an action out (a media failure): end with a hang-up."""
        if self._await is _Await.DONE:
            return []
        return self._finish(act.HangUp(reason=reason))

    # -- walking -----------------------------------------------------------------------
    def _expect(self, state: _Await) -> None:
        if self._await is not state:
            raise StateError(
                f"IVR flow {self.flow.name!r} at node {self._node!r} waits for "
                f"{self._await.value}, not {state.value}"
            )

    def _current(self) -> Node:
        return self.flow.nodes[self._node]

    def _refs(self, prompts: tuple[PromptRef, ...]) -> tuple[PromptRef, ...]:
        lang = self.language
        return tuple(p if p.language else PromptRef(p.name, lang) for p in prompts)

    def _expand(self, values: Mapping[str, str]) -> dict[str, str]:
        return {
            k: self._variables.get(v[1:], "") if v.startswith("$") else v for k, v in values.items()
        }

    def _set(self, values: Mapping[str, str]) -> act.SetVariables:
        self._variables.update(values)
        return act.SetVariables(values=values)

    def _go(self, name: str) -> list[act.IvrAction]:
        out: list[act.IvrAction] = []
        for _ in range(len(self.flow.nodes) + 1):
            self._node = name
            self._attempt = 0
            self.trail.append(name)
            node = self._current()
            if isinstance(node, Assign):
                out.append(self._set(self._expand(node.values)))
                name = node.next
            elif isinstance(node, Switch):
                name = node.cases.get(self._variables.get(node.variable, ""), node.default)
            elif isinstance(node, Hours):
                name = self._hours(node)
            elif isinstance(node, WaitBranch):
                wait = self._estimated_wait(node.queue) if self._estimated_wait else None
                name = node.long if wait is not None and wait > node.above else node.short
            else:
                return out + self._enter(node)
        raise StateError(f"IVR flow {self.flow.name!r} loops without waiting at {name!r}")

    def _hours(self, node: Hours) -> str:
        schedule = self.flow.schedules[node.schedule]
        now = self._clock.now()
        if node.holiday is not None and schedule.is_holiday(now):
            return node.holiday
        return node.open if schedule.is_open(now) else node.closed

    def _enter(self, node: Node) -> list[act.IvrAction]:
        if isinstance(node, Menu | Collect | Callback):
            return [self._collect(node, node.prompts)]
        if isinstance(node, ToQueue) and not node.prompts:
            return self._finish(self._transfer(node))
        if isinstance(node, EndCall) and not node.prompts:
            return self._finish(act.HangUp(reason=node.reason))
        assert isinstance(node, Play | ToQueue | Voicemail | EndCall)  # noqa: S101
        self._await = _Await.PROMPTS
        return [act.PlayPrompts(prompts=self._refs(node.prompts))]

    def _collect(
        self, node: Menu | Collect | Callback, prompts: tuple[PromptRef, ...]
    ) -> act.CollectDigits:
        self._await = _Await.DIGITS
        if isinstance(node, Callback):
            return act.CollectDigits(prompts=self._refs(prompts), max_digits=1, terminator="",
                                     first_digit_timeout=node.first_digit_timeout,
                                     inter_digit_timeout=node.first_digit_timeout)  # fmt: skip
        return act.CollectDigits(
            prompts=self._refs(prompts),
            max_digits=node.max_digits,
            terminator=node.terminator,
            first_digit_timeout=node.first_digit_timeout,
            inter_digit_timeout=node.inter_digit_timeout,
            barge_in=node.barge_in,
        )

    def _retry(self, node: Menu | Collect, apology: tuple[PromptRef, ...]) -> list[act.IvrAction]:
        if self._attempt >= node.retries:
            return self._go(node.on_failure)
        self._attempt += 1
        return [self._collect(node, apology + node.prompts)]

    def _transfer(self, node: ToQueue) -> act.TransferToQueue:
        return act.TransferToQueue(queue=node.queue, priority=node.priority, skills=node.skills,
                                   attributes=self._attributes(node.attributes))  # fmt: skip

    def _attributes(self, values: Mapping[str, str]) -> dict[str, str]:
        attributes = {"language": self.language, "ivr_flow": self.flow.name}
        attributes.update(self._expand(values))
        return attributes

    def _accept_callback(self, node: Callback) -> list[act.IvrAction]:
        request = act.RequestCallback(
            queue=node.queue,
            priority=node.priority,
            skills=node.skills,
            attributes=self._attributes(node.attributes),
            number=self._variables.get(node.number_variable, ""),
        )
        # the caller hears when to expect the call: the queue's own estimate, if known
        wait = self._estimated_wait(node.queue) if self._estimated_wait else None
        when = () if wait is None else announcement(None, wait, self.language)
        confirm = node.confirm_prompts
        prompts = (*confirm[:1], *(PromptRef(name) for name in when), *confirm[1:])
        return [request, *self._closing_prompts(prompts, act.HangUp(reason="callback"))]

    def _closing_prompts(
        self, prompts: tuple[PromptRef, ...], then: act.IvrAction
    ) -> list[act.IvrAction]:
        if not prompts:
            return self._finish(then)
        self._await = _Await.CONFIRM
        self._closing = then
        return [act.PlayPrompts(prompts=self._refs(prompts))]

    def _finish(self, outcome: act.IvrAction | None) -> list[act.IvrAction]:
        assert outcome is not None  # noqa: S101 - set whenever CONFIRM is awaited
        self._await = _Await.DONE
        self._outcome = outcome
        return [outcome]
