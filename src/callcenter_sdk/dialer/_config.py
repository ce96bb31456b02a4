r"""Campaigns from TOML: dial mode, caps, windows, recycling, dispositions, the drop message.

::

    name = "spring"
    mode = "predictive"
    regime = "ofcom"
    amd_false_positive_rate = 0.01
    max_attempts = 5
    min_retry_s = 3600

    [window]                      # the lead's local time; 09:00-21:00 every day by default
    start = "09:00"
    end = "21:00"
    days = [0, 1, 2, 3, 4, 5]     # Monday .. Saturday

    [country_windows.FR]
    start = "10:00"
    end = "20:00"

    [information]                 # played on a dropped call
    company = "ACME Energy"
    callback_number = "+33142685300"

    [outbound]                    # the numbers it may dial (nothing live without it)
    allowed = ['\+33[1-5]\d{8}', '\+33[67]\d{8}']   # E.164 regexes, fully matched
    denied = ['\+3336\d{6}']      # added to the default premium and satellite ranges
    per_number_per_hour = 3       # false: no cap
    per_hour = 3600               # false: no cap

    [recycling]                   # by call result; a result left out finishes the lead
    no_answer = { after_s = 7200 }
    busy = { after_s = 900, max_attempts = 3 }

    [[dispositions]]
    code = "sale"
    converted = true

    [[dispositions]]
    code = "call-back"
    callback = true

Every key is checked; a mistake is a :class:`~callcenter_sdk.ConfigError`
naming the file, the path (``dispositions[1].recycle.after_s``) and what was
expected, including the campaign's own rules (a drop cap above 3 %, a
predictive campaign without its information message, a dial pattern that is
not a regular expression).

``[outbound]`` becomes :attr:`Campaign.outbound`: its ``denied`` ranges are
*added* to :data:`~callcenter_sdk.cti.DENIED_BY_DEFAULT` unless
``default_denied = false`` says, knowingly, that the campaign may dial them.

.. versionadded:: 0.1
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from .._errors import ConfigError, ValidationError
from ..cti import DENIED_BY_DEFAULT, OutboundPolicy
from ._model import CallingWindow, CallResult, Campaign, Disposition, InformationMessage, Recycle
from ._toml import parse_toml, read_text

__all__ = ["load_campaign", "loads_campaign"]

_Path = tuple[str | int, ...]

_SCALARS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "name": (str, "a non-empty string"),
    "mode": (str, "preview, progressive, power or predictive"),
    "ratio": ((int, float), "a number >= 1"),
    "drop_cap": ((int, float), "a number in (0, 0.03]"),
    "regime": (str, "fcc or ofcom"),
    "connect_limit_s": ((int, float), "seconds >= 0"),
    "amd_false_positive_rate": ((int, float), "a number in [0, 1]"),
    "max_attempts": (int, "a whole number >= 1"),
    "min_retry_s": ((int, float), "seconds >= 0"),
    "drop_redial_s": ((int, float), "seconds >= 0"),
    "require_consent": (bool, "true or false"),
    "ring_timeout_s": ((int, float), "seconds > 0"),
    "preview_s": ((int, float), "seconds >= 0"),
}
_TABLES = ("window", "country_windows", "information", "recycling", "dispositions", "outbound")
_OUTBOUND_KEYS = (
    "allowed",
    "denied",
    "default_denied",
    "per_number_per_hour",
    "per_hour",
    "region",
)
_DISPOSITION_KEYS: dict[str, tuple[type, str]] = {
    "code": (str, "a non-empty string"),
    "label": (str, "a string"),
    "converted": (bool, "true or false"),
    "right_party": (bool, "true or false"),
    "callback": (bool, "true or false"),
    "do_not_call": (bool, "true or false"),
}


def load_campaign(path: str | os.PathLike[str]) -> Campaign:
    """Read and check the campaign in the TOML file at ``path``.

    Raises:
        ConfigError: The file cannot be read, is not TOML or describes an
            invalid campaign; the error names the file, the path and the expectation.
    """
    text, name = read_text(path)
    return loads_campaign(text, source=name)


def loads_campaign(text: str, *, source: str = "<string>") -> Campaign:
    """Parse and check a campaign from TOML text (``source`` names it in errors)."""
    return _Reader(source).campaign(parse_toml(text, source))


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: _Path, expected: str, got: object = None, detail: str = "") -> ConfigError:
        return ConfigError(self.source, path, expected, got, detail=detail)

    def table(self, value: object, path: _Path) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, "a table", value)
        return value

    def known(self, table: Mapping[str, Any], path: _Path, keys: Any) -> None:
        unknown = sorted(set(table) - set(keys))
        if unknown:
            raise self.fail((*path, unknown[0]), f"one of {', '.join(sorted(keys))}")

    def typed(self, value: object, path: _Path, kind: type | tuple[type, ...], what: str) -> Any:
        ok = isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool)
        if not ok:
            raise self.fail(path, what, value)
        return value

    def build(self, path: _Path, what: str, factory: Any, **values: Any) -> Any:
        try:
            return factory(**values)
        except ValidationError as exc:
            raise self.fail(path, what, detail=str(exc)) from exc

    def campaign(self, doc: Mapping[str, Any]) -> Campaign:
        self.known(doc, (), [*_SCALARS, *_TABLES])
        values: dict[str, Any] = {}
        if "name" not in doc:
            raise self.fail(("name",), "the campaign's name")
        for key, (kind, what) in _SCALARS.items():
            if key in doc:
                values[key] = self.typed(doc[key], (key,), kind, what)
        if "window" in doc:
            values["window"] = self.window(doc["window"], ("window",))
        if "country_windows" in doc:
            windows = self.table(doc["country_windows"], ("country_windows",))
            values["country_windows"] = {
                country: self.window(w, ("country_windows", country))
                for country, w in windows.items()
            }
        if "information" in doc:
            values["information"] = self.information(doc["information"])
        if "recycling" in doc:
            values["recycling"] = self.recycling(doc["recycling"])
        if "dispositions" in doc:
            values["dispositions"] = self.dispositions(doc["dispositions"])
        if "outbound" in doc:
            values["outbound"] = self.outbound(doc["outbound"])
        return self.build((), "a valid campaign", Campaign, **values)  # type: ignore[no-any-return]

    def window(self, raw: object, path: _Path) -> CallingWindow:
        table = self.table(raw, path)
        self.known(table, path, ("start", "end", "days"))
        values: dict[str, Any] = {}
        for key in ("start", "end"):
            if key in table:
                values[key] = self.typed(table[key], (*path, key), str, 'a time such as "09:00"')
        if "days" in table:
            days = table["days"]
            if not isinstance(days, list) or not all(
                isinstance(d, int) and not isinstance(d, bool) for d in days
            ):
                raise self.fail((*path, "days"), "a list of weekdays 0 (Monday) .. 6", days)
            values["days"] = days
        return self.build(path, "a valid calling window", CallingWindow, **values)  # type: ignore[no-any-return]

    def information(self, raw: object) -> InformationMessage:
        path: _Path = ("information",)
        table = self.table(raw, path)
        self.known(table, path, ("company", "callback_number", "seconds"))
        values = {
            "company": self.typed(table.get("company"), (*path, "company"), str, "a string"),
            "callback_number": self.typed(
                table.get("callback_number"), (*path, "callback_number"), str, "a phone number"
            ),
        }
        if "seconds" in table:
            values["seconds"] = self.typed(
                table["seconds"], (*path, "seconds"), (int, float), "seconds"
            )
        return self.build(path, "a valid information message", InformationMessage, **values)  # type: ignore[no-any-return]

    def patterns(self, table: Mapping[str, Any], path: _Path, key: str) -> list[str]:
        value = table.get(key, [])
        path = (*path, key)
        if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
            raise self.fail(path, "a list of regular expressions (strings)", value)
        return value

    def cap(self, table: Mapping[str, Any], path: _Path, key: str) -> int | None:
        value = table[key]
        if value is False:
            return None
        return self.typed(value, (*path, key), int, "a whole number >= 1, or false for no cap")  # type: ignore[no-any-return]

    def outbound(self, raw: object) -> OutboundPolicy:
        path: _Path = ("outbound",)
        table = self.table(raw, path)
        self.known(table, path, _OUTBOUND_KEYS)
        if "allowed" not in table:
            raise self.fail((*path, "allowed"), "the number ranges the campaign may dial")
        denied = self.patterns(table, path, "denied")
        keep = self.typed(
            table.get("default_denied", True), (*path, "default_denied"), bool, "true or false"
        )
        values: dict[str, Any] = {
            "allowed": self.patterns(table, path, "allowed"),
            "denied": [*(DENIED_BY_DEFAULT if keep else ()), *denied],
        }
        for key in ("per_number_per_hour", "per_hour"):
            if key in table:
                values[key] = self.cap(table, path, key)
        if "region" in table:
            values["region"] = self.typed(table["region"], (*path, "region"), str, "a country")
        return self.build(path, "a valid outbound policy", OutboundPolicy, **values)  # type: ignore[no-any-return]

    def recycle(self, raw: object, path: _Path) -> Recycle:
        table = self.table(raw, path)
        self.known(table, path, ("after_s", "max_attempts"))
        values: dict[str, Any] = {
            "after_s": self.typed(table.get("after_s"), (*path, "after_s"), (int, float), "seconds")
        }
        if "max_attempts" in table:
            values["max_attempts"] = self.typed(
                table["max_attempts"], (*path, "max_attempts"), int, "a whole number >= 1"
            )
        return self.build(path, "a valid recycling rule", Recycle, **values)  # type: ignore[no-any-return]

    def recycling(self, raw: object) -> dict[CallResult, Recycle]:
        path: _Path = ("recycling",)
        table = self.table(raw, path)
        self.known(table, path, [r.value for r in CallResult])
        return {CallResult(k): self.recycle(v, (*path, k)) for k, v in table.items()}

    def dispositions(self, raw: object) -> list[Disposition]:
        if not isinstance(raw, list):
            raise self.fail(("dispositions",), "an array of [[dispositions]] tables", raw)
        out = []
        codes: set[str] = set()
        for i, item in enumerate(raw):
            path: _Path = ("dispositions", i)
            table = self.table(item, path)
            self.known(table, path, [*_DISPOSITION_KEYS, "recycle"])
            if "code" not in table:
                raise self.fail((*path, "code"), "the disposition's code")
            values: dict[str, Any] = {}
            for key, (kind, what) in _DISPOSITION_KEYS.items():
                if key in table:
                    values[key] = self.typed(table[key], (*path, key), kind, what)
            if "recycle" in table:
                values["recycle"] = self.recycle(table["recycle"], (*path, "recycle"))
            disposition: Disposition = self.build(
                path, "a valid disposition", Disposition, **values
            )
            if disposition.code in codes:
                raise self.fail(
                    (*path, "code"), "a code not used by an earlier disposition", disposition.code
                )
            codes.add(disposition.code)
            out.append(disposition)
        return out
