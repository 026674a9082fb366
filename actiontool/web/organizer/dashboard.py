"""The organizer's pages: the campaign chooser, a campaign's counts with its map and chart, the delivery
view with retries, and the audit log."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup

from actiontool import db, svg
from actiontool.campaigns import CHANNELS
from actiontool.models import STATUSES
from actiontool.services import bots, organizers, retries, stats
from actiontool.services.stats import Filters
from actiontool.web.organizer.common import (
    PAGE,
    PostForm,
    bp,
    campaign_goal,
    campaign_or_404,
    campaign_title,
    campaigns,
    client_ip,
    district_dataset,
    parse_filters,
    parse_page,
    parse_sort,
)

TABLES: tuple[str, ...] = stats.DIMENSIONS
STATUS_LABELS: dict[str, str] = {
    "delivered": "Delivered", "handed_off": "Handed off", "needs_constituent": "Needs constituent",
    "queued": "Queued", "sending": "Sending", "failed": "Failed",
}


@bp.get("/")
def index() -> Any:
    """List the campaigns with their totals: the campaign chooser."""
    session = db.get_session()
    loaded = campaigns()
    slugs = sorted(set(loaded) | set(stats.campaigns_with_counts(session)))
    rows = []
    for slug in slugs:
        campaign = loaded.get(slug)
        rows.append({"slug": slug, "title": campaign_title(campaign, slug), "goal": campaign_goal(campaign),
                     "status": getattr(campaign, "status", "—"), "totals": stats.totals(session, slug)})
    return render_template("organizer/index.html", rows=rows)


def _map_svg(slug: str, filters: Filters, districts: list[dict[str, Any]]) -> Markup | None:
    """Render the district map for the filters: national, or the filtered state's view."""
    dataset = district_dataset()
    if dataset is None:
        return None
    shapes = dataset.boundaries()
    counts = {r["key"]: r["messages"] for r in districts}
    names = {r["key"]: r.get("member_name") for r in districts}
    for (state, number), member in dataset.house_seats().items():
        label = stats.district_label(state, number)
        if member is not None and label and not names.get(label):
            names[label] = member.name
    titles = {label: f"{label} — {names.get(label) or 'vacant'} — {counts.get(label, 0):,} messages"
              for label in shapes}
    view_state = filters.state or (filters.district.split("-")[0] if filters.district else None)
    if view_state and not any(label.startswith(view_state + "-") for label in shapes):
        view_state = None

    # One url_for, then plain string building: 437 url_for calls would cost more than the map itself.
    base = url_for("organizer.dashboard", slug=slug)
    kept = {k: v for k, v in filters.to_args().items() if k not in ("state", "district")}
    if request.args.get("table"):
        kept["table"] = request.args["table"]

    def link(label: str) -> str:
        target = {**kept, "state": label.split("-")[0]}
        if view_state:
            target["district"] = label
        return f"{base}?{urlencode(target)}#map"

    title = f"Messages by district{' in ' + view_state if view_state else ''}"
    return Markup(svg.district_map(shapes, counts, titles, state=view_state, title=title, link=link))


@bp.get("/c/<slug>")
def dashboard(slug: str) -> Any:
    """Show one campaign's counts under the filters in the query string."""
    campaign = campaign_or_404(slug)
    filters = parse_filters()
    table = request.args.get("table") or "state"
    if table not in TABLES:
        abort(400, description=f"table: one of {', '.join(TABLES)}")
    sort, descending = parse_sort()
    session = db.get_session()
    totals = stats.totals(session, slug, filters)
    days = stats.by(session, slug, "day", filters)
    first, last = stats.date_bounds(session, slug)
    points = svg.fill_days([(date.fromisoformat(r["key"]), r["messages"]) for r in days],
                           filters.date_from or first, filters.date_to or last)
    districts = stats.by(session, slug, "district", filters)
    rows = stats.by(session, slug, table, filters, sort=sort, descending=descending)
    goal = campaign_goal(campaign)
    context = {
        "slug": slug, "title": campaign_title(campaign, slug), "goal": goal, "filters": filters,
        "totals": totals,
        # As on the public counter: failed messages do not count towards the goal.
        "progress": min(100, round(100 * (totals["messages"] - totals["failed"]) / goal)) if goal else None,
        "chart": Markup(svg.daily_chart(points, title="Messages per day")), "points": points,
        "map": _map_svg(slug, filters, districts), "table": table, "tables": TABLES, "rows": rows,
        "sort": sort, "descending": descending, "statuses": STATUSES, "status_labels": STATUS_LABELS,
        "states": stats.states_with_messages(session, slug), "refs": stats.refs_with_messages(session, slug),
        "channels": CHANNELS, "first": first, "last": last,
        "args": filters.to_args(),
        # Submissions that looked automated never became actions; organizers see how many were kept out.
        "bots": bots.bot_counts(session, slug),
        # An unverified e-mail that wrote again under another name or address: written, shown apart.
        "flagged_repeats": stats.flagged_repeats(session, slug),
    }
    return render_template("organizer/dashboard.html", **context)


def _failed_filter() -> retries.FailedFilter:
    """Return the failed-message filter of the request (query string on GET, the form on POST)."""
    source = request.form if request.method == "POST" else request.args
    try:
        return retries.FailedFilter.parse(source.get("reason"), source.get("member"), source.get("since"))
    except retries.InvalidRetryFilter as exc:
        abort(400, description=str(exc))


@bp.get("/c/<slug>/delivery")
def delivery(slug: str) -> Any:
    """Failed messages (filtered by reason, member and date, with Retry and Retry all that match) and the
    hand-off letters still waiting on their constituents, with a count by age for reminders."""
    campaign = campaign_or_404(slug)
    page = parse_page()
    wanted = _failed_filter()
    session = db.get_session()
    offset = (page - 1) * PAGE
    failed = retries.failed_messages(session, slug, wanted, limit=PAGE, offset=offset)
    waiting = stats.messages_in_status(session, slug, "needs_constituent", limit=PAGE, offset=offset)
    return render_template("organizer/delivery.html", slug=slug, title=campaign_title(campaign, slug),
                           failed=failed, waiting=waiting, page=page, page_size=PAGE, form=PostForm(),
                           totals=stats.totals(session, slug), wanted=wanted,
                           matching=retries.count_matching(session, slug, wanted),
                           reasons=retries.failed_reasons(session, slug),
                           members=retries.failed_members(session, slug),
                           ages=retries.waiting_by_age(session, slug), age_labels=AGE_LABELS)


# The nudge list's age buckets (services.retries.AGE_BUCKETS), as the page says them.
AGE_LABELS: dict[str, Any] = {"under_1_day": _l("Under 1 day"), "1_to_7_days": _l("1 to 7 days"),
                              "over_7_days": _l("Over 7 days")}


@bp.post("/c/<slug>/messages/<message_id>/retry")
def retry(slug: str, message_id: str) -> Any:
    """Queue a failed message for delivery again."""
    if not PostForm().validate_on_submit():
        abort(400, description="the form expired; reload the page and try again")
    try:
        organizers.retry_message(db.get_session(), slug, message_id, actor=current_user.email, ip=client_ip())
    except organizers.NotRetryable as exc:
        flash(str(exc), "error")
    else:
        flash("The message is queued for delivery again.", "ok")
    return redirect(url_for("organizer.delivery", slug=slug))


@bp.post("/c/<slug>/delivery/retry")
def retry_matching(slug: str) -> Any:
    """Queue every failed message that matches the filters again: one transaction, one audit row.

    Idempotent: a second post (a double click, the back button) finds the messages queued, not failed.
    """
    campaign_or_404(slug)
    if not PostForm().validate_on_submit():
        abort(400, description="the form expired; reload the page and try again")
    wanted = _failed_filter()
    outcome = retries.retry_matching(db.get_session(), slug, wanted, actor=current_user.email, ip=client_ip())
    flash(ngettext("%(num)d failed message is queued for delivery again.",
                   "%(num)d failed messages are queued for delivery again.", outcome.retried), "ok")
    refused = outcome.purged + outcome.accepted
    if refused:
        flash(ngettext("%(num)d matching message was left failed: purged, or accepted by a channel.",
                       "%(num)d matching messages were left failed: purged, or accepted by a channel.",
                       refused), "error")
    args: dict[str, Any] = {k: v for k, v in (("reason", wanted.reason), ("member", wanted.member),
                              ("since", wanted.since.isoformat() if wanted.since else None)) if v}
    return redirect(url_for("organizer.delivery", slug=slug, **args))


@bp.get("/audit")
def audit() -> Any:
    """Show the audit log, newest first."""
    page = parse_page()
    events = organizers.events(db.get_session(), limit=PAGE, offset=(page - 1) * PAGE)
    return render_template("organizer/audit.html", events=events, page=page, page_size=PAGE)
