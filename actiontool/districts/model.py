"""Values that cross layers: members, districts, lookups, and the domain errors of a lookup.

Pure: no Flask, no database. Everything here is frozen so a loaded dataset can be shared by threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

Status = Literal["exact", "ambiguous", "approximate"]
Title = Literal["Representative", "Senator", "Delegate", "Resident Commissioner"]
Basis = Literal["zcta", "coordinates", "state", "point"]

# congress-legislators' `end-type` of an appointee's term: it ends when a special election's winner is seated.
SPECIAL_ELECTION = "special-election"


class LookupError_(Exception):
    """Base class of the lookup's domain errors."""

    code = "lookup_error"


class InvalidZip(LookupError_, ValueError):
    """The input is not a ZIP code (five digits, optionally ZIP+4)."""

    code = "invalid_zip"


class InvalidPoint(LookupError_, ValueError):
    """The latitude/longitude are not numbers in range."""

    code = "invalid_point"


class NotFound(LookupError_):
    """A well-formed ZIP or point that no district covers."""

    code = "not_found"


@dataclass(frozen=True, slots=True)
class Member:
    """A sitting member of Congress, as the bundled dataset records them."""

    bioguide: str
    name: str
    first_name: str
    last_name: str
    title: Title
    party: str
    state: str
    district: int | None  # None for senators; 0 for at-large and non-voting seats
    phone: str | None
    url: str | None
    contact_form: str | None
    office_address: str | None
    term_end: str | None = None  # YYYY-MM-DD as recorded upstream; not part of the JSON contract
    # "special-election" for an appointee: the recorded end is the election's date, not the day they leave.
    term_end_type: str | None = None
    gender: str | None = None  # "F", "M" or None (unknown); greetings in Spanish follow it; not in the JSON

    def term_ended(self, today: date) -> bool:
        """Return True from the recorded end date of the member's term on (a term ends at noon that day).

        An appointee's term that ends by special election never ends here: they sit until the winner is
        sworn in (who may be themselves), which only a newer dataset can tell; a member without a recorded
        end never ends here either.
        """
        if self.term_end is None or self.term_end_type == SPECIAL_ELECTION:
            return False
        return today.isoformat() >= self.term_end

    @property
    def chamber(self) -> Literal["house", "senate"]:
        """Return "senate" for senators, else "house" (delegates and the Resident Commissioner sit there)."""
        return "senate" if self.title == "Senator" else "house"

    @property
    def label(self) -> str:
        """Return the seat's label: `WI-3`, `AK-AL`, or `WI` for a senator."""
        if self.district is None:
            return self.state
        return district_label(self.state, self.district)

    def to_json(self) -> dict[str, Any]:
        """Return the MEMBER object of the lookup contract."""
        return {
            "bioguide": self.bioguide,
            "name": self.name,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "title": self.title,
            "party": self.party,
            "state": self.state,
            "district": self.district,
            "phone": self.phone,
            "url": self.url,
            "contact_form": self.contact_form,
            "office_address": self.office_address,
        }


@dataclass(frozen=True, slots=True)
class Office:
    """A member's local (district or state) office, from congress-legislators' district offices file."""

    bioguide: str
    address: str
    building: str | None
    suite: str | None
    city: str
    state: str
    zip: str | None
    phone: str | None
    lat: float | None
    lon: float | None

    def one_line(self) -> str:
        """Return the address on one line: `205 4th Ave. NE, Suite 104, Cullman, AL 35055`."""
        parts = [self.address, self.building, self.suite, self.city, f"{self.state} {self.zip or ''}".strip()]
        return ", ".join(p for p in parts if p)

    def to_json(self) -> dict[str, Any]:
        """Return the office as a JSON object."""
        return {
            "address": self.address,
            "building": self.building,
            "suite": self.suite,
            "city": self.city,
            "state": self.state,
            "zip": self.zip,
            "phone": self.phone,
            "lat": self.lat,
            "lon": self.lon,
        }


def ordinal(number: int) -> str:
    """Return `119th`, `121st`, `122nd` or `123rd`: how a Congress is named."""
    suffix = "th" if 11 <= number % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def district_label(state: str, district: int) -> str:
    """Return `WI-3`, or `AK-AL` for district 0 (at-large and non-voting seats)."""
    return f"{state}-AL" if district == 0 else f"{state}-{district}"


@dataclass(frozen=True, slots=True)
class District:
    """A House seat and its member; `member` is None when the seat is vacant."""

    state: str
    district: int
    member: Member | None

    @property
    def label(self) -> str:
        """Return `WI-3` or `AK-AL`."""
        return district_label(self.state, self.district)

    @property
    def vacant(self) -> bool:
        """Return True when no member holds the seat."""
        return self.member is None

    def to_json(self) -> dict[str, Any]:
        """Return the district object of the lookup contract."""
        return {
            "state": self.state,
            "district": self.district,
            "label": self.label,
            "member": self.member.to_json() if self.member else None,
        }


@dataclass(frozen=True, slots=True)
class DataInfo:
    """What the bundled data is and how old it is."""

    as_of: str  # YYYY-MM-DD
    congress: int
    congress_ends: str  # YYYY-MM-DD: after this date the data describes a past Congress
    # States whose ZIPs were placed by centre point because the ZIP crosswalk predates their new map.
    redrawn_states: tuple[str, ...] = ()

    @property
    def congress_name(self) -> str:
        """Return e.g. `119th Congress`."""
        return f"{ordinal(self.congress)} Congress"

    def to_json(self) -> dict[str, Any]:
        """Return the `data` object of the lookup contract."""
        return {"as_of": self.as_of, "congress": self.congress}

    def has_ended(self, today: date) -> bool:
        """Return True once the data's Congress is over, so its members may no longer sit."""
        return today.isoformat() >= self.congress_ends

    def days_left(self, today: date) -> int:
        """Return the days until the data's Congress ends (negative once it has)."""
        return (date.fromisoformat(self.congress_ends) - today).days


def redrawn(result: Lookup) -> bool:
    """Return True when a ZIP's answer comes from the new map of a redrawn state (placed by centre point
    because the ZIP crosswalk predates the map), not from a ZIP without a tabulation area."""
    return result.basis == "coordinates" and bool(set(result.states) & set(result.data.redrawn_states))


@dataclass(frozen=True, slots=True)
class Lookup:
    """The answer to a ZIP or point lookup."""

    query: dict[str, Any]
    status: Status
    city: str | None
    state: str | None
    districts: tuple[District, ...]
    senators: tuple[Member, ...]
    data: DataInfo
    basis: Basis = "zcta"
    near_boundary: bool = False
    states: tuple[str, ...] = field(default=())  # every state the ZIP touches

    def members(self) -> tuple[Member, ...]:
        """Return every sitting member in the answer: House candidates first, then senators."""
        house = tuple(d.member for d in self.districts if d.member is not None)
        return house + self.senators

    @property
    def certain(self) -> bool:
        """Return True when the answer cannot be wrong, whatever its status: one seat, held at large.

        A single-seat state or territory, DC or Guam has one seat for every address in it, so even an
        approximate placement (a PO-box ZIP, a ZIP placed by state) names the right members.
        """
        return len(self.districts) == 1 and self.districts[0].district == 0

    def district(self, label: str) -> District | None:
        """Return the candidate district with this label, if it is one."""
        return next((d for d in self.districts if d.label == label), None)

    def to_json(self) -> dict[str, Any]:
        """Return the lookup contract's JSON object."""
        return {
            "query": dict(self.query),  # a copy: cached answers are shared
            "status": self.status,
            "city": self.city,
            "state": self.state,
            "districts": [d.to_json() for d in self.districts],
            "senators": [s.to_json() for s in self.senators],
            "near_boundary": self.near_boundary,
            "basis": self.basis,
            "data": self.data.to_json(),
        }
