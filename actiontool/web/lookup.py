"""GET /api/v1/lookup?zip=… or ?lat=…&lon=…: the lookup contract over HTTP (on the api blueprint)."""

from __future__ import annotations

from flask import Response, jsonify, request

from actiontool.districts import InvalidPoint, InvalidZip, NotFound
from actiontool.registry import dataset
from actiontool.web.errors import json_error


def lookup_view() -> Response | tuple[Response, int]:
    """Return the Lookup JSON for a ZIP or a point; 400 for invalid input, 404 when nothing covers it."""
    zip_text = request.args.get("zip")
    lat, lon = request.args.get("lat"), request.args.get("lon")
    point = lat is not None or lon is not None
    if zip_text is not None and point:
        return json_error("invalid_zip", "give either zip or lat and lon, not both", 400)
    if zip_text is None and not point:
        return json_error("invalid_zip", "give zip, or lat and lon", 400)
    try:
        if zip_text is not None:
            result = dataset().lookup(zip_text)
        else:
            result = dataset().lookup_point(lat, lon)
    except (InvalidZip, InvalidPoint) as exc:
        return json_error(exc.code, str(exc), 400)
    except NotFound as exc:
        return json_error(exc.code, str(exc), 404)
    return jsonify(result.to_json())
