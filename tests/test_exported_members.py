"""Every public package exports exactly its public names."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import callcenter_sdk


def _public_packages() -> list[str]:
    names = ["callcenter_sdk"]
    for info in pkgutil.walk_packages(callcenter_sdk.__path__, "callcenter_sdk."):
        leaf = info.name.rsplit(".", 1)[-1]
        if info.ispkg and not leaf.startswith("_") and ".cli" not in info.name:
            names.append(info.name)
    return names


@pytest.mark.parametrize("package", _public_packages())
def test_all_lists_every_reexported_name(package: str) -> None:
    """__all__ names only things that exist, has no duplicates, and lists every
    public attribute re-exported from a private module (ruff RUF022 keeps it sorted)."""
    module = importlib.import_module(package)
    exported = list(module.__all__)
    assert len(exported) == len(set(exported)), f"{package}.__all__ has duplicates"
    for name in exported:
        assert hasattr(module, name), f"{package}.__all__ names missing {name!r}"
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith(package + "._")
    }
    assert public <= set(exported), f"{package} does not list {sorted(public - set(exported))}"
