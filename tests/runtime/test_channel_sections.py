"""``[chat]``, ``[email]`` and ``[[messaging]]`` in a center file: read, checked, secrets
from the environment."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from callcenter_sdk import ConfigError
from callcenter_sdk.runtime import ChannelSections, EmailSection, load_center

HOTLINE = Path(__file__).parents[2] / "examples" / "hotline"

CHANNELS = """
[chat]
queue = "general"
rejoin_window = 600

[email]
address = "support@fibrenet.test"
queue = "general"
smtp_host = "relay.fibrenet.test"
smtp_port = 587
smtp_user = "hotline"
smtp_password_env = "HOTLINE_TEST_SMTP"
smtp_tls = "starttls"
listen = "127.0.0.1:2525"

[email.imap]
host = "imap.fibrenet.test"
user = "support"
password_env = "HOTLINE_TEST_IMAP"
check_every = 30

[[messaging]]
provider = "json"
queue = "general"
channel = "sms"
sender = "+33100000000"

[messaging.options]
base_url = "https://sms.fibrenet.test/v1"
secret_env = "HOTLINE_TEST_SMS"
"""


def _file(folder: Path, extra: str, text: str | None = None) -> Path:
    """The hotline's file (or ``text``) in ``folder``, its files named absolutely, the
    hotline's own ``[chat]`` left out, and ``extra`` added."""
    if text is None:
        text = (HOTLINE / "center.toml").read_text(encoding="utf-8")
        text = text.replace('[chat]\nqueue = "general"\n', "")
    for name in ("org.toml", "flow.toml", "streamtv.toml", "script.toml"):
        text = text.replace(f'"{name}"', f'"{HOTLINE / name}"')
    file = folder / "center.toml"
    file.write_text(text + extra, encoding="utf-8")
    return file


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The three secrets the sections name, in the environment."""
    monkeypatch.setenv("HOTLINE_TEST_SMTP", "smtp-secret")
    monkeypatch.setenv("HOTLINE_TEST_IMAP", "imap-secret")
    monkeypatch.setenv("HOTLINE_TEST_SMS", "sms-secret")


def test_the_hotline_opens_the_web_chat_and_a_file_without_sections_none(
    tmp_path: Path,
) -> None:
    """The hotline opens its web chat on "general" and no mailbox or provider; a file
    without the sections opens none: every channel besides the phone is opt-in."""
    channels = load_center(HOTLINE / "center.toml").channels
    assert channels.chat is not None
    assert channels.chat.queue == "general"
    assert (channels.email, channels.messaging) == (None, ())
    text = (HOTLINE / "center.toml").read_text(encoding="utf-8")
    bare = text.replace('[chat]\nqueue = "general"\n', "")
    assert bare != text
    assert load_center(_file(tmp_path, "", bare)).channels == ChannelSections()


@pytest.mark.usefixtures("secrets")
def test_every_section_is_read_with_its_secrets_from_the_environment(tmp_path: Path) -> None:
    """Each key lands in its setting; ``*_env`` keys are replaced by the variable's value
    (and the secrets are not shown in a repr); ``listen`` is split into host and port;
    whole numbers of seconds are floats."""
    channels = load_center(_file(tmp_path, CHANNELS)).channels
    assert channels.chat is not None
    assert (channels.chat.queue, channels.chat.rejoin_window) == ("general", 600.0)
    email = channels.email
    assert email is not None
    assert (email.address, email.smtp_port, email.smtp_tls) == (
        "support@fibrenet.test",
        587,
        "starttls",
    )
    assert (email.smtp_password, email.listen_host, email.listen_port) == (
        "smtp-secret",
        "127.0.0.1",
        2525,
    )
    assert email.imap is not None
    assert (email.imap.password, email.imap.check_every, email.imap.port) == (
        "imap-secret",
        30.0,
        993,
    )
    (sms,) = channels.messaging
    assert (sms.provider, sms.channel, sms.sender) == ("json", "sms", "+33100000000")
    assert sms.options == {"base_url": "https://sms.fibrenet.test/v1", "secret": "sms-secret"}
    for secret in ("smtp-secret", "imap-secret", "sms-secret"):
        assert secret not in repr(channels)


MISTAKES = [
    (
        'queue = "general"\nrejoin_window = 600',
        'queue = "chats"\nrejoin_window = 600',
        "chat.queue",
        "one of the queues: internet, tv, billing, general, streamtv, back-office, got 'chats'",
    ),
    ("rejoin_window = 600", "rejoin_window = -1", "chat.rejoin_window", "seconds > 0, got -1"),
    ('listen = "127.0.0.1:2525"', 'listen = "127.0.0.1:99999"', "email.listen", "host:port"),
    (
        'smtp_tls = "starttls"',
        'smtp_tls = "ssl"',
        "email.smtp_tls",
        '"starttls", "tls" or "none", got \'ssl\'',
    ),
    (
        'password_env = "HOTLINE_TEST_IMAP"',
        'password_env = "HOTLINE_TEST_UNSET"',
        "email.imap.password_env",
        "the name of an environment variable that is set, got 'HOTLINE_TEST_UNSET'",
    ),
    (
        'secret_env = "HOTLINE_TEST_SMS"',
        "secret_env = 7",
        "messaging[0].options.secret_env",
        "a string, got 7",
    ),
    ('channel = "sms"', 'channel = "fax"', "messaging[0].channel", '"sms" or "social"'),
    ('provider = "json"', 'providr = "json"', "messaging[0].providr", "one of channel,"),
    (
        'address = "support@fibrenet.test"\n',
        "",
        "email.address",
        "the address customers write to",
    ),
]


@pytest.mark.usefixtures("secrets")
@pytest.mark.parametrize(("old", "new", "where", "expected"), MISTAKES)
def test_each_mistake_names_the_file_the_path_and_what_was_expected(
    tmp_path: Path, old: str, new: str, where: str, expected: str
) -> None:
    """A wrong value, an unknown key, a missing key or an unset secret is a ConfigError
    naming the file, the dotted path and what was expected."""
    assert old in CHANNELS
    file = _file(tmp_path, CHANNELS.replace(old, new, 1))
    with pytest.raises(ConfigError) as caught:
        load_center(file)
    message = str(caught.value)
    assert str(file) in message
    assert f" at {where}:" in message, message
    assert expected in message, message


@pytest.mark.usefixtures("secrets")
def test_a_mailbox_needs_a_way_in_and_two_providers_need_two_channels(tmp_path: Path) -> None:
    """``[email]`` with neither ``listen`` nor ``[email.imap]`` takes no mail: refused; two
    ``[[messaging]]`` tables on one channel are refused (an agent's reply on a channel goes
    out through one provider)."""
    no_way_in = CHANNELS.replace('listen = "127.0.0.1:2525"\n', "").split("[email.imap]")[0]
    with pytest.raises(ConfigError, match=r"listen \(an SMTP listener\) or \[email\.imap\]"):
        load_center(_file(tmp_path, no_way_in))
    second = '\n[[messaging]]\nprovider = "other"\nqueue = "general"\nchannel = "sms"\n'
    with pytest.raises(ConfigError, match=r"messaging\[1\]\.channel: expected a channel no other"):
        load_center(_file(tmp_path, CHANNELS + second))


def test_an_email_section_left_at_its_defaults_gives_the_channels_own_defaults() -> None:
    """``[email]`` repeats the defaults of ``channels.EmailSettings`` (the runtime may not
    import the channels extra): every setting the section hands on has the same default on
    both sides, so a default changed on one side only fails here."""
    channels = pytest.importorskip("callcenter_sdk.channels")
    section = {f.name: f.default for f in attrs.fields(EmailSection)}
    settings = {f.name: f.default for f in attrs.fields(channels.EmailSettings)}
    shared = section.keys() & settings.keys()
    assert {"smtp_host", "smtp_port", "smtp_tls", "display_name", "acknowledge"} <= shared
    assert {name: section[name] for name in shared} == {name: settings[name] for name in shared}
