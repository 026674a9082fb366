"""Headers worked out once (per endpoint, per answer) and appended to each response as they are.

Werkzeug's Headers.add checks every name and value (no line breaks) and converts it, on every response;
for the handful of fixed headers the cached API answers and the security policy carry, that checking was
a tenth of a cached answer's time in the app. Such headers are checked once, when they are built
(`checked`), and then appended to each response without it.
"""

from __future__ import annotations

from werkzeug.datastructures import Headers

Pairs = tuple[tuple[str, str], ...]


def checked(pairs: Pairs) -> Pairs:
    """Return `pairs` once Werkzeug has accepted each name and value; raise ValueError otherwise."""
    Headers(pairs)  # runs Headers.add's checks on each pair
    return pairs


def append_checked(headers: Headers, pairs: Pairs) -> None:
    """Append pairs that passed `checked` to a response's headers, as Headers.extend would."""
    headers._list.extend(pairs)  # Headers' own list of (name, value)


def headers_of(pairs: Pairs) -> Headers:
    """Return new Headers holding pairs that passed `checked`, as Headers(pairs) would."""
    headers = Headers()
    append_checked(headers, pairs)
    return headers
