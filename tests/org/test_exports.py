"""The public surface of callcenter_sdk.org is complete and sorted."""

from __future__ import annotations

import importlib

import pytest

from callcenter_sdk import org

MODULES = ["_index", "_model", "_org", "_permissions", "_plugin", "_seats", "_toml"]


@pytest.mark.parametrize("name", MODULES)
def test_every_public_name_is_reexported(name: str) -> None:
    """What a private module declares public is importable from callcenter_sdk.org."""
    module = importlib.import_module(f"callcenter_sdk.org.{name}")
    public = getattr(module, "__all__", [])
    for attribute in public:
        assert getattr(org, attribute) is getattr(module, attribute)
        assert attribute in org.__all__


def test_all_is_sorted_and_resolves() -> None:
    """__all__ is sorted (constants first, as ruff sorts it) and names real objects."""
    assert org.__all__ == sorted(org.__all__, key=lambda n: (not n.isupper(), n))
    for attribute in org.__all__:
        assert hasattr(org, attribute)
