"""The book of live calls: every caller, every agent's leg, every offer ringing.

Each collaborator of :class:`~callcenter_sdk.runtime.CallCenter` is handed
this one book instead of sharing the center's attributes; the consultations
of transfers and the supervisors' legs are kept by their own collaborators.
"""

from __future__ import annotations

import anyio

from .._errors import NotFoundError, StateError
from ._calls import LIVE_PHASES, AgentLeg, Call, Phase

__all__: list[str] = []


class CallBook:
    """The live calls of one center, by leg and by contact.

    Attributes:
        calls: Each call under its contact id and, for a callback's second
            leg, under that leg's id too.
        offers: The agent legs of the ACD's offers, by offer id.
        agent_legs: The same legs by their media call id, once placed.
        identifying: The calls whose customer lookup runs, with the event
            set when it ends.
    """

    def __init__(self) -> None:
        self.calls: dict[str, Call] = {}
        self.offers: dict[str, AgentLeg] = {}
        self.agent_legs: dict[str, AgentLeg] = {}
        self.identifying: dict[str, anyio.Event] = {}

    def get(self, contact_id: str) -> Call | None:
        """The call of ``contact_id`` (or of one of its legs), ``None`` if not live."""
        return self.calls.get(contact_id)

    def call(self, contact_id: str) -> Call:
        """The call of ``contact_id``.

        Raises:
            NotFoundError: No live call has that id.
        """
        call = self.calls.get(contact_id)
        if call is None:
            raise NotFoundError(f"no live call {contact_id!r}")
        return call

    def add(self, call: Call, *keys: str) -> None:
        """Book ``call`` under its contact id (and any extra leg id)."""
        self.calls[call.contact_id] = call
        for key in keys:
            self.calls[key] = call

    def forget(self, call: Call) -> None:
        """Drop ``call`` from the book (under its contact id and its leg)."""
        self.calls.pop(call.contact_id, None)
        self.calls.pop(call.leg, None)

    def count(self, phase: Phase) -> int:
        """How many calls are in ``phase``."""
        return sum(1 for c in self._unique() if c.phase is phase)

    def _unique(self) -> list[Call]:
        seen: dict[int, Call] = {}
        for call in self.calls.values():
            seen.setdefault(id(call), call)
        return list(seen.values())

    def any_live(self) -> bool:
        """Whether any call is on the line (not in the IVR, not waiting for a callback)."""
        return any(c.phase in LIVE_PHASES for c in self.calls.values())

    def live_leg(self, agent_id: str) -> str:
        """The media leg of ``agent_id``'s conversation now.

        Raises:
            StateError: The agent is not talking to a customer.
        """
        for call in self.calls.values():
            leg = call.agent_leg
            call_id = leg.call_id if leg is not None else None
            if call.phase is Phase.CONNECTED and call.agent_id == agent_id and call_id:
                return call_id
        raise StateError(f"agent {agent_id!r} is not on a call")

    def talking_to(self, agent_id: str) -> Call | None:
        """The call ``agent_id`` is connected to, ``None`` if none."""
        for call in self.calls.values():
            if call.phase is Phase.CONNECTED and call.agent_id == agent_id:
                return call
        return None

    def ringing_for(self, agent_id: str) -> list[str]:
        """The offers ringing at ``agent_id``'s device, not yet answered."""
        return [
            leg.offer.offer_id
            for leg in self.offers.values()
            if leg.offer.agent_id == agent_id and not leg.answered
        ]
