"""Sticky agent: a repeat caller goes back to the agent who served them last, if ready.

A third-party routing strategy distributed on its own, found by
callcenter_sdk through the ``callcenter_sdk`` entry point. It is a *generic*
strategy: the engine hands it a snapshot (:class:`~callcenter_sdk.acd.RoutingRequest`)
and checks its answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from callcenter_sdk import hookimpl
from callcenter_sdk.acd import Contact, IndexKey, RoutingRequest, RoutingStrategy

__all__ = ["StickyAgent", "callcenter_routing_strategies"]


class StickyAgent:
    """Offer a repeat caller to their last agent when that agent may take the call.

    Otherwise the longest-idle candidate. ``memory`` maps a caller id to the
    agent who last served it; one memory is shared by all the queues of a
    plugin host, so a caller is recognised whichever queue they call.
    """

    index_key: IndexKey | None = None
    ring = False

    def __init__(self, memory: dict[str, str]) -> None:
        self.memory = memory

    def select(self, request: RoutingRequest) -> Sequence[str]:
        """The last agent of this caller if eligible now, else the longest idle."""
        last = self.memory.get(request.contact.caller_id)
        if last is not None and request.lookup(last) is not None:
            return [last]
        return [request.candidates[0].agent_id]

    def on_connected(self, contact: Contact, agent_id: str) -> None:
        """Remember who served this caller."""
        if contact.caller_id:
            self.memory[contact.caller_id] = agent_id


@hookimpl
def callcenter_routing_strategies() -> Mapping[str, object]:
    """Provide ``sticky-agent``; each call builds a factory with its own memory."""
    memory: dict[str, str] = {}

    def factory(options: Mapping[str, object]) -> RoutingStrategy:
        del options
        return StickyAgent(memory)

    return {"sticky-agent": factory}
