"""The network namespaces and private PostgreSQL the chaos tests share (``netns.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from . import netns
from .netns import Network, PostgreSQL


@pytest.fixture(scope="module")
def private() -> Iterator[tuple[Network, PostgreSQL]]:
    """The namespaces and the private PostgreSQL, made once for each test module (skipped, with
    the reason, where namespaces cannot be made): the SIP suite never inherits a network the
    faults of ``test_chaos.py`` went through (once, in a whole-suite run, none of its tests
    could reach the database after them)."""
    netns.require()
    with netns.network(3) as net, netns.postgresql(net) as server:
        yield net, server
