"""The app as gunicorn serves it in the load test, plus a minimal Flask JSON endpoint as the baseline.

The baseline goes through the same server, processes and after-request hooks (security headers, limits)
as the real endpoints, so the ratio measures what our own code adds.
"""

from __future__ import annotations

from flask import Response, jsonify

from actiontool import create_app

app = create_app()


@app.get("/_bench/ping")
def ping() -> Response:
    """Return the smallest JSON answer Flask can give."""
    return jsonify({"ok": True})
