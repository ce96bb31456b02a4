"""Broken flow files: each mistake is a ConfigError naming the file, the node and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter_sdk import ConfigError
from callcenter_sdk.ivr import FlowWarning, load_flow

FIXTURES = Path(__file__).parent / "fixtures"

# fixture -> (path inside the file, what was expected, what was found)
BROKEN: dict[str, tuple[tuple[str | int, ...], str, object]] = {
    "unknown_target": (("nodes", "main", "options", "1"), "the name of a node", "nowhere"),
    "unknown_start": (("flow", "start"), "the name of a node", "begin"),
    "missing_prompt": (
        ("nodes", "main", "prompts", 1),
        "a prompt that exists in 'en' (shipped, or in no prompt_dirs)",
        "no_such_prompt",
    ),
    "missing_prompt_in_one_language": (
        ("nodes", "main", "prompts", 0),
        f"a prompt that exists in 'fr' (shipped, or in {FIXTURES / 'prompts'})",
        "fixture_only",
    ),
    "bad_digit_map": (("nodes", "main", "options", "x"), "keys made of 0-9 * # A-D", "x"),
    "ambiguous_digit_map": (
        ("nodes", "main", "options", "12"),
        "keys that do not start with another key ('1')",
        "12",
    ),
    "terminator_in_digit_map": (
        ("nodes", "main", "options", "1#"),
        "keys without the terminator '#'",
        "1#",
    ),
    "cycle_without_input": (
        ("nodes", "mark"),
        "a flow whose loops wait for the caller",
        "check -> mark -> check",
    ),
    "bad_timeout_type": (
        ("nodes", "main", "first_digit_timeout"),
        "a number of seconds",
        "five",
    ),
    "bad_prompts_type": (("nodes", "main", "prompts", 1), "a string", 3),
    "bad_skill_level": (("nodes", "main", "skills", "billing"), "a skill level from 1 to 5", 9),
    "unknown_kind": (
        ("nodes", "main", "kind"),
        "one of callback, collect, hangup, hours, menu, play, queue, set, switch, voicemail, wait",
        "dance",
    ),
    "unknown_field": (("nodes", "main", "timeout"), "a field of a play node: prompts, next", None),
    "missing_field": (
        ("nodes", "main", "on_failure"),
        "a value (a menu node needs 'on_failure')",
        None,
    ),
    "unknown_schedule": (
        ("nodes", "main", "schedule"),
        "the name of a schedule of the flow",
        "office",
    ),
    "bad_opening_hours": (("schedules", "office"), "a valid schedule", None),
    "bad_timezone": (("schedules", "office"), "a valid schedule", None),
    "bad_holiday": (
        ("schedules", "office", "holidays", 0),
        "a date such as 2026-12-25",
        "Christmas",
    ),
    "unknown_language": (
        ("nodes", "main", "values", "language"),
        "one of the flow's languages ['en', 'fr']",
        "de",
    ),
    "negative_retries": (("nodes", "main"), "a valid menu node", None),
    "not_toml": ((), "valid TOML", None),
    "unknown_table": (("menus",), "only the tables flow, schedules and nodes", None),
}

DETAILS = {
    "bad_opening_hours": "opening hours need 00:00 <= start < end <= 24:00: 18:00-08:00",
    "bad_timezone": "unknown time zone 'Mars/Olympus_Mons'",
    "negative_retries": "retries must be >= 0, got -1",
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_flow_file_names_file_node_and_key(name: str) -> None:
    """Each broken fixture raises exactly its ConfigError: file, path, expectation, finding."""
    file = FIXTURES / f"{name}.toml"
    path, expected, got = BROKEN[name]
    with pytest.raises(ConfigError) as info:
        load_flow(file)
    error = info.value
    assert (error.file, error.path, error.expected, error.got) == (str(file), path, expected, got)
    if name in DETAILS:
        assert error.detail == DETAILS[name]
    assert str(error).startswith(f"{file}: at {error.dotted_path}: expected {expected}")


def test_every_fixture_is_covered() -> None:
    """No fixture file sits there untested (the unreachable one has its own test)."""
    on_disk = {p.stem for p in FIXTURES.glob("*.toml")}
    assert on_disk == set(BROKEN) | {"unreachable"}


def test_unreachable_node_warns_with_file_and_node() -> None:
    """A node no call can reach is a FlowWarning naming it; the flow still loads."""
    file = FIXTURES / "unreachable.toml"
    message = f"{file}: at nodes.orphan: no call can reach this node from 'main'"
    with pytest.warns(FlowWarning) as record:
        flow = load_flow(file)
    assert [str(w.message) for w in record] == [message]
    assert set(flow.nodes) == {"main", "orphan"}


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    """A flow file that cannot be read is a ConfigError naming it."""
    with pytest.raises(ConfigError, match="a readable flow file") as info:
        load_flow(tmp_path / "absent.toml")
    assert info.value.file == str(tmp_path / "absent.toml")


def test_prompt_check_can_wait_for_the_recordings() -> None:
    """prompts=False loads a flow whose prompts are not recorded yet."""
    flow = load_flow(FIXTURES / "missing_prompt.toml", prompts=False)
    assert flow.start == "main"
