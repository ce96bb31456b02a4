"""The reference messaging provider: a simple HTTP JSON protocol, signed both ways.

Any gateway can speak it, and it is the model for a provider plugin
(``docs/channels.md`` describes the protocol):

* **Inbound** — the provider POSTs each customer message to the center's
  webhook as ``{"id": "...", "from": "+33...", "to": "+33...", "text": "..."}``
  with ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>``, keyed
  by the shared secret. The center answers 200 once the message is stored
  and retries of the same ``id`` are stored once; 401 means the signature is
  wrong, anything else means "deliver it again".
* **Outbound** — the center POSTs ``{"from": ..., "to": ..., "text": ...}``
  to ``<base_url>/messages`` with ``Authorization: Bearer <api_key>`` and the
  same signature header; the provider answers 2xx with ``{"id": "..."}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import attrs
import httpx

from ..hookspecs import hookimpl
from ._errors import ChannelError
from ._messaging import MessagingProvider, ProviderFactory, ProviderMessage, Webhook
from ._signatures import hub_signature_256, verify_signature

__all__ = ["JsonProvider", "json_provider_plugin"]


@attrs.frozen(kw_only=True)
class JsonProvider:
    """The reference provider (see the module's protocol).

    Attributes:
        base_url: Where its API answers (``https://sms.example/v1``).
        secret: Signs webhooks and sends, both ways.
        api_key: The center's key for sending (none when empty).
        name: The provider's name (the webhook's path, the message ids' prefix).
        timeout: Seconds a send may take.

    .. versionadded:: 0.2
    """

    base_url: str
    secret: bytes = attrs.field(repr=False)
    api_key: str = attrs.field(default="", repr=False)
    name: str = "json"
    timeout: float = 10.0

    def verify(self, webhook: Webhook) -> None:
        """Check ``X-Hub-Signature-256`` against the body."""
        given = webhook.headers.get("x-hub-signature-256")
        verify_signature(hub_signature_256(self.secret, webhook.body), given)

    def parse(self, webhook: Webhook) -> Sequence[ProviderMessage]:
        """The one message the webhook carries."""
        try:
            data = json.loads(webhook.body)
        except ValueError as exc:
            raise ValueError(f"the body is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ValueError("the body is not a JSON object")
        fields = [data.get(k) for k in ("id", "from", "to", "text")]
        if not all(isinstance(f, str) and f for f in fields[:3]) or not isinstance(fields[3], str):
            raise ValueError("id, from, to and text are strings")
        message_id, sender, recipient, text = (str(f) for f in fields)
        return [ProviderMessage(id=message_id, sender=sender, recipient=recipient, text=text)]

    async def send(self, *, sender: str, recipient: str, text: str) -> str:
        """POST the message to ``<base_url>/messages``; return the provider's id."""
        body = json.dumps({"from": sender, "to": recipient, "text": text}).encode()
        headers = {
            "content-type": "application/json",
            "x-hub-signature-256": hub_signature_256(self.secret, body),
        }
        if self.api_key:
            headers["authorization"] = f"Bearer {self.api_key}"
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.post(
                    self.base_url.rstrip("/") + "/messages", content=body, headers=headers
                )
            response.raise_for_status()
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ChannelError(f"{self.name}: message to {recipient} not sent: {exc}") from exc
        if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
            raise ChannelError(f"{self.name}: the provider answered {answer!r}, not an id")
        return str(answer["id"])


def _json_provider(options: Mapping[str, str]) -> MessagingProvider:
    return JsonProvider(
        base_url=options["base_url"],
        secret=options["secret"].encode(),
        api_key=options.get("api_key", ""),
        name=options.get("name", "json"),
    )


class _JsonProviderPlugin:
    """Offers the reference provider under the name ``json``."""

    @hookimpl
    def callcenter_messaging_providers(self) -> Mapping[str, ProviderFactory]:
        """The reference provider's factory (options: base_url, secret, api_key, name)."""
        return {"json": _json_provider}


json_provider_plugin = _JsonProviderPlugin()
"""Register it (``create_plugin_host(plugins=[json_provider_plugin])``) to offer ``json``.

.. versionadded:: 0.2
"""
