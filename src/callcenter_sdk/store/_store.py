"""The :class:`Store`: one database, its sessions and its schema version."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from .._errors import StoreError
from ._engine import DEFAULT_URL, READ_ONLY, create_engine
from ._errors import store_errors

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["MIGRATIONS", "Store", "create_store", "head_revision"]

MIGRATIONS = "callcenter_sdk.store:migrations"
"""Where Alembic finds the migrations shipped inside the package."""


def head_revision() -> str:
    """The newest schema revision the package ships (what ``upgrade()`` migrates to).

    .. versionadded:: 0.2
    """
    import alembic.config  # noqa: PLC0415 - imported on use, as in Store.upgrade
    import alembic.script  # noqa: PLC0415

    config = alembic.config.Config()
    config.set_main_option("script_location", MIGRATIONS)
    head = alembic.script.ScriptDirectory.from_config(config).get_current_head()
    assert head is not None  # noqa: S101 - the package ships its migrations
    return head


class Store:
    """A database holding everything that must survive a restart.

    Build one with :func:`create_store`. Repositories (the event log, tickets,
    the knowledge base, the customer directory) take a store and open short
    transactions through :meth:`transaction`; a store is safe to share
    between threads.

    Args:
        engine: A SQLAlchemy engine from :func:`create_engine`.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        # SQLite has one writer at a time: this process's writers queue here, each
        # woken the moment the one before commits, instead of in SQLite's busy
        # handler, which sleeps up to 100 ms between tries and lets a late
        # writer overtake (other processes still meet the busy handler).
        self._writers = threading.RLock() if engine.dialect.name == "sqlite" else None

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for queries the repositories do not offer."""
        return self._engine

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``: some features (full text) differ."""
        return self._engine.dialect.name

    @contextmanager
    def transaction(self, action: str) -> Iterator[Session]:
        """Open a session in a transaction, committed when the block ends.

        When the block returns, the transaction has been committed: this is
        the point after which a contact, callback or ticket may be
        acknowledged. Database errors leave as :class:`StoreError`.

        Args:
            action: What the transaction does, for error messages.
        """
        writers = self._writers if self._writers is not None else nullcontext()
        with writers, store_errors(action), self._sessions.begin() as session:
            yield session

    @contextmanager
    def reading(self, action: str) -> Iterator[Session]:
        """Open a session in a transaction that only reads.

        On SQLite it begins without the write lock (a WAL snapshot): it never
        waits for a writer, nor delays one. On PostgreSQL it is
        :meth:`transaction`. Writing in it is a mistake SQLite may refuse.

        .. versionadded:: 0.2

        Args:
            action: What the transaction reads, for error messages.
        """
        with store_errors(action), self._sessions.begin() as session:
            session.connection(execution_options={READ_ONLY: True})
            yield session

    def upgrade(self, revision: str = "head") -> None:
        """Migrate the schema to ``revision`` (the newest by default).

        Raises:
            StoreError: The database failed or the revision is unknown.
        """
        # alembic is imported on use: it adds ~0.1 s to every import of the plugin host
        import alembic.command  # noqa: PLC0415
        import alembic.config  # noqa: PLC0415
        import alembic.util  # noqa: PLC0415

        config = alembic.config.Config()
        config.set_main_option("script_location", MIGRATIONS)
        with store_errors(f"upgrade schema to {revision}"), self._engine.begin() as conn:
            config.attributes["connection"] = conn
            try:
                alembic.command.upgrade(config, revision)
            except alembic.util.CommandError as exc:
                raise StoreError(f"upgrade schema to {revision}: {exc}") from exc

    def revision(self) -> str | None:
        """Return the schema revision of the database (``None`` before any migration)."""
        from alembic.runtime.migration import MigrationContext  # noqa: PLC0415

        with store_errors("read schema revision"), self._engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def close(self) -> None:
        """Close every pooled connection (the store can be used again afterwards)."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _migration_filter(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Hide the full-text objects the migrations create by hand from autogenerate."""
    del obj, reflected, compare_to
    if type_ == "table" and (name or "").startswith("kb_articles_fts"):
        return False
    return not (type_ in {"column", "index"} and name in {"search", "ix_kb_articles_search"})


def create_store(
    url: str = DEFAULT_URL, *, schema: str | None = None, upgrade: bool = True
) -> Store:
    """Open the database at ``url`` and bring its schema up to date.

    Args:
        url: ``sqlite:///file.db`` (the default, in the current directory) or
            ``postgresql+psycopg://user@host/db``.
        schema: PostgreSQL only: work inside this schema (created if missing).
        upgrade: Run the shipped migrations first. Turn off when deployments
            migrate explicitly with ``callcenter db upgrade``.
    """
    store = Store(create_engine(url, schema=schema))
    if upgrade:
        store.upgrade()
    return store
