"""The floor for the HTTP benchmark: a bare Flask app with one endpoint returning a small JSON answer.

Served by gunicorn with the same settings as the app (bench/http.py), so the ratio between the two is
what the app's own code adds to a request, over what Flask and the server cost anyway.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify

app = Flask(__name__)


@app.get("/ping")
def ping() -> Response:
    """Return the smallest JSON answer Flask gives."""
    return jsonify({"ok": True})
