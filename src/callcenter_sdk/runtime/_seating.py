"""Who sits where: positions, the phones on them, and each campaign's allocation.

A center's seats (positions) belong to it; an administrator allocates some
to a campaign (:func:`~callcenter_sdk.org.assign_seats`). Each position has
a SIP phone. An agent with a device of their own (:class:`Seat.device`) is
rung there; any agent may log in at a free position of their campaign's
allocation at run time (hot-desking), and is then rung on that position's
phone until they log out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .._errors import NotFoundError, StateError, ValidationError
from ..org import Org
from ._config import Position, Seat, parse_position

__all__: list[str] = []


class Seating:
    """The agents' devices and positions in one running center.

    Args:
        seats: The agents of the ACD, with their own device (``""``: none;
            they log in at a position to be rung).
        positions: The center's positions and their phones.
    """

    def __init__(self, seats: Iterable[Seat], positions: Iterable[Position]) -> None:
        self._seats = {s.agent.id: s for s in seats}
        self._positions = {p.id: p for p in positions}
        self._sitting: dict[str, str] = {}  # agent -> position id

    @property
    def agents(self) -> list[str]:
        """Every agent of the center, seated or not."""
        return list(self._seats)

    @property
    def positions(self) -> Mapping[str, Position]:
        """The center's positions by id."""
        return self._positions

    def seat(self, agent_id: str) -> Seat:
        """The agent's seat (their ACD agent and own device).

        Raises:
            NotFoundError: No such agent here.
        """
        seat = self._seats.get(agent_id)
        if seat is None:
            raise NotFoundError(f"no seat for agent {agent_id!r}")
        return seat

    def reachable(self, agent_id: str) -> bool:
        """Whether the agent has a phone to ring (their own, or a position's)."""
        seat = self._seats.get(agent_id)
        return seat is not None and bool(seat.device or agent_id in self._sitting)

    def device(self, agent_id: str) -> str:
        """The phone that rings for ``agent_id`` now: their position's, else their own.

        Raises:
            NotFoundError: No such agent, or they have no phone now.
        """
        seat = self.seat(agent_id)
        position = self._sitting.get(agent_id)
        if position is not None:
            return self._positions[position].device
        if not seat.device:
            raise NotFoundError(f"agent {agent_id!r} is not logged in at a position")
        return seat.device

    def position_of(self, agent_id: str) -> str:
        """The position ``agent_id`` sits at, ``""`` if none."""
        return self._sitting.get(agent_id, "")

    def sit(self, agent_id: str, position_id: str, *, org: Org | None) -> Position:
        """Seat ``agent_id`` at ``position_id`` (checked), leaving any other position.

        With an org, the position must be a seat allocated to the campaign of
        the agent's team (an agent without a team may sit anywhere free).

        Raises:
            NotFoundError: No such agent or position.
            StateError: Someone else sits there.
            ValidationError: The seat is not allocated to the agent's campaign.
        """
        self.seat(agent_id)
        parse_position(position_id)
        position = self._positions.get(position_id)
        if position is None:
            raise NotFoundError(f"no position {position_id!r} (known: {sorted(self._positions)})")
        for other, taken in self._sitting.items():
            if taken == position_id and other != agent_id:
                raise StateError(f"position {position_id} is taken by {other}")
        team = org.team_of(agent_id) if org is not None else None
        if org is not None and team is not None:
            campaign = org.campaign(team.campaign)
            center = org.floor_of_campaign(campaign.id).center
            if position.center != center or position.number not in campaign.seats:
                raise ValidationError(
                    f"position {position_id} is not allocated to campaign {campaign.id} "
                    f"(its seats: {sorted(campaign.seats)} of {center})"
                )
        self._sitting[agent_id] = position_id
        return position

    def stand(self, agent_id: str) -> None:
        """``agent_id`` leaves their position (if any)."""
        self._sitting.pop(agent_id, None)
