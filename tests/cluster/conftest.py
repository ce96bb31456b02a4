"""The network namespaces and private PostgreSQL the chaos tests share (``netns.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from . import netns
from .netns import Network, PostgreSQL


@pytest.fixture(scope="session")
def private() -> Iterator[tuple[Network, PostgreSQL]]:
    """The namespaces and the private PostgreSQL, made once for the session (skipped, with the
    reason, where namespaces cannot be made)."""
    netns.require()
    with netns.network(3) as net, netns.postgresql(net) as server:
        yield net, server
