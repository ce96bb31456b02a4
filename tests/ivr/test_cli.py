"""``callcenter ivr check``: the example flow passes, broken ones fail with the error's place."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter_sdk.cli import main

ROOT = Path(__file__).parents[2]
FIXTURES = Path(__file__).parent / "fixtures"


def test_hotline_example_is_valid_without_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    """The shipped hotline flow checks clean, even with --strict, and is summarised."""
    file = ROOT / "examples" / "hotline" / "ivr.toml"
    assert main(["ivr", "check", str(file), "--strict"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{file}: valid\n")
    assert "warning" not in out
    assert "languages: en, fr (default en)" in out
    assert "3 callback" in out


def test_broken_flow_exits_2_naming_file_and_node(capsys: pytest.CaptureFixture[str]) -> None:
    """A broken flow prints one line with the file and node path and exits 2."""
    file = FIXTURES / "unknown_target.toml"
    assert main(["ivr", "check", str(file)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"callcenter ivr: error: {file}: at nodes.main.options.1: "
        "expected the name of a node, got 'nowhere'\n"
    )


def test_warnings_are_printed_and_fail_only_when_strict(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An unreachable node is reported; --strict turns it into exit code 1."""
    file = str(FIXTURES / "unreachable.toml")
    assert main(["ivr", "check", file]) == 0
    assert "warning: " in capsys.readouterr().out
    assert main(["ivr", "check", file, "--strict"]) == 1


def test_prompts_can_be_left_for_later(capsys: pytest.CaptureFixture[str]) -> None:
    """--no-prompts accepts a flow whose recordings do not exist yet."""
    assert main(["ivr", "check", str(FIXTURES / "missing_prompt.toml"), "--no-prompts"]) == 0
    assert main(["ivr", "check", str(FIXTURES / "missing_prompt.toml")]) == 2
