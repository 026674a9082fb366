"""Public counts: GET /api/v1/campaigns/<slug>/count (cached) and the frameable /embed/<slug> counter.

The count comes from the campaign's one-row totals (services.counts), and is cached in the process for a
few seconds on top, so a partner page with heavy traffic costs the database almost nothing. The embed
blueprint is named "embed": the security headers let partner sites frame exactly those endpoints.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, render_template, request
from sqlalchemy.orm import Session

from actiontool import db
from actiontool.services import counts

bp = Blueprint("embed", __name__, url_prefix="/embed")
CACHE_SECONDS = 5.0
_EXTENSION = "actiontool.count_cache"
_lock = threading.Lock()


def _public_campaign(slug: str) -> Any:
    """Return a live or closed campaign, else 404."""
    from actiontool.campaigns import UnknownCampaign
    from actiontool.registry import get_campaign

    try:
        campaign = get_campaign(slug)
    except UnknownCampaign:
        abort(404, description=f"no campaign {slug!r}")
    if not campaign.is_public:
        abort(404, description=f"no campaign {slug!r}")
    return campaign


def public_count(app: Flask, slug: str, goal: int) -> dict[str, Any]:
    """Return {"messages", "actions", "goal", "updated_at"}, from a per-process cache of a few seconds."""
    cache: dict[str, tuple[float, dict[str, Any]]] = app.extensions.setdefault(_EXTENSION, {})
    now = time.monotonic()
    hit = cache.get(slug)
    if hit is not None and hit[0] > now:
        return hit[1]
    # A read-only connection: on SQLite it reads a snapshot instead of queueing for the write lock.
    with db.engine().connect().execution_options(read_only=True) as conn:
        totals = counts.campaign_totals(Session(bind=conn), slug)
    updated = totals["updated_at"]
    payload = {"messages": counts.public_message_count(totals), "actions": int(totals["actions"]),
               "goal": goal, "updated_at": updated.isoformat().replace("+00:00", "Z") if updated else None}
    with _lock:
        cache[slug] = (now + float(app.config.get("COUNT_CACHE_SECONDS", CACHE_SECONDS)), payload)
    return payload


def count_view(slug: str) -> Response:
    """Return the campaign's public count as JSON, cacheable for a few seconds."""
    campaign = _public_campaign(slug)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    response = jsonify(public_count(app, slug, int(campaign.goal)))
    seconds = int(app.config.get("COUNT_CACHE_SECONDS", CACHE_SECONDS))
    response.headers["Cache-Control"] = f"public, max-age={seconds}"
    response.headers["Access-Control-Allow-Origin"] = "*"  # partner sites read it from their own pages
    return response


@bp.get("/<slug>")
def embed_counter(slug: str) -> Any:
    """Render the small counter and button a partner site puts in an iframe (carrying its ?ref=)."""
    from actiontool.services.submit import clean_ref

    campaign = _public_campaign(slug)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    count = public_count(app, slug, int(campaign.goal))
    ref = clean_ref(request.args.get("ref"))
    asked = request.args.get("lang")
    lang = asked if asked in campaign.languages else campaign.default_lang
    text = campaign.text(lang)
    response = current_app.make_response(render_template(
        "pages/embed.html", campaign=campaign, text=text, count=count, ref=ref, lang=lang,
        progress=min(100, round(100 * count["messages"] / campaign.goal)) if campaign.goal else None))
    response.headers["Cache-Control"] = f"public, max-age={int(CACHE_SECONDS)}"
    return response
