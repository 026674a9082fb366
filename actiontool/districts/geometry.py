"""District polygons: point-in-polygon and "which districts are within N km" on the bundled boundaries.

Shapes arrive in the compact form the data build writes: for each district label a list of polygons,
each a list of rings (outer ring first), each ring a flat list `[lon0, lat0, lon1, lat1, ...]`.
Used by the runtime point lookup and by the data build (to place ZIPs that have no tabulation area).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

Shapes = Mapping[str, Sequence[Sequence[Sequence[float]]]]

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE = 111.32


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance between two points in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _ring(flat: Sequence[float]) -> np.ndarray:
    return np.asarray(flat, dtype=float).reshape(-1, 2)


def shape_geometry(polygons: Sequence[Sequence[Sequence[float]]]) -> BaseGeometry:
    """Return a shapely (Multi)Polygon from the compact nested-flat-ring form."""
    parts = [shapely.Polygon(_ring(rings[0]), [_ring(r) for r in rings[1:]]) for rings in polygons]
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


class Boundaries:
    """District geometries with a spatial index; immutable after construction, so safe across threads."""

    def __init__(self, shapes: Shapes) -> None:
        self.labels: tuple[str, ...] = tuple(sorted(shapes))
        self._geoms = np.array([shape_geometry(shapes[label]) for label in self.labels], dtype=object)
        # Prepared geometries make repeated contains tests on the same polygons cheap.
        shapely.prepare(self._geoms)
        self._tree = shapely.STRtree(self._geoms)

    def __len__(self) -> int:
        return len(self.labels)

    def geometries(self) -> dict[str, BaseGeometry]:
        """Return {label: shapely geometry} for every district."""
        return dict(zip(self.labels, self._geoms, strict=True))

    def containing(self, lat: float, lon: float) -> list[str]:
        """Return the labels of the districts whose polygon contains the point (normally zero or one)."""
        hits = self._tree.query(shapely.Point(lon, lat))
        return sorted(self.labels[i] for i in hits if shapely.contains_xy(self._geoms[i], lon, lat))

    def within_km(self, lat: float, lon: float, km: float) -> list[tuple[str, float]]:
        """Return (label, distance in km) for every district within `km` of the point, nearest first."""
        point = shapely.Point(lon, lat)
        # Degrees of longitude shrink with latitude: widen the index search so no candidate is missed,
        # then measure each candidate properly.
        degrees = km / KM_PER_DEGREE / max(math.cos(math.radians(lat)), 0.05)
        found: list[tuple[str, float]] = []
        for i in self._tree.query(point, predicate="dwithin", distance=degrees):
            geom = self._geoms[i]
            if shapely.contains_xy(geom, lon, lat):
                distance = 0.0
            else:
                nearest = nearest_points(geom, point)[0]
                distance = haversine_km(lat, lon, nearest.y, nearest.x)
            if distance <= km:
                found.append((self.labels[i], distance))
        found.sort(key=lambda item: (item[1], item[0]))
        return found
