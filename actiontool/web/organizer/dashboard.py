"""The organizer's pages: the campaign chooser, a campaign's counts with its map and chart, the delivery
view with retries, and the audit log."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import Session

from actiontool import db, svg
from actiontool.campaigns import CHANNELS
from actiontool.models import STATUSES
from actiontool.registry import time_zone_of
from actiontool.services import bots, funnel, local_days, organizers, overview, retries, stats
from actiontool.services.stats import Filters, InvalidFilter
from actiontool.sparkline import sparkline
from actiontool.timezones import abbreviation, local_day
from actiontool.web import funnel as web_funnel
from actiontool.web.i18n import format_axis_number, format_number, format_short_day
from actiontool.web.organizer import share, words
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
    parse_page,
)

TABLES: tuple[str, ...] = stats.DIMENSIONS

# Rows per page of the grouped table. At a million messages every seat and member has letters: 441
# district rows and 541 member rows took 125-155 KiB on their own, more than the whole page may weigh
# (120 KiB, issue 15), and no markup trim brings 541 rows of 14 numbers under that. So the rows are
# sorted over the whole table and then cut into pages, like the delivery view's lists; the total row,
# the shares and the CSV download stay on every row. 100 rows keep the state, day and channel tables
# on one page and a seat table on five.
TABLE_PAGE = 100


def status_labels() -> dict[str, str]:
    """Return the statuses' names in the page's language."""
    return {"delivered": _("Delivered"), "handed_off": _("Handed off"),
            "needs_constituent": _("Needs constituent"), "queued": _("Queued"), "sending": _("Sending"),
            "failed": _("Failed")}


@bp.get("/")
def index() -> Any:
    """The campaign overview: per campaign, letters written today, in 7 days and in all, goal and trend."""
    session = db.get_session()
    loaded = campaigns()
    counted = overview.totals(session)  # every campaign with counts, and their totals, in one statement
    slugs = sorted(set(loaded) | set(counted))
    lines = _overview_lines(session, slugs, counted, today_local())
    rows = []
    for slug in slugs:
        campaign, line = loaded.get(slug), lines[slug]
        goal = campaign_goal(campaign)
        trend = _("Letters written per day, %(first)s to %(last)s: %(numbers)s.",
                        first=line.days[0][0].isoformat(), last=line.days[-1][0].isoformat(),
                        numbers=", ".join(format_number(n) for _, n in line.days))
        rows.append({"slug": slug, "title": campaign_title(campaign, slug), "goal": goal,
                     "status": getattr(campaign, "status", "—"), "line": line,
                     "progress": line.progress(goal), "trend_text": trend,
                     "sparkline": Markup(sparkline([n for _, n in line.days], label=trend))})
    return render_template("organizer/index.html", rows=rows,
                           site_time_zone=str(current_app.config.get("TIME_ZONE") or "America/New_York"))


def _overview_lines(session: Session, slugs: list[str], counted: dict[str, dict[str, Any]],
                    today: date) -> dict[str, overview.CampaignOverview]:
    """Return the overview lines, reusing this process's per-day counts while a campaign's totals hold.

    Exact as the dashboard's kept counts are (`_cached_counts`): the key holds the campaign's totals row,
    which every change to its roll-ups changes in the same transaction, and today's date.
    """
    size = int(current_app.config.get("DASHBOARD_CACHE_ENTRIES") or 0)
    cache: OrderedDict[Any, dict[date, int]] = current_app.extensions.setdefault(_CACHE, OrderedDict())
    keys = {slug: ("overview", slug, today, overview.version(counted.get(slug))) for slug in slugs}
    days: dict[str, dict[date, int]] = {}
    with _CACHE_LOCK:
        for slug in slugs:
            hit = cache.get(keys[slug]) if size > 0 else None
            if hit is not None:
                cache.move_to_end(keys[slug])
                days[slug] = hit
    missing = [slug for slug in slugs if slug not in days]
    fresh = overview.written_per_day(session, missing, today)
    days.update(fresh)
    if size > 0 and fresh:
        with _CACHE_LOCK:
            for slug, per_day in fresh.items():
                cache[keys[slug]] = per_day
            while len(cache) > size:
                cache.popitem(last=False)
    return {slug: overview.line(slug, counted.get(slug), days[slug], today) for slug in slugs}


def today_local() -> date:
    """Return today in the site's time zone, the day the overview counts to (a seam for tests).

    Roll-up days are each campaign's local day; the overview uses the site's zone for all of them."""
    return local_day(datetime.now(UTC), str(current_app.config.get("TIME_ZONE") or "America/New_York"))


def _district_map(slug: str, filters: Filters, districts: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Return what the page needs for the district map, the tile view and the legend.

    The geometry itself is a cached asset (`map_asset`); the page carries only the counts, their colour
    classes and each district's link, which organizer.js applies to it.
    """
    dataset = district_dataset()
    if dataset is None:
        return None
    counts = {r["key"]: r["messages"] for r in districts}
    names = {r["key"]: r.get("member_name") for r in districts}
    seats = _seats(dataset, counts)
    for (state, number), member in dataset.house_seats().items():
        label = stats.district_label(state, number)
        if label and member is not None:
            names[label] = names.get(label) or member.name
    view_state = filters.state or (filters.district.split("-")[0] if filters.district else None)
    if view_state and not any(label.startswith(view_state + "-") for label in seats):
        view_state = None
    shown = [label for label in seats if view_state is None or label.startswith(view_state + "-")]
    bounds = svg.breaks([counts.get(label, 0) for label in shown])

    # One url_for, then plain string building: 441 url_for calls would cost more than the map itself.
    base = url_for("organizer.dashboard", slug=slug)
    kept = {k: v for k, v in filters.to_args().items() if k not in ("state", "district")}
    if request.args.get("table"):
        kept["table"] = request.args["table"]

    def link(label: str) -> str:
        target = {**kept, "state": label.split("-")[0]}
        if view_state:
            target["district"] = label
        return f"{base}?{urlencode(target)}#map"

    # One translated template, formatted per seat: 441 gettext calls would cost more than the squares.
    # A square's title leaves out its label and carries no data-district: its state's list and its own
    # text say which seat it is (organizer.js rebuilds the label for the shaped map). Repeating the label
    # twice on 441 squares cost 13 KiB of a page that must stay under 120 KiB.
    template = _("%(name)s — %(count)s messages")
    vacant = _("vacant")
    tiles: dict[str, list[tuple[str, int, str]]] = {}
    for label in shown:
        n = counts.get(label, 0)
        title = template % {"name": names.get(label) or vacant, "count": format_number(n)}
        tiles.setdefault(label.split("-")[0], []).append((_short_seat(label), svg.class_of(n, bounds), title))
    view = view_state or "us"
    # The shaped map is coloured and linked by organizer.js from the squares (class, title) and this link
    # base, so the page carries each seat once.
    link_base = f"{base}?{urlencode(kept)}{'&' if kept else ''}"
    return {
        "asset": url_for("organizer.map_asset", view=view, v=_geometry_version(dataset)),
        "tiles": tiles, "legend": svg.legend_items(bounds, format_number), "view_state": view_state,
        "state_links": {state: link(f"{state}-AL") for state in tiles}, "link_base": link_base,
        "zoomed": bool(view_state),
    }


def _short_seat(label: str) -> str:
    """Return a seat square's text: the district number, or the state code for an at-large seat (AK-AL:
    "AK"), so it is not read as Alabama. organizer.js and the tests turn it back into the label."""
    state, _sep, number = label.partition("-")
    return state if number == "AL" else number


def _seats(dataset: Any, counts: dict[str, int] | None = None) -> list[str]:
    """Return every House seat label, sorted by state and number: the members' seats, the shapes, and any
    district with messages (so no counted message is left off the map)."""
    labels = {stats.district_label(state, number) for state, number in dataset.house_seats()}
    labels |= set(dataset.boundaries()) | set(counts or ())
    return sorted((label for label in labels if label), key=_seat_order)


def _seat_order(label: str) -> tuple[str, int]:
    """Sort OH-2 before OH-10 and AK-AL first in its state."""
    state, _sep, number = label.partition("-")
    return state, int(number) if number.isdigit() else 0


def _geometry_version(dataset: Any) -> str:
    """Return a short digest of the dataset's district labels and data, for the asset's URL and ETag."""
    info = dataset.info
    raw = f"{getattr(info, 'as_of', '')}|{getattr(info, 'congress_name', '')}|{len(dataset.boundaries())}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


@bp.get("/map/<view>.svg")
def map_asset(view: str) -> Any:
    """Serve the uncoloured district map of the nation ("us") or one state, cached with an ETag.

    The dashboard colours it from the counts in the page, so the page stays small and the geometry
    (hundreds of KiB) is fetched once per browser and data version.
    """
    dataset = district_dataset()
    if dataset is None:
        abort(404)
    labels = _seats(dataset)
    state = None if view == "us" else view
    if state is not None and not any(label.startswith(state + "-") for label in labels):
        abort(404)
    shapes = dataset.boundaries()
    etag = f"{_geometry_version(dataset)}-{view}"
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        body = svg.map_geometry(shapes, [label for label in labels if label not in shapes], state=state)
        response = Response(body, mimetype="image/svg+xml")
    response.set_etag(etag)
    # Private: only signed-in organizers fetch it; a day, and the URL changes with the data anyway.
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


def _filter_message(message: str) -> str:
    """Return a filter's message (services.stats.InvalidFilter, in English) in the page's language."""
    known = {
        "from: expected a date like 2026-01-31": _("from: expected a date like 2026-01-31"),
        "to: expected a date like 2026-01-31": _("to: expected a date like 2026-01-31"),
        "state: expected a two-letter code like OH": _("state: expected a two-letter code like OH"),
        "district: expected a label like OH-3 or AK-AL": _("district: expected a label like OH-3 or AK-AL"),
        "ref: letters, digits, dot, dash or underscore": _("ref: letters, digits, dot, dash or underscore"),
        "from: the start date is after the end date": _("from: the start date is after the end date"),
        "dir: asc or desc": _("dir: asc or desc"),
        "page: a whole number from 1": _("page: a whole number from 1"),
    }
    if message in known:
        return known[message]
    name, sep, choices = message.partition(": one of ")
    if sep:  # "status: one of delivered, …": the names are the codes the query string takes
        return _("%(name)s: one of %(choices)s", name=name, choices=choices)
    return message


def _bad_filter_page(slug: str, campaign: Any, message: str) -> Any:
    """Show the dashboard for the whole campaign with the filter's message, keeping what was typed."""
    message = _filter_message(message)
    try:
        view = _view_args()
    except InvalidFilter:
        view = ("state", "messages", True)
    return _render_dashboard(slug, campaign, Filters(), view, error=message), 400


def _view_args() -> tuple[str, str, bool]:
    """Return the grouping (?table=), sort column and direction; raise InvalidFilter when one is unknown."""
    table = request.args.get("table") or "state"
    if table not in TABLES:
        raise InvalidFilter(f"table: one of {', '.join(TABLES)}")
    column = request.args.get("sort") or ("key" if table == "day" else "messages")
    if column not in stats.SORTS:
        raise InvalidFilter(f"sort: one of {', '.join(stats.SORTS)}")
    # The day table reads as a calendar: newest day first unless the organizer sorts otherwise.
    direction = request.args.get("dir") or ("desc" if table == "day" or column != "key" else "asc")
    if direction not in ("asc", "desc"):
        raise InvalidFilter("dir: asc or desc")
    return table, column, direction == "desc"


def _table_page() -> int:
    """Return the grouped table's 1-based ?page=; raise InvalidFilter when it is not a page number."""
    raw = request.args.get("page") or "1"
    # isascii: str.isdigit() accepts "²", which int() then refuses; six digits is far past any table.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6 or int(raw) < 1:
        raise InvalidFilter("page: a whole number from 1")
    return int(raw)


def _paged(rows: list[dict[str, Any]], page: int) -> dict[str, Any]:
    """Return one page of the sorted rows and where it sits; a page past the end shows the last one."""
    pages = max(1, -(-len(rows) // TABLE_PAGE))
    page = min(page, pages)
    start = (page - 1) * TABLE_PAGE
    shown = rows[start:start + TABLE_PAGE]
    return {"rows": shown, "page": page, "pages": pages, "first_row": start + 1 if shown else 0,
            "last_row": start + len(shown), "row_count": len(rows), "page_links": _page_links(page, pages)}


def _page_links(page: int, pages: int) -> list[int | None]:
    """Return the page numbers the pager links to, None for a gap: every page up to nine, else the first,
    the last and two either side of this one (a long tail of sources must not grow the pager)."""
    if pages <= 9:
        return list(range(1, pages + 1))
    near = {1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)}
    links: list[int | None] = []
    previous = 0
    for number in sorted(near):
        if number - previous > 1:
            links.append(None)
        links.append(number)
        previous = number
    return links


def _goal_context(campaign: Any, whole: dict[str, Any]) -> dict[str, Any] | None:
    """Return the goal bar: always the whole campaign, on the count its public counter shows."""
    goal = campaign_goal(campaign)
    if not goal:
        return None
    measure = getattr(getattr(campaign, "counter", None), "show", "written")
    value = int(whole[measure])
    return {"goal": goal, "measure": measure, "value": value, "progress": min(100, round(100 * value / goal))}


def _rows_with_people(session: Any, slug: str, table: str, filters: Filters,
                      rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Add actions (people), shares and party to the table's rows; return the total row."""
    actions = stats.actions_by(session, slug, table, filters)
    total_messages = sum(r["messages"] for r in rows)
    dataset = district_dataset() if table in ("member", "district") else None
    for row in rows:
        if table == "member":
            row["actions"] = row["messages"]  # one message per action to a member
        elif actions is not None:
            row["actions"] = actions.get(row["key"], 0)
        row["share"] = 100 * row["messages"] / total_messages if total_messages else 0
        member = None
        if dataset is not None:
            member = dataset.member(row["key"] if table == "member" else (row.get("bioguide") or ""))
        row["party"] = member.party if member is not None else ""
    total: dict[str, Any] = {s: sum(r[s] for r in rows) for s in (*STATUSES, "messages", "written", "sent")}
    total["actions"] = (sum(r.get("actions", 0) for r in rows)
                        if table in ("day", "state", "district", "source") else None)
    return total


def _counts(session: Any, slug: str, filters: Filters, view: tuple[str, str, bool],
            whole: dict[str, Any]) -> dict[str, Any]:
    """Run every count the dashboard shows under `filters` (from the roll-ups); no rendering."""
    table, sort, descending = view
    days = stats.by(session, slug, "day", filters)
    # Unfiltered, the days just counted are the campaign's: their ends are the date bounds (one statement
    # fewer on the first request after a change).
    first, last = ((days[0]["sort_key"], days[-1]["sort_key"]) if days and not filters.active
                   else stats.date_bounds(session, slug))
    by_state, districts = stats.by_state_and_district(session, slug, filters)
    counted = {"state": by_state, "district": districts, "day": days}
    if table in counted:  # already counted for the map or the chart: sort a copy
        rows = stats.sort_rows([dict(r) for r in counted[table]], sort, descending)
    else:
        rows = stats.by(session, slug, table, filters, sort=sort, descending=descending)
    if filters.active:  # the filter choices are the whole campaign's
        states, district_choices = stats.places_with_messages(session, slug)
    else:  # the rows above already list them
        states, district_choices = [r["key"] for r in by_state], [r["key"] for r in districts]
    return {
        "totals": stats.totals(session, slug, filters) if filters.active else whole,
        "points": svg.fill_days([(date.fromisoformat(r["key"]), r["messages"]) for r in days],
                                filters.date_from or first, filters.date_to or last),
        "first": first, "last": last, "districts_rows": districts, "rows": rows,
        "total_row": _rows_with_people(session, slug, table, filters, rows),
        "hours": local_days.by_hour(session, slug, filters.date_from, filters.date_to),
        "trend": stats.source_trend(session, slug, last, filters) if table == "source" else {},
        "states": states, "districts": district_choices,
        "refs": stats.refs_with_messages(session, slug),
        # An unverified e-mail that wrote again under another name or address: written, shown apart.
        "flagged_repeats": stats.flagged_repeats(session, slug),
        # The funnel's last step is actions, so it is kept with the counts: at a million messages its
        # GROUP BY over action_counts took most of a warm page's time. Its page views are read afresh.
        "funnel_written": funnel.written_by_day_and_ref(session, slug, date_from=filters.date_from,
                                                        date_to=filters.date_to, ref=_funnel_ref(filters)),
    }


_CACHE = "actiontool.organizer.dashboard_counts"
_CACHE_LOCK = threading.Lock()


def _cached_counts(session: Any, slug: str, filters: Filters, view: tuple[str, str, bool],
                   whole: dict[str, Any]) -> dict[str, Any]:
    """Return `_counts`, reusing this process's answer while the campaign's counts have not changed.

    Exact, not a time-based cache: the key holds the campaign's totals row (every status, actions and
    `updated_at`), which every write that changes a roll-up also changes in the same transaction
    (services.counts), so a new submit or status change makes the next page count afresh.
    """
    size = int(current_app.config.get("DASHBOARD_CACHE_ENTRIES") or 0)
    if size <= 0:
        return _counts(session, slug, filters, view, whole)
    version = (whole.get("updated_at"), whole.get("actions"), *(whole.get(s) for s in STATUSES))
    key = (slug, filters, view, version)
    cache: OrderedDict[Any, dict[str, Any]] = current_app.extensions.setdefault(_CACHE, OrderedDict())
    with _CACHE_LOCK:
        hit = cache.get(key)
        if hit is not None:
            cache.move_to_end(key)
            return hit
    counted = _counts(session, slug, filters, view, whole)
    with _CACHE_LOCK:
        cache[key] = counted
        while len(cache) > size:
            cache.popitem(last=False)
    return counted


def _value_names() -> dict[str, dict[str, str]]:
    """Return, per filter, the names of the values it takes as codes: channels, statuses, "no source"."""
    return {"channel": words.channel_labels(), "status": status_labels(), "ref": {stats.NO_REF: _("(none)")}}


def _filter_names() -> dict[str, str]:
    """Return the query string's filter names in the page's language, for the "filters apply" chips."""
    return {"from": _("From"), "to": _("To"), "state": _("State"), "district": _("District"),
            "ref": _("Source"), "channel": _("Channel"), "status": _("Status")}


def _named_rows(table: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the table's rows with a channel, "no source" and a party named in the page's language."""
    names = _value_names().get({"channel": "channel", "source": "ref"}.get(table, ""), {})
    parties = words.party_names()
    return [{**row, "label": names.get(row["label"], row["label"]),
             "party": parties.get(row.get("party") or "", row.get("party") or "")} for row in rows]


def _render_dashboard(slug: str, campaign: Any, filters: Filters, view: tuple[str, str, bool], *,
                      error: str | None = None) -> str:
    """Render the dashboard under `filters` (a bad filter: the whole campaign, with `error` shown)."""
    table, sort, descending = view
    session = db.get_session()
    whole = stats.totals(session, slug)
    counted = _cached_counts(session, slug, filters, view, whole)
    page = 1 if error else _table_page()
    zone = time_zone_of(slug)
    raw = {k: request.args.get(k, "") for k in ("from", "to", "state", "district", "ref", "channel",
                                                 "status")}
    context = {
        **counted, **_paged(_named_rows(table, counted["rows"]), page),
        # The counts are cached for every language: their names are put in the reader's after the cache.
        "filter_names": _filter_names(), "value_names": _value_names(),
        "slug": slug, "title": campaign_title(campaign, slug), "filters": filters, "error": error, "raw": raw,
        "whole": whole, "goal": _goal_context(campaign, whole),
        "chart": Markup(svg.daily_chart(counted["points"], title=_("Messages per day"), number=format_number,
                                        axis=format_axis_number, day_label=format_short_day)),
        "hour_chart": Markup(svg.hour_chart(counted["hours"], title=_("Actions by hour of the day"),
                                            number=format_number, axis=format_axis_number)),
        "map": _district_map(slug, filters, counted["districts_rows"]), "table": table, "tables": TABLES,
        "sort": sort, "descending": descending, "statuses": STATUSES, "status_labels": status_labels(),
        "channels": CHANNELS, "args": filters.to_args(),
        "time_zone": zone, "zone_abbreviation": abbreviation(zone, datetime.now(UTC)),
        # Submissions that looked automated never became actions; only the date range applies to them.
        # Not cached: a kept-out submission does not change the campaign's counts.
        "bots": bots.bot_counts(session, slug, filters.date_from, filters.date_to),
        "funnel": _funnel(slug, filters, counted["funnel_written"]),
    }
    if not filters.active and not whole["messages"] and not whole["actions"]:
        # Nothing yet: offer what gets a campaign going instead of an empty chart over no dates.
        context["share"] = share.share_context(slug, campaign)
        context["chart"] = None
    return render_template("organizer/dashboard.html", **context)


@bp.get("/c/<slug>")
def dashboard(slug: str) -> Any:
    """Show one campaign's counts under the query string's filters; a bad filter is explained in place."""
    campaign = campaign_or_404(slug)
    try:
        filters = Filters.from_args(request.args)
        view = _view_args()
        _table_page()
    except InvalidFilter as exc:
        return _bad_filter_page(slug, campaign, str(exc))
    return _render_dashboard(slug, campaign, filters, view)


FUNNEL_REFS = 20  # sources shown in the funnel's table, most page views first


def _funnel_ref(filters: Filters) -> str | None:
    """Return the source filter in the funnel's stored form ("" for no source), or None for any."""
    return None if filters.ref is None else ("" if filters.ref == stats.NO_REF else filters.ref)


def _funnel(slug: str, filters: Filters, written: dict[tuple[Any, ...], dict[str, int]]) -> dict[str, Any]:
    """Return the funnel under the filters that apply to it (dates and source), by step, source and day;
    `written` is its last step (actions), kept with the counts."""
    # This process's unsaved counts first (other processes write theirs within seconds), then read on a
    # connection of its own: the request's session may hold a snapshot from before that write (SQLite).
    web_funnel.flush_briefly()
    with db.engine().connect().execution_options(read_only=True) as conn:
        session = Session(bind=conn)
        return _funnel_rows(session, slug, filters, _funnel_ref(filters), written)


def _funnel_rows(session: Session, slug: str, filters: Filters, ref: str | None,
                 written: dict[tuple[Any, ...], dict[str, int]]) -> dict[str, Any]:
    """Return the funnel's rows read with `session`."""
    # One statement (page views by day × source), not six: the page views are not cached (a page view
    # changes them but no campaign count), so they are paid on every dashboard request, warm ones too.
    days, refs = funnel.funnel_by_day_and_ref(session, slug, date_from=filters.date_from,
                                              date_to=filters.date_to, ref=ref, written=written)
    total = funnel.steps_total(days.values())  # every counted row has a day
    by_ref = sorted(refs.items(), key=lambda item: (-item[1]["views"], -item[1]["written"], item[0]))
    by_day = sorted(days.items())
    return {"steps": funnel.drop_off(total), "total": total,
            "by_ref": [(r or _("(none)"), row) for r, row in by_ref[:FUNNEL_REFS]], "refs": len(by_ref),
            "by_day": [(day.isoformat(), row) for day, row in by_day],
            "filtered": bool(filters.date_from or filters.date_to or filters.ref is not None),
            "ignored": bool(filters.state or filters.district or filters.channel or filters.status)}


def _failed_filter() -> retries.FailedFilter:
    """Return the failed-message filter of the request (query string on GET, the form on POST)."""
    source = request.form if request.method == "POST" else request.args
    try:
        return retries.FailedFilter.parse(source.get("reason"), source.get("member"), source.get("since"))
    except retries.InvalidRetryFilter as exc:
        abort(400, description=words.retry_filter_error(exc))


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
                           ages=retries.waiting_by_age(session, slug), age_labels=AGE_LABELS,
                           channel_labels=words.channel_labels(), reason_text=words.reason_text,
                           reason_label=words.reason_label)


# The nudge list's age buckets (services.retries.AGE_BUCKETS), as the page says them.
AGE_LABELS: dict[str, Any] = {"under_1_day": _l("Under 1 day"), "1_to_7_days": _l("1 to 7 days"),
                              "over_7_days": _l("Over 7 days")}


@bp.post("/c/<slug>/messages/<message_id>/retry")
def retry(slug: str, message_id: str) -> Any:
    """Queue a failed message for delivery again."""
    if not PostForm().validate_on_submit():
        abort(400, description=words.form_expired())
    try:
        organizers.retry_message(db.get_session(), slug, message_id, actor=current_user.email, ip=client_ip())
    except organizers.NotRetryable as exc:
        flash(words.organizer_error(exc), "error")
    else:
        flash(_("The message is queued for delivery again."), "ok")
    return redirect(url_for("organizer.delivery", slug=slug))


@bp.post("/c/<slug>/delivery/retry")
def retry_matching(slug: str) -> Any:
    """Queue every failed message that matches the filters again: one transaction, one audit row.

    Idempotent: a second post (a double click, the back button) finds the messages queued, not failed.
    """
    campaign_or_404(slug)
    if not PostForm().validate_on_submit():
        abort(400, description=words.form_expired())
    wanted = _failed_filter()
    outcome = retries.retry_matching(db.get_session(), slug, wanted, actor=current_user.email, ip=client_ip())
    flash(ngettext("%(count)s failed message is queued for delivery again.",
                   "%(count)s failed messages are queued for delivery again.", outcome.retried,
                   count=format_number(outcome.retried)), "ok")
    refused = outcome.purged + outcome.accepted
    if refused:
        flash(ngettext("%(count)s matching message was left failed: purged, or accepted by a channel.",
                       "%(count)s matching messages were left failed: purged, or accepted by a channel.",
                       refused, count=format_number(refused)), "error")
    args: dict[str, Any] = {k: v for k, v in (("reason", wanted.reason), ("member", wanted.member),
                              ("since", wanted.since.isoformat() if wanted.since else None)) if v}
    return redirect(url_for("organizer.delivery", slug=slug, **args))


@bp.get("/audit")
def audit() -> Any:
    """Show the audit log, newest first."""
    page = parse_page()
    events = organizers.events(db.get_session(), limit=PAGE, offset=(page - 1) * PAGE)
    return render_template("organizer/audit.html", events=events, page=page, page_size=PAGE,
                           kind_labels=words.audit_kind_labels(), detail_text=words.detail_text)
