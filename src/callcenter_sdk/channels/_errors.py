"""The channels' errors, under the package's one root.

::

    CallCenterError
     └── ChannelError            a channel could not take or deliver a message
          └── SignatureError     a webhook's signature is missing or wrong (refused)
"""

from __future__ import annotations

from .._errors import CallCenterError

__all__ = ["ChannelError", "SignatureError"]


class ChannelError(CallCenterError):
    """A channel could not take a customer's message or deliver a reply.

    .. versionadded:: 0.2
    """


class SignatureError(ChannelError):
    """A webhook request is unsigned or its signature does not match: it is refused.

    .. versionadded:: 0.2
    """
