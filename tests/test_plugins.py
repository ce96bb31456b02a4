"""The plugin host: built-ins and third-party plugins through one mechanism."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import callcenter_sdk as cc
from callcenter_sdk.org import BUILTIN_ACTIVITIES

PLUGIN_DIST = Path(__file__).parent / "plugins" / "extra_activities"


class _Bad:
    @cc.hookimpl
    def callcenter_campaign_activities(self) -> list[str]:
        return ["Not A Name"]


class _Extra:
    @cc.hookimpl
    def callcenter_campaign_activities(self) -> list[str]:
        return ["fundraising"]


def test_builtins_are_registered_as_plugins() -> None:
    """The built-in activities arrive through the hook, like any plugin's."""
    host = cc.create_plugin_host(entry_points=False)
    assert host.plugin_names() == sorted(cc.DEFAULT_PLUGINS)
    assert host.campaign_activities() == frozenset(BUILTIN_ACTIVITIES)


def test_without_builtins_nothing_is_known() -> None:
    """Nothing is hard-wired: a host without built-ins knows no activity."""
    host = cc.create_plugin_host(builtins=False, entry_points=False)
    assert host.campaign_activities() == frozenset()


def test_hosts_do_not_share_plugins() -> None:
    """There is no global manager: registering on one host leaves others alone."""
    one = cc.create_plugin_host(entry_points=False, plugins=[_Extra()])
    two = cc.create_plugin_host(entry_points=False)
    assert "fundraising" in one.campaign_activities()
    assert "fundraising" not in two.campaign_activities()


def test_register_and_unregister() -> None:
    """A plugin registered by name can be removed again by that name."""
    host = cc.create_plugin_host(entry_points=False)
    host.register(_Extra(), "extra")
    assert "fundraising" in host.campaign_activities()
    host.unregister("extra")
    assert "fundraising" not in host.campaign_activities()


def test_a_plugin_answering_nonsense_is_reported() -> None:
    """An invalid activity name from a plugin raises PluginError naming it."""
    host = cc.create_plugin_host(entry_points=False, plugins=[_Bad()])
    with pytest.raises(cc.PluginError, match="Not A Name"):
        host.campaign_activities()


@pytest.mark.slow
def test_installed_distribution_is_discovered_through_its_entry_point(tmp_path: Path) -> None:
    """pip-installing a third-party distribution from tests/ makes its hooks
    visible to create_plugin_host() with no registration code at all."""
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
            "--no-build-isolation", "--no-index", "--target", str(target), str(PLUGIN_DIST),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    probe = (
        "import json, callcenter_sdk as cc\n"
        "on = cc.create_plugin_host()\n"
        "off = cc.create_plugin_host(entry_points=False)\n"
        "print(json.dumps([on.plugin_names(), sorted(on.campaign_activities()),"
        " sorted(off.campaign_activities())]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        check=True,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(target), "PATH": ""},
    ).stdout
    names, with_entry_points, without = json.loads(out)
    assert "extra_activities" in names
    assert {"debt-restructuring", "loyalty-winback"} <= set(with_entry_points)
    assert set(with_entry_points) - set(without) == {"debt-restructuring", "loyalty-winback"}
