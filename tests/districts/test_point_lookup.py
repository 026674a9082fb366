"""Point lookups on the tiny dataset's box-shaped districts."""

from __future__ import annotations

import pytest

from actiontool.districts import Dataset, InvalidPoint, NotFound


def test_a_point_inside_one_district_far_from_lines_is_exact(tiny: Dataset) -> None:
    result = tiny.lookup_point(43.5, -89.5)
    assert (result.status, result.basis, result.near_boundary) == ("exact", "point", False)
    assert [d.label for d in result.districts] == ["WI-1"]
    assert result.query == {"lat": 43.5, "lon": -89.5}
    assert len(result.senators) == 2


def test_a_point_within_two_km_of_another_district_lists_both(tiny: Dataset) -> None:
    result = tiny.lookup_point(43.5, -89.01)  # about 0.8 km west of the WI-1/WI-2 line
    assert (result.status, result.near_boundary) == ("ambiguous", True)
    assert [d.label for d in result.districts] == ["WI-1", "WI-2"]


def test_a_point_near_a_state_line_has_the_senators_of_both_states(tiny: Dataset) -> None:
    result = tiny.lookup_point(43.5, -90.005)
    assert [d.label for d in result.districts] == ["MN-1", "WI-1"]
    assert {s.state for s in result.senators} == {"MN", "WI"}


def test_strings_are_accepted_as_coordinates(tiny: Dataset) -> None:
    assert tiny.lookup_point(" 43.5", "-89.5").districts[0].label == "WI-1"


def test_a_point_just_outside_a_generalised_edge_is_approximate(tiny: Dataset) -> None:
    result = tiny.lookup_point(45.02, -89.5)
    assert (result.status, result.near_boundary) == ("approximate", True)
    assert [d.label for d in result.districts] == ["WI-3"]


def test_a_point_on_an_island_area_resolves_to_its_delegate(tiny: Dataset) -> None:
    result = tiny.lookup_point(13.45, 144.78)
    assert (result.status, result.basis) == ("approximate", "state")
    assert [d.label for d in result.districts] == ["GU-AL"]
    assert result.senators == ()


@pytest.mark.parametrize(("lat", "lon"), [(0.0, 0.0), (46.0, -89.5), (13.47, 146.0)])
def test_a_point_no_district_covers_is_not_found(tiny: Dataset, lat: float, lon: float) -> None:
    with pytest.raises(NotFound):
        tiny.lookup_point(lat, lon)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(91, 0), (-91, 0), (0, 181), (0, -180.5), ("x", 0), (0, ""), (None, 0), (float("nan"), 0),
     (float("inf"), 0), (True, 0)],
)
def test_invalid_coordinates_raise_invalid_point(tiny: Dataset, lat: object, lon: object) -> None:
    with pytest.raises(InvalidPoint):
        tiny.lookup_point(lat, lon)


def test_boundaries_give_a_geometry_per_district(tiny: Dataset) -> None:
    shapes = tiny.boundaries()
    assert sorted(shapes) == ["AK-AL", "DC-AL", "MN-1", "PR-AL", "WI-1", "WI-2", "WI-3"]
    assert shapes["WI-1"].contains(shapes["WI-1"].centroid)
    assert shapes["WI-3"].area == pytest.approx(2.0)
