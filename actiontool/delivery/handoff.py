"""The hand-off channel (the default): the server sends nothing; the constituent sends the letter."""

from __future__ import annotations

from actiontool.delivery.errors import NotConfigured
from actiontool.delivery.job import DeliveryJob


class HandoffChannel:
    """Never sends. A hand-off message that reaches the worker goes back to the constituent."""

    name = "handoff"

    def deliver(self, job: DeliveryJob) -> str:
        """Refuse: hand-off messages wait for the constituent (status needs_constituent)."""
        raise NotConfigured("hand-off: the constituent sends this letter themselves")
