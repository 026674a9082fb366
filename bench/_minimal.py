"""The floor for the HTTP benchmark: a bare Flask app with one endpoint returning a small JSON answer.

Served by gunicorn with the same settings as the app (bench/http.py), so the ratio between the two is
what the app's own code adds to a request, over what Flask and the server cost anyway.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, jsonify

from actiontool.web.security import add_security_headers

app = Flask(__name__)
# The same answer with the security headers every answer of the app carries: how much of the gap between
# the floor and the app is the security policy rather than the app's own code.
secured = Blueprint("secured", __name__, url_prefix="/secured")
secured.after_request(add_security_headers)


@app.get("/ping")
def ping() -> Response:
    """Return the smallest JSON answer Flask gives."""
    return jsonify({"ok": True})


@secured.get("/ping")
def secured_ping() -> Response:
    """Return the same answer, with the app's security headers."""
    return jsonify({"ok": True})


app.register_blueprint(secured)
