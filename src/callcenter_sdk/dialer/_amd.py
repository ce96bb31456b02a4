"""Answering-machine detection for the live dialer, from the answered leg's audio.

.. versionadded:: 0.1
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

from ..media import AmdConfig, AmdResult, AmdVerdict, MediaBackend, detect_machine
from ._model import Lead

__all__ = ["amd_detector"]


def amd_detector(
    backend: MediaBackend,
    *,
    config: AmdConfig | None = None,
    directory: str | os.PathLike[str] | None = None,
    on_result: Callable[[Lead, str, AmdResult], object] | None = None,
) -> Callable[[Lead, str], Awaitable[bool]]:
    """A ``machine_detector`` for :class:`Dialer` that listens to each answered leg.

    It runs :func:`callcenter_sdk.media.detect_machine` on the leg and says
    "machine" only for a ``MACHINE`` verdict: when the detector is not sure,
    the call goes to an agent, because dropping a person costs more (an
    abandoned call under the FCC's and Ofcom's rules) than an agent hearing a
    machine for a few seconds.

    Args:
        backend: The dialer's media backend (its recordings must be readable here).
        config: The detector's thresholds.
        directory: Where the short temporary recordings go.
        on_result: Called with the lead, the leg and every verdict (to count
            them, or to estimate false positives as Ofcom asks).
    """

    async def detect(lead: Lead, leg: str) -> bool:
        result = await detect_machine(backend, leg, config=config, directory=directory)
        if on_result is not None:
            on_result(lead, leg, result)
        return result.verdict is AmdVerdict.MACHINE

    return detect
