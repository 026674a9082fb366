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
from typing import TYPE_CHECKING

# numpy and shapely are imported by the map's functions, not here: the dashboard's charts need neither, and
# a process that never draws a map (`actiontool serve` answering its first lookup) should not pay for them.
if TYPE_CHECKING:
    import numpy as np
    from shapely.geometry import Polygon
    from shapely.geometry.base import BaseGeometry

# Writes a count for a reader: "1,234" in English, "1.234" in Spanish (the web layer passes Babel's).
NumberText = Callable[[int], str]

# ColorBrewer "Blues", 5 classes; grey for districts without messages.
PALETTE: tuple[str, ...] = ("#c6dbef", "#9ecae1", "#6baed6", "#2171b5", "#08306b")
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
        import numpy as np
        import shapely

        def west(coords: np.ndarray) -> np.ndarray:
            shifted = coords.copy()
            shifted[:, 0] = np.where(shifted[:, 0] > 0, shifted[:, 0] - 360, shifted[:, 0])
            return shifted

        return shapely.transform(geometry, west)
    return geometry


def _project(geometry: BaseGeometry, lat0: float) -> BaseGeometry:
    """Project lon/lat to a flat plane (equirectangular, true at lat0; y grows downward)."""
    from shapely import affinity

    return affinity.affine_transform(geometry, [math.cos(math.radians(lat0)), 0, 0, -1, 0, 0])


def _fit(geometries: Mapping[str, BaseGeometry],
         box: tuple[float, float, float, float]) -> dict[str, BaseGeometry]:
    """Scale and move geometries together so their bounds fill `box`, keeping the aspect ratio."""
    if not geometries:
        return {}
    from shapely import affinity

    xs0, ys0, xs1, ys1 = zip(*(g.bounds for g in geometries.values()), strict=True)
    minx, miny, maxx, maxy = min(xs0), min(ys0), max(xs1), max(ys1)
    bx0, by0, bx1, by1 = box
    scale = min((bx1 - bx0) / max(maxx - minx, 1e-9), (by1 - by0) / max(maxy - miny, 1e-9))
    dx = bx0 + ((bx1 - bx0) - (maxx - minx) * scale) / 2 - minx * scale
    dy = by0 + ((by1 - by0) - (maxy - miny) * scale) / 2 - miny * scale
    return {k: affinity.affine_transform(g, [scale, 0, 0, scale, dx, dy]) for k, g in geometries.items()}


def _path_data(geometry: BaseGeometry) -> str:
    """Return SVG path data for a (multi)polygon, holes included (drawn with evenodd)."""
    from shapely.geometry import MultiPolygon, Polygon

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
    """Return ascending upper bounds of the colour classes: equal steps of a round size from 0 to the top.

    Equal intervals, not quantiles: two districts land in different classes only when they differ by at
    least one step (a fifth of the largest count, rounded up to 1, 2, 2.5 or 5 × a power of ten), so
    146-151 and 152-157 do not look like opposites.
    """
    peak = max((v for v in values if v > 0), default=0)
    if peak <= 0:
        return []
    step = _round_step(math.ceil(peak / classes))
    bounds = [step * i for i in range(1, classes + 1)]
    while len(bounds) > 1 and bounds[-2] >= peak:
        bounds.pop()  # a round step can leave the top classes empty
    return bounds


def _round_step(value: int) -> int:
    """Return the smallest of 1, 2, 2.5, 5 × 10^k (a whole number) that is at least `value`."""
    if value <= 1:
        return 1
    magnitude = 10 ** int(math.log10(value))
    for factor in (1, 2, 2.5, 5, 10):
        candidate = factor * magnitude
        if candidate >= value and candidate == int(candidate):
            return int(candidate)
    return 10 * magnitude


def class_of(value: int, bounds: Sequence[int]) -> int:
    """Return the colour class of a value (0-based), or -1 for no messages."""
    if value <= 0 or not bounds:
        return -1
    for index, bound in enumerate(bounds):
        if value <= bound:
            return index
    return len(bounds) - 1


def colour(value: int, bounds: Sequence[int]) -> str:
    """Return the fill for a value given the class bounds."""
    index = class_of(value, bounds)
    return EMPTY if index < 0 else PALETTE[index]


def _plain(value: int) -> str:
    """Return a count with English grouping ("1,234"): the default where no reader's language is given."""
    return f"{value:,}"


def legend_items(bounds: Sequence[int], number: NumberText = _plain) -> list[tuple[str, str]]:
    """Return (fill, range text) per class, "0" first: the legend the page draws in HTML.

    `number` writes each bound (the page passes its language's grouping)."""
    items = [(EMPTY, number(0))]
    low = 1
    for index, bound in enumerate(bounds):
        items.append((PALETTE[index], f"{number(low)}–{number(bound)}" if bound > low else number(bound)))
        low = bound + 1
    return items


def district_map(shapes: Mapping[str, BaseGeometry], values: Mapping[str, int],
                 titles: Mapping[str, str], *, state: str | None = None, title: str = "Messages by district",
                 link: Callable[[str], str | None] | None = None, tiles: Sequence[str] = ()) -> str:
    """Return an SVG map: one <path> per district, filled by its count, titled "label — member — N".

    `tiles` are seats without a shape in the data (AS, GU, MP, VI): drawn as labelled squares in a row.
    """
    outlines = map_outlines(shapes, state)
    bounds = breaks([values.get(label, 0) for label, _ in outlines] + [values.get(t, 0) for t in tiles])
    # With links the map is a group of named links (an image may not contain interactive parts).
    role = "group" if link else "img"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH:.0f} {_HEIGHT:.0f}" '
           f'class="district-map" role="{role}" aria-labelledby="map-title">',
           f'<title id="map-title">{escape(title)}</title>',
           f'<g stroke="{STROKE}" stroke-width="0.5" fill-rule="evenodd">']
    shapes_out = [(label, f'<path d="{d}"') for label, d in outlines]
    shapes_out += [(label, f'<rect x="{x}" y="{y}" width="{w}" height="{w}"') for label, (x, y, w) in
                   tile_boxes(tiles if state is None else [t for t in tiles if _state_of(t) == state])]
    for label, shape in shapes_out:
        n = values.get(label, 0)
        path = (f'{shape} fill="{colour(n, bounds)}" data-district="{escape(label)}" data-count="{n}">'
                f'<title>{escape(titles.get(label, label))}</title></{shape[1:shape.index(" ")]}>')
        href = link(label) if link else None
        name = escape(titles.get(label, label))
        out.append(f'<a href="{escape(href)}" aria-label="{name}">{path}</a>' if href else path)
    out.append("</g>")
    out.append(_tile_labels(tiles if state is None else [t for t in tiles if _state_of(t) == state]))
    out.append("</svg>")
    return "".join(out)


def tile_boxes(tiles: Sequence[str]) -> list[tuple[str, tuple[int, int, int]]]:
    """Return (label, (x, y, size)) squares in a row along the bottom right, for seats without a shape."""
    size, gap = 34, 8
    x0 = int(_WIDTH) - 5 - len(tiles) * (size + gap)
    y = int(_HEIGHT) - size - 18
    return [(label, (x0 + i * (size + gap), y, size)) for i, label in enumerate(sorted(tiles))]


def _tile_labels(tiles: Sequence[str]) -> str:
    """Return the state code under each tile square."""
    parts = ['<g font-size="13" font-family="sans-serif" text-anchor="middle" fill="#1b1b1b">']
    for label, (x, y, size) in tile_boxes(tiles):
        parts.append(f'<text x="{x + size / 2:.0f}" y="{y + size + 14}">{escape(_state_of(label))}</text>')
    parts.append("</g>")
    return "".join(parts)


def map_geometry(shapes: Mapping[str, BaseGeometry], tiles: Sequence[str], *,
                 state: str | None = None) -> str:
    """Return the uncoloured map of the national or a state view, for the cached geometry asset.

    The page colours it (organizer.js) from the counts it carries; paths are keyed by data-district.
    """
    chosen = [t for t in tiles if state is None or _state_of(t) == state]
    return district_map(shapes, {}, {}, state=state, title="House districts", tiles=chosen)


def _short_day(day: date) -> str:
    return day.strftime("%b %d")


def daily_chart(points: Sequence[tuple[date, int]], *, title: str = "Messages per day",
                height: int = 220, number: NumberText = _plain, axis: NumberText | None = None,
                day_label: Callable[[date], str] = _short_day) -> str:
    """Return an SVG bar chart of counts per day (every day in range, gaps drawn as zero).

    The chart takes the page's width: x positions are percentages, y positions and font sizes pixels,
    so its text stays 12 px on a phone and on a wide screen alike. `number`, `axis` and `day_label` write
    the counts, the axis numbers and the days in the reader's language (English by default).
    """
    return _bar_chart([(day.isoformat(), day_label(day), n) for day, n in points], title=title,
                      height=height, css_class="daily-chart", labels=5, number=number, axis=axis)


def hour_chart(hours: Sequence[int], *, title: str = "Actions by hour of the day", height: int = 180,
               number: NumberText = _plain, axis: NumberText | None = None) -> str:
    """Return an SVG bar chart of 24 counts, one per local hour."""
    return _bar_chart([(f"{h:02d}:00", f"{h:02d}", n) for h, n in enumerate(hours)], title=title,
                      height=height, css_class="hour-chart", labels=8, number=number, axis=axis)


def _bar_chart(bars: Sequence[tuple[str, str, int]], *, title: str, height: int, css_class: str,
               labels: int, number: NumberText = _plain, axis: NumberText | None = None) -> str:
    """Return a bar chart of (full label, axis label, count), as wide as its container."""
    left, right, top, bottom = 13.0, 1.0, 12, 26  # left and right in %, top and bottom in px
    plot_w, plot_h = 100 - left - right, height - top - bottom
    ident = f"{css_class}-title"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" height="{height}" class="{css_class}" '
           f'role="img" aria-labelledby="{ident}" font-family="sans-serif" font-size="12">',
           f'<title id="{ident}">{escape(title)}</title>']
    peak = max((n for _, _, n in bars), default=0)
    top_value = _nice_ceiling(peak)
    axis = axis or _compact
    for i in range(5):
        value = top_value * i // 4
        y = top + plot_h - plot_h * i / 4
        out.append(f'<line x1="{left}%" x2="{100 - right}%" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                   f'<text x="{left - 1}%" y="{y + 4:.1f}" text-anchor="end">{axis(value)}</text>')
    step = plot_w / max(len(bars), 1)
    label_every = max(1, math.ceil(len(bars) / labels))
    for i, (full, short, n) in enumerate(bars):
        h = plot_h * n / top_value if top_value else 0
        x = left + i * step
        out.append(f'<rect x="{x + step * 0.1:.3f}%" y="{top + plot_h - h:.1f}" '
                   f'width="{max(step * 0.8, 0.05):.3f}%" height="{h:.1f}" fill="{BAR}">'
                   f'<title>{escape(full)}: {escape(number(n))}</title></rect>')
        if i % label_every == 0:
            out.append(f'<text x="{x + step / 2:.2f}%" y="{height - 8}" text-anchor="middle">'
                       f'{escape(short)}</text>')
    axis_y = top + plot_h
    out.append(f'<line x1="{left}%" x2="{100 - right}%" y1="{axis_y}" y2="{axis_y}" stroke="#555"/>')
    out.append("</svg>")
    return "".join(out)


def _compact(value: int) -> str:
    """Return an axis number short enough for a phone: 950, 12k, 1.5M."""
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}".rstrip("0").rstrip(".") + "M"
    if value >= 10_000:
        return f"{value // 1000:,}k"
    return f"{value:,}"


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

