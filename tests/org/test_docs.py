"""The examples in docs/org.md run and say what they claim."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from callcenter_sdk import ConfigError
from callcenter_sdk.org import Org, loads_org

ROOT = Path(__file__).parents[2]
DOC = (ROOT / "docs" / "org.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC, flags=re.DOTALL)


def test_python_examples_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each Python block runs from the repository root; test functions in them pass."""
    monkeypatch.chdir(ROOT)
    blocks = _blocks("python")
    assert len(blocks) == 3
    for block in blocks:
        namespace: dict[str, Any] = {}
        exec(compile(block, "docs/org.md", "exec"), namespace)  # noqa: S102 - our own docs
        for name, value in namespace.items():
            if name.startswith("test_"):
                value()
        if "org" in namespace:
            assert isinstance(namespace["org"], Org)


def test_toml_example_uses_only_real_keys() -> None:
    """The TOML block parses, and its only fault is the people it says are left out."""
    (block,) = _blocks("toml")
    tomllib.loads(block)
    with pytest.raises(ConfigError) as info:
        loads_org(block)
    assert info.value.expected.startswith("the id of a person with role")
