"""The ``--url`` option of the commands that open the store, checked as it is parsed."""

from __future__ import annotations

import argparse
import importlib

__all__ = ["database_url"]

_EXAMPLES = "sqlite:///cc.db (a file) or postgresql+psycopg://user@host/db"


def database_url(text: str) -> str:
    """Check a database URL given on the command line (an ``argparse`` type).

    A bare file name (``cc.db``) is refused with the URL to write instead, and
    a PostgreSQL URL without psycopg installed names the extra to install, so
    neither reaches SQLAlchemy as a traceback.

    Raises:
        argparse.ArgumentTypeError: The URL is not one the store can open here.
    """
    from sqlalchemy.engine import make_url  # noqa: PLC0415 - only commands with --url pay for it
    from sqlalchemy.exc import ArgumentError  # noqa: PLC0415

    from ..store import DEFAULT_URL  # noqa: PLC0415

    if text == DEFAULT_URL:
        return text
    try:
        url = make_url(text)
    except ArgumentError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a database URL: write {_EXAMPLES}"
        ) from None
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise argparse.ArgumentTypeError(f"{text!r}: expected {_EXAMPLES}")
    if backend == "postgresql":
        if url.get_driver_name() != "psycopg":
            raise argparse.ArgumentTypeError(
                f"{url.drivername!r}: write postgresql+psycopg:// (psycopg 3)"
            )
        try:
            importlib.import_module("psycopg")
        except ImportError:
            raise argparse.ArgumentTypeError(
                "PostgreSQL needs psycopg, which is not installed:"
                " pip install 'callcenter_sdk[postgresql]'"
            ) from None
    return text
