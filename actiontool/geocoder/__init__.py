"""Street address -> congressional districts, through an outside geocoder (the Census Bureau's).

This package holds the interface (`Geocoder`), its values and `from_config`; the one implementation that
reaches the network is `actiontool.geocoder.census`. Like delivery, it sits outside the pure core: the core
(compose.district_from_address) only judges an answer against the bundled data, which stays the authority
on which seats a ZIP can reach.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from actiontool.compose import FAILED, AddressAnswer, district_from_address
from actiontool.districts.model import Lookup

_log = logging.getLogger(__name__)

MODES = ("off", "census")
CENSUS_URL = "https://geocoding.geo.census.gov/geocoder"


class GeocoderError(Exception):
    """The geocoder could not answer: unreachable, too slow, an HTTP error or an answer we cannot read."""


@dataclass(frozen=True, slots=True)
class Address:
    """What is sent to the geocoder: the street line the constituent typed, with the ZIP's city and state."""

    street: str
    city: str
    state: str
    zip: str


class Geocoder(Protocol):
    """Finds the congressional districts of a street address."""

    def districts(self, address: Address) -> tuple[str, ...]:
        """Return the district label (`WI-2`, `AK-AL`) of each match, one per match; empty for no match.

        Raise GeocoderError when the service cannot answer.
        """
        ...


@dataclass(frozen=True, slots=True)
class GeocoderSettings:
    """ACTIONTOOL_GEOCODER, _URL and _TIMEOUT as plain values."""

    mode: str
    url: str
    timeout: float

    @property
    def on(self) -> bool:
        """Return True when addresses are sent to a geocoder."""
        return self.mode != "off"


def settings_from_config(config: Mapping[str, Any]) -> GeocoderSettings:
    """Return the geocoder settings; raise ValueError naming the setting when one cannot be used."""
    mode = str(config.get("GEOCODER") or "off").strip().lower()
    if mode not in MODES:
        raise ValueError(f"ACTIONTOOL_GEOCODER={mode!r} is not one of {', '.join(MODES)}")
    timeout = float(config.get("GEOCODER_TIMEOUT") or 3.0)
    if timeout <= 0:
        raise ValueError(f"ACTIONTOOL_GEOCODER_TIMEOUT={timeout!r} must be more than 0 seconds")
    url = str(config.get("GEOCODER_URL") or CENSUS_URL).rstrip("/")
    return GeocoderSettings(mode=mode, url=url, timeout=timeout)


def from_settings(settings: GeocoderSettings) -> Geocoder | None:
    """Return the configured geocoder, or None when it is off."""
    if settings.mode == "census":
        from actiontool.geocoder.census import CensusGeocoder

        return CensusGeocoder(settings.url, timeout=settings.timeout)
    return None


def resolve(geocoder: Geocoder, lookup: Lookup, street: str) -> AddressAnswer:
    """Return the district of `street` in the looked-up ZIP, or why the constituent must choose.

    Any failure of the service (error, timeout, an answer we cannot read) is an answer too (FAILED):
    the page then offers the choice of the ZIP's districts.
    """
    zip_code = str(lookup.query.get("zip") or "")
    address = Address(street=street, city="", state=lookup.state or "", zip=zip_code)
    try:
        labels = geocoder.districts(address)
    except GeocoderError as exc:
        _log.warning("geocoder failed for a ZIP %s address: %s", zip_code, exc)
        return AddressAnswer(FAILED)
    return district_from_address(lookup, labels)
