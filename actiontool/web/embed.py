"""Public counts: GET /api/v1/campaigns/<slug>/count (cached) and the frameable /embed/<slug> counter.

The count comes from the campaign's one-row totals (services.counts), or with ?ref= from the roll-up by
source, and is cached in the process for a few seconds on top, so a partner page with heavy traffic costs
the database almost nothing. Each number is written, sent or delivered as services.counts defines. The embed
blueprint is named "embed": the security headers let partner sites frame exactly those endpoints.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Mapping
from typing import Any, cast

from flask import Blueprint, Flask, Response, abort, current_app, render_template, request, url_for
from sqlalchemy.orm import Session

from actiontool import db
from actiontool.campaigns import PublicCounter, UnknownCampaign
from actiontool.registry import get_campaign
from actiontool.services import counts, stats
from actiontool.services.submit import clean_ref
from actiontool.web.errors import json_error
from actiontool.web.headers import checked, headers_of

bp = Blueprint("embed", __name__, url_prefix="/embed")
CACHE_SECONDS = 5.0
_EXTENSION = "actiontool.count_cache"
_BODIES = "actiontool.count_bodies"
_lock = threading.Lock()


def _public_campaign(slug: str) -> Any:
    """Return a live or closed campaign, else 404."""
    try:
        campaign = get_campaign(slug)
    except UnknownCampaign:
        abort(404, description=f"no campaign {slug!r}")
    if not campaign.is_public:
        abort(404, description=f"no campaign {slug!r}")
    return campaign


_CACHE_MAX = 2000  # cached answers per process; ?ref= is free text, so the cache must not grow without end


def count_payload(totals: Mapping[str, Any], goal: int, counter: PublicCounter,
                  ref: str | None = None) -> dict[str, Any]:
    """Return the public count of per-status totals: the three counts, `messages`, and the counter's choice.

    `messages` is the written count under the name existing embeds read. `counter` says which count the
    campaign's counter shows and whether it is at or above the campaign's minimum.
    """
    updated = totals["updated_at"]
    shown = counts.count_of(counter.show, totals)
    payload = {"messages": counts.public_message_count(totals), **counts.meanings(totals),
               "actions": int(totals["actions"]), "goal": goal,
               "counter": {"show": counter.show, "value": shown, "visible": counter.visible(shown)},
               "updated_at": updated.isoformat().replace("+00:00", "Z") if updated else None}
    if ref is not None:
        payload["ref"] = ref
    return payload


def _read_totals(session: Session, slug: str, ref: str | None) -> dict[str, Any]:
    """Return the campaign's totals row, or its source's totals from the roll-up by source."""
    if ref is None:
        return counts.campaign_totals(session, slug)
    return stats.source_totals(session, slug, ref)


def public_count(app: Flask, slug: str, goal: int, counter: PublicCounter,
                 ref: str | None = None) -> dict[str, Any]:
    """Return the public count of a campaign (or of one source of it) from a per-process cache of seconds."""
    cache: dict[tuple[str, str | None], tuple[float, dict[str, Any]]]
    cache = app.extensions.setdefault(_EXTENSION, {})
    now = time.monotonic()
    hit = cache.get((slug, ref))
    if hit is not None and hit[0] > now:
        return hit[1]
    # A read-only connection: on SQLite it reads a snapshot instead of queueing for the write lock.
    with db.engine().connect().execution_options(read_only=True) as conn:
        totals = _read_totals(Session(bind=conn), slug, ref)
    payload = count_payload(totals, goal, counter, ref)
    with _lock:
        if len(cache) >= _CACHE_MAX:
            for key in [k for k, (expires, _) in cache.items() if expires <= now]:
                del cache[key]
            if len(cache) >= _CACHE_MAX:
                cache.clear()
        cache[(slug, ref)] = (now + float(app.config.get("COUNT_CACHE_SECONDS", CACHE_SECONDS)), payload)
    return payload


def count_body(app: Flask, key: tuple[str, str | None], payload: dict[str, Any]) -> bytes:
    """Return the JSON bytes of a cached count, serialised once per cached payload (as jsonify would)."""
    bodies: dict[tuple[str, str | None], tuple[dict[str, Any], bytes]]
    bodies = app.extensions.setdefault(_BODIES, {})
    hit = bodies.get(key)
    if hit is not None and hit[0] is payload:
        return hit[1]
    body = cast(Response, app.json.response(payload)).get_data()
    with _lock:
        if len(bodies) >= _CACHE_MAX:
            bodies.clear()
        bodies[key] = (payload, body)
    return body


def count_view(slug: str) -> Response | tuple[Response, int]:
    """Return the campaign's public count (or one source's, with ?ref=) as JSON, cacheable for seconds."""
    campaign = _public_campaign(slug)
    args = request.args
    raw_ref = args.get("ref") if "ref" in args else None  # `in` first: a miss makes get() raise inside
    ref = clean_ref(raw_ref)
    if raw_ref is not None and ref is None:
        return json_error("invalid_ref", "ref: 1 to 64 letters, digits, dashes or underscores", 400)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    payload = public_count(app, slug, int(campaign.goal), campaign.counter, ref)
    seconds = int(app.config.get("COUNT_CACHE_SECONDS", CACHE_SECONDS))
    return Response(count_body(app, (slug, ref), payload), headers=headers_of(_count_headers(seconds)))


@functools.lru_cache(maxsize=8)
def _count_headers(seconds: int) -> tuple[tuple[str, str], ...]:
    """Return the count's own headers, built once: appended as they are, not set one by one."""
    return checked((("Content-Type", "application/json"), ("Cache-Control", f"public, max-age={seconds}"),
                    ("Access-Control-Allow-Origin", "*")))  # partner sites read it from their own pages


def campaign_link(slug: str, ref: str | None, lang: str | None) -> str:
    """Return the embed button's link: under BASE_URL, else a path, never the request's Host.

    The page is cached publicly, so a link built from a forged Host header would be served to everyone;
    a path resolves against the iframe's own address, which is ours.
    """
    path = url_for("public.campaign", slug=slug, ref=ref, lang=lang)
    base = current_app.config.get("BASE_URL")
    return str(base).rstrip("/") + path if base else path


@bp.get("/<slug>")
def embed_counter(slug: str) -> Any:
    """Render the small counter and button a partner site puts in an iframe (carrying its ?ref=).

    With `count=ref` and a ref, the counter shows that source's own count instead of the campaign's.
    """
    from flask_babel import force_locale

    campaign = _public_campaign(slug)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    ref = clean_ref(request.args.get("ref"))
    own = ref is not None and request.args.get("count") == "ref"
    count = public_count(app, slug, int(campaign.goal), campaign.counter, ref if own else None)
    asked = request.args.get("lang")
    lang = asked if asked in campaign.languages else campaign.default_lang
    text = campaign.text(lang)
    shown = count["counter"]["value"]
    # A source's count is a share of the campaign's goal, not progress toward it: no bar for it.
    progress = min(100, round(100 * shown / campaign.goal)) if campaign.goal and not own else None
    link = campaign_link(campaign.slug, ref, lang if lang != campaign.default_lang else None)
    with force_locale(lang):  # the campaign's language, not the visitor's cookie: the partner chose it
        html = render_template("pages/embed.html", campaign=campaign, text=text, count=count, ref=ref,
                               lang=lang, own=own, shown=shown, progress=progress, campaign_link=link)
    response = current_app.make_response(html)
    response.headers["Cache-Control"] = f"public, max-age={int(CACHE_SECONDS)}"
    return response
