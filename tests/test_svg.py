"""The SVG map and chart: valid markup, one shape per district, escaped titles, insets, colours."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta

from shapely.geometry import MultiPolygon, box

from actiontool import svg

NS = "{http://www.w3.org/2000/svg}"
SHAPES = {
    "OH-1": box(-84, 39, -83, 40),
    "OH-2": box(-83, 39, -82, 40),
    "WI-1": box(-90, 42.5, -88, 43.5),
    "AK-AL": MultiPolygon([box(-170, 55, -140, 70), box(172, 52, 179, 53)]),  # crosses the dateline
    "HI-1": box(-158.3, 21.2, -157.6, 21.7),
}


def test_map_has_one_titled_path_per_district() -> None:
    values = {"OH-1": 10, "WI-1": 3}
    titles = {"OH-1": "OH-1 — Rep <One> & co — 10 messages"}
    root = ET.fromstring(svg.district_map(SHAPES, values, titles))
    paths = list(root.iter(f"{NS}path"))
    assert sorted(p.get("data-district") for p in paths) == sorted(SHAPES)
    by_label = {p.get("data-district"): p for p in paths}
    assert by_label["OH-1"].find(f"{NS}title").text == "OH-1 — Rep <One> & co — 10 messages"  # type: ignore[union-attr]
    assert by_label["OH-2"].get("fill") == svg.EMPTY
    assert by_label["OH-1"].get("fill") != by_label["WI-1"].get("fill")
    for p in paths:
        assert p.get("d", "").startswith("M") and "nan" not in p.get("d", "")


def test_national_map_puts_alaska_in_an_inset_within_the_frame() -> None:
    outlines = dict(svg.map_outlines(SHAPES))
    for label, d in outlines.items():
        numbers = [float(v) for part in d.replace("M", " ").replace("L", " ").replace("Z", " ").split()
                   for v in part.split(",")]
        assert all(-1 <= v <= 961 for v in numbers), label
    points = outlines["AK-AL"].replace("M", "L").replace("Z", "").split("L")
    alaska = [float(v.split(",")[0]) for v in points if v]
    assert max(alaska) - min(alaska) <= 161  # the Aleutians joined the mainland, not across the map


def test_state_view_draws_only_that_state() -> None:
    markup = svg.district_map(SHAPES, {}, {}, state="OH", link=lambda label: f"?district={label}")
    root = ET.fromstring(markup)
    assert sorted(p.get("data-district") for p in root.iter(f"{NS}path")) == ["OH-1", "OH-2"]
    assert len(list(root.iter(f"{NS}a"))) == 2


def test_colour_breaks_grow_with_the_values() -> None:
    bounds = svg.breaks([0, 1, 2, 3, 50, 100])
    assert bounds == sorted(bounds) and bounds[-1] == 100
    assert svg.colour(0, bounds) == svg.EMPTY
    assert svg.PALETTE.index(svg.colour(100, bounds)) > svg.PALETTE.index(svg.colour(1, bounds))


def test_daily_chart_has_a_bar_per_day() -> None:
    first = date(2026, 3, 1)
    points = svg.fill_days([(first, 5), (first + timedelta(days=3), 9)], first, first + timedelta(days=4))
    assert [n for _, n in points] == [5, 0, 0, 9, 0]
    root = ET.fromstring(svg.daily_chart(points))
    bars = list(root.iter(f"{NS}rect"))
    assert len(bars) == 5
    assert bars[3].find(f"{NS}title").text == "2026-03-04: 9"  # type: ignore[union-attr]
    assert float(bars[3].get("height", 0)) > float(bars[0].get("height", 0)) > 0


def test_empty_chart_is_still_valid_svg() -> None:
    ET.fromstring(svg.daily_chart([]))
    ET.fromstring(svg.district_map({}, {}, {}))
