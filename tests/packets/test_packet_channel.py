"""The packet channel in campaign files and delivery settings."""

from __future__ import annotations

import pytest

from actiontool.delivery.errors import DeliveryOptionsError
from actiontool.delivery.options import parse_delivery
from actiontool.delivery.settings import from_config
from actiontool.services.submit import initial_status


def test_a_campaign_may_deliver_by_packet_which_needs_no_configuration() -> None:
    plan = parse_delivery({"house": {"channel": "packet"}, "senate": "packet"})
    assert plan.house.channel == plan.senate.channel == "packet"
    assert from_config({}).channel_available("packet", "senate")
    assert initial_status("packet") == "queued"


def test_packet_takes_no_addresses() -> None:
    with pytest.raises(DeliveryOptionsError, match="only the smtp channel takes addresses"):
        parse_delivery({"house": {"channel": "packet", "to": "a@example.org"}})
