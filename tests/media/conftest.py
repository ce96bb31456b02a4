"""The media tests marked ``sip`` run real pjsua2 workers: skip them, visibly, without it."""

from __future__ import annotations

import importlib.util

import pytest

NO_PJSUA2 = pytest.mark.skip(reason="pjsua2 is not installed (pip install pjsua2-python)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip every ``sip``-marked test of this directory when pjsua2 cannot be found."""
    if importlib.util.find_spec("pjsua2") is not None:
        return
    for item in items:
        if item.get_closest_marker("sip") and "tests/media/" in item.nodeid:
            item.add_marker(NO_PJSUA2)
