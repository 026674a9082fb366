"""PURE: a campaign's `delivery:` section -> validated per-chamber channel options.

    delivery:
      house:  {channel: cwc}
      senate:
        channel: smtp
        to:
          default: senate-letters@example.org
          by_bioguide: {S000148: schumer-letters@example.org}

A chamber that is not mentioned uses `handoff`, which needs no configuration; `packet` needs none either
(the organization delivers the letters to each office in bulk, see actiontool.services.packets). `to` may
also be a single address or a list. Errors name the key that is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from actiontool.campaigns import CHANNELS
from actiontool.delivery.errors import DeliveryOptionsError

CHAMBERS = ("house", "senate")
# Deliberately simple: one @, no whitespace, no header-breaking characters, a dot in the domain.
_ADDRESS = re.compile(r"^[^@\s<>,;\"\x00]+@[^@\s<>,;\"\x00]+\.[^@\s<>,;\"\x00]+$")
_BIOGUIDE = re.compile(r"^[A-Z]\d{6}$")


@dataclass(frozen=True)
class ChannelOptions:
    """How one chamber's messages go out for one campaign."""

    channel: str = "handoff"
    to_default: tuple[str, ...] = ()
    to_by_bioguide: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def recipients(self, bioguide: str) -> tuple[str, ...]:
        """Return the addresses for member `bioguide` (their own, else the chamber default)."""
        return tuple(self.to_by_bioguide.get(bioguide, ())) or self.to_default


@dataclass(frozen=True)
class DeliveryPlan:
    """The channel options of both chambers."""

    house: ChannelOptions = ChannelOptions()
    senate: ChannelOptions = ChannelOptions()


def _addresses(where: str, raw: Any) -> tuple[str, ...]:
    """Return `raw` (an address or a list of them) as a tuple, or raise naming `where`."""
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple) or not items:
        raise DeliveryOptionsError(f"{where}: expected an e-mail address or a list of them")
    out = []
    for item in items:
        if not isinstance(item, str) or not _ADDRESS.match(item.strip()):
            raise DeliveryOptionsError(f"{where}: {item!r} is not an e-mail address")
        out.append(item.strip())
    return tuple(out)


def parse_chamber(chamber: str, raw: Any) -> ChannelOptions:
    """Validate one chamber's options (`{channel: ..., to: ...}` or just the channel name)."""
    where = f"delivery.{chamber}"
    if raw is None:
        return ChannelOptions()
    if isinstance(raw, str):
        raw = {"channel": raw}
    if not isinstance(raw, Mapping):
        raise DeliveryOptionsError(f"{where}: expected a mapping like {{channel: handoff}}")
    unknown = sorted(set(raw) - {"channel", "to"})
    if unknown:
        raise DeliveryOptionsError(f"{where}: unknown key(s) {', '.join(map(str, unknown))}")
    channel = raw.get("channel", "handoff")
    if channel not in CHANNELS:
        raise DeliveryOptionsError(f"{where}.channel: {channel!r} is not one of {', '.join(CHANNELS)}")
    to = raw.get("to")
    if channel != "smtp":
        if to is not None:
            raise DeliveryOptionsError(f"{where}.to: only the smtp channel takes addresses")
        return ChannelOptions(channel=channel)
    if to is None:
        raise DeliveryOptionsError(f"{where}.to: the smtp channel needs the addresses to send to")
    if isinstance(to, str | list | tuple):
        return ChannelOptions(channel="smtp", to_default=_addresses(f"{where}.to", to))
    if not isinstance(to, Mapping):
        raise DeliveryOptionsError(f"{where}.to: expected an address, a list, or {{default, by_bioguide}}")
    unknown = sorted(set(to) - {"default", "by_bioguide"})
    if unknown:
        raise DeliveryOptionsError(f"{where}.to: unknown key(s) {', '.join(map(str, unknown))}")
    default = _addresses(f"{where}.to.default", to["default"]) if to.get("default") is not None else ()
    by_raw = to.get("by_bioguide") or {}
    if not isinstance(by_raw, Mapping):
        raise DeliveryOptionsError(f"{where}.to.by_bioguide: expected a mapping of bioguide id -> address")
    by: dict[str, tuple[str, ...]] = {}
    for bioguide, addresses in by_raw.items():
        if not isinstance(bioguide, str) or not _BIOGUIDE.match(bioguide):
            raise DeliveryOptionsError(f"{where}.to.by_bioguide: {bioguide!r} is not a bioguide id")
        by[bioguide] = _addresses(f"{where}.to.by_bioguide.{bioguide}", addresses)
    if not default and not by:
        raise DeliveryOptionsError(f"{where}.to: give a default address or addresses by bioguide id")
    return ChannelOptions(channel="smtp", to_default=default, to_by_bioguide=by)


def parse_delivery(raw: Any) -> DeliveryPlan:
    """Validate a campaign's whole `delivery:` section (None means hand-off for both chambers)."""
    if raw is None:
        return DeliveryPlan()
    if not isinstance(raw, Mapping):
        raise DeliveryOptionsError("delivery: expected a mapping with house: and/or senate:")
    unknown = sorted(set(raw) - set(CHAMBERS))
    if unknown:
        raise DeliveryOptionsError(f"delivery: unknown key(s) {', '.join(map(str, unknown))}")
    return DeliveryPlan(house=parse_chamber("house", raw.get("house")),
                        senate=parse_chamber("senate", raw.get("senate")))
