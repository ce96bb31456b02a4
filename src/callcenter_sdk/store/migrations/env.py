"""Alembic environment for the migrations shipped with callcenter_sdk.

:meth:`callcenter_sdk.store.Store.upgrade` passes its open connection in
``config.attributes["connection"]``; the ``alembic`` command line works too,
with ``sqlalchemy.url`` set in its ini file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alembic import context

from callcenter_sdk.store._engine import create_engine
from callcenter_sdk.store._rows import Base
from callcenter_sdk.store._store import _migration_filter

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=_migration_filter,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


_main()
