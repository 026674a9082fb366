"""Delivery outcomes that are not success: transient (retry later) or permanent (give up now)."""

from __future__ import annotations


class DeliveryFailure(Exception):
    """A delivery attempt did not succeed; `reason` is safe to store and to show (no secrets)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransientFailure(DeliveryFailure):
    """Try again later: a timeout, a dropped connection, a 5xx or 429 answer."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentFailure(DeliveryFailure):
    """Retrying cannot help: the endpoint refused the message (4xx, a CWC <Error>, unsafe headers)."""


class NotConfigured(DeliveryFailure):
    """The message's channel is not configured on this server; the constituent must send it themselves."""


class DeliveryOptionsError(ValueError):
    """A campaign's `delivery:` section is invalid; the message says where and why."""


class DeliverySettingsError(ValueError):
    """The delivery settings would let a live worker's lease run out; the message names the variables."""
