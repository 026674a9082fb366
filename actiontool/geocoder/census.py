"""The US Census Bureau's public geocoder: `geographies/address` returns the congressional district.

Free and without a key. One GET per address with the street line, state and ZIP; the answer's
`result.addressMatches[].geographies["<n>th Congressional Districts"]` names each match's district by
state FIPS code and district number (00 at large, 98 a delegate's area). Only the address is sent; the
coordinates in the answer are read by no one and kept nowhere.
"""

from __future__ import annotations

import re
from typing import Any

import requests

from actiontool.districts.model import district_label
from actiontool.districts.states import STATE_BY_FIPS
from actiontool.geocoder import Address, GeocoderError

# The current address ranges and the current geographies (the sitting Congress's districts).
BENCHMARK = "Public_AR_Current"
VINTAGE = "Current_Current"
_LAYER = re.compile(r"^\d+(st|nd|rd|th) Congressional Districts$")
_DISTRICT_FIELD = re.compile(r"^CD\d+$")


class CensusGeocoder:
    """A `Geocoder` over the Census Bureau's geocoder at `base_url` (tests point it at a stand-in)."""

    def __init__(self, base_url: str, *, timeout: float, session: requests.Session | None = None) -> None:
        self.url = f"{base_url.rstrip('/')}/geographies/address"
        self.timeout = timeout
        self.session = session or requests.Session()

    def districts(self, address: Address) -> tuple[str, ...]:
        """Return the district label of each match; raise GeocoderError when the service cannot answer."""
        params = {"street": address.street, "state": address.state, "zip": address.zip,
                  "benchmark": BENCHMARK, "vintage": VINTAGE, "format": "json"}
        if address.city:
            params["city"] = address.city
        try:
            response = self.session.get(self.url, params=params, timeout=self.timeout,
                                        headers={"Accept": "application/json"})
            response.raise_for_status()
            body = response.json()
        except (requests.RequestException, ValueError) as exc:  # ValueError: the body is not JSON
            # Only the kind of failure and its status: requests' messages quote the URL, so the address.
            status = getattr(getattr(exc, "response", None), "status_code", None)
            raise GeocoderError(type(exc).__name__ + (f" (HTTP {status})" if status else "")) from None
        return labels_of(body)


def labels_of(body: Any) -> tuple[str, ...]:
    """Return the district label of each address match in a `geographies/address` answer."""
    try:
        matches = body["result"]["addressMatches"]
        return tuple(_label_of(match["geographies"]) for match in matches)
    except (KeyError, TypeError, ValueError) as exc:
        raise GeocoderError(f"unexpected answer: {exc!r}") from exc


def _label_of(geographies: dict[str, Any]) -> str:
    """Return the label of the one congressional district a match lies in."""
    layers = [entries for name, entries in geographies.items() if _LAYER.match(name)]
    if len(layers) != 1 or len(layers[0]) != 1:
        raise ValueError(f"expected one congressional district layer with one entry, got {len(layers)}")
    entry = layers[0][0]
    state = STATE_BY_FIPS[str(entry["STATE"])]
    code = next((str(v) for k, v in entry.items() if _DISTRICT_FIELD.match(k)), str(entry["GEOID"])[2:])
    number = 0 if code in ("00", "98") else int(code)
    return district_label(state, number)
