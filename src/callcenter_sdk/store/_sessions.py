"""Agent sessions and configuration documents: small records a restart needs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy import select

from .._errors import ConflictError, NotFoundError, StateError, StoreError
from ._errors import is_conflict
from ._limits import ID, INT32, KEY, check_float, check_int, check_json, check_text
from ._rows import AgentSessionRow, OrgDocumentRow
from ._store import Store

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["AgentSession", "AgentSessions", "Document", "Documents"]


def _plain_dict(value: Mapping[str, Any]) -> dict[str, Any]:
    return dict(value)


@attrs.frozen(kw_only=True)
class AgentSession:
    """An agent's login session.

    Attributes:
        session_id: Assigned by the store.
        agent_id: The agent.
        started_at: Log-in time.
        ended_at: Log-out time, ``None`` while logged in.
        data: Free data (seat, extension, channels...), JSON-ready.
    """

    session_id: int
    agent_id: str
    started_at: float
    ended_at: float | None = None
    data: dict[str, Any] = attrs.field(factory=dict, converter=_plain_dict)


class AgentSessions:
    """Who is logged in, durably: a restarted runtime logs the same agents back in.

    Args:
        store: Where sessions live.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    def start(
        self, agent_id: str, at: float, data: Mapping[str, Any] | None = None
    ) -> AgentSession:
        """Open a session for ``agent_id``.

        Raises:
            StateError: The agent already has an open session.
            ValidationError: A field breaks the store's limits.
        """
        check_text("agent_id", agent_id, ID)
        check_float("at", at)
        check_json("AgentSession.data", dict(data or {}))
        try:
            with self._store.transaction(f"log in {agent_id}") as session:
                if self._open(session, agent_id) is not None:
                    raise StateError(f"agent {agent_id!r} is already logged in")
                row = AgentSessionRow(agent_id=agent_id, started_at=at, data=dict(data or {}))
                session.add(row)
                session.flush()
                return _session(row)
        except StoreError as exc:
            if is_conflict(exc):  # another runtime logged the agent in meanwhile
                raise StateError(f"agent {agent_id!r} is already logged in") from exc
            raise

    def end(self, agent_id: str, at: float) -> AgentSession:
        """Close the agent's open session.

        Raises:
            NotFoundError: The agent is not logged in.
            ValidationError: A bad agent id or time.
        """
        check_text("agent_id", agent_id, ID)
        check_float("at", at)
        with self._store.transaction(f"log out {agent_id}") as session:
            row = self._open(session, agent_id)
            if row is None:
                raise NotFoundError(f"agent {agent_id!r} is not logged in")
            row.ended_at = at
            return _session(row)

    def open_sessions(self) -> list[AgentSession]:
        """Return every open session, oldest first."""
        query = (
            select(AgentSessionRow)
            .where(AgentSessionRow.ended_at.is_(None))
            .order_by(AgentSessionRow.started_at, AgentSessionRow.id)
        )
        with self._store.transaction("load open sessions") as session:
            return [_session(row) for row in session.scalars(query)]

    def history(self, agent_id: str) -> list[AgentSession]:
        """Return the agent's sessions, oldest first."""
        query = (
            select(AgentSessionRow)
            .where(AgentSessionRow.agent_id == agent_id)
            .order_by(AgentSessionRow.started_at, AgentSessionRow.id)
        )
        with self._store.transaction(f"load sessions of {agent_id}") as session:
            return [_session(row) for row in session.scalars(query)]

    @staticmethod
    def _open(session: Session, agent_id: str) -> AgentSessionRow | None:
        query = select(AgentSessionRow).where(
            AgentSessionRow.agent_id == agent_id, AgentSessionRow.ended_at.is_(None)
        )
        return session.scalars(query.with_for_update()).first()


def _session(row: AgentSessionRow) -> AgentSession:
    return AgentSession(
        session_id=row.id,
        agent_id=row.agent_id,
        started_at=row.started_at,
        ended_at=row.ended_at,
        data=row.data,
    )


@attrs.frozen(kw_only=True)
class Document:
    """A versioned configuration document (an org tree, a campaign's settings).

    Attributes:
        key: Its name (``"org"``, ``"campaign/hotline"``).
        version: 1 for the first save, then +1 per save.
        updated_at: When it was last saved.
        content: The document, JSON-ready.
    """

    key: str
    version: int
    updated_at: float
    content: dict[str, Any] = attrs.field(converter=_plain_dict)


class Documents:
    """Configuration documents with optimistic concurrency.

    Two supervisors editing the same campaign at once must not silently
    overwrite each other: a save names the version it started from and fails
    if someone saved in between.

    Args:
        store: Where documents live.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    def get(self, key: str) -> Document:
        """Return the document ``key``.

        Raises:
            NotFoundError: No such document.
        """
        with self._store.transaction(f"load document {key}") as session:
            row = session.get(OrgDocumentRow, key)
            if row is None:
                raise NotFoundError(f"no document {key!r}")
            return Document(
                key=row.key, version=row.version, updated_at=row.updated_at, content=row.document
            )

    def put(
        self, key: str, content: Mapping[str, Any], *, at: float, expected_version: int | None
    ) -> Document:
        """Save ``content`` under ``key``; return the new version.

        Args:
            key: The document's name.
            content: The new content, JSON-ready.
            at: The save time.
            expected_version: The version the edit started from; ``0`` to
                create; ``None`` to overwrite whatever is there.

        Raises:
            ConflictError: The stored version is not ``expected_version``
                (a :class:`~callcenter_sdk.StateError`, as before 0.2).
            ValidationError: A field breaks the store's limits.
        """
        check_text("Document.key", key, KEY)
        check_float("at", at)
        check_json("Document.content", dict(content))
        if expected_version is not None:
            check_int("expected_version", expected_version, INT32)
        try:
            return self._put(key, content, at=at, expected_version=expected_version)
        except StoreError as exc:
            if is_conflict(exc):  # created by someone else meanwhile
                raise ConflictError(
                    f"document {key!r}", expected_version or 0, None, "created meanwhile"
                ) from exc
            raise

    def _put(
        self, key: str, content: Mapping[str, Any], *, at: float, expected_version: int | None
    ) -> Document:
        with self._store.transaction(f"save document {key}") as session:
            row = session.get(OrgDocumentRow, key, with_for_update=True)
            current = 0 if row is None else row.version
            if expected_version is not None and expected_version != current:
                raise ConflictError(f"document {key!r}", expected_version, current)
            if row is None:
                row = OrgDocumentRow(key=key, version=0, updated_at=at, document={})
                session.add(row)
            row.version = current + 1
            row.updated_at = at
            row.document = dict(content)
            return Document(key=key, version=row.version, updated_at=at, content=row.document)
