"""The channels a center file opens besides the phone: ``[chat]``, ``[email]``, ``[[messaging]]``.

:func:`~callcenter_sdk.runtime.load_center` reads these sections into plain
settings (this module imports no channel code: the ``channels`` extra is
needed only to run them); ``callcenter serve`` builds the channels from
them (``docs/serve.md``).

No secret is written in the file: a key ending in ``_env`` names the
environment variable holding the value (``smtp_password_env =
"HOTLINE_SMTP_PASSWORD"``), read when the file is loaded; an unset variable
is a configuration error naming the file, the key and the variable. The web
chat's signing key is not configured at all: it is derived from the store's
own secret, the same on every node of a cluster.

.. versionadded:: 0.2
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from .._errors import ConfigError

__all__ = ["ChannelSections", "ChatSection", "EmailSection", "ImapSection", "MessagingSection"]

_Path = tuple[str | int, ...]


@attrs.frozen(kw_only=True)
class ChatSection:
    """``[chat]``: the web chat, served at ``/chat`` by the web server.

    Attributes:
        queue: The queue every conversation joins.
        rejoin_window: Seconds after a conversation's last line within which
            its customer may come back to it.
        idle_timeout: Seconds a customer's socket may stay silent.
        max_line: Characters one line may hold.
    """

    queue: str
    rejoin_window: float = 900.0
    idle_timeout: float = 300.0
    max_line: int = 4000


@attrs.frozen(kw_only=True)
class ImapSection:
    """``[email.imap]``: a mailbox the center reads (IMAP IDLE and a periodic check).

    Attributes:
        host: The IMAP server.
        port: Its port.
        user: The mailbox's login.
        password: Its password (from ``password_env``).
        tls: Connect over TLS.
        folder: The folder customers' mails land in.
        check_every: Seconds between two checks even when IDLE reports nothing.
    """

    host: str
    port: int = 993
    user: str
    password: str = attrs.field(default="", repr=False)
    tls: bool = True
    folder: str = "INBOX"
    check_every: float = 60.0


@attrs.frozen(kw_only=True)
class EmailSection:
    """``[email]``: the center's mailbox, its intake and its replies.

    Attributes:
        address: The address customers write to.
        queue: The queue every mail joins.
        smtp_host: The relay replies are sent through.
        smtp_port: Its port.
        smtp_user: The relay's login (none when empty).
        smtp_password: Its password (from ``smtp_password_env``).
        smtp_tls: ``"starttls"``, ``"tls"`` or ``"none"``.
        display_name: The name customers see.
        acknowledge: Answer each new conversation with its ticket number.
        auto_replies_per_hour: At most this many automatic mails to one address an hour.
        listen_host: Where the center's own SMTP listener takes mail.
        listen_port: Its port; ``None``: no listener (the mailbox only).
        imap: The mailbox the center reads, if any.
    """

    address: str
    queue: str
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = attrs.field(default="", repr=False)
    smtp_tls: str = "none"
    display_name: str = "Customer service"
    acknowledge: bool = True
    auto_replies_per_hour: int = 3
    listen_host: str = "127.0.0.1"
    listen_port: int | None = None
    imap: ImapSection | None = None


@attrs.frozen(kw_only=True)
class MessagingSection:
    """One ``[[messaging]]`` table: an SMS or social provider's webhook and replies.

    Attributes:
        provider: The provider's name, as a plugin offers it
            (``callcenter_messaging_providers``); its webhook is
            ``POST /messages/<name>``.
        queue: The queue every conversation joins.
        channel: ``"sms"`` or ``"social"``.
        sender: The center's number or account replies come from (the
            number the customer wrote to, when empty).
        options: What the provider's factory takes (URLs, keys; secrets from
            ``<option>_env``).
    """

    provider: str
    queue: str
    channel: str = "sms"
    sender: str = ""
    options: Mapping[str, str] = attrs.field(factory=dict, repr=False)


@attrs.frozen(kw_only=True)
class ChannelSections:
    """Every channel a center file opens besides the phone (none by default).

    Attributes:
        chat: The web chat, if ``[chat]`` is there.
        email: The mailbox, if ``[email]`` is there.
        messaging: One per ``[[messaging]]`` table.
    """

    chat: ChatSection | None = None
    email: EmailSection | None = None
    messaging: tuple[MessagingSection, ...] = ()


# key: (type, expectation, check or None)
_Spec = tuple[type | tuple[type, ...], str, Callable[[Any], bool] | None]
_NUMBER = (int, float)


def _positive(value: float) -> bool:
    return value > 0


def _port(value: int) -> bool:
    return 0 < value <= 65535


_CHAT: dict[str, _Spec] = {
    "queue": (str, "the name of a queue of this file", bool),
    "rejoin_window": (_NUMBER, "seconds > 0", _positive),
    "idle_timeout": (_NUMBER, "seconds > 0", _positive),
    "max_line": (int, "a whole number of characters >= 1", _positive),
}
_EMAIL: dict[str, _Spec] = {
    "address": (str, "the address customers write to (support@example.com)", lambda v: "@" in v),
    "queue": (str, "the name of a queue of this file", bool),
    "smtp_host": (str, "the relay's host name or address", bool),
    "smtp_port": (int, "a TCP port, 1 to 65535", _port),
    "smtp_user": (str, "the relay's login", None),
    "smtp_password_env": (str, "the name of an environment variable", bool),
    "smtp_tls": (str, '"starttls", "tls" or "none"', lambda v: v in ("starttls", "tls", "none")),
    "display_name": (str, "the name customers see", bool),
    "acknowledge": (bool, "true or false", None),
    "auto_replies_per_hour": (int, "a whole number >= 0", lambda v: v >= 0),
    "listen": (str, 'the SMTP listener\'s "host:port"', lambda v: ":" in v),
    "imap": (dict, "a table: host, user, password_env...", None),
}
_IMAP: dict[str, _Spec] = {
    "host": (str, "the IMAP server's host name or address", bool),
    "port": (int, "a TCP port, 1 to 65535", _port),
    "user": (str, "the mailbox's login", bool),
    "password_env": (str, "the name of an environment variable", bool),
    "tls": (bool, "true or false", None),
    "folder": (str, "a folder name", bool),
    "check_every": (_NUMBER, "seconds > 0", _positive),
}
_MESSAGING: dict[str, _Spec] = {
    "provider": (str, "the name of a messaging provider a plugin offers", bool),
    "queue": (str, "the name of a queue of this file", bool),
    "channel": (str, '"sms" or "social"', lambda v: v in ("sms", "social")),
    "sender": (str, "the center's number or account", None),
    "options": (dict, "a table of the provider's options (strings)", None),
}


class ChannelReader:
    """Reads the channel sections of one center file (its queues known).

    Args:
        source: The file's name, for the errors.
        queues: The names of the file's queues.
        environ: Where ``*_env`` keys are looked up (the process's environment).
    """

    def __init__(
        self, source: str, queues: list[str], environ: Mapping[str, str] | None = None
    ) -> None:
        self._source = source
        self._queues = queues
        self._environ = os.environ if environ is None else environ

    def read(self, doc: Mapping[str, Any]) -> ChannelSections:
        """The sections of ``doc`` (the whole file), checked.

        Raises:
            ConfigError: A section is wrong; the error names the file and the path.
        """
        return ChannelSections(
            chat=self._chat(doc["chat"]) if "chat" in doc else None,
            email=self._email(doc["email"]) if "email" in doc else None,
            messaging=self._messaging(doc.get("messaging", [])),
        )

    def _fail(self, path: _Path, expected: str, got: object = None) -> ConfigError:
        return ConfigError(self._source, path, expected, got)

    def _scalars(
        self, raw: object, path: _Path, specs: Mapping[str, _Spec], required: tuple[str, ...]
    ) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise self._fail(path, "a table", raw)
        unknown = sorted(set(raw) - set(specs))
        if unknown:
            raise self._fail((*path, unknown[0]), f"one of {', '.join(sorted(specs))}")
        for key in required:
            if key not in raw:
                raise self._fail((*path, key), specs[key][1])
        values: dict[str, Any] = {}
        for key, value in raw.items():
            kind, what, check = specs[key]
            is_bool = isinstance(value, bool)
            ok = isinstance(value, kind) and (kind is bool or not is_bool)
            if not ok or (check is not None and not check(value)):
                raise self._fail((*path, key), what, value)
            values[key] = value
        if "queue" in values and values["queue"] not in self._queues:
            raise self._fail(
                (*path, "queue"), f"one of the queues: {', '.join(self._queues)}", values["queue"]
            )
        return values

    def _secret(self, name: str, path: _Path) -> str:
        value = self._environ.get(name)
        if value is None:
            raise self._fail(path, "the name of an environment variable that is set", name)
        return value

    def _chat(self, raw: object) -> ChatSection:
        values = self._scalars(raw, ("chat",), _CHAT, ("queue",))
        for key in ("rejoin_window", "idle_timeout"):
            if key in values:
                values[key] = float(values[key])
        return ChatSection(**values)

    def _email(self, raw: object) -> EmailSection:
        path: _Path = ("email",)
        values = self._scalars(raw, path, _EMAIL, ("address", "queue"))
        if "smtp_password_env" in values:
            name = values.pop("smtp_password_env")
            values["smtp_password"] = self._secret(name, (*path, "smtp_password_env"))
        if "listen" in values:
            host, _, port = str(values.pop("listen")).rpartition(":")
            if not host or not port.isdigit() or not _port(int(port)):
                raise self._fail((*path, "listen"), _EMAIL["listen"][1], f"{host}:{port}")
            values["listen_host"], values["listen_port"] = host.strip("[]"), int(port)
        if "imap" in values:
            values["imap"] = self._imap(values["imap"], (*path, "imap"))
        if "listen_port" not in values and "imap" not in values:
            raise self._fail(path, "listen (an SMTP listener) or [email.imap] (a mailbox)")
        return EmailSection(**values)

    def _imap(self, raw: object, path: _Path) -> ImapSection:
        values = self._scalars(raw, path, _IMAP, ("host", "user", "password_env"))
        values["password"] = self._secret(values.pop("password_env"), (*path, "password_env"))
        if "check_every" in values:
            values["check_every"] = float(values["check_every"])
        return ImapSection(**values)

    def _messaging(self, raw: object) -> tuple[MessagingSection, ...]:
        if not isinstance(raw, list):
            raise self._fail(("messaging",), "[[messaging]] tables", raw)
        found: list[MessagingSection] = []
        for i, item in enumerate(raw):
            path: _Path = ("messaging", i)
            values = self._scalars(item, path, _MESSAGING, ("provider", "queue"))
            values["options"] = self._options(values.get("options", {}), (*path, "options"))
            if any(m.provider == values["provider"] for m in found):
                raise self._fail((*path, "provider"), "a provider no other table names")
            carried = values.get("channel", "sms")
            if any(m.channel == carried for m in found):
                raise self._fail(
                    (*path, "channel"),
                    "a channel no other [[messaging]] table carries (replies on a channel"
                    " go out through one provider)",
                    carried,
                )
            found.append(MessagingSection(**values))
        return tuple(found)

    def _options(self, raw: Mapping[str, Any], path: _Path) -> dict[str, str]:
        options: dict[str, str] = {}
        for key, value in raw.items():
            if not isinstance(value, str):
                raise self._fail((*path, key), "a string", value)
            if key.endswith("_env"):
                options[key.removesuffix("_env")] = self._secret(value, (*path, key))
            else:
                options[key] = value
        return options
