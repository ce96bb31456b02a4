"""The exceptions of callcenter_sdk, all rooted in :class:`CallCenterError`.

Catch ``CallCenterError`` to handle anything the library raises on purpose.
Subclasses also derive from the built-in a caller would naturally expect
(``ValueError`` for bad values, ``LookupError`` for unknown ids), so generic
handlers keep working::

    CallCenterError
    ├── ConfigError (ValueError)          bad configuration: names file, path, expectation
    ├── ValidationError (ValueError)      a value or record that breaks an invariant
    │   └── RecordError                   inconsistent contact records (answer before arrival)
    ├── NotFoundError (LookupError)       an id that names nothing
    ├── StateError                        an operation illegal in the current state
    │   ├── TransitionError               an illegal agent/contact/ticket state transition
    │   └── ConflictError                 someone else saved first (a stale version)
    ├── PermissionDenied                  the person's role does not allow the action
    ├── PluginError                       a plugin misbehaved (raised, answered nonsense, too slow)
    ├── StoreError                        the database failed (SQLAlchemy errors are wrapped)
    └── MediaError                        the media backend failed (pjsua2 errors are wrapped)
        └── BackendUnavailableError (ImportError)  the backend cannot be loaded here

Subpackages may subclass these leaves; they never add a second root.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "BackendUnavailableError",
    "CallCenterError",
    "ConfigError",
    "ConflictError",
    "MediaError",
    "NotFoundError",
    "PermissionDenied",
    "PluginError",
    "RecordError",
    "StateError",
    "StoreError",
    "TransitionError",
    "ValidationError",
]


class CallCenterError(Exception):
    """Root of every exception the library raises on purpose."""


class ConfigError(CallCenterError, ValueError):
    """A configuration file or value is wrong.

    The message always says *where* (file and a dotted path inside it) and
    *what was expected*, so a user can fix the file without reading our code.

    Attributes:
        file: The file that holds the mistake, or ``"<python>"`` for objects
            built in code.
        path: The location inside the file, as a sequence of keys and indexes
            (``("campaigns", 2, "floor")``).
        expected: What a correct value looks like, in words.
        got: A short repr of what was found instead, if useful.
    """

    def __init__(
        self,
        file: str,
        path: Sequence[str | int],
        expected: str,
        got: object = None,
        *,
        detail: str = "",
    ) -> None:
        self.file = file
        self.path = tuple(path)
        self.expected = expected
        self.got = got
        self.detail = detail
        super().__init__(self._message())

    @property
    def dotted_path(self) -> str:
        """The path rendered as ``campaigns[2].floor`` (``<root>`` when empty)."""
        out = ""
        for part in self.path:
            if isinstance(part, int):
                out += f"[{part}]"
            else:
                out += f".{part}" if out else part
        return out or "<root>"

    def _message(self) -> str:
        msg = f"{self.file}: at {self.dotted_path}: expected {self.expected}"
        if self.got is not None:
            msg += f", got {self.got!r}"
        if self.detail:
            msg += f" ({self.detail})"
        return msg


class ValidationError(CallCenterError, ValueError):
    """A value breaks an invariant of the domain (a proficiency of 7, a negative wait)."""


class RecordError(ValidationError):
    """Contact records or state intervals contradict themselves (answered before arrival)."""


class NotFoundError(CallCenterError, LookupError):
    """An identifier refers to nothing known (unknown agent, queue, campaign)."""


class StateError(CallCenterError):
    """An operation is not allowed in the object's current state."""


class TransitionError(StateError):
    """A state machine was asked for a transition its rules forbid.

    Attributes:
        source: The state the object is in.
        target: The state that was asked for.
    """

    def __init__(self, what: str, source: str, target: str, reason: str = "") -> None:
        self.what = what
        self.source = source
        self.target = target
        msg = f"{what}: illegal transition {source} -> {target}"
        if reason:
            msg += f": {reason}"
        super().__init__(msg)


class ConflictError(StateError):
    """A save started from a version someone else has changed since (optimistic concurrency).

    Nothing was written: reload the latest version, redo the edit on it (or
    show the person what changed) and save again.

    Attributes:
        what: What was being saved (``"ticket T-1"``).
        expected: The version the edit started from.
        actual: The version stored now (``None`` when it no longer exists).

    .. versionadded:: 0.2
    """

    def __init__(self, what: str, expected: int, actual: int | None, detail: str = "") -> None:
        self.what = what
        self.expected = expected
        self.actual = actual
        stored = "is gone" if actual is None else f"is at version {actual}"
        msg = f"{what} {stored}, not {expected}: someone saved it meanwhile"
        if detail:
            msg += f" ({detail})"
        super().__init__(msg)


class PermissionDenied(CallCenterError):  # noqa: N818 - the domain's own word
    """A person tried an action their role and place in the org do not allow."""


class PluginError(CallCenterError):
    """A plugin raised, answered something impossible, or took too long.

    The library never lets this lose a contact: callers catch it, report it as
    an event and fall back to the built-in behaviour.
    """


class StoreError(CallCenterError):
    """The persistence layer failed; the original database error is chained."""


class MediaError(CallCenterError):
    """The media backend failed; the original backend error is chained."""


class BackendUnavailableError(MediaError, ImportError):
    """A media backend cannot be used on this machine (no pjsua2 wheel, for example)."""
