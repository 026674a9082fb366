"""Error pages and JSON errors; a failed request never leaves a half-written transaction behind."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException


def wants_json() -> bool:
    """Return True for API requests, which get JSON errors instead of pages."""
    return request.path.startswith("/api/")


def json_error(code: str, message: str, status: int) -> tuple[Response, int]:
    """Return the API's error shape: {"error": {"code", "message"}}."""
    return jsonify({"error": {"code": code, "message": message}}), status


def init_app(app: Flask) -> None:
    """Register the HTTP error handlers."""

    @app.errorhandler(HTTPException)
    def handle_http_error(exc: HTTPException) -> ResponseReturnValue:
        status = exc.code or 500
        # The exception's own headers (Allow on a 405, Retry-After on a 429/503) belong on every answer.
        headers = [(name, value) for name, value in exc.get_headers() if name.lower() != "content-type"]
        if wants_json():
            code = (exc.name or "error").lower().replace(" ", "_")
            response, _status = json_error(code, exc.description or exc.name, status)
            response.headers.extend(headers)
            return response, status
        return render_template("pages/error.html", status=status, error=exc), status, headers
