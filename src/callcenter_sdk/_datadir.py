"""Where customer data lives on disk: one private data directory.

The SQLite database, call recordings and voicemail are customer data
(numbers, voices, what people said). They go in one directory that only its
owner can enter, never in whatever directory the process happened to start
in: :func:`data_dir` creates it with mode 0700, with ``recordings/`` and
``voicemail/`` inside, and refuses a directory that someone else owns or
could write to (they could swap a recording, or plant a link).

The default location is ``$CALLCENTER_DATA_DIR`` when set, else
``$XDG_DATA_HOME/callcenter``, else ``~/.local/share/callcenter``.

.. versionadded:: 0.1
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import attrs

from ._errors import ConfigError

__all__ = ["DATA_DIR_ENV", "DataDir", "UnsafeDirectoryError", "data_dir", "private_directory"]

DATA_DIR_ENV = "CALLCENTER_DATA_DIR"
"""Environment variable naming the data directory (overrides the XDG location)."""


class UnsafeDirectoryError(ConfigError):
    """A directory meant for customer data is owned by someone else or writable by others.

    Attributes:
        directory: The directory refused.
        reason: Why, in words.
    """

    def __init__(self, directory: Path, reason: str) -> None:
        self.directory = directory
        self.reason = reason
        super().__init__(
            str(directory),
            (),
            "a directory owned by this user that only its owner can write (chmod 700)",
            detail=reason,
        )

    def _message(self) -> str:
        return (
            f"{self.directory}: refusing to keep customer data here: {self.reason}; "
            f"use a directory owned by this user that only its owner can write (chmod 700)"
        )


def private_directory(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` with mode 0700 if missing, and check nobody else can write to it.

    An existing directory keeps its mode when only its owner can write to it
    (a 0750 directory stays readable by its group: that was someone's choice).

    Returns:
        The directory as an absolute path.

    Raises:
        UnsafeDirectoryError: The directory belongs to another user, or its
            group or everyone may write to it.
        ConfigError: The path exists and is not a directory.
        OSError: The directory cannot be created.
    """
    directory = _absolute(path)
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError:
        raise ConfigError(str(directory), (), "a directory", "a file") from None
    if sys.platform != "win32":
        info = directory.stat()
        if info.st_uid != os.geteuid():
            raise UnsafeDirectoryError(
                directory, f"it belongs to uid {info.st_uid}, not to this user ({os.geteuid()})"
            )
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise UnsafeDirectoryError(
                directory,
                f"its group or everyone may write to it (mode {stat.S_IMODE(info.st_mode):04o})",
            )
    return directory


def _default_path() -> Path:
    configured = os.environ.get(DATA_DIR_ENV)
    if configured:
        return _absolute(configured)
    xdg = os.environ.get("XDG_DATA_HOME")
    if xdg and Path(xdg).is_absolute():  # the XDG spec says to ignore a relative one
        return Path(xdg) / "callcenter"
    try:
        return Path.home() / ".local" / "share" / "callcenter"
    except RuntimeError as exc:
        raise ConfigError(
            "<environment>", (DATA_DIR_ENV,), "a data directory (no home directory found)"
        ) from exc


def _absolute(path: str | os.PathLike[str]) -> Path:
    return Path(path).expanduser().absolute()


@attrs.frozen
class DataDir:
    """The data directory's layout: one place for the database, recordings and voicemail.

    Building one touches nothing on disk; :meth:`create` (or :func:`data_dir`)
    makes the directories and checks them.

    Attributes:
        path: The directory, absolute.
    """

    path: Path = attrs.field(converter=_absolute)

    @classmethod
    def default(cls) -> DataDir:
        """The default location: ``$CALLCENTER_DATA_DIR``, else the XDG data home's ``callcenter``.

        Raises:
            ConfigError: Neither variable is set and there is no home directory.
        """
        return cls(_default_path())

    @property
    def database(self) -> Path:
        """The SQLite database file, ``callcenter.sqlite3``."""
        return self.path / "callcenter.sqlite3"

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL of :attr:`database`."""
        return f"sqlite:///{self.database}"

    @property
    def recordings(self) -> Path:
        """The directory for call recordings, ``recordings/``."""
        return self.path / "recordings"

    @property
    def voicemail(self) -> Path:
        """The directory for voicemail messages, ``voicemail/``."""
        return self.path / "voicemail"

    def create(self) -> DataDir:
        """Create the directory and its subdirectories (mode 0700) and check them.

        Returns:
            ``self``, for ``DataDir(path).create().database_url``.

        Raises:
            UnsafeDirectoryError: A directory belongs to another user, or others may write to it.
            ConfigError: One of the paths is a file.
            OSError: A directory cannot be created.
        """
        for directory in (self.path, self.recordings, self.voicemail):
            private_directory(directory)
        return self


def data_dir(path: str | os.PathLike[str] | None = None) -> DataDir:
    """Return the data directory at ``path`` (the default location if None), created and checked.

    Args:
        path: The directory; None for ``$CALLCENTER_DATA_DIR``, else
            ``$XDG_DATA_HOME/callcenter``, else ``~/.local/share/callcenter``.

    Raises:
        UnsafeDirectoryError: The directory belongs to another user, or others may write to it.
        ConfigError: There is no home directory to default to, or a path is a file.
        OSError: A directory cannot be created.
    """
    return (DataDir.default() if path is None else DataDir(Path(path))).create()
