"""What the organizer views share: the blueprint, the post-only form, and the parsing of common parameters."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, request
from flask_wtf import FlaskForm

from actiontool import db, registry
from actiontool.districts import Dataset
from actiontool.services import stats
from actiontool.services.stats import Filters, InvalidFilter

bp = Blueprint("organizer", __name__, url_prefix="/organizer")
PAGE = 100
MAX_PAGE = 100_000  # ten million rows in; past it an offset only overflows the database's integers


class PostForm(FlaskForm):
    """A button that posts (sign-out, retry): only the CSRF token."""


def client_ip() -> str | None:
    """Return the address the request came from, for the audit log and sign-in throttling."""
    return request.remote_addr


def campaigns() -> dict[str, Any]:
    """Return the loaded campaigns by slug."""
    return dict(registry.all_campaigns())


def campaign_or_404(slug: str) -> Any:
    """Return the campaign object (or None for a campaign that only has counts); 404 when unknown."""
    loaded = campaigns()
    if slug in loaded:
        return loaded[slug]
    if slug in stats.campaigns_with_counts(db.get_session()):
        return None
    abort(404)


def campaign_goal(campaign: Any) -> int:
    """Return the campaign's goal, 0 when it has none (or only counts are left of it)."""
    return int(getattr(campaign, "goal", 0) or 0)


def campaign_title(campaign: Any, slug: str) -> str:
    """Return the campaign's English title, or its slug."""
    try:
        return str(campaign.text("en").title)
    except (AttributeError, KeyError):
        return slug


def parse_filters() -> Filters:
    """Return the filters in the query string; 400 when one is invalid."""
    try:
        return Filters.from_args(request.args)
    except InvalidFilter as exc:
        abort(400, description=str(exc))


def parse_sort() -> tuple[str, bool]:
    """Return the ?sort= column and whether ?dir= is descending; 400 when either is unknown."""
    column = request.args.get("sort") or "messages"
    if column not in stats.SORTS:
        abort(400, description=f"sort: one of {', '.join(stats.SORTS)}")
    direction = request.args.get("dir") or ("asc" if column == "key" else "desc")
    if direction not in ("asc", "desc"):
        abort(400, description="dir: asc or desc")
    return column, direction == "desc"


def parse_page() -> int:
    """Return the 1-based ?page= number; 400 when it is not one."""
    raw = request.args.get("page") or "1"
    # isascii: str.isdigit() accepts "²", which int() then refuses.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6 or not 1 <= int(raw) <= MAX_PAGE:
        abort(400, description=f"page: a whole number from 1 to {MAX_PAGE}")
    return int(raw)


def district_dataset() -> Dataset | None:
    """Return the district dataset, or None when it cannot be loaded (the map is then left out)."""
    try:
        return registry.dataset()
    except Exception:  # noqa: BLE001 - a missing dataset must not take the counts down with it
        current_app.logger.exception("district dataset unavailable; the map is left out")
        return None
