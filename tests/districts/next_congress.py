"""A synthetic next Congress (the 120th, seated 2027-01-03) from the tiny inputs, as upstream would ship it.

What changes from the tiny 119th dataset (tiny.py):
- Wisconsin is redrawn: the WI-1 / WI-2 line moves west from longitude -89.0 to -89.25. The ZIP crosswalk
  (zccd.csv) is late and still describes the old map, so the build is told `redrawn={"WI"}`.
- A retired member: Ron Two (R000002, WI-2) is gone; a new member, Nia New (N000001), holds WI-2.
- A vacancy: Mona Lake (R000003, MN-1) left and no one holds MN-1 yet (WI-3 stays vacant too).
- A senator replaced: the appointee Max Appointed (S000004, MN) lost the special election to Sam Successor
  (S000010).
- Everyone else is re-elected: House terms start 2027-01-03. The boundaries file is `cd120_20m.geojson`
  (property CD120FP) beside the old `cd119_20m.geojson`; the build takes the newest and the Congress from it.

ZIPs to watch: 53002 (the crosswalk says WI-1 and WI-2; on the new map its centre lies deep in WI-2), 53004
(the crosswalk says WI-1; its centre is now in WI-2, 0.8 km from WI-1, so both are candidates), 56001 (MN-1
from the crosswalk is kept, its WI part is placed on the new map: WI-1), 99501 (AK, untouched).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from actiontool.districts.build import BuildResult, Inputs, build
from tests.districts import tiny

CONGRESS = 120
AS_OF = "2027-01-03"
REDRAWN = frozenset({"WI"})
LINE = -89.25  # the new WI-1 / WI-2 line


def _feature(district_id: str, statefp: str, cd: str, box: tiny.Box) -> dict[str, Any]:
    feature = tiny._feature(district_id, statefp, cd, box)
    props = feature["properties"]
    props["CD120FP"] = props.pop("CD119FP")
    return feature


def _box(feature: dict[str, Any]) -> tiny.Box:
    ring = feature["geometry"]["coordinates"][0]
    return (ring[0][0], ring[0][1], ring[2][0], ring[2][1])


FEATURES = [
    _feature("WI-01", "55", "01", (-90, 43, LINE, 44)),
    _feature("WI-02", "55", "02", (LINE, 43, -88, 44)),
    *[_feature(f["properties"]["DISTRICT_ID"], f["properties"]["STATEFP"], f["properties"]["CD119FP"],
               _box(f))
      for f in tiny.FEATURES if f["properties"]["DISTRICT_ID"] not in ("WI-01", "WI-02")],
]

GONE = {"R000002", "R000003", "S000004"}  # retired, left (a vacancy), lost the special election


def legislators() -> list[dict[str, Any]]:
    """Return the 120th Congress's legislators-current.json records."""
    people = []
    for person in tiny.legislators():
        if person["id"]["bioguide"] in GONE:
            continue
        term = person["terms"][-1]
        if term["type"] == "rep":  # re-elected: a new term with the new Congress
            person["terms"] = [*person["terms"], {**term, "start": "2027-01-03", "end": "2029-01-03"}]
        people.append(person)
    people.append(tiny._person("N000001", "Nia", "New", {"type": "rep", "state": "WI", "district": 2,
                                                        "start": "2027-01-03", "end": "2029-01-03"}))
    people.append(tiny._person("S000010", "Sam", "Successor", {"type": "sen", "state": "MN",
                                                              "start": "2027-01-03", "end": "2033-01-03"}))
    return people


# The crosswalk is the old one (upstream is late), plus a ZIP right beside the new line.
ZCCD = [*tiny.ZCCD, ("55", "WI", "53004", "1")]
PLACES = [*tiny.PLACES, tiny._place("53004", "WI", "Linetown", 43.5, LINE + 0.01)]


def write_inputs(folder: Path) -> Inputs:
    """Write the next Congress's inputs into `folder` (the old boundaries file stays beside the new one)."""
    tiny.write_inputs(folder, people=legislators(), zccd=ZCCD)
    (folder / "boundaries" / "cd120_20m.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": FEATURES}), encoding="utf-8")
    (folder / "zipcodes.json").write_text(json.dumps(PLACES), encoding="utf-8")
    return Inputs.from_dir(folder, zipcodes=str(folder / "zipcodes.json"))


def build_next(inputs: Inputs, out: Path, **options: Any) -> BuildResult:
    """Build the next Congress's dataset with the real build code (redrawn WI unless told otherwise)."""
    return build(inputs, out, **{"as_of": AS_OF, "expect": tiny.EXPECT, "redrawn": REDRAWN, **options})


def build_next_data(root: Path) -> Path:
    """Write the inputs under `root`, build them; return the data folder."""
    build_next(write_inputs(root / "inputs"), root / "data")
    return root / "data"
