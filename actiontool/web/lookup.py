"""GET /api/v1/lookup?zip=… or ?lat=…&lon=…: the lookup contract over HTTP (on the api blueprint).

A ZIP's answer is fixed for a dataset, so its JSON bytes are built once (by the app's JSON provider, as
`jsonify` would) and kept per ZIP in a bounded per-app cache that starts afresh when the app's dataset
changes. The answer carries an ETag (a digest of those bytes) and may be kept by browsers and CDNs for a
day; a request whose If-None-Match holds the ETag gets 304 without a body.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from flask import Flask, Response, current_app, jsonify, request

from actiontool.districts import Dataset, InvalidPoint, InvalidZip, NotFound, normalize_zip
from actiontool.registry import dataset
from actiontool.web.errors import json_error
from actiontool.web.headers import checked, headers_of

CACHE_ZIPS = 4096  # answers kept per process: ~2 KB each, so a few MB, not one copy of every ZIP
MAX_AGE_SECONDS = 86400  # a dataset changes with a new release, not within a day
CACHE_CONTROL = f"public, max-age={MAX_AGE_SECONDS}"
_EXTENSION = "actiontool.lookup_answers"


@dataclass(frozen=True)
class Answer:
    """A ZIP's lookup answer as sent: the JSON bytes and their quoted ETag."""

    body: bytes
    etag: str

    @functools.cached_property
    def headers(self) -> tuple[tuple[str, str], ...]:
        """Return the answer's own headers, built once: appended as they are, not set one by one."""
        return checked((("Content-Type", "application/json"), ("ETag", self.etag),
                        ("Cache-Control", CACHE_CONTROL)))


def build_answer(app: Flask, data: Dataset, zip_code: str) -> Answer:
    """Return a ZIP's answer serialised exactly as `jsonify` does; raise InvalidZip or NotFound."""
    body = cast(Response, app.json.response(data.lookup(zip_code).to_json())).get_data()
    return Answer(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')


def answers(app: Flask) -> Callable[[str], Answer]:
    """Return the app's cached `zip -> Answer` function for its current dataset."""
    data = dataset(app)
    held: tuple[Dataset, Callable[[str], Answer]] | None = app.extensions.get(_EXTENSION)
    if held is None or held[0] is not data:
        held = (data, functools.lru_cache(maxsize=CACHE_ZIPS)(functools.partial(build_answer, app, data)))
        app.extensions[_EXTENSION] = held
    return held[1]


def answer_response(answer: Answer) -> Response:
    """Return the answer, or 304 when the client already holds these bytes (If-None-Match)."""
    if "HTTP_IF_NONE_MATCH" in request.environ and request.if_none_match.contains_weak(answer.etag[1:-1]):
        response = Response(status=304)
        headers = response.headers
        headers["ETag"] = answer.etag
        headers["Cache-Control"] = CACHE_CONTROL
        return response
    return Response(answer.body, headers=headers_of(answer.headers))


def lookup_view() -> Response | tuple[Response, int]:
    """Return the Lookup JSON for a ZIP or a point; 400 for invalid input, 404 when nothing covers it."""
    args = request.args
    zip_text = args.get("zip")
    # `in` before get: a missing key makes MultiDict.get raise and catch an exception, on every ZIP lookup.
    lat = args.get("lat") if "lat" in args else None
    lon = args.get("lon") if "lon" in args else None
    point = lat is not None or lon is not None
    if zip_text is not None and point:
        return json_error("invalid_zip", "give either zip or lat and lon, not both", 400)
    if zip_text is None and not point:
        return json_error("invalid_zip", "give zip, or lat and lon", 400)
    result: Any
    try:
        if zip_text is not None:
            app = current_app._get_current_object()  # type: ignore[attr-defined]
            return answer_response(answers(app)(normalize_zip(zip_text)))
        result = dataset().lookup_point(lat, lon)
    except (InvalidZip, InvalidPoint) as exc:
        return json_error(exc.code, str(exc), 400)
    except NotFound as exc:
        return json_error(exc.code, str(exc), 404)
    return jsonify(result.to_json())
