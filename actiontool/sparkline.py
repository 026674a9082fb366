"""A sparkline: a few numbers as a tiny inline SVG bar chart, for the organizers' campaign overview.

Pure (no Flask, no database). The chart is an image with an accessible name (`label`, which should say
the numbers themselves); colours are presentation attributes, so a strict Content-Security-Policy
(style-src 'self') does not block them. Every bar keeps a one-unit stub, so a day with nothing still
shows where it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

BAR = "#3182bd"
EMPTY_BAR = "#c6dbef"


def sparkline(values: Sequence[int], *, label: str, width: int = 84, height: int = 24, gap: int = 2) -> str:
    """Return an SVG bar chart of `values` (oldest first) whose accessible name is `label`."""
    if not values:
        raise ValueError("a sparkline needs at least one value")
    if any(v < 0 for v in values):
        raise ValueError("a sparkline shows counts, which are never negative")
    top = max(values)
    bar = (width - gap * (len(values) - 1)) / len(values)
    bars = []
    for index, value in enumerate(values):
        h = 1.0 if top == 0 else max(1.0, (height - 1) * value / top)
        x = index * (bar + gap)
        bars.append(f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                    f'fill="{BAR if value else EMPTY_BAR}"/>')
    name = escape(label)
    return (f'<svg class="sparkline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" aria-label="{name}"><title>{name}</title>'
            + "".join(bars) + "</svg>")
