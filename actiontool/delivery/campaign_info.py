"""Campaign facts for delivery, read from the app's loaded campaigns and validated for the channels."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from actiontool.campaigns import Campaign
from actiontool.delivery.errors import DeliveryOptionsError
from actiontool.delivery.job import BillRef, CampaignInfo
from actiontool.delivery.options import parse_chamber
from actiontool.delivery.settings import DeliverySettings


def campaign_info(campaign: Campaign) -> CampaignInfo:
    """Return what delivery needs from `campaign`; raise DeliveryOptionsError on bad channel options."""
    bill = campaign.bill
    return CampaignInfo(
        slug=campaign.slug,
        title=campaign.title,
        topics=tuple(campaign.loc_topics),
        bill=BillRef(bill.congress, bill.type, bill.number) if bill is not None else None,
        house=parse_chamber("house", _raw(campaign.delivery_options("house"))),
        senate=parse_chamber("senate", _raw(campaign.delivery_options("senate"))),
    )


def _raw(options: Mapping[str, Any]) -> dict[str, Any] | None:
    return dict(options) if options else None


def check_campaign(campaign: Campaign, settings: DeliverySettings | None = None
                   ) -> tuple[list[str], list[str]]:
    """Return (errors, warnings) about `campaign`'s delivery: bad options, channels this server lacks."""
    try:
        info = campaign_info(campaign)
    except DeliveryOptionsError as exc:
        return [str(exc)], []
    warnings: list[str] = []
    for chamber in ("house", "senate"):
        if not campaign.targets_chamber(chamber):
            continue
        channel = info.options(chamber).channel
        if channel == "cwc" and not info.topics:
            return [f"delivery.{chamber}: the cwc channel needs loc_topics"], warnings
        if settings is not None and channel != "handoff" and not settings.channel_available(channel, chamber):
            warnings.append(f"delivery.{chamber}.channel is {channel}, which this server has not configured: "
                            f"those letters go back to the constituent (hand-off)")
    return [], warnings


def server_delivers(campaign: Campaign, settings: DeliverySettings) -> Callable[[str, str, str], bool]:
    """Return a test of (channel, chamber, bioguide): will this server itself deliver that letter?

    True only when the channel is configured here and, for e-mail, the campaign gives an address for that
    member: otherwise the worker hands the letter back to the constituent or fails it.
    """
    try:
        info = campaign_info(campaign)
    except DeliveryOptionsError:
        return lambda channel, chamber, bioguide: False

    def delivers(channel: str, chamber: str, bioguide: str) -> bool:
        if not settings.channel_available(channel, chamber):
            return False
        return channel != "smtp" or bool(info.options(chamber).recipients(bioguide))

    return delivers
