"""The exception hierarchy."""

from __future__ import annotations

import pytest

import callcenter_sdk as cc


@pytest.mark.parametrize(
    ("exc", "builtin"),
    [
        (cc.ConfigError, ValueError),
        (cc.ValidationError, ValueError),
        (cc.RecordError, ValueError),
        (cc.NotFoundError, LookupError),
        (cc.BackendUnavailableError, ImportError),
        (cc.TransitionError, cc.StateError),
    ],
)
def test_errors_subclass_the_root_and_the_expected_builtin(
    exc: type[Exception], builtin: type[Exception]
) -> None:
    """Generic handlers (except ValueError/LookupError/ImportError) and the
    library root both catch each error."""
    assert issubclass(exc, cc.CallCenterError)
    assert issubclass(exc, builtin)


def test_config_error_names_file_path_and_expectation() -> None:
    """A configuration error says where the mistake is and what was expected."""
    err = cc.ConfigError("org.toml", ("campaigns", 2, "floor"), "a floor id", got=7)
    assert err.dotted_path == "campaigns[2].floor"
    assert str(err) == "org.toml: at campaigns[2].floor: expected a floor id, got 7"


def test_config_error_on_the_root_path() -> None:
    """An empty path is rendered as <root>, never as an empty string."""
    assert "at <root>:" in str(cc.ConfigError("x.toml", (), "a table"))


def test_transition_error_message() -> None:
    """A transition error names the object, both states and the reason."""
    err = cc.TransitionError("agent a1", "offline", "busy", "not logged in")
    assert (err.source, err.target) == ("offline", "busy")
    assert str(err) == "agent a1: illegal transition offline -> busy: not logged in"
