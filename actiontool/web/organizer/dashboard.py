"""The organizer's pages: the campaign chooser, a campaign's counts with its map and chart, the delivery
view with retries, and the audit log."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import Session

from actiontool import db, svg
from actiontool.campaigns import CHANNELS
from actiontool.models import STATUSES
from actiontool.services import bots, funnel, organizers, overview, stats
from actiontool.services.stats import Filters
from actiontool.sparkline import sparkline
from actiontool.web import funnel as web_funnel
from actiontool.web.organizer import share
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
    """The campaign overview: per campaign, letters written today, in 7 days and in all, goal and trend."""
    session = db.get_session()
    loaded = campaigns()
    slugs = sorted(set(loaded) | set(stats.campaigns_with_counts(session)))
    lines = overview.overview(session, slugs, today_utc())
    rows = []
    for slug in slugs:
        campaign, line = loaded.get(slug), lines[slug]
        goal = campaign_goal(campaign)
        trend = gettext("Letters written per day, %(first)s to %(last)s: %(numbers)s.",
                        first=line.days[0][0].isoformat(), last=line.days[-1][0].isoformat(),
                        numbers=", ".join(f"{n:,}" for _, n in line.days))
        rows.append({"slug": slug, "title": campaign_title(campaign, slug), "goal": goal,
                     "status": getattr(campaign, "status", "—"), "line": line,
                     "progress": line.progress(goal), "trend_text": trend,
                     "sparkline": Markup(sparkline([n for _, n in line.days], label=trend))})
    return render_template("organizer/index.html", rows=rows)


def today_utc() -> date:
    """Return today's UTC day, the day the roll-ups count in (a seam for tests)."""
    return datetime.now(UTC).date()


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
        "funnel": _funnel(slug, filters),
    }
    if not filters.active and not totals["messages"] and not totals["actions"]:
        # Nothing yet: offer what gets a campaign going instead of an empty chart over no dates.
        context["share"] = share.share_context(slug, campaign)
        context["chart"] = None
    return render_template("organizer/dashboard.html", **context)


FUNNEL_REFS = 20  # sources shown in the funnel's table, most page views first


def _funnel(slug: str, filters: Filters) -> dict[str, Any]:
    """Return the funnel under the filters that apply to it (dates and source), by step, source and day."""
    # This process's unsaved counts first (other processes write theirs within seconds), then read on a
    # connection of its own: the request's session may hold a snapshot from before that write (SQLite).
    web_funnel.flush_quietly()
    ref = None if filters.ref is None else ("" if filters.ref == stats.NO_REF else filters.ref)
    with db.engine().connect().execution_options(read_only=True) as conn:
        session = Session(bind=conn)
        return _funnel_rows(session, slug, filters, ref)


def _funnel_rows(session: Session, slug: str, filters: Filters, ref: str | None) -> dict[str, Any]:
    """Return the funnel's rows read with `session`."""
    def grouped(dim: str) -> dict[Any, dict[str, int]]:
        return funnel.funnel_by(session, slug, dim, date_from=filters.date_from, date_to=filters.date_to,
                                ref=ref)

    total = grouped("all").get(None, dict.fromkeys(funnel.STEPS, 0))
    by_ref = sorted(grouped("ref").items(),
                    key=lambda item: (-item[1]["views"], -item[1]["written"], item[0]))
    by_day = sorted(grouped("day").items())
    return {"steps": funnel.drop_off(total), "total": total,
            "by_ref": [(r or stats.NO_REF, row) for r, row in by_ref[:FUNNEL_REFS]], "refs": len(by_ref),
            "by_day": [(day.isoformat(), row) for day, row in by_day],
            "filtered": bool(filters.date_from or filters.date_to or filters.ref is not None),
            "ignored": bool(filters.state or filters.district or filters.channel or filters.status)}


@bp.get("/c/<slug>/delivery")
def delivery(slug: str) -> Any:
    """List failed messages (with their reason and a retry button) and messages waiting on constituents."""
    campaign = campaign_or_404(slug)
    page = parse_page()
    session = db.get_session()
    offset = (page - 1) * PAGE
    failed = stats.messages_in_status(session, slug, "failed", limit=PAGE, offset=offset)
    waiting = stats.messages_in_status(session, slug, "needs_constituent", limit=PAGE, offset=offset)
    return render_template("organizer/delivery.html", slug=slug, title=campaign_title(campaign, slug),
                           failed=failed, waiting=waiting, page=page, page_size=PAGE, form=PostForm(),
                           totals=stats.totals(session, slug))


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


@bp.get("/audit")
def audit() -> Any:
    """Show the audit log, newest first."""
    page = parse_page()
    events = organizers.events(db.get_session(), limit=PAGE, offset=(page - 1) * PAGE)
    return render_template("organizer/audit.html", events=events, page=page, page_size=PAGE)
