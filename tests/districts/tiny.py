"""A tiny but complete set of upstream inputs, and the dataset the real build makes from them.

Three states (WI with three seats, MN with one, AK at large), DC, Puerto Rico and Guam. Districts are boxes
(longitude, latitude): WI-1 (-90..-89, 43..44), WI-2 (-89..-88, 43..44), WI-3 (-90..-88, 44..45; vacant),
MN-1 (-92..-90, 43..45), AK-AL (-150..-149, 61..62), DC-AL (-77.1..-76.9, 38.8..39.0), PR-AL (-67..-65.5,
17.9..18.6). Guam has no polygon.

Every case of the lookup has a ZIP here: exact, ambiguous, two states, vacancy, at-large, DC, Puerto Rico,
Guam, approximate by coordinates (and near a line), approximate by state, not placed, not a district at all.
Every seat type has a member: Senator, Representative, Delegate and Resident Commissioner.

Members the receipt's fallbacks need: Guam's delegate D000002 (ZIP 96910) has no phone, web site, contact
form or DC address; senator S000004 (MN; ZIPs 56001 and 54999) is an appointee whose recorded term ended on
2026-11-03. With `contact_forms=CONTACT_FORMS` the inputs also hold contact-congress files, one per case of
the merge (see CONTACT_FORMS); the session's tiny dataset (conftest.py) is built with them.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from actiontool.districts.build import Inputs, build
from actiontool.districts.checks import Expectations

EXPECT = Expectations(
    states=frozenset({"WI", "MN", "AK"}), voting_seats=5, non_voting=frozenset({"DC", "PR", "GU"})
)
AS_OF = "2026-06-15"


def _box(lon0: float, lat0: float, lon1: float, lat1: float) -> list[list[list[float]]]:
    return [[[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]]


Box = tuple[float, float, float, float]


def _feature(district_id: str, statefp: str, cd: str, box: Box) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"STATEFP": statefp, "CD119FP": cd, "DISTRICT_ID": district_id},
        "geometry": {"type": "Polygon", "coordinates": _box(*box)},
    }


FEATURES = [
    _feature("WI-01", "55", "01", (-90, 43, -89, 44)),
    _feature("WI-02", "55", "02", (-89, 43, -88, 44)),
    _feature("WI-03", "55", "03", (-90, 44, -88, 45)),
    _feature("MN-01", "27", "01", (-92, 43, -90, 45)),
    _feature("AK-01", "02", "00", (-150, 61, -149, 62)),  # at large: Census 00, DISTRICT_ID -01
    _feature("DC-98", "11", "98", (-77.1, 38.8, -76.9, 39.0)),  # DC: Census 98
    _feature("PR-98", "72", "98", (-67, 17.9, -65.5, 18.6)),  # Puerto Rico: Census 98 too
]


def _person(bioguide: str, first: str, last: str, term: dict[str, Any], full: bool = True,
            bare: bool = False, gender: str | None = None) -> dict[str, Any]:
    name = {"first": first, "last": last}
    if full:
        name["official_full"] = f"{first} {last}"
    base = {"start": "2025-01-03", "end": "2027-01-03", "party": "Democrat", "phone": "202-225-0000",
            "url": f"https://{last.lower()}.example.gov", "address": "1 Capitol Washington DC 20515"}
    if bare:  # sworn in days ago: upstream has no phone, web site or address for them yet (like G000607)
        base = {k: v for k, v in base.items() if k not in ("phone", "url", "address")}
    bio = {"gender": gender} if gender else {}  # upstream's bio.gender; left out: unknown
    return {"id": {"bioguide": bioguide}, "name": name, "terms": [{**base, **term}], "bio": bio}


def legislators() -> list[dict[str, Any]]:
    """Return legislators-current.json records: every seat filled but WI-3."""
    people = [
        # Phones and parties apart, so pages can be checked for the right member's.
        _person("S000001", "Wanda", "Senior", {"type": "sen", "state": "WI", "phone": "202-224-0001"},
                gender="F"),
        _person("S000002", "Walt", "Junior", {"type": "sen", "state": "WI", "contact_form": "https://x.example",
                                              "phone": "202-224-0002", "party": "Republican"},
                gender="M"),
        _person("S000003", "Mina", "North", {"type": "sen", "state": "MN"}),
        # Appointed: the recorded term end is the special election date, already past. Must be kept.
        _person("S000004", "Max", "Appointed", {"type": "sen", "state": "MN", "end": "2026-11-03"}),
        _person("S000005", "Alma", "Tundra", {"type": "sen", "state": "AK", "party": "Republican"}),
        _person("S000006", "Arlo", "Glacier", {"type": "sen", "state": "AK", "party": "Republican"}),
        _person("R000001", "Rita", "One", {"type": "rep", "state": "WI", "district": 1}, gender="F"),
        _person("R000002", "Ron", "Two", {"type": "rep", "state": "WI", "district": 2}),
        _person("R000003", "Mona", "Lake", {"type": "rep", "state": "MN", "district": 1}),
        _person("R000004", "Ada", "Large", {"type": "rep", "state": "AK", "district": 0}),
        # No official_full: the display name is built from first and last.
        _person("D000001", "Dee", "Capitol", {"type": "rep", "state": "DC", "district": 0}, full=False),
        # No phone, web site, contact form or address: the receipt's last-resort fallbacks.
        _person("D000002", "Gus", "Island", {"type": "rep", "state": "GU", "district": 0}, bare=True),
        _person("H000001", "Pablo", "Hernandez", {"type": "rep", "state": "PR", "district": 0}, gender="M"),
    ]
    return people


ZCCD = [
    ("55", "WI", "53001", "1"),  # exact
    ("55", "WI", "53002", "1"),  # ambiguous: WI-1 and WI-2
    ("55", "WI", "53002", "2"),
    ("55", "WI", "53003", "3"),  # exact, vacant seat
    ("27", "MN", "56001", "1"),  # two states: MN-1 and WI-1
    ("55", "WI", "56001", "1"),
    ("02", "AK", "99501", "0"),  # at large
    ("11", "DC", "20001", "0"),  # DC
    ("72", "PR", "00901", "0"),  # Puerto Rico
    ("27", "MN", "54999", "1"),  # its tabulation area is in MN, but USPS puts the ZIP in WI
]


def _place(
    zip_code: str, state: str, city: str, lat: float, lon: float, kind: str = "STANDARD"
) -> dict[str, Any]:
    return {"zip_code": zip_code, "zip_code_type": kind, "active": True, "city": city, "state": state,
            "lat": f"{lat:.4f}", "long": f"{lon:.4f}", "country": "US"}


PLACES = [
    _place("53001", "WI", "Oneville", 43.5, -89.5),
    _place("53002", "WI", "Twotown", 43.5, -89.0),
    _place("53003", "WI", "Northwood", 44.5, -89.0),
    _place("56001", "MN", "Borderton", 43.9, -90.0),
    _place("99501", "AK", "Anchorage", 61.5, -149.5),
    _place("20001", "DC", "Washington", 38.9, -77.0),
    _place("00901", "PR", "San Juan", 18.46, -66.1),
    _place("54999", "WI", "Crosston", 43.5, -89.6),
    _place("53099", "WI", "Oneville", 43.5, -89.5, "PO BOX"),  # no ZCTA: inside WI-1, far from any line
    _place("53098", "WI", "Twotown", 43.5, -89.005, "PO BOX"),  # no ZCTA: WI-1, 0.4 km from WI-2
    _place("53097", "WI", "Nowhere", 0.0, 0.0, "UNIQUE"),  # no ZCTA and no coordinates: left out
    _place("99599", "AK", "Anchorage", 61.2, -149.9, "UNIQUE"),  # no ZCTA: at-large state
    _place("20500", "DC", "Washington", 38.8946, -77.0355, "UNIQUE"),  # no ZCTA: DC
    _place("96910", "GU", "Hagatna", 13.4762, 144.7516),  # no ZCTA, no polygon: Guam
    _place("09001", "AE", "Apo", 0.0, 0.0, "MILITARY"),  # military mail: no district
]


OFFICES = """bioguide,id,address,building,city,phone,state,suite,zip,latitude,longitude
R000001,R000001-oneville,1 Main St.,Federal Building,Oneville,608-555-0100,WI,Suite 2,53001,43.5,-89.5
X000000,X000000-gone,9 Old Rd.,,Formerton,,WI,,53002,,
"""


def _form(url: str, rest: str = "") -> str:
    """Return a contact-congress member file whose first step visits `url`."""
    return (f"contact_form:\n  method: post\n  action: \"\"\n  steps:\n    - visit: \"{url}\"\n"
            f"    - fill_in:\n        - name: message\n          value: $MESSAGE\n{rest}")


# contact-congress members/<bioguide>.yaml, one per case of the merge.
CONTACT_FORMS: dict[str, str] = {
    "S000001.yaml": _form("https://senior.example.gov/contact"),  # no form upstream: taken
    "S000002.yaml": _form("https://junior.example.gov/write"),  # congress-legislators' form wins
    "S000003.yaml": "contact_form:\n  steps:\n    - visit:   https://north.example.gov/form  \n",  # trimmed
    "S000005.yaml": _form("https://tundra.example.gov/form",  # broken after the first step (like K000394)
                          "          options:\n            A: 1\n          B: [\n"),
    "S000006.yaml": "contact_form:\n  steps: [\n    - visit: https://glacier.example.gov/\n",  # broken first
    "R000001.yaml": _form("stubforcwc"),  # the office takes CWC: no URL
    "R000002.yaml": "contact_form:\n  steps:\n    - fill_in: []\n    - visit: http://two.example.gov/email\n"
                    "    - visit: https://two.example.gov/later\n",  # the first visit step, over http
    "R000003.yaml": _form("lake.example.gov/contact"),  # not an http(s) URL
    "X000000.yaml": _form("https://gone.example.gov/"),  # not a current member
}


def write_contact_forms(folder: Path, forms: dict[str, str]) -> Path:
    """Write contact-congress member files into `folder`/contact-congress/members; return that folder."""
    members = folder / "contact-congress" / "members"
    members.mkdir(parents=True, exist_ok=True)
    for name, text in forms.items():
        (members / name).write_text(text, encoding="utf-8")
    return members


def write_inputs(folder: Path, *, people: list[dict[str, Any]] | None = None,
                 zccd: list[tuple[str, str, str, str]] | None = None,
                 contact_forms: dict[str, str] | None = None) -> Inputs:
    """Write the tiny inputs into `folder` (laid out like the upstream copies) and return their Inputs."""
    (folder / "congress-legislators").mkdir(parents=True, exist_ok=True)
    (folder / "us-zipcodes-congress").mkdir(exist_ok=True)
    (folder / "boundaries").mkdir(exist_ok=True)
    (folder / "congress-legislators" / "legislators-current.json").write_text(
        json.dumps(legislators() if people is None else people), encoding="utf-8")
    with (folder / "us-zipcodes-congress" / "zccd.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["state_fips", "state_abbr", "zcta", "cd"])
        writer.writerows(ZCCD if zccd is None else zccd)
    (folder / "boundaries" / "cd119_20m.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": FEATURES}), encoding="utf-8")
    (folder / "zipcodes.json").write_text(json.dumps(PLACES), encoding="utf-8")
    offices = folder / "congress-legislators" / "legislators-district-offices.csv"
    offices.write_text(OFFICES, encoding="utf-8")
    if contact_forms is not None:
        write_contact_forms(folder, contact_forms)
    return Inputs.from_dir(folder, zipcodes=str(folder / "zipcodes.json"))


def build_tiny(inputs: Inputs, out: Path) -> Any:
    """Build the tiny dataset with the real build code; return the BuildResult."""
    return build(inputs, out, as_of=AS_OF, expect=EXPECT)


def build_tiny_data(root: Path) -> Path:
    """Write the tiny inputs under `root`, build them with the real build code; return the data folder."""
    build_tiny(write_inputs(root / "inputs"), root / "data")
    return root / "data"
