"""The loaded district dataset: ZIP or point -> House candidates and senators.

Pure: no Flask, no database. Files are read with the standard library's json. ZIP records stay as the
compact strings the build wrote until a ZIP is first asked for (so loading costs little more than
parsing); each answer is then cached, and the boundaries are loaded on the first point lookup.

File formats (written by `actiontool.districts.build`):
- MANIFEST.json: {"dataset": {"as_of", "congress", "congress_ends", ...}, "sources": {...}}
- members.json: {"members": {bioguide: {...}}, "house": {label: bioguide | null},
  "senate": {state: [bioguide]}}
- zips.json: {"zips": {zip: "city|state|lat|lon|type|basis|label,label"}}
- offices.json (optional): {"offices": {bioguide: [{address, building, suite, city, state, zip, phone, lat,
  lon}]}}
- boundaries.json: {"districts": {label: [[ring, ...], ...]}, "territory_zips": {zip: [lat, lon, state]}}
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from actiontool.districts.model import (
    Basis,
    DataInfo,
    District,
    InvalidPoint,
    InvalidZip,
    Lookup,
    Member,
    NotFound,
    Office,
    Status,
    district_label,
)

MANIFEST_FILE = "MANIFEST.json"
MEMBERS_FILE = "members.json"
ZIPS_FILE = "zips.json"
BOUNDARIES_FILE = "boundaries.json"
OFFICES_FILE = "offices.json"  # optional: older or minimal data folders may lack it

NEAR_BOUNDARY_KM = 2.0  # the 1:20,000,000 boundaries can be off by about this much
COAST_KM = 5.0  # a point just off a generalised coastline still belongs to the district beside it
TERRITORY_KM = 50.0  # island areas have no polygons: a point this close to one of their ZIPs is theirs

ZIP_TYPES = {"S": "standard", "P": "po_box", "U": "unique"}
_BASES: dict[str, Basis] = {"z": "zcta", "c": "coordinates", "s": "state"}

_ZIP_RE = re.compile(r"(\d{5})(?:-?\d{4})?", re.ASCII)


# (districts, states, senators) for one list of district labels; shared by every ZIP with that list.
_Group = tuple[tuple[District, ...], tuple[str, ...], tuple[Member, ...]]


class DataError(Exception):
    """The data folder is missing a file or holds one the code cannot read."""


def normalize_zip(text: str) -> str:
    """Return the 5-digit ZIP in `text` ('53811', ' 53811 ', '53811-1234', '538111234'); else InvalidZip."""
    if type(text) is str and len(text) == 5 and text.isascii() and text.isdigit():
        return text  # the common case, kept cheap
    if not isinstance(text, str):
        raise InvalidZip(f"a ZIP code must be text, not {type(text).__name__}")
    match = _ZIP_RE.fullmatch(text.strip())
    if match is None:
        shown = text.strip()[:20]
        raise InvalidZip(f"{shown!r} is not a ZIP code: use 5 digits, optionally followed by -1234")
    return match.group(1)


def parse_label(label: str) -> tuple[str, int]:
    """Return (state, district) for a label such as `WI-3` or `AK-AL`."""
    state, _, number = label.partition("-")
    return state, 0 if number == "AL" else int(number)


def parse_point(lat: Any, lon: Any) -> tuple[float, float]:
    """Return (lat, lon) as floats in range, or raise InvalidPoint."""
    values = []
    for name, raw, limit in (("latitude", lat, 90.0), ("longitude", lon, 180.0)):
        if isinstance(raw, bool) or raw is None:
            raise InvalidPoint(f"{name} is missing")
        try:
            value = float(raw.strip() if isinstance(raw, str) else raw)
        except (TypeError, ValueError):
            raise InvalidPoint(f"{name} {str(raw)[:20]!r} is not a number") from None
        if not math.isfinite(value) or abs(value) > limit:
            raise InvalidPoint(f"{name} {str(raw)[:20]!r} is out of range (-{limit:g} to {limit:g})")
        values.append(value)
    return values[0], values[1]


def _read_json(path: Path) -> Any:
    try:
        with path.open("rb") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise DataError(f"the data folder has no {path.name}: run `actiontool data build`") from None
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read {path.name}: {exc}") from None


def _member(bioguide: str, raw: dict[str, Any]) -> Member:
    return Member(
        bioguide=bioguide,
        name=raw["name"],
        first_name=raw["first_name"],
        last_name=raw["last_name"],
        title=raw["title"],
        party=raw["party"],
        state=raw["state"],
        district=raw["district"],
        phone=raw.get("phone"),
        url=raw.get("url"),
        contact_form=raw.get("contact_form"),
        office_address=raw.get("office_address"),
        term_end=raw.get("term_end"),
        term_end_type=raw.get("term_end_type"),
        gender=raw.get("gender"),
    )


class Dataset:
    """One loaded copy of the bundled data: members, seats, ZIPs and (lazily) boundaries."""

    def __init__(self, data_dir: Path, manifest: dict[str, Any], members: dict[str, Any],
                 zips: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.manifest = manifest
        info = manifest["dataset"]
        self.info = DataInfo(as_of=info["as_of"], congress=int(info["congress"]),
                             congress_ends=info["congress_ends"],
                             redrawn_states=tuple(info.get("redrawn_states", ())))
        self._members = {b: _member(b, raw) for b, raw in members["members"].items()}
        self._seats: dict[str, District] = {}
        for label, bioguide in members["house"].items():
            state, number = parse_label(label)
            self._seats[label] = District(state, number, self._members[bioguide] if bioguide else None)
        self._senators = {
            state: tuple(self._members[b] for b in bioguides)
            for state, bioguides in members["senate"].items()
        }
        self._zips = zips
        self._cache: dict[str, Lookup] = {}
        self._groups: dict[str, _Group] = {}
        self._boundaries: Any = None
        self._territory_zips: dict[str, list[Any]] = {}
        self._boundary_lock = threading.Lock()
        self._offices: dict[str, tuple[Office, ...]] | None = None

    # -- members and seats ---------------------------------------------------------------------

    def member(self, bioguide: str) -> Member | None:
        """Return the member with this Bioguide ID, or None."""
        return self._members.get(bioguide)

    def left_office(self, bioguide: str, today: date) -> bool:
        """Return True when a letter to this member must not be delivered: they are not in this dataset
        (a newer build no longer lists them) or their recorded term has ended."""
        member = self._members.get(bioguide)
        return member is None or member.term_ended(today)

    def members(self) -> Iterator[Member]:
        """Yield every sitting member: House (including non-voting) and Senate, by Bioguide ID."""
        return iter(sorted(self._members.values(), key=lambda m: m.bioguide))

    def house_seats(self) -> dict[tuple[str, int], Member | None]:
        """Return every House seat (441: 435 voting, 6 non-voting) -> its member, or None when vacant."""
        return {(d.state, d.district): d.member for d in self._seats.values()}

    def districts(self) -> tuple[District, ...]:
        """Return every House seat as a District, ordered by state then number."""
        return tuple(sorted(self._seats.values(), key=lambda d: (d.state, d.district)))

    def district(self, label: str) -> District | None:
        """Return the House seat with this label (`WI-3`, `AK-AL`), or None."""
        return self._seats.get(label)

    def vacancies(self) -> tuple[District, ...]:
        """Return the vacant House seats."""
        return tuple(d for d in self.districts() if d.member is None)

    def senators(self, state: str) -> tuple[Member, ...]:
        """Return the senators of `state` (none for DC, PR and the island areas)."""
        return self._senators.get(state, ())

    def senate(self) -> dict[str, tuple[Member, ...]]:
        """Return {state: senators} for every state with senators."""
        return dict(self._senators)

    def offices(self, bioguide: str) -> tuple[Office, ...]:
        """Return the member's local offices (loaded on first use; none when the data has no offices file)."""
        if self._offices is None:
            path = self.data_dir / OFFICES_FILE
            raw = _read_json(path)["offices"] if path.is_file() else {}
            self._offices = {
                b: tuple(Office(bioguide=b, **office) for office in offices) for b, offices in raw.items()
            }
        return self._offices.get(bioguide, ())

    # -- ZIPs ----------------------------------------------------------------------------------

    def zip_codes(self) -> Iterable[str]:
        """Return every ZIP the dataset can answer for."""
        return self._zips.keys()

    def zip_record(self, zip_code: str) -> dict[str, Any] | None:
        """Return the raw facts about a ZIP: city, state, lat, lon, type, basis, labels; or None."""
        raw = self._zips.get(normalize_zip(zip_code))
        if raw is None:
            return None
        city, state, lat, lon, kind, basis, labels = raw.split("|")
        return {
            "city": city or None,
            "state": state or None,
            "lat": float(lat) if lat else None,
            "lon": float(lon) if lon else None,
            "type": ZIP_TYPES.get(kind),
            "basis": _BASES[basis],
            "labels": labels.split(","),
        }

    def lookup(self, zip_text: str) -> Lookup:
        """Return the House candidates and senators for a ZIP; raise InvalidZip or NotFound."""
        zip_code = normalize_zip(zip_text)
        cached = self._cache.get(zip_code)
        if cached is not None:
            return cached
        raw = self._zips.get(zip_code)
        if raw is None:
            raise NotFound(f"no congressional district is known for ZIP {zip_code}")
        city, state, _lat, _lon, _kind, basis_code, labels = raw.split("|")
        districts, states, senators = self._group(labels)
        basis = _BASES[basis_code]
        status: Status
        if basis != "zcta":
            status = "approximate"
        else:
            status = "exact" if len(districts) == 1 else "ambiguous"
        result = Lookup(
            query={"zip": zip_code},
            status=status,
            city=city or None,
            state=state or states[0],
            districts=districts,
            senators=senators,
            data=self.info,
            basis=basis,
            states=states,
        )
        self._cache[zip_code] = result
        return result

    def _group(self, labels: str) -> _Group:
        """Return (districts, states, senators) for a comma-separated label list, shared between ZIPs."""
        group = self._groups.get(labels)
        if group is None:
            group = self._resolve_labels(labels.split(","))
            self._groups[labels] = group
        return group

    def _resolve_labels(self, labels: list[str]) -> _Group:
        try:
            districts = tuple(self._seats[label] for label in labels)
        except KeyError as exc:
            raise DataError(f"the ZIP data names district {exc.args[0]}, which has no seat") from None
        states = tuple(dict.fromkeys(d.state for d in districts))
        senators = tuple(s for state in states for s in self.senators(state))
        return districts, states, senators

    # -- points --------------------------------------------------------------------------------

    def load_boundaries(self) -> Any:
        """Load and index the district polygons (done once, on first use); return the Boundaries."""
        if self._boundaries is None:
            with self._boundary_lock:
                if self._boundaries is None:
                    from actiontool.districts.geometry import Boundaries

                    raw = _read_json(self.data_dir / BOUNDARIES_FILE)
                    self._territory_zips = raw.get("territory_zips", {})
                    self._boundaries = Boundaries(raw["districts"])
        return self._boundaries

    def boundaries(self) -> dict[str, Any]:
        """Return {label: shapely geometry} for every district that has a polygon (not the island areas)."""
        return self.load_boundaries().geometries()

    def lookup_point(self, lat: Any, lon: Any) -> Lookup:
        """Return the district(s) at a latitude/longitude; raise InvalidPoint or NotFound."""
        lat_f, lon_f = parse_point(lat, lon)
        boundaries = self.load_boundaries()
        query = {"lat": lat_f, "lon": lon_f}
        inside = boundaries.containing(lat_f, lon_f)
        if inside:
            near = [label for label, _ in boundaries.within_km(lat_f, lon_f, NEAR_BOUNDARY_KM)
                    if label not in inside]
            labels = inside + near
            status = "exact" if len(labels) == 1 else "ambiguous"
            # Two polygons can overlap where the generalised lines cross: that point is at a boundary too.
            return self._point_answer(query, labels, status, "point", near_boundary=len(labels) > 1)
        coast = boundaries.within_km(lat_f, lon_f, COAST_KM)
        if coast:
            labels = [label for label, _ in coast]
            return self._point_answer(query, labels, "approximate", "point", near_boundary=True)
        territory = self._nearest_territory(lat_f, lon_f)
        if territory is not None:
            return self._point_answer(query, [district_label(territory, 0)], "approximate", "state")
        raise NotFound(f"no congressional district at {lat_f:g}, {lon_f:g}")

    def _nearest_territory(self, lat: float, lon: float) -> str | None:
        """Return the island area with a ZIP within TERRITORY_KM of the point, the nearest one."""
        from actiontool.districts.geometry import haversine_km

        best: tuple[float, str] | None = None
        for t_lat, t_lon, state in self._territory_zips.values():
            distance = haversine_km(lat, lon, t_lat, t_lon)
            if distance <= TERRITORY_KM and (best is None or distance < best[0]):
                best = (distance, state)
        return None if best is None else best[1]

    def _point_answer(self, query: dict[str, Any], labels: list[str], status: str, basis: Basis,
                      near_boundary: bool = False) -> Lookup:
        districts, states, senators = self._group(",".join(labels))
        return Lookup(query=query, status=status, city=None, state=states[0], districts=districts,  # type: ignore[arg-type]
                      senators=senators, data=self.info, basis=basis, near_boundary=near_boundary,
                      states=states)


def read_manifest(data_dir: Path) -> dict[str, Any]:
    """Return the parsed MANIFEST.json of a data folder."""
    manifest = _read_json(Path(data_dir) / MANIFEST_FILE)
    if not isinstance(manifest, dict) or "dataset" not in manifest:
        raise DataError("MANIFEST.json has no dataset section")
    return manifest


def load(data_dir: Path) -> Dataset:
    """Load the dataset in `data_dir` (boundaries wait for the first point lookup)."""
    data_dir = Path(data_dir)
    manifest = read_manifest(data_dir)
    members = _read_json(data_dir / MEMBERS_FILE)
    zips = _read_json(data_dir / ZIPS_FILE)
    try:
        return Dataset(data_dir, manifest, members, zips["zips"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"the data in {data_dir.name}/ is malformed: {exc!r}") from None
