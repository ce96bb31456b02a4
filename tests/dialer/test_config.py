"""Campaigns in TOML: a full file, and every mistake named by file, path and expectation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from callcenter_sdk import ConfigError, ValidationError
from callcenter_sdk.cti import DENIED_BY_DEFAULT, OutboundPolicy
from callcenter_sdk.dialer import (
    CallResult,
    Campaign,
    DialMode,
    Recycle,
    load_campaign,
    loads_campaign,
)
from callcenter_sdk.kpi import DropRegime

HERE = Path(__file__).parent / "campaigns"


def test_a_full_campaign_file_loads() -> None:
    """Every section of the documented format becomes the campaign's value."""
    c = load_campaign(HERE / "spring.toml")
    assert c.mode is DialMode.PREDICTIVE
    assert c.regime is DropRegime.OFCOM
    assert c.drop_quarantine_s == 72 * 3600
    assert (c.max_attempts, c.min_retry_s, c.require_consent) == (4, 1800, True)
    assert c.window.start == dt.time(9, 30)
    assert c.window.days == frozenset(range(6))
    assert c.window_for("FR").start == dt.time(10, 0)
    assert c.information is not None
    assert c.information.seconds == 6
    assert c.recycling == {
        CallResult.NO_ANSWER: Recycle(after_s=7200),
        CallResult.BUSY: Recycle(after_s=900, max_attempts=3),
    }
    assert list(c.dispositions) == ["sale", "call-back", "think-it-over", "remove-me"]
    assert c.disposition("sale").converted
    assert c.disposition("think-it-over").recycle == Recycle(after_s=172800)
    assert c.disposition("remove-me").do_not_call
    assert c.outbound == OutboundPolicy(
        allowed=[r"\+33[1-7]\d{8}", r"\+44\d{10}"],
        denied=[*DENIED_BY_DEFAULT, r"\+3336\d{6}"],  # added to the default ranges
        per_number_per_hour=2,
        per_hour=None,
    )


def test_an_outbound_table_may_drop_the_default_denied_ranges_only_knowingly() -> None:
    """``default_denied = false`` is the one way a campaign file dials a premium range."""
    text = 'name = "x"\nmode = "progressive"\n[outbound]\nallowed = [\'\\+\\d+\']\n'
    default = loads_campaign(text).outbound
    assert default is not None
    assert default.denied == DENIED_BY_DEFAULT
    bare = loads_campaign(text + "default_denied = false").outbound
    assert bare is not None
    assert bare.denied == ()
    assert bare.judge("+33899123456") == "+33899123456"


def test_a_minimal_file_takes_the_defaults() -> None:
    """Only a name: a progressive campaign needs nothing else."""
    c = loads_campaign('name = "x"\nmode = "progressive"')
    assert c == Campaign(name="x", mode="progressive")


@pytest.mark.parametrize(
    ("text", "path", "expected"),
    [
        ('mode = "power"', "name", "the campaign's name"),
        ('name = "x"\nmode = 3', "mode", "preview, progressive"),
        ('name = "x"\ncolour = "red"', "colour", "one of amd_false_positive_rate"),
        ('name = "x"\nmax_attempts = true', "max_attempts", "a whole number"),
        ('name = "x"\nmode = "progressive"\ndrop_cap = 0.05', "<root>", "a valid campaign"),
        ('name = "x"\nmode = "predictive"', "<root>", "a valid campaign"),
        ('name = "x"\n[window]\nstart = 9', "window.start", "a time such as"),
        ('name = "x"\n[window]\nstart = "21:00"\nend = "09:00"', "window", "calling window"),
        ('name = "x"\n[window]\ndays = [7]', "window", "calling window"),
        ('name = "x"\n[recycling]\nlater = { after_s = 1 }', "recycling.later", "one of busy"),
        ('name = "x"\n[recycling]\nbusy = { after_s = -1 }', "recycling.busy", "recycling rule"),
        ('name = "x"\n[information]\ncompany = "A"', "information.callback_number", "phone"),
        ('name = "x"\ndispositions = 1', "dispositions", "an array"),
        ('name = "x"\n[[dispositions]]\nlabel = "L"', "dispositions[0].code", "code"),
        ('name = "x"\n[[dispositions]]\ncode = ""', "dispositions[0]", "a valid disposition"),
        (
            'name = "x"\n[[dispositions]]\ncode = "a"\n[[dispositions]]\ncode = "a"',
            "dispositions[1].code",
            "not used by an earlier",
        ),
        ('name = "x"\n[outbound]\nper_hour = 10', "outbound.allowed", "the number ranges"),
        ('name = "x"\n[outbound]\nallowed = "+33"', "outbound.allowed", "regular expressions"),
        ('name = "x"\n[outbound]\nallowed = ["("]', "outbound", "a valid outbound policy"),
        ('name = "x"\n[outbound]\nallowed = []\nper_hour = 0', "outbound", "a valid outbound"),
        ('name = "x"\n[outbound]\nallowed = []\nper_hour = "1"', "outbound.per_hour", "false"),
        ('name = "x"\n[outbound]\nallowed = []\nmax = 1', "outbound.max", "one of allowed"),
        (
            'name = "x"\n[[dispositions]]\ncode = "a"\nrecycle = { after_s = "soon" }',
            "dispositions[0].recycle.after_s",
            "seconds",
        ),
    ],
)
def test_mistakes_name_the_file_the_path_and_the_expectation(
    text: str, path: str, expected: str
) -> None:
    """Each broken campaign is a ConfigError at the right place."""
    with pytest.raises(ConfigError) as info:
        loads_campaign(text, source="spring.toml")
    assert info.value.file == "spring.toml"
    assert info.value.dotted_path == path
    assert expected in info.value.expected


def test_unreadable_files_and_bad_modes(tmp_path: Path) -> None:
    """A missing file and invalid TOML are ConfigErrors; a bad mode in Python is a
    ValidationError listing the modes."""
    with pytest.raises(ConfigError, match="readable"):
        load_campaign(tmp_path / "none.toml")
    with pytest.raises(ConfigError, match="valid TOML"):
        loads_campaign("name = ")
    with pytest.raises(ValidationError, match="preview, progressive, power, predictive"):
        Campaign(name="x", mode="turbo")
    with pytest.raises(ConfigError) as info:
        loads_campaign('name = "x"\nmode = "turbo"')
    assert "turbo" in info.value.detail


def test_the_documented_campaign_loads() -> None:
    """The campaign file shown in docs/dialer.md is valid."""
    text = (Path(__file__).parents[2] / "docs" / "dialer.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in text.split("```toml\n")[1:]]
    (block,) = [b for b in blocks if "[[dispositions]]" in b]
    c = loads_campaign(block, source="docs/dialer.md")
    assert c.window_for("FR").days == frozenset(range(6))
    assert c.recycling[CallResult.BUSY] == Recycle(after_s=900, max_attempts=3)


def test_the_documented_python_campaign_runs() -> None:
    """The first Python example of docs/dialer.md builds the campaign it describes."""
    text = (Path(__file__).parents[2] / "docs" / "dialer.md").read_text(encoding="utf-8")
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, object] = {}
    exec(compile(code, "docs/dialer.md", "exec"), namespace)  # noqa: S102 - our own docs
    campaign = namespace["campaign"]
    assert isinstance(campaign, Campaign)
    assert campaign.drop_quarantine_s == 72 * 3600
    assert len(campaign.dispositions) == 6


def test_the_documented_outbound_table_loads() -> None:
    """The [outbound] table shown in docs/dialer.md is valid and keeps the default denied
    ranges, its own added."""
    text = (Path(__file__).parents[2] / "docs" / "dialer.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in text.split("```toml\n")[1:]]
    (block,) = [b for b in blocks if b.startswith("[outbound]")]
    policy = loads_campaign('name = "x"\nmode = "progressive"\n' + block).outbound
    assert policy is not None
    assert policy.denied[: len(DENIED_BY_DEFAULT)] == DENIED_BY_DEFAULT
    assert policy.judge("+33142685300") == "+33142685300"
