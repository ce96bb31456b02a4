"""The administration of a running center: campaigns stopped or started, queue settings, seats.

What an administrator or a campaign's manager changes while the center runs
is a promise like a waiting contact: it is written to the store (one
document, :data:`DOCUMENT`) before it takes effect, and a center opening on
that store starts with it. Each change checks the org (``manage-campaigns``
to stop or start a campaign, ``configure-routing`` for a queue's settings,
``manage-seats`` for seats) and publishes an event.

A stopped campaign takes no new call: a caller dialling one of its numbers,
or whose IVR chose one of its queues, hears the ``closed`` prompt and is hung
up; its agents may not click to dial for it. What is already in its queues
(callers waiting, e-mails, callbacks promised) is still served: a promise
made to a customer is kept.

.. versionadded:: 0.2
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import anyio

from .._clock import Clock
from .._errors import CallCenterError, NotFoundError, ValidationError
from .._events import EventStream
from ..acd import Engine, Queue
from ..org import (
    Action,
    ContactCenter,
    Org,
    assign_seats,
    release_seats,
    require,
    with_campaign_seats,
)
from ..store import Documents
from ._access import Access
from ._config import CallCenterConfig
from ._events import CampaignStarted, CampaignStopped, QueueConfigured, SeatsChanged
from ._ledger import Ledger

__all__ = ["DOCUMENT", "Administration"]

_log = logging.getLogger(__name__)

DOCUMENT = "runtime.administration"
"""The store document holding the center's live administration."""


class Administration:
    """Campaigns, queue settings and seats changed while the center runs, kept in the store.

    Args:
        config: The center's configuration (queues, their campaigns, the queue cap).
        engine: The ACD whose queues change.
        access: The permission checks; its ``org`` holds the seats.
        ledger: Runs the store's calls off the event loop.
        documents: Where the administration is kept.
        clock: The center's clock.
        events: Where the changes are published.
    """

    def __init__(
        self,
        *,
        config: CallCenterConfig,
        engine: Engine,
        access: Access,
        ledger: Ledger,
        documents: Documents,
        clock: Clock,
        events: EventStream,
    ) -> None:
        self._config = config
        self._engine = engine
        self._access = access
        self._ledger = ledger
        self._documents = documents
        self._clock = clock
        self._events = events
        self._lock = anyio.Lock()
        self._stopped: set[str] = set()
        self._queues: dict[str, dict[str, float | None]] = {}
        self._seats: dict[str, list[int]] = {}

    # -- reading ----------------------------------------------------------------------------
    def is_open(self, campaign: str | None) -> bool:
        """Whether ``campaign`` takes calls (``None``, no campaign: always)."""
        return campaign is None or campaign not in self._stopped

    @property
    def stopped(self) -> frozenset[str]:
        """The campaigns stopped now."""
        return frozenset(self._stopped)

    def queue_settings(self, queue: str) -> Mapping[str, float | None]:
        """The settings of ``queue`` changed while the center ran (kept across restarts)."""
        return dict(self._queues.get(queue, {}))

    # -- opening ----------------------------------------------------------------------------
    async def load(self) -> None:
        """Apply what the store holds: stopped campaigns, queue settings, seats.

        A queue, campaign or seat the configuration no longer has is skipped
        with a warning (the file changed since): the rest still applies.
        """
        try:
            document = await self._ledger.read(self._documents.get, DOCUMENT)
        except NotFoundError:
            return
        content: Mapping[str, Any] = document.content
        org = self._access.org
        for campaign in content.get("stopped", []):
            if org is not None and not _has_campaign(org, campaign):
                _log.warning("stored administration: no campaign %r any more", campaign)
                continue
            self._stopped.add(str(campaign))
        for queue, settings in dict(content.get("queues", {})).items():
            try:
                self._apply(str(queue), dict(settings))
            except CallCenterError as exc:
                _log.warning("stored settings of queue %r not applied: %s", queue, exc)
                continue
            self._queues[str(queue)] = dict(settings)
        for campaign, seats in dict(content.get("seats", {})).items():
            if org is None or not _has_campaign(org, campaign):
                continue
            try:
                org = with_campaign_seats(org, str(campaign), [int(n) for n in seats])
            except CallCenterError as exc:
                _log.warning("stored seats of %r not applied: %s", campaign, exc)
                continue
            self._seats[str(campaign)] = sorted(int(n) for n in seats)
        self._access.org = org

    # -- operations -------------------------------------------------------------------------
    async def stop_campaign(self, campaign: str, *, actor: str) -> None:
        """Stop ``campaign`` taking calls (see the module); stopping it again does nothing.

        Raises:
            PermissionDenied: ``actor`` may not manage that campaign.
            NotFoundError: No such campaign.
            ValidationError: The center runs without an org.
        """
        self._check(actor, Action.MANAGE_CAMPAIGNS, campaign, "stop_campaign")
        async with self._lock:
            if campaign in self._stopped:
                return
            self._stopped.add(campaign)
            await self._save(undo=lambda: self._stopped.discard(campaign))
        self._events.publish(CampaignStopped(at=self._clock.now(), campaign=campaign, actor=actor))

    async def start_campaign(self, campaign: str, *, actor: str) -> None:
        """Let a stopped ``campaign`` take calls again; starting an open one does nothing.

        Raises:
            PermissionDenied: ``actor`` may not manage that campaign.
            NotFoundError: No such campaign.
            ValidationError: The center runs without an org.
        """
        self._check(actor, Action.MANAGE_CAMPAIGNS, campaign, "start_campaign")
        async with self._lock:
            if campaign not in self._stopped:
                return
            self._stopped.discard(campaign)
            await self._save(undo=lambda: self._stopped.add(campaign))
        self._events.publish(CampaignStarted(at=self._clock.now(), campaign=campaign, actor=actor))

    async def configure_queue(
        self, queue: str, settings: Mapping[str, float | None], *, actor: str
    ) -> Queue:
        """Change live settings of ``queue`` (:data:`~callcenter_sdk.acd.LIVE_QUEUE_SETTINGS`).

        The queue's campaign is the target of the ``configure-routing``
        check (the center, for a queue of no campaign). The new settings are
        stored before they apply, and stay across restarts until changed
        again. A ``max_length`` of ``None`` means the center's queue cap.

        Raises:
            PermissionDenied: ``actor`` may not configure that queue.
            NotFoundError: No such queue.
            ValidationError: A setting that cannot change live, or a bad value
                (nothing changes then).
        """
        if queue not in self._engine.queue_names():
            raise NotFoundError(f"no queue {queue!r}")
        campaign = self._config.campaigns.get(queue)
        self._check(actor, Action.CONFIGURE_ROUTING, campaign, "configure_queue", what=queue)
        changes = {str(k): (None if v is None else _number(k, v)) for k, v in settings.items()}
        if not changes:
            raise ValidationError("no setting to change")
        async with self._lock:
            current = self._engine.queue_config(queue)
            old: dict[str, float | None] = {k: getattr(current, k) for k in changes}
            new = self._apply(queue, changes)  # validates; raises before anything is kept
            merged = {**self._queues.get(queue, {}), **changes}
            previous = self._queues.get(queue)
            self._queues[queue] = merged

            def undo() -> None:
                self._apply(queue, old)
                if previous is None:
                    self._queues.pop(queue, None)
                else:
                    self._queues[queue] = previous

            await self._save(undo=undo)
        self._events.publish(
            QueueConfigured(
                at=self._clock.now(), queue=queue, settings=sorted(changes.items()), actor=actor
            )
        )
        return new

    async def allocate_seats(self, campaign: str, seats: Iterable[int], *, actor: str) -> None:
        """Give seats of its center to ``campaign`` (see ``CallCenter.allocate_seats``)."""
        await self._change_seats(campaign, seats, actor=actor, operation="allocate_seats")

    async def release_seats(self, campaign: str, seats: Iterable[int], *, actor: str) -> None:
        """Take seats back from ``campaign`` (see ``CallCenter.release_seats``)."""
        await self._change_seats(campaign, seats, actor=actor, operation="release_seats")

    # -- inside -----------------------------------------------------------------------------
    async def _change_seats(
        self, campaign: str, seats: Iterable[int], *, actor: str, operation: str
    ) -> None:
        org = self._access.org
        if org is None:
            raise ValidationError("seats are allocated in the org: this center runs without one")
        wanted = list(seats)
        async with self._lock:
            try:
                change = assign_seats if operation == "allocate_seats" else release_seats
                changed = change(org, actor, campaign, wanted)
            except CallCenterError as exc:
                self._access.refused(actor, operation, f"campaign {campaign}", str(exc))
                raise
            now = sorted(changed.campaign(campaign).seats)
            previous = self._seats.get(campaign)
            self._seats[campaign] = now

            def undo() -> None:
                if previous is None:
                    self._seats.pop(campaign, None)
                else:
                    self._seats[campaign] = previous

            await self._save(undo=undo)
            self._access.org = changed
        self._events.publish(
            SeatsChanged(at=self._clock.now(), campaign=campaign, seats=now, actor=actor)
        )

    def _apply(self, queue: str, settings: Mapping[str, float | None]) -> Queue:
        values: dict[str, object] = {}
        for name, value in settings.items():
            if name == "max_length" and value is None:
                values[name] = self._config.queue_cap
            elif name == "max_length" and value is not None:
                values[name] = int(value)
            else:
                values[name] = value
        return self._engine.configure_queue(queue, **values)

    def _check(
        self, actor: str, action: Action, campaign: str | None, operation: str, *, what: str = ""
    ) -> None:
        org = self._access.org
        if org is None:
            raise ValidationError(f"{operation} needs the org: this center runs without one")
        target_name = f"queue {what}" if what else f"campaign {campaign}"
        try:
            target = org.campaign(campaign) if campaign is not None else _center_of(org)
            require(org, actor, action, target)
        except CallCenterError as exc:
            self._access.refused(actor, operation, target_name, str(exc))
            raise

    async def _save(self, *, undo: Callable[[], object]) -> None:
        content = {
            "stopped": sorted(self._stopped),
            "queues": {q: dict(s) for q, s in sorted(self._queues.items())},
            "seats": {c: list(s) for c, s in sorted(self._seats.items())},
        }
        try:
            await self._ledger.read(
                self._documents.put, DOCUMENT, content, at=self._clock.now(), expected_version=None
            )
        except CallCenterError:
            undo()  # not kept: not done
            raise


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"setting {name!r}: expected a number or null, got {value!r}")
    return float(value)


def _has_campaign(org: Org, campaign: object) -> bool:
    try:
        org.campaign(str(campaign))
    except CallCenterError:
        return False
    return True


def _center_of(org: Org) -> ContactCenter:
    centers = list(org.centers)
    if len(centers) != 1:
        raise ValidationError("a queue of no campaign is configured at the center: name one")
    return centers[0]
