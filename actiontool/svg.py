"""Server-rendered SVG for the dashboard: the district map and the messages-per-day chart.

Pure: takes geometries and numbers, returns markup (no Flask, no database). Every text that reaches the
markup is escaped. Colours are presentation attributes, not inline styles, so a strict
Content-Security-Policy (style-src 'self') does not block them.

The national map puts Alaska, Hawaii and the Pacific territories in insets, as printed maps do; a state
view draws one state's districts alone, simplified less. Projected outlines are cached per dataset and
view, so a request only pays for colouring.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from html import escape

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

# ColorBrewer "Blues", 5 classes; grey for districts without messages.
PALETTE: tuple[str, ...] = ("#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c")
EMPTY = "#f2f2f2"
STROKE = "#ffffff"
BAR = "#3182bd"

# Where the far-away states go on the national map, as (x0, y0, x1, y1) boxes in map units.
_INSETS: dict[str, tuple[float, float, float, float]] = {
    "AK": (0, 420, 160, 540),
    "HI": (170, 470, 270, 540),
    "GU": (600, 500, 625, 525),
    "MP": (630, 480, 650, 525),
    "AS": (655, 505, 675, 525),
    "VI": (680, 505, 700, 525),
    "PR": (705, 500, 760, 525),
}
_WIDTH, _HEIGHT = 960.0, 560.0
_cache: dict[tuple[int, str | None], tuple[list[tuple[str, str]], dict[str, BaseGeometry]]] = {}


def _state_of(label: str) -> str:
    """Return the state part of a district label (OH of OH-3)."""
    return label.split("-", 1)[0]


def _unwrap_dateline(geometry: BaseGeometry) -> BaseGeometry:
    """Move Aleutian longitudes east of 180° to negative ones so Alaska is one piece."""
    minx, _, maxx, _ = geometry.bounds
    if maxx > 100 and minx < 0:
        def west(coords: np.ndarray) -> np.ndarray:
            shifted = coords.copy()
            shifted[:, 0] = np.where(shifted[:, 0] > 0, shifted[:, 0] - 360, shifted[:, 0])
            return shifted

        return shapely.transform(geometry, west)
    return geometry


def _project(geometry: BaseGeometry, lat0: float) -> BaseGeometry:
    """Project lon/lat to a flat plane (equirectangular, true at lat0; y grows downward)."""
    return affinity.affine_transform(geometry, [math.cos(math.radians(lat0)), 0, 0, -1, 0, 0])


def _fit(geometries: Mapping[str, BaseGeometry],
         box: tuple[float, float, float, float]) -> dict[str, BaseGeometry]:
    """Scale and move geometries together so their bounds fill `box`, keeping the aspect ratio."""
    if not geometries:
        return {}
    xs0, ys0, xs1, ys1 = zip(*(g.bounds for g in geometries.values()), strict=True)
    minx, miny, maxx, maxy = min(xs0), min(ys0), max(xs1), max(ys1)
    bx0, by0, bx1, by1 = box
    scale = min((bx1 - bx0) / max(maxx - minx, 1e-9), (by1 - by0) / max(maxy - miny, 1e-9))
    dx = bx0 + ((bx1 - bx0) - (maxx - minx) * scale) / 2 - minx * scale
    dy = by0 + ((by1 - by0) - (maxy - miny) * scale) / 2 - miny * scale
    return {k: affinity.affine_transform(g, [scale, 0, 0, scale, dx, dy]) for k, g in geometries.items()}


def _path_data(geometry: BaseGeometry) -> str:
    """Return SVG path data for a (multi)polygon, holes included (drawn with evenodd)."""
    polygons: Sequence[Polygon]
    if isinstance(geometry, Polygon):
        polygons = [geometry]
    elif isinstance(geometry, MultiPolygon):
        polygons = list(geometry.geoms)
    else:
        polygons = [g for g in getattr(geometry, "geoms", []) if isinstance(g, Polygon)]
    parts = []
    for polygon in polygons:
        for ring in (polygon.exterior, *polygon.interiors):
            coords = list(ring.coords)
            if len(coords) < 3:
                continue
            parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in coords[:-1]) + "Z")
    return "".join(parts)


def map_outlines(shapes: Mapping[str, BaseGeometry], state: str | None = None) -> list[tuple[str, str]]:
    """Return [(label, path data)] for the national map or one state's view, cached per dataset."""
    # Keyed by the geometries' identities (a dataset hands out the same objects on every call); the
    # entry keeps them alive, so an id cannot be reused by another geometry while it is cached.
    key = (hash(tuple(sorted((label, id(g)) for label, g in shapes.items()))), state)
    cached = _cache.get(key)
    if cached is not None:
        return cached[0]
    chosen = {k: _unwrap_dateline(g) for k, g in shapes.items() if state is None or _state_of(k) == state}
    tolerance = 0.02 if state is None else 0.002
    simplified = {k: g.simplify(tolerance, preserve_topology=True) for k, g in chosen.items()}
    fitted: dict[str, BaseGeometry] = {}
    if state is not None:
        lat0 = _mid_latitude(simplified)
        fitted = _fit({k: _project(g, lat0) for k, g in simplified.items()}, (5, 5, _WIDTH - 5, _HEIGHT - 5))
    else:
        main = {k: g for k, g in simplified.items() if _state_of(k) not in _INSETS}
        fitted.update(_fit({k: _project(g, 38) for k, g in main.items()}, (5, 5, _WIDTH - 5, 410)))
        for inset, box in _INSETS.items():
            group = {k: g for k, g in simplified.items() if _state_of(k) == inset}
            fitted.update(_fit({k: _project(g, _mid_latitude(group)) for k, g in group.items()}, box))
    result = [(label, _path_data(fitted[label])) for label in sorted(fitted)]
    if len(_cache) > 64:
        _cache.clear()  # a bound for processes that load many datasets (tests)
    _cache[key] = (result, dict(shapes))
    return result


def _mid_latitude(geometries: Mapping[str, BaseGeometry]) -> float:
    """Return the middle latitude of some lon/lat geometries (0 when there are none)."""
    if not geometries:
        return 0.0
    lows, highs = zip(*((g.bounds[1], g.bounds[3]) for g in geometries.values()), strict=True)
    return (min(lows) + max(highs)) / 2


def breaks(values: Sequence[int], classes: int = len(PALETTE)) -> list[int]:
    """Return ascending upper bounds of the colour classes: quantiles of the non-zero values."""
    positive = sorted(v for v in values if v > 0)
    if not positive:
        return []
    bounds: list[int] = []
    for i in range(1, classes + 1):
        bound = positive[min(len(positive) - 1, math.ceil(i * len(positive) / classes) - 1)]
        if not bounds or bound > bounds[-1]:
            bounds.append(bound)
    return bounds


def colour(value: int, bounds: Sequence[int]) -> str:
    """Return the fill for a value given the class bounds."""
    if value <= 0 or not bounds:
        return EMPTY
    for index, bound in enumerate(bounds):
        if value <= bound:
            return PALETTE[round(index * (len(PALETTE) - 1) / max(len(bounds) - 1, 1))]
    return PALETTE[-1]


def district_map(shapes: Mapping[str, BaseGeometry], values: Mapping[str, int],
                 titles: Mapping[str, str], *, state: str | None = None, title: str = "Messages by district",
                 link: Callable[[str], str | None] | None = None) -> str:
    """Return an SVG map: one <path> per district, filled by its count, titled "label — member — N"."""
    outlines = map_outlines(shapes, state)
    bounds = breaks([values.get(label, 0) for label, _ in outlines])
    # With links the map is a group of named links (an image may not contain interactive parts).
    role = "group" if link else "img"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH:.0f} {_HEIGHT:.0f}" '
           f'class="district-map" role="{role}" aria-labelledby="map-title">',
           f'<title id="map-title">{escape(title)}</title>',
           f'<g stroke="{STROKE}" stroke-width="0.5" fill-rule="evenodd">']
    for label, d in outlines:
        n = values.get(label, 0)
        path = (f'<path d="{d}" fill="{colour(n, bounds)}" data-district="{escape(label)}" data-count="{n}">'
                f'<title>{escape(titles.get(label, label))}</title></path>')
        href = link(label) if link else None
        name = escape(titles.get(label, label))
        out.append(f'<a href="{escape(href)}" aria-label="{name}">{path}</a>' if href else path)
    out.append("</g>")
    out.append(_legend(bounds))
    out.append("</svg>")
    return "".join(out)


def _legend(bounds: Sequence[int]) -> str:
    """Return the map legend: a swatch per class with its range."""
    items = [(EMPTY, "0")]
    low = 1
    for bound in bounds:
        items.append((colour(bound, bounds), f"{low:,}–{bound:,}" if bound > low else f"{bound:,}"))
        low = bound + 1
    parts = ['<g class="legend" font-size="12" font-family="sans-serif">']
    for i, (fill, text) in enumerate(items):
        y = 430 + i * 18
        parts.append(f'<rect x="800" y="{y}" width="14" height="14" fill="{fill}" stroke="#999"/>'
                     f'<text x="820" y="{y + 11}">{escape(text)}</text>')
    parts.append("</g>")
    return "".join(parts)


def daily_chart(points: Sequence[tuple[date, int]], *, title: str = "Messages per day",
                width: int = 720, height: int = 240) -> str:
    """Return an SVG bar chart of counts per day (every day in range, gaps drawn as zero)."""
    left, right, top, bottom = 48, 8, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="daily-chart" '
           f'role="img" aria-labelledby="chart-title" font-family="sans-serif" font-size="11">',
           f'<title id="chart-title">{escape(title)}</title>']
    peak = max((n for _, n in points), default=0)
    top_value = _nice_ceiling(peak)
    for i in range(5):
        value = top_value * i // 4
        y = top + plot_h - plot_h * i / 4
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                   f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{value:,}</text>')
    step = plot_w / max(len(points), 1)
    label_every = max(1, math.ceil(len(points) / 8))
    for i, (day, n) in enumerate(points):
        h = plot_h * n / top_value if top_value else 0
        x = left + i * step
        bar_w = max(step * 0.8, 0.5)
        out.append(f'<rect x="{x + step * 0.1:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" '
                   f'height="{h:.1f}" fill="{BAR}"><title>{day.isoformat()}: {n:,}</title></rect>')
        if i % label_every == 0:
            out.append(f'<text x="{x + step / 2:.1f}" y="{height - 10}" text-anchor="middle">'
                       f'{day.strftime("%b %d")}</text>')
    axis_y = top + plot_h
    out.append(f'<line x1="{left}" x2="{width - right}" y1="{axis_y}" y2="{axis_y}" stroke="#555"/>')
    out.append("</svg>")
    return "".join(out)


def _nice_ceiling(value: int) -> int:
    """Return a round number at least `value` and divisible by 4 (for four grid steps)."""
    if value <= 0:
        return 4
    magnitude = 10 ** max(0, int(math.log10(value)))
    for factor in (1, 2, 2.5, 4, 5, 8, 10):
        candidate = int(factor * magnitude)
        if candidate >= value and candidate % 4 == 0:
            return candidate
    return int(math.ceil(value / 4) * 4)


def fill_days(rows: Sequence[tuple[date, int]], first: date | None,
              last: date | None) -> list[tuple[date, int]]:
    """Return one (day, count) per day from first to last, zero where a day has no row."""
    by_day = dict(rows)
    if first is None or last is None or first > last:
        return sorted(by_day.items())
    if (last - first).days > 3660:
        first = last - timedelta(days=3660)  # a bound on the chart's width, not on the data
    return [(first + timedelta(days=i), by_day.get(first + timedelta(days=i), 0))
            for i in range((last - first).days + 1)]

