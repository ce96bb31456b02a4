"""Loading orgs from TOML: the example, the valid fixture, and every broken fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter_sdk import ConfigError, create_plugin_host, hookimpl
from callcenter_sdk.org import (
    BUILTIN_ACTIVITIES,
    Direction,
    OrganisationKind,
    Role,
    dumps_org,
    load_org,
    loads_org,
)

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLE = Path(__file__).parents[2] / "examples" / "org" / "acme.toml"

KEYS_OF_CAMPAIGN = (
    "activity, analysts, direction, floor, id, name, organisation, project_manager, seats"
)

# (fixture, path inside it, what the error says was expected, what it says was found)
BROKEN = [
    ("unknown_key", "campaigns[1].flor", f"one of the keys {KEYS_OF_CAMPAIGN}", "flor"),
    (
        "unknown_table",
        "team",
        "one of the keys campaigns, centers, floors, organisations, people, teams",
        "team",
    ),
    ("not_an_array", "organisations", "an array of tables ([[organisations]])", "acme"),
    ("not_toml", "<root>", "valid TOML", None),
    ("dangling_floor", "campaigns[1].floor", "the id of a floor", "f9"),
    ("dangling_person", "teams[0].supervisor", "the id of a person with role supervisor", "ghost"),
    ("wrong_role", "floors[0].manager", "the id of a person with role floor-manager", "a1"),
    ("team_cycle", "teams[1].parent", "a parent team that does not contain this team", "t3"),
    ("parent_other_campaign", "teams[1].parent", "the id of a team of campaign c-sales", "t1"),
    ("duplicate_id", "people[2].id", "an id not already used by people[1]", "fm"),
    ("bad_id", "campaigns[1].id", "an id made of letters, digits, '.', '_', '@' or '-'", "c sales"),
    ("seats_not_a_number", "centers[0].seats", "a whole number from 1 to 100000", "100"),
    (
        "proficiency_out_of_range",
        "people[3].profile.skills.billing",
        "a whole number from 1 to 5",
        7,
    ),
    (
        "unknown_channel",
        "people[3].profile.capacity.fax",
        "a channel: voice, email, callback, chat, sms, social, video, ticket",
        "fax",
    ),
    (
        "bad_language",
        "people[3].profile.languages[1]",
        'a language tag such as "fr" or "en-GB"',
        "French",
    ),
    (
        "bad_sip_uri",
        "people[3].profile.sip_uri",
        'a SIP URI such as "sip:alice@10.0.0.5"',
        "a1@127.0.0.1",
    ),
    (
        "unknown_activity",
        "campaigns[1].activity",
        "one of the known activities: " + ", ".join(sorted(BUILTIN_ACTIVITIES)),
        "knitting",
    ),
    ("bad_direction", "campaigns[1].direction", "one of inbound, outbound", "sideways"),
    (
        "missing_direction",
        "campaigns[1].direction",
        "a value for 'direction' (it is required)",
        None,
    ),
    ("seat_assigned_twice", "campaigns[1].seats", "seats not assigned to another campaign", 9),
    (
        "seat_beyond_center",
        "campaigns[1].seats",
        "seat numbers from 1 to 100 (the seats of center lyon)",
        101,
    ),
    (
        "bad_seat_range",
        "campaigns[1].seats[0]",
        'a seat number from 1 to 100000 or a range such as "1-10"',
        "17-11",
    ),
    ("agent_in_two_teams", "teams[1].agents[1]", "an agent who is in no other team", "a1"),
]


def test_every_broken_fixture_is_listed() -> None:
    """Each broken_*.toml file has its expected error in BROKEN, and vice versa."""
    on_disk = {p.stem.removeprefix("broken_") for p in FIXTURES.glob("broken_*.toml")}
    assert on_disk == {name for name, *_ in BROKEN}


@pytest.mark.parametrize(("name", "path", "expected", "got"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_file_names_file_path_and_expectation(
    name: str, path: str, expected: str, got: object
) -> None:
    """The broken fixture fails with an error naming its file, the path and the expectation."""
    file = FIXTURES / f"broken_{name}.toml"
    with pytest.raises(ConfigError) as info:
        load_org(file)
    error = info.value
    assert (error.file, error.dotted_path, error.expected, error.got) == (
        str(file),
        path,
        expected,
        got,
    )
    assert str(error).startswith(f"{file}: at {path}: expected {expected}")


def test_details_point_at_the_other_side_of_a_conflict() -> None:
    """Conflicts say where the clashing value already is; loops show the loop."""
    cases = {
        "seat_assigned_twice": "seat 9 of lyon is assigned to campaigns[0] (c-hot)",
        "agent_in_two_teams": "already at teams[0].agents[0]",
        "team_cycle": "loop t2 -> t3 -> t2",
        "wrong_role": "a1 has role agent",
        "not_toml": "line 4",
    }
    for name, detail in cases.items():
        with pytest.raises(ConfigError) as info:
            load_org(FIXTURES / f"broken_{name}.toml")
        assert detail in info.value.detail, name


def test_valid_fixture_loads_every_field() -> None:
    """The valid fixture becomes the org it describes, ranges and profiles included."""
    org = load_org(FIXTURES / "valid.toml")
    assert org.source == str(FIXTURES / "valid.toml")
    assert org.organisation("acme").kind is OrganisationKind.INTERNAL
    sales = org.campaign("c-sales")
    assert sales.direction is Direction.OUTBOUND
    assert sales.seats == frozenset(range(11, 19))
    profile = org.person("a1").profile
    assert profile is not None
    assert profile.proficiency("billing") == 4
    assert profile.capacity_for("chat") == 3
    assert profile.capacity_for("email") == 0
    assert profile.languages == {"fr"}
    assert profile.sip_uri == "sip:a1@127.0.0.1"
    assert org.person("a2").profile is None
    assert org.supervisor_of("a1") == org.person("sup")


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    """A file that cannot be read is reported as a ConfigError naming it."""
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"nope\.toml: at <root>: expected a readable"):
        load_org(missing)


class _KnittingPlugin:
    @hookimpl
    def callcenter_campaign_activities(self) -> list[str]:
        return ["knitting"]


def test_plugin_activities_are_accepted() -> None:
    """An activity unknown to the built-ins loads once a plugin provides it."""
    text = (FIXTURES / "broken_unknown_activity.toml").read_text(encoding="utf-8")
    with pytest.raises(ConfigError):
        loads_org(text, activities=create_plugin_host(entry_points=False).campaign_activities())
    host = create_plugin_host(entry_points=False, plugins=[_KnittingPlugin()])
    org = loads_org(text, activities=host.campaign_activities())
    assert org.campaign("c-sales").activity == "knitting"


def test_example_center_is_a_hundred_seat_center() -> None:
    """The demo org loads; its campaigns got 8 to 10 seats each out of 100."""
    org = load_org(EXAMPLE)
    (center,) = org.centers
    assert center.seats == 100
    sizes = [len(c.seats) for c in org.campaigns]
    assert all(8 <= size <= 10 for size in sizes)
    assert len(org.free_seats(center.id)) == 100 - sum(sizes)
    for agent in org.people_with_role(Role.AGENT):
        assert org.escalation_chain(agent.id)[-1].id == center.director


def test_example_survives_a_round_trip() -> None:
    """The example written back as TOML loads as the same org, seat ranges compressed."""
    org = load_org(EXAMPLE)
    text = dumps_org(org)
    assert 'seats = ["1-10"]' in text
    assert loads_org(text) == org


@pytest.mark.parametrize("seats", ['"1-1000000000"', "0", '"0-3"', "100001"])
def test_absurd_seat_numbers_are_refused_before_they_fill_memory(seats: str) -> None:
    """A seat range beyond any center is refused while reading, without expanding it."""
    text = (FIXTURES / "valid.toml").read_text(encoding="utf-8")
    text = text.replace('seats = ["1-10"]', f"seats = [{seats}]")
    with pytest.raises(ConfigError) as info:
        loads_org(text)
    assert info.value.dotted_path == "campaigns[0].seats[0]"
