"""The data directory: where it is, what it holds, and what it refuses."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from callcenter_sdk import DATA_DIR_ENV, ConfigError, DataDir, UnsafeDirectoryError, data_dir


def mode(path: Path) -> int:
    """The permission bits of ``path``."""
    return stat.S_IMODE(path.stat().st_mode)


def test_default_is_the_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$CALLCENTER_DATA_DIR wins over XDG_DATA_HOME and the home directory."""
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert DataDir.default().path == tmp_path / "data"


def test_default_follows_xdg_then_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the variable: $XDG_DATA_HOME/callcenter, a relative XDG_DATA_HOME is
    ignored (as the XDG spec says), then ~/.local/share/callcenter."""
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert DataDir.default().path == tmp_path / "xdg" / "callcenter"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/share")
    assert DataDir.default().path == tmp_path / "home" / ".local" / "share" / "callcenter"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert DataDir.default().path == tmp_path / "home" / ".local" / "share" / "callcenter"


def test_default_touches_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding the default location creates nothing: only data_dir() and create() write."""
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    layout = DataDir.default()
    assert not layout.path.exists()
    assert layout.database == tmp_path / "data" / "callcenter.sqlite3"
    assert layout.database_url == f"sqlite:///{tmp_path}/data/callcenter.sqlite3"
    assert layout.recordings == tmp_path / "data" / "recordings"
    assert layout.voicemail == tmp_path / "data" / "voicemail"


def test_relative_paths_are_made_absolute_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative path names a directory under today's working directory: changing
    directory later does not move the data."""
    monkeypatch.chdir(tmp_path)
    layout = DataDir("here")
    monkeypatch.chdir("/")
    assert layout.path == tmp_path / "here"


@pytest.mark.usefixtures("permissive_umask")
def test_data_dir_creates_private_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """data_dir() makes the directory and recordings/ and voicemail/ with mode 0700,
    even under umask 022, and writes nothing else (the database is the store's job)."""
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "deep" / "data"))
    made = data_dir()
    assert made.path == tmp_path / "deep" / "data"
    for directory in (made.path, made.recordings, made.voicemail):
        assert mode(directory) == 0o700, directory
    assert sorted(p.name for p in made.path.iterdir()) == ["recordings", "voicemail"]
    assert data_dir(made.path) == made  # again: nothing to do, nothing refused


def test_an_existing_directory_readable_by_its_group_is_kept(tmp_path: Path) -> None:
    """A 0750 directory is somebody's choice: it is used as it is."""
    directory = tmp_path / "data"
    directory.mkdir()
    directory.chmod(0o750)
    data_dir(directory)
    assert mode(directory) == 0o750


@pytest.mark.parametrize("bits", [0o770, 0o707, 0o1777])
def test_a_directory_others_may_write_is_refused(tmp_path: Path, bits: int) -> None:
    """Group- or world-writable (sticky or not, like /tmp): refused, naming the path,
    with the mode and the fix in the message; it is a ConfigError."""
    directory = tmp_path / "data"
    directory.mkdir()
    directory.chmod(bits)
    with pytest.raises(UnsafeDirectoryError) as caught:
        data_dir(directory)
    assert caught.value.directory == directory
    assert str(directory) in str(caught.value)
    assert f"{bits:04o}" in str(caught.value)
    assert "chmod 700" in str(caught.value)
    assert isinstance(caught.value, ConfigError)


def test_an_unsafe_subdirectory_is_refused(tmp_path: Path) -> None:
    """The check covers voicemail/ and recordings/ too, not only the top."""
    (tmp_path / "data" / "voicemail").mkdir(parents=True)
    (tmp_path / "data" / "voicemail").chmod(0o777)
    with pytest.raises(UnsafeDirectoryError, match="voicemail"):
        data_dir(tmp_path / "data")


def test_a_directory_owned_by_someone_else_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A directory another user owns is refused (we pretend to be another user, since
    tests cannot chown)."""
    monkeypatch.setattr(os, "geteuid", lambda: os.stat(tmp_path).st_uid + 1)
    with pytest.raises(UnsafeDirectoryError, match="belongs to uid"):
        data_dir(tmp_path)


def test_a_file_in_the_way_is_a_config_error(tmp_path: Path) -> None:
    """A file where the directory should be is reported, not overwritten."""
    (tmp_path / "data").write_text("not a directory")
    with pytest.raises(ConfigError, match="expected a directory"):
        data_dir(tmp_path / "data")
