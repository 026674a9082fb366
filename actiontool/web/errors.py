"""Error pages and JSON errors; a failed request never leaves a half-written transaction behind."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, ServiceUnavailable

# PostgreSQL errors that mean "the database was busy", not "the request was wrong": a lock wait or a
# statement that ran out of time (actiontool.db.Timeouts), a deadlock, a serialization failure.
_BUSY_SQLSTATES = frozenset({"55P03", "57014", "40P01", "40001"})
RETRY_AFTER_SECONDS = 2


def database_busy(exc: OperationalError) -> bool:
    """Return True when `exc` is a lock or statement timeout (or a deadlock): trying again can succeed."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in _BUSY_SQLSTATES:
        return True
    return "database is locked" in str(orig)  # SQLite's write lock, waited for in vain


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

    @app.errorhandler(OperationalError)
    def handle_busy_database(exc: OperationalError) -> ResponseReturnValue:
        # The service's transaction block has rolled back: nothing of the request was written.
        if not database_busy(exc):
            raise exc
        app.logger.warning("database busy, answered 503: %s", str(exc.orig).splitlines()[0][:200])
        busy = ServiceUnavailable(_("The site is busy. Nothing was saved; please try again in a moment."))
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if wants_json():
            response, status = json_error("busy", str(busy.description), 503)
            response.headers.update(headers)
            return response, status
        return render_template("pages/error.html", status=503, error=busy), 503, headers
