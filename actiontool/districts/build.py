"""`actiontool data build`: turn the upstream files into the compact bundled data, checked before writing.

Inputs (each a path or an http(s) URL): congress-legislators' legislators-current.json, the ZCTA -> district
table zccd.csv, and the Census district boundaries of the Congress to serve as GeoJSON; optionally the
district offices CSV and contact-congress's `members/` folder (or the repository as .tar.gz), which fills
in contact form URLs.
ZIP -> city/state/coordinates/type comes from the `zipcodes` package, read here only, so the runtime never
imports it. Same inputs, same bytes out: keys are sorted, coordinates rounded, and nothing records when
the build ran.

The Congress the data describes comes from the inputs: the boundaries' `CDnnnFP` property, checked against
the Congress the House members' terms began in. For states whose map was redrawn before the ZIP crosswalk
caught up (`redrawn`), the crosswalk's rows are set aside and each ZIP is placed by its centre point in the
new boundaries, with any district within 2 km as a further candidate (`approximate`, basis `coordinates`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from actiontool.districts.checks import Expectations, Report, check_dataset
from actiontool.districts.congress import boundary_property, members_congress
from actiontool.districts.contact_forms import (
    ContactFormsError,
    FormUrls,
    files_in_archive,
    files_in_folder,
    folder_digest,
    form_urls,
    http_url,
)
from actiontool.districts.dataset import (
    BOUNDARIES_FILE,
    MANIFEST_FILE,
    MEMBERS_FILE,
    OFFICES_FILE,
    ZIPS_FILE,
    DataError,
    load,
)
from actiontool.districts.model import SPECIAL_ELECTION, district_label, ordinal
from actiontool.districts.states import (
    ISLAND_AREAS,
    NON_VOTING,
    STATE_FIPS,
    STATES,
    congress_end,
    house_title,
)

FETCH_TIMEOUT = (10.0, 120.0)  # seconds: connect, read

DEFAULT_URLS: dict[str, str] = {
    "legislators": "https://unitedstates.github.io/congress-legislators/legislators-current.json",
    "offices": "https://unitedstates.github.io/congress-legislators/legislators-district-offices.csv",
    "zccd": "https://raw.githubusercontent.com/OpenSourceActivismTech/us-zipcodes-congress/master/zccd.csv",
    "boundaries": (
        "https://raw.githubusercontent.com/PolicyEngine/policyengine-app-v2/"
        "d8175541802fc2f15b7eb31315d4a5eefbeac606/app/public/data/geojson/congressional_districts.geojson"
    ),
    # The whole repository as GitHub's archive; the build reads its members/*.yaml.
    "contact_forms": "https://github.com/unitedstates/contact-congress/archive/refs/heads/main.tar.gz",
}

# Where each input sits in a folder laid out like the upstream copies (`--from-dir`).
DIR_LAYOUT: dict[str, str] = {
    "legislators": "congress-legislators/legislators-current.json",
    "zccd": "us-zipcodes-congress/zccd.csv",
    "boundaries": "boundaries/cd119_20m.geojson",  # or the latest cdNNN_*.geojson there (newest_boundaries)
}
# Optional inputs: used when present.
OPTIONAL_LAYOUT: dict[str, str] = {
    "offices": "congress-legislators/legislators-district-offices.csv",
    "contact_forms": "contact-congress/members",  # a folder of <bioguide>.yaml
}

LICENSES: dict[str, str] = {
    "legislators": "CC0-1.0 (unitedstates/congress-legislators)",
    "offices": "CC0-1.0 (unitedstates/congress-legislators)",
    "zccd": "US Government Works (no copyright); scripts MIT (OpenSourceActivismTech/us-zipcodes-congress)",
    "boundaries": "US Government Work: US Census Bureau cartographic boundary file cb_2024_us_cd119_20m",
    "zipcodes": "MIT (zipcodes package); coordinates from GeoNames, CC BY 4.0",
    "contact_forms": "CC0-1.0 (unitedstates/contact-congress)",
}

# Provenance of upstream snapshots we know by content. A file we do not recognise is still used and
# identified by its sha256; its version is then recorded as unknown rather than guessed.
KNOWN_SNAPSHOTS: dict[str, dict[str, str]] = {
    "9447e2430d94e339d9c092cb5d150bfe992eac7f8d3af72bc9e977f8f008e29a": {
        "version": "gh-pages 61c9ce6a4b093e76e1244a53ada21d8d30981f42 (built from main "
        "dfa9622263dd4c8d08636926e498f1845704d7eb)",
        "date": "2026-06-15",
    },
    "95a20c06eb4fbdef74011bd57f92831acfb2ebf8292aa7913f69c369b4c2d12e": {
        "version": "gh-pages 61c9ce6a4b093e76e1244a53ada21d8d30981f42 (built from main "
        "dfa9622263dd4c8d08636926e498f1845704d7eb)",
        "date": "2026-06-15",
    },
    "2737474129243d8c53df02db43fc5d6e3d2274fe1af131c35517fb437e76fc01": {
        "version": "master 1335b61ff36b6835a25fc63c754070a6148110e7",
        "date": "2024-11-12",
    },
    "9559e041ce068ecde537ab02c5a8ac2c3aaa957bdbc813c40584064ac291e472": {
        "version": "Census cb_2024_us_cd119_20m (1:20,000,000), as GeoJSON in "
        "PolicyEngine/policyengine-app-v2 d8175541802fc2f15b7eb31315d4a5eefbeac606",
        "date": "2026-01-25",
    },
    # contact-congress members/*.yaml: a digest over the sorted files (contact_forms.folder_digest).
    "5361340d39a7986554969d4920c039a24808f232e44cb8131df11db72e5cc691": {
        "version": "main 6c4c16dd616e4a0e3dcba3c5f35e1e69ac345e3e (members/, 790 files)",
        "date": "2026-08-13",
    },
}

APPROX_NEAR_KM = 2.0  # neighbours of a ZIP's centre point that are also listed as candidates
APPROX_MAX_KM = 10.0  # a ZIP centre this far outside every district of its state stays unresolved
BOUNDARY_DECIMALS = 5  # about a metre; the 1:20M source has no more
ZIP_DECIMALS = 4  # about ten metres; the zipcodes source has no more

Progress = Callable[[str, int], Callable[[Iterable[Any]], Iterable[Any]]]


class BuildError(Exception):
    """The inputs cannot make a correct dataset; `problems` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Inputs:
    """Where each input comes from: a path or an http(s) URL."""

    legislators: str = DEFAULT_URLS["legislators"]
    zccd: str = DEFAULT_URLS["zccd"]
    boundaries: str = DEFAULT_URLS["boundaries"]
    zipcodes: str | None = None  # a JSON list in the zipcodes package's format; None: the package itself
    offices: str | None = DEFAULT_URLS["offices"]  # None: build without local offices
    contact_forms: str | None = DEFAULT_URLS["contact_forms"]  # a folder or a .tar.gz; None: without

    @classmethod
    def from_dir(cls, folder: Path, **overrides: str | None) -> Inputs:
        """Return inputs read from a folder laid out like the upstream copies, with per-input overrides."""
        paths: dict[str, str | None] = {name: str(Path(folder) / rel) for name, rel in DIR_LAYOUT.items()}
        paths["boundaries"] = str(newest_boundaries(Path(folder) / "boundaries") or paths["boundaries"])
        for name, rel in OPTIONAL_LAYOUT.items():
            paths[name] = str(Path(folder) / rel) if (Path(folder) / rel).exists() else None
        paths.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**paths)  # type: ignore[arg-type]


_BOUNDARIES_NAME = re.compile(r"cd(\d{2,3})_[^/]*\.geojson")


def newest_boundaries(folder: Path) -> Path | None:
    """Return the boundaries file of the latest Congress in a folder (`cd119_20m.geojson`,
    `cd120_20m.geojson`, ...), so a new Congress's file is used once it is put there; else None."""
    found = [(int(m.group(1)), path) for path in folder.glob("cd*.geojson")
             if (m := _BOUNDARIES_NAME.fullmatch(path.name))] if folder.is_dir() else []
    return max(found)[1] if found else None


@dataclass
class BuildResult:
    """What a build wrote (or would write) and what the checks said."""

    files: dict[str, bytes]
    report: Report
    summary: dict[str, Any] = field(default_factory=dict)


def _no_progress(label: str, length: int) -> Callable[[Iterable[Any]], Iterable[Any]]:
    return lambda items: items


# -- reading inputs ------------------------------------------------------------------------------


def read_input(name: str, source: str) -> bytes:
    """Return the bytes of an input given as a path or an http(s) URL; raise BuildError with the reason."""
    if source.startswith(("http://", "https://")):
        import requests

        try:
            response = requests.get(source, timeout=FETCH_TIMEOUT)
            response.raise_for_status()
        except requests.RequestException as exc:
            raise BuildError([f"cannot fetch {name} from {source}: {exc}"]) from None
        return response.content
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise BuildError([f"cannot read {name} from {source}: {exc.strerror or exc}"]) from None


def sha256(data: bytes) -> str:
    """Return the hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def source_url(name: str, source: str) -> str:
    """Return the URL to record for an input: the one given, or the upstream URL a local copy came from.

    A local boundaries file of another Congress than the default's (`cd120_20m.geojson`) did not come from
    the default URL: it is recorded as a local file by its name."""
    if source.startswith(("http://", "https://")):
        return source
    if name == "boundaries" and Path(source).name != Path(DIR_LAYOUT["boundaries"]).name:
        return f"local file {Path(source).name}"
    return DEFAULT_URLS[name]


# -- members -------------------------------------------------------------------------------------


def parse_members(raw: bytes, problems: list[str]) -> list[dict[str, Any]]:
    """Return one record per member in legislators-current.json (every one, whatever its term end)."""
    try:
        people = json.loads(raw)
    except ValueError as exc:
        problems.append(f"legislators: not JSON ({exc})")
        return []
    members = []
    for person in people:
        try:
            bioguide = person["id"]["bioguide"]
            term = person["terms"][-1]
            names = person["name"]
            state = term["state"]
            senator = term["type"] == "sen"
            district = None if senator else int(term["district"])
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            problems.append(f"legislators: a record lacks {exc!s} ({str(person)[:60]})")
            continue
        # Appointed senators carry the special election date as their term end; they sit until the winner
        # is sworn in, so a term end in the past is not a reason to drop anyone.
        first, last = names.get("first", ""), names.get("last", "")
        members.append({
            "bioguide": bioguide,
            "name": names.get("official_full") or f"{first} {last}".strip(),
            "first_name": first,
            "last_name": last,
            "title": "Senator" if senator else house_title(state),
            "party": term.get("party", ""),
            "state": state,
            "district": district,
            "phone": term.get("phone"),
            "url": term.get("url"),
            "contact_form": term.get("contact_form"),
            "office_address": term.get("address"),
            "term_end": term.get("end"),
            # "F" or "M" as congress-legislators records it (bio.gender): letters in Spanish greet by it.
            **({"gender": gender} if (gender := _gender(person)) else {}),
            # Only an appointee's term ends "by special election": they sit until the winner is sworn in.
            **({"term_end_type": term["end-type"]} if term.get("end-type") == SPECIAL_ELECTION else {}),
        })
    return members


def _gender(person: dict[str, Any]) -> str | None:
    """Return the member's recorded gender, "F" or "M", or None when upstream gives neither."""
    bio = person.get("bio")
    gender = bio.get("gender") if isinstance(bio, dict) else None
    return gender if gender in ("F", "M") else None


# -- contact forms (unitedstates/contact-congress) -----------------------------------------------


def read_contact_forms(source: str) -> dict[str, bytes]:
    """Return {file name: bytes} of contact-congress's member files: a folder, or a .tar.gz path or URL."""
    try:
        if not source.startswith(("http://", "https://")) and Path(source).is_dir():
            return files_in_folder(Path(source))
        return files_in_archive(read_input("contact_forms", source))
    except ContactFormsError as exc:
        raise BuildError([f"contact_forms: {exc}"]) from None


def add_contact_forms(
    members: list[dict[str, Any]], forms: FormUrls
) -> tuple[list[dict[str, Any]], set[str]]:
    """Return members with contact-congress's form URL where congress-legislators has none; and who got it."""
    merged: list[dict[str, Any]] = []
    filled: set[str] = set()
    for member in members:
        url = forms.urls.get(member["bioguide"])
        if not member["contact_form"] and url:
            member = {**member, "contact_form": url}
            filled.add(member["bioguide"])
        merged.append(member)
    return merged, filled


def drop_malformed_links(members: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Return the members with each `url` and `contact_form` that is not an http(s) URL set to None, and a
    warning for each: a receipt must not offer a dead link (upstream has typos such as `hhttps://`)."""
    cleaned: list[dict[str, Any]] = []
    warnings: list[str] = []
    for member in members:
        for key in ("url", "contact_form"):
            value = member[key]
            if value is None:
                continue
            link = http_url(value)
            if link is None:
                warnings.append(f"legislators: {member['bioguide']} {key} {value!r} is not an http(s) URL; "
                                "left out")
            if link != value:
                member = {**member, key: link}
        cleaned.append(member)
    return cleaned, warnings


# -- local offices -------------------------------------------------------------------------------


_OFFICE_TEXT = ("address", "building", "suite", "city", "state", "zip", "phone")


def _number(value: str | None) -> float | None:
    try:
        return round(float(value), ZIP_DECIMALS)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def parse_offices(raw: bytes, members: set[str], problems: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Return {bioguide: [office, ...]} from legislators-district-offices.csv, for current members only."""
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))
    missing = {"bioguide", "address", "city", "state"} - set(reader.fieldnames or ())
    if missing:
        problems.append(f"offices: missing columns {', '.join(sorted(missing))}")
        return {}
    offices: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in reader:
        bioguide = (row.get("bioguide") or "").strip()
        if bioguide not in members or not (row.get("address") or "").strip():
            continue

        text = {key: (row.get(key) or "").strip() or None for key in _OFFICE_TEXT}
        offices[bioguide].append({
            **text, "city": text["city"] or "", "state": text["state"] or "",
            "lat": _number(row.get("latitude")), "lon": _number(row.get("longitude")),
        })
    for entries in offices.values():
        entries.sort(key=lambda o: (o["state"], o["city"], o["address"]))
    return dict(offices)


# -- boundaries ----------------------------------------------------------------------------------


def _district_number(code: Any) -> int:
    """Return the district number of a feature's `CDnnnFP` value: 0 for at-large states, DC and PR."""
    code = str(code).strip()
    if code in ("00", "98"):  # Census: 00 at-large, 98 a non-voting delegate's area
        return 0
    return int(code)


def _flat_ring(ring: list[list[float]]) -> list[float]:
    flat: list[float] = []
    for lon, lat, *_ in ring:
        flat += [round(float(lon), BOUNDARY_DECIMALS), round(float(lat), BOUNDARY_DECIMALS)]
    return flat


@dataclass
class ParsedBoundaries:
    """The district polygons of one Congress, and that Congress (from the `CDnnnFP` property's name)."""

    shapes: dict[str, list[list[list[float]]]]
    congress: int | None


def parse_boundaries(raw: bytes, problems: list[str]) -> ParsedBoundaries:
    """Return {label: [[flat ring, ...] per polygon]} and the Congress of a Census district GeoJSON."""
    try:
        features = json.loads(raw)["features"]
    except (ValueError, KeyError, TypeError) as exc:
        problems.append(f"boundaries: not a GeoJSON FeatureCollection ({exc})")
        return ParsedBoundaries({}, None)
    shapes: dict[str, list[list[list[float]]]] = defaultdict(list)
    congresses: set[int] = set()
    for feature in features:
        props = feature.get("properties") or {}
        geometry = feature.get("geometry") or {}
        found = boundary_property(props)
        if found is None:
            problems.append(f"boundaries: feature {str(props)[:80]} has no CDnnnFP district property")
            continue
        key, congress = found
        congresses.add(congress)
        if str(props.get(key, "")).upper() == "ZZ":
            continue  # Census: water or land assigned to no district
        try:
            # DISTRICT_ID (`WI-02`) where the conversion added it; a Census file as is has only STATEFP.
            state = (str(props["DISTRICT_ID"]).split("-")[0] if "DISTRICT_ID" in props
                     else STATE_FIPS[str(props["STATEFP"]).zfill(2)])
            number = _district_number(props[key])
        except (KeyError, ValueError):
            problems.append(f"boundaries: cannot tell the district of feature {str(props)[:80]}")
            continue
        if state in NON_VOTING:
            number = 0
        if geometry.get("type") == "Polygon":
            polygons = [geometry["coordinates"]]
        elif geometry.get("type") == "MultiPolygon":
            polygons = geometry["coordinates"]
        else:
            problems.append(f"boundaries: {district_label(state, number)} has no polygon geometry")
            continue
        shapes[district_label(state, number)] += [[_flat_ring(ring) for ring in poly] for poly in polygons]
    if len(congresses) > 1:
        named = ", ".join(ordinal(c) for c in sorted(congresses))
        problems.append(f"boundaries: features of several Congresses ({named}) in one file")
    return ParsedBoundaries(dict(shapes), min(congresses) if len(congresses) == 1 else None)


# -- ZCTA -> districts ---------------------------------------------------------------------------


def parse_zccd(raw: bytes, problems: list[str]) -> dict[str, set[str]]:
    """Return {zcta: {label, ...}} from zccd.csv (state_fips,state_abbr,zcta,cd)."""
    zctas: dict[str, set[str]] = defaultdict(set)
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))
    missing = {"state_abbr", "zcta", "cd"} - set(reader.fieldnames or ())
    if missing:
        problems.append(f"zccd: missing columns {', '.join(sorted(missing))}")
        return {}
    for line, row in enumerate(reader, start=2):
        zcta, state = (row["zcta"] or "").strip().zfill(5), (row["state_abbr"] or "").strip()
        try:
            number = int(row["cd"])
        except (TypeError, ValueError):
            problems.append(f"zccd line {line}: district {row['cd']!r} is not a number")
            continue
        if not zcta.isdigit() or len(zcta) != 5:
            problems.append(f"zccd line {line}: {row['zcta']!r} is not a ZCTA")
            continue
        zctas[zcta].add(district_label(state, number))
    return dict(zctas)


# -- ZIP places (the zipcodes package) -----------------------------------------------------------

_ZIP_TYPES = {"STANDARD": "S", "PO BOX": "P", "UNIQUE": "U"}


def read_places(source: str | None) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Return the zipcodes records (from the package, or a JSON file in its format) and their provenance."""
    if source is None:
        from importlib.metadata import version

        import zipcodes

        records = zipcodes.list_all()
        ver = version("zipcodes")
        origin = {"url": f"https://pypi.org/project/zipcodes/{ver}/", "version": f"zipcodes {ver}"}
    else:
        try:
            records = json.loads(read_input("zipcodes", source))
        except ValueError as exc:
            raise BuildError([f"zipcodes: not JSON ({exc})"]) from None
        origin = {"url": source_url("zipcodes", source) if source.startswith("http") else "local file",
                  "version": "unknown"}
    if not isinstance(records, list):
        raise BuildError(["zipcodes: expected a JSON list of ZIP records"])
    bad = [r for r in records if not isinstance(r, dict) or not str(r.get("zip_code", "")).isdigit()
           or len(str(r.get("zip_code"))) != 5]
    if bad:
        example = str(bad[0])[:80]
        raise BuildError([f"zipcodes: {len(bad)} record(s) without a five-digit zip_code, e.g. {example}"])
    return records, origin


def _coord(value: Any) -> str:
    try:
        return repr(round(float(value), ZIP_DECIMALS))
    except (TypeError, ValueError):
        return ""


def place_point(place: Mapping[str, Any]) -> tuple[float, float] | None:
    """Return a place's (lat, lon), or None when it has none (the zipcodes data writes 0, 0 for unknown)."""
    lat, lon = _coord(place.get("lat")), _coord(place.get("long"))
    if not lat or not lon or (float(lat) == 0.0 and float(lon) == 0.0):
        return None
    return float(lat), float(lon)


# -- assembling ----------------------------------------------------------------------------------


def _label_key(label: str, primary: str | None) -> tuple[bool, str, int]:
    state, _, number = label.partition("-")
    return (state != primary, state, 0 if number == "AL" else int(number))


def _dump(obj: Any) -> bytes:
    """Return canonical JSON bytes: sorted keys, no spaces, UTF-8, a final newline."""
    return (json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


@dataclass
class _Sources:
    """Every input, read and parsed: the raw bytes (for the manifest) and what the build uses."""

    raw: dict[str, bytes]
    members: list[dict[str, Any]]
    shapes: dict[str, list[list[list[float]]]]
    zctas: dict[str, set[str]]
    places: list[dict[str, Any]]
    places_origin: dict[str, str]
    offices_raw: bytes | None
    offices: dict[str, list[dict[str, Any]]] | None
    contact_files: dict[str, bytes] | None = None  # contact-congress members/*.yaml, when an input
    contact_forms: FormUrls | None = None
    forms_added: set[str] = field(default_factory=set)  # members whose form URL came from contact-congress
    warnings: list[str] = field(default_factory=list)  # facts to report that do not stop the build
    boundaries_congress: int | None = None  # from the boundaries' CDnnnFP property
    members_congress: int | None = None  # the Congress most House members' terms began in


@dataclass
class _Seats:
    """Who holds what: House seat label -> Bioguide ID (None when vacant); state -> senators."""

    house: dict[str, str | None]
    senate: dict[str, list[str]]

    def count_by_state(self) -> dict[str, int]:
        """Return {state: number of House seats}."""
        counts: dict[str, int] = defaultdict(int)
        for label in self.house:
            counts[label.split("-")[0]] += 1
        return counts


@dataclass
class _Placement:
    """Every ZIP's compact record, and the ZIPs that needed special handling."""

    zips: dict[str, str] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)
    postal_state_added: list[str] = field(default_factory=list)
    redrawn: list[str] = field(default_factory=list)  # ZIPs of redrawn states placed by coordinates


def _read_sources(inputs: Inputs, progress: Progress) -> _Sources:
    """Read and parse every input; raise BuildError listing every problem found."""
    problems: list[str] = []
    reading = progress("Reading inputs", len(DIR_LAYOUT))
    raw = {name: read_input(name, getattr(inputs, name)) for name in reading(DIR_LAYOUT)}
    members, warnings = drop_malformed_links(parse_members(raw["legislators"], problems))
    boundaries = parse_boundaries(raw["boundaries"], problems)
    zctas = parse_zccd(raw["zccd"], problems)
    places, places_origin = read_places(inputs.zipcodes)
    offices_raw = read_input("offices", inputs.offices) if inputs.offices else None
    offices = parse_offices(offices_raw, {m["bioguide"] for m in members}, problems) if offices_raw else None
    if problems:
        raise BuildError(problems)
    sources = _Sources(raw=raw, members=members, shapes=boundaries.shapes, zctas=zctas, places=places,
                       places_origin=places_origin, offices_raw=offices_raw, offices=offices,
                       warnings=warnings, boundaries_congress=boundaries.congress,
                       members_congress=members_congress(json.loads(raw["legislators"])))
    if inputs.contact_forms:
        sources.contact_files = read_contact_forms(inputs.contact_forms)
        sources.contact_forms = form_urls(sources.contact_files)
        sources.members, sources.forms_added = add_contact_forms(members, sources.contact_forms)
    return sources


def _seat_members(
    members: list[dict[str, Any]], shapes: Mapping[str, Any], expect: Expectations, problems: list[str]
) -> _Seats:
    """Return the seats (every district with a polygon, plus the island areas) and who holds them."""
    house: dict[str, str | None] = {label: None for label in shapes}
    for state in sorted(ISLAND_AREAS & (expect.non_voting or NON_VOTING)):
        house.setdefault(district_label(state, 0), None)
    senate: dict[str, list[str]] = defaultdict(list)
    for m in members:
        if m["district"] is None:
            senate[m["state"]].append(m["bioguide"])
            continue
        label = district_label(m["state"], m["district"])
        if label not in house:
            problems.append(f"legislators: {m['name']} ({m['bioguide']}) sits for {label}, "
                            "which has no boundary")
        elif house[label] is not None:
            problems.append(f"legislators: two members for {label}: {house[label]} and {m['bioguide']}")
        else:
            house[label] = m["bioguide"]
    return _Seats(house=house, senate=senate)


def _check_zcta_districts(zctas: Mapping[str, set[str]], seats: _Seats, problems: list[str],
                          redrawn: frozenset[str] = frozenset()) -> None:
    """Add a problem for every district zccd.csv names that is not a seat (redrawn states' rows: unused)."""
    unknown: dict[str, list[str]] = defaultdict(list)
    for zcta, labels in zctas.items():
        for label in labels - seats.house.keys():
            if _state_of(label) in redrawn:
                continue
            unknown[label].append(zcta)
    for label, examples in sorted(unknown.items()):
        shown = ", ".join(sorted(examples)[:3])
        problems.append(f"zccd: district {label} does not exist in its state (ZCTA {shown})")


def _represented_places(places: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Return {zip: place} for places in the states and non-voting areas (not military mail nor the
    freely associated states)."""
    represented = STATES | NON_VOTING
    return {p["zip_code"]: p for p in places if p.get("state") in represented}


class _StatePlacer:
    """Places a ZIP within its own state: the only seat, or the districts at its centre point."""

    def __init__(self, shapes: dict[str, Any], seats_per_state: Mapping[str, int]) -> None:
        self._shapes = shapes
        self._seats_per_state = seats_per_state
        self._boundaries: Any = None  # built on first need: most ZIPs do not need the polygons

    def has_seats(self, state: Any) -> bool:
        """Return True when the state (or area) has a House seat."""
        return state in self._seats_per_state

    def single_seat(self, state: Any) -> bool:
        """Return True when the state (or area) has one House seat."""
        return self._seats_per_state.get(state, 0) == 1

    def districts(self, place: Mapping[str, Any], state: str | None = None) -> set[str]:
        """Return the districts of a state (default: the ZIP's own) for a ZIP: the only seat, or those at or
        near its centre point."""
        state = state or str(place.get("state") or "")
        if self.single_seat(state):
            return {district_label(state, 0)}
        if self._boundaries is None:
            from actiontool.districts.geometry import Boundaries

            self._boundaries = Boundaries(self._shapes)
        return _place_by_coordinates(self._boundaries, place, state)


def _zip_record(zip_code: str, place: Mapping[str, Any], labels: set[str], basis: str) -> str:
    """Return a ZIP's compact record: `city|state|lat|lon|type|basis|label,label`."""
    city = str(place.get("city") or "").replace("|", "/")
    place_state = place.get("state")
    states = {label.split("-")[0] for label in labels}
    state = place_state if place_state in states else sorted(states)[0]
    ordered = sorted(labels, key=lambda lb: _label_key(lb, state))
    kind = _ZIP_TYPES.get(place.get("zip_code_type", ""), "")
    point = place_point(place)
    lat, lon = (repr(point[0]), repr(point[1])) if point else ("", "")
    return "|".join([city, state, lat, lon, kind, basis, ",".join(ordered)])


def _state_of(label: str) -> str:
    return label.split("-")[0]


def _place_zips(
    zctas: Mapping[str, set[str]],
    places_by_zip: Mapping[str, dict[str, Any]],
    placer: _StatePlacer,
    progress: Progress,
    redrawn: frozenset[str] = frozenset(),
) -> _Placement:
    """Return every ZIP's record: by its ZCTA when it has one, else by its state or its centre point.

    A ZCTA's districts in a `redrawn` state are of the old map: they are replaced by the districts of that
    state at or near the ZIP's centre point in the new boundaries (basis `coordinates`)."""
    placement = _Placement()
    wanted = sorted(set(zctas) | set(places_by_zip))
    for zip_code in progress("Placing ZIP codes", len(wanted))(wanted):
        place = places_by_zip.get(zip_code, {})
        place_state = place.get("state")
        if zip_code in zctas:
            labels, basis = set(zctas[zip_code]), "z"
            stale = {_state_of(lb) for lb in labels} & redrawn
            if stale:
                labels = {lb for lb in labels if _state_of(lb) not in stale}
                for state in sorted(stale):
                    labels |= placer.districts(place, state)
                basis = "c"
                placement.redrawn.append(zip_code)
            if placer.has_seats(place_state) and place_state not in {lb.split("-")[0] for lb in labels}:
                # The tabulation area lies in other states but USPS puts the ZIP in this one (e.g. 57717,
                # Belle Fourche SD, whose ZCTA is in MT and WY): list this state's district too.
                labels |= placer.districts(place)
                placement.postal_state_added.append(zip_code)
            if not labels:  # only when a redrawn state's ZIP has no usable centre point
                placement.unresolved.append(zip_code)
                continue
        else:
            labels = placer.districts(place)
            basis = "s" if placer.single_seat(place_state) else "c"
            if not labels:
                placement.unresolved.append(zip_code)
                continue
        placement.zips[zip_code] = _zip_record(zip_code, place, labels, basis)
    return placement


def _territory_zips(places_by_zip: Mapping[str, dict[str, Any]]) -> dict[str, list[Any]]:
    """Return {zip: [lat, lon, state]} for the island areas, which have no polygons."""
    return {
        z: [*point, p["state"]]
        for z, p in places_by_zip.items()
        if p["state"] in ISLAND_AREAS and (point := place_point(p)) is not None
    }


def _data_files(sources: _Sources, seats: _Seats, placement: _Placement,
                territory_zips: dict[str, list[Any]]) -> dict[str, bytes]:
    """Return the data files (all but the manifest) as canonical JSON bytes."""
    by_id = {m["bioguide"]: {k: v for k, v in m.items() if k != "bioguide"} for m in sources.members}
    files = {
        MEMBERS_FILE: _dump({"members": by_id, "house": seats.house,
                             "senate": {s: sorted(b) for s, b in seats.senate.items()}}),
        ZIPS_FILE: _dump({"zips": placement.zips}),
        BOUNDARIES_FILE: _dump({"districts": sources.shapes, "territory_zips": territory_zips}),
    }
    if sources.offices is not None:
        files[OFFICES_FILE] = _dump({"offices": sources.offices})
    return files


def _manifest(
    inputs: Inputs,
    sources: _Sources,
    files: Mapping[str, bytes],
    places_by_zip: Mapping[str, dict[str, Any]],
    as_of: str | None,
    congress: int,
    redrawn: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Return the manifest: what the dataset is, its files' digests, and every source's provenance."""
    known_as_of = KNOWN_SNAPSHOTS.get(sha256(sources.raw["legislators"]), {}).get("date")
    manifest: dict[str, Any] = {
        "format": 1,
        "dataset": {
            "as_of": as_of or known_as_of or date.today().isoformat(),
            "congress": congress,
            "congress_ends": congress_end(congress),
            "files": {name: {"bytes": len(data), "sha256": sha256(data)} for name, data in files.items()},
            # Only when set, so a build without redrawn states writes the same bytes as before.
            **({"redrawn_states": sorted(redrawn)} if redrawn else {}),
        },
        "sources": {
            name: _source_entry(name, getattr(inputs, name), sha256(sources.raw[name])) for name in DIR_LAYOUT
        },
    }
    if sources.offices_raw is not None:
        manifest["sources"]["offices"] = _source_entry(
            "offices", inputs.offices or "", sha256(sources.offices_raw))
    if sources.contact_files is not None:
        manifest["sources"]["contact_forms"] = _source_entry(
            "contact_forms", inputs.contact_forms or "", folder_digest(sources.contact_files))
    manifest["sources"]["zipcodes"] = {
        **sources.places_origin,
        "date": None,
        "license": LICENSES["zipcodes"],
        "sha256": sha256(_dump(sorted(places_by_zip.items()))),
    }
    return manifest


def _summary(sources: _Sources, seats: _Seats, placement: _Placement) -> dict[str, Any]:
    """Return the counts the CLI reports after a build."""
    basis_counts: dict[str, int] = defaultdict(int)
    for record in placement.zips.values():
        basis_counts[record.split("|")[5]] += 1
    return {
        "zips": len(placement.zips),
        "zcta": basis_counts["z"],
        "coordinates": basis_counts["c"],
        "state": basis_counts["s"],
        "unresolved": placement.unresolved,
        "postal_state_added": placement.postal_state_added,
        "redrawn": placement.redrawn,
        "members": len(sources.members),
        "offices": sum(len(v) for v in (sources.offices or {}).values()),
        "seats": len(seats.house),
        "contact_forms": _contact_form_counts(sources),
        "warnings": sources.warnings,
    }


def _contact_form_counts(sources: _Sources) -> dict[str, Any]:
    """Return how many members have a form URL, how many got it from contact-congress, by chamber."""
    counts: dict[str, Any] = {"senate": 0, "house": 0, "senate_added": 0, "house_added": 0}
    for member in sources.members:
        chamber = "senate" if member["district"] is None else "house"
        counts[chamber] += bool(member["contact_form"])
        counts[f"{chamber}_added"] += member["bioguide"] in sources.forms_added
    current = {m["bioguide"] for m in sources.members}
    forms = sources.contact_forms or FormUrls()
    counts["unreadable"] = [b for b in forms.unreadable if b in current]
    return counts


def _congress(sources: _Sources, given: int | None, problems: list[str]) -> int:
    """Return the Congress the data describes: `given`, else the boundaries' (which the members must agree
    with). A disagreement is a problem without `given`, a warning with it (the operator knowingly builds
    e.g. the new Congress's members on boundaries whose file still bears the old number)."""
    found = sources.boundaries_congress
    members = sources.members_congress
    if given is None and found is None:
        problems.append("boundaries: no CDnnnFP property tells which Congress they are of; give --congress")
        return 0
    congress = given if given is not None else found
    assert congress is not None
    for what, number in (("boundaries", found), ("House members' terms", members)):
        if number is None or number == congress:
            continue
        text = (f"the {what} are of the {ordinal(number)} Congress, "
                f"the data is built as the {ordinal(congress)}")
        if given is None:
            problems.append(f"{text}: update the out-of-date input, or give --congress to build anyway")
        else:
            sources.warnings.append(text)
    return congress


def _check_redrawn(redrawn: frozenset[str], seats: _Seats, expect: Expectations, problems: list[str]) -> None:
    """Add a problem for a redrawn state that is not a state with more than one seat in the boundaries."""
    per_state = seats.count_by_state()
    for state in sorted(redrawn):
        if state not in expect.states:
            problems.append(f"redrawn states: {state!r} is not a state")
        elif per_state.get(state, 0) < 2:
            problems.append(f"redrawn states: {state} has one seat, so no map to redraw")


def assemble(
    inputs: Inputs,
    *,
    as_of: str | None = None,
    congress: int | None = None,
    redrawn: frozenset[str] = frozenset(),
    expect: Expectations | None = None,
    progress: Progress = _no_progress,
) -> tuple[dict[str, bytes], dict[str, Any]]:
    """Read and check the inputs; return the files to write and a summary. Raise BuildError on any problem.

    `congress` overrides the Congress the inputs name; `redrawn` lists states whose new map the ZIP crosswalk
    does not reflect yet: their ZIPs are placed by centre point in the boundaries instead."""
    expect = expect or Expectations()
    sources = _read_sources(inputs, progress)
    problems: list[str] = []
    number = _congress(sources, congress, problems)
    seats = _seat_members(sources.members, sources.shapes, expect, problems)
    _check_redrawn(redrawn, seats, expect, problems)
    _check_zcta_districts(sources.zctas, seats, problems, redrawn)
    if problems:
        raise BuildError(problems)
    places_by_zip = _represented_places(sources.places)
    placer = _StatePlacer(sources.shapes, seats.count_by_state())
    placement = _place_zips(sources.zctas, places_by_zip, placer, progress, redrawn)
    files = _data_files(sources, seats, placement, _territory_zips(places_by_zip))
    files[MANIFEST_FILE] = _dump(_manifest(inputs, sources, files, places_by_zip, as_of, number, redrawn))
    summary = _summary(sources, seats, placement)
    summary["congress"] = number
    return files, summary


def _source_entry(name: str, source: str, digest: str) -> dict[str, Any]:
    """Return a source's manifest entry: URL, version and date when known by digest, license, digest."""
    known = KNOWN_SNAPSHOTS.get(digest, {})
    return {
        "url": source_url(name, source),
        "version": known.get("version", "unknown (identified by sha256)"),
        "date": known.get("date"),
        "license": LICENSES[name],
        "sha256": digest,
    }


def _place_by_coordinates(boundaries: Any, place: Mapping[str, Any], state: str) -> set[str]:
    """Return the districts of `state` at (or just beside) the ZIP's centre point."""
    point = place_point(place)
    if point is None:
        return set()
    lat, lon = point
    own = [label for label in boundaries.containing(lat, lon) if label.split("-")[0] == state]
    near = [(lb, km) for lb, km in boundaries.within_km(lat, lon, APPROX_MAX_KM) if lb.split("-")[0] == state]
    if own:
        return set(own) | {lb for lb, km in near if km <= APPROX_NEAR_KM}
    if near:
        nearest = near[0][1]
        return {lb for lb, km in near if km <= nearest + APPROX_NEAR_KM}
    return set()


# -- writing -------------------------------------------------------------------------------------


def build(
    inputs: Inputs,
    out_dir: Path,
    *,
    as_of: str | None = None,
    congress: int | None = None,
    redrawn: frozenset[str] = frozenset(),
    expect: Expectations | None = None,
    today: date | None = None,
    progress: Progress = _no_progress,
) -> BuildResult:
    """Build, check and write the dataset into `out_dir`; on any error write nothing and raise BuildError."""
    expect = expect or Expectations()
    files, summary = assemble(inputs, as_of=as_of, congress=congress, redrawn=redrawn, expect=expect,
                              progress=progress)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".build-", dir=out_dir))
    try:
        for name, data in files.items():
            (staging / name).write_bytes(data)
        try:
            dataset = load(staging)
            report = check_dataset(dataset, expect=expect, today=today)
        except DataError as exc:
            raise BuildError([str(exc)]) from None
        if report.errors:
            raise BuildError(report.errors)
        # Rename file by file; the manifest last, so it never describes files that are not there yet.
        for name in sorted(files, key=lambda n: n == MANIFEST_FILE):
            os.replace(staging / name, out_dir / name)
        if OFFICES_FILE not in files:  # a build without offices must not leave an older file behind
            (out_dir / OFFICES_FILE).unlink(missing_ok=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BuildResult(files=files, report=report, summary=summary)
