"""Customer channels without a phone: e-mail, web chat, SMS and social messages.

Each channel stores a customer's message with its ticket, hands it to the
center as an ACD contact (:meth:`CallCenter.receive
<callcenter_sdk.runtime.CallCenter.receive>`, which returns once it is
stored) and only then acknowledges it to its sender, so a crash loses
nothing and a retry duplicates nothing (:class:`Intake`). Agents answer
through the channel's adapter (``center.add_channel``): an
:class:`EmailChannel` sends mail in the customer's thread, a
:class:`ChatChannel` writes to the customer's chat socket, a
:class:`MessagingChannel` sends through an SMS or social provider (plugins
offer providers through ``callcenter_messaging_providers``). See
``docs/channels.md``.

This package is an adapter beside ``cti`` and ``store``: the pure cores
never import it. It needs the ``channels`` extra.
"""

from __future__ import annotations

from ._chat import ChatAnswer as ChatAnswer
from ._chat import ChatCenter as ChatCenter
from ._chat import ChatChannel as ChatChannel
from ._chat import ChatSettings as ChatSettings
from ._email import EmailChannel as EmailChannel
from ._email import EmailSettings as EmailSettings
from ._errors import ChannelError as ChannelError
from ._errors import SignatureError as SignatureError
from ._imap import ImapIntake as ImapIntake
from ._imap import ImapSettings as ImapSettings
from ._intake import Center as Center
from ._intake import Inbound as Inbound
from ._intake import Intake as Intake
from ._intake import Taken as Taken
from ._intake import contact_id_of as contact_id_of
from ._json_provider import JsonProvider as JsonProvider
from ._json_provider import json_provider_plugin as json_provider_plugin
from ._mail import Mail as Mail
from ._mail import is_automatic as is_automatic
from ._mail import parse_mail as parse_mail
from ._mail import plus_tag as plus_tag
from ._mail import subject_tag as subject_tag
from ._messaging import MessagingChannel as MessagingChannel
from ._messaging import MessagingProvider as MessagingProvider
from ._messaging import MessagingSettings as MessagingSettings
from ._messaging import ProviderMessage as ProviderMessage
from ._messaging import Webhook as Webhook
from ._messaging import messaging_app as messaging_app
from ._messaging import messaging_providers as messaging_providers
from ._signatures import hub_signature_256 as hub_signature_256
from ._signatures import twilio_signature as twilio_signature
from ._signatures import verify_signature as verify_signature
from ._smtp import MailSink as MailSink
from ._smtp import SmtpIntake as SmtpIntake
from ._smtp import open_smtp_intake as open_smtp_intake

__all__ = [
    "Center",
    "ChannelError",
    "ChatAnswer",
    "ChatCenter",
    "ChatChannel",
    "ChatSettings",
    "EmailChannel",
    "EmailSettings",
    "ImapIntake",
    "ImapSettings",
    "Inbound",
    "Intake",
    "JsonProvider",
    "Mail",
    "MailSink",
    "MessagingChannel",
    "MessagingProvider",
    "MessagingSettings",
    "ProviderMessage",
    "SignatureError",
    "SmtpIntake",
    "Taken",
    "Webhook",
    "contact_id_of",
    "hub_signature_256",
    "is_automatic",
    "json_provider_plugin",
    "messaging_app",
    "messaging_providers",
    "open_smtp_intake",
    "parse_mail",
    "plus_tag",
    "subject_tag",
    "twilio_signature",
    "verify_signature",
]
