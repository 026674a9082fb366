"""The JSON API under /api/v1."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# The lookup route lives in web/lookup.py; it is attached here so the blueprint owns every /api/v1 URL.
from actiontool.web.lookup import lookup_view  # noqa: E402

bp.add_url_rule("/lookup", "lookup", lookup_view, methods=["GET"])

# The public count lives in web/embed.py (with the embeddable counter it shares a cache with).
from actiontool.web.embed import count_view  # noqa: E402

bp.add_url_rule("/campaigns/<slug>/count", "campaign_count", count_view, methods=["GET"])
