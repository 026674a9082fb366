"""What one delivery attempt needs, copied out of the database so that sending happens without a session."""

from __future__ import annotations

from dataclasses import dataclass

from actiontool.delivery.options import ChannelOptions


@dataclass(frozen=True)
class BillRef:
    """A bill for CWC's <Bills>: congress, type abbreviation (hr, s, ...) and number."""

    congress: int
    type: str
    number: int


@dataclass(frozen=True)
class CampaignInfo:
    """The campaign facts delivery reads: its topics, bill and per-chamber channel options."""

    slug: str
    title: str
    topics: tuple[str, ...]
    bill: BillRef | None
    house: ChannelOptions
    senate: ChannelOptions

    def options(self, chamber: str) -> ChannelOptions:
        """Return the channel options for `chamber`."""
        return self.senate if chamber == "senate" else self.house


@dataclass(frozen=True)
class Sender:
    """The constituent as the channels need them."""

    prefix: str | None
    first_name: str | None
    last_name: str | None
    email: str | None
    address1: str | None
    city: str | None
    state: str
    zip: str | None
    phone: str | None

    @property
    def name(self) -> str:
        """Return "First Last"."""
        return " ".join(part for part in (self.first_name, self.last_name) if part)


@dataclass(frozen=True)
class DeliveryJob:
    """One claimed message: the letter, its member and its sender."""

    message_id: str
    attempt: int
    channel: str
    chamber: str
    bioguide: str
    member_name: str
    member_title: str
    state: str
    district: int | None
    subject: str
    suggested_text: str | None
    constituent_text: str | None
    edited: bool
    lang: str
    sender: Sender
    campaign: CampaignInfo
