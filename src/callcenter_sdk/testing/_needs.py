"""Imported first by :mod:`callcenter_sdk.testing`: say which extra brings hypothesis."""

from __future__ import annotations

try:
    import hypothesis
except ImportError as exc:
    raise ImportError(
        "callcenter_sdk.testing needs hypothesis, which is not installed:"
        " pip install 'callcenter_sdk[testing]'",
        name="hypothesis",
    ) from exc

__all__ = ["hypothesis"]
