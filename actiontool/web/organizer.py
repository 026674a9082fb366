"""The organizer dashboard under /organizer: sign-in, counts, map, chart, delivery view, exports, audit log.

Every route of this blueprint requires a signed-in, active organizer except the few named in
`PUBLIC_ENDPOINTS` (the sign-in form and the stylesheet); a before_request hook enforces it, so a new
route is protected by default. Views parse GET parameters into `stats.Filters`, call services, render.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import EmailField, PasswordField
from wtforms.validators import InputRequired, Length

from actiontool import db, svg
from actiontool.models import STATUSES
from actiontool.services import bots, organizers, stats
from actiontool.services.stats import Filters, InvalidFilter

bp = Blueprint("organizer", __name__, url_prefix="/organizer")
PUBLIC_ENDPOINTS = frozenset({"organizer.login"})
TABLES: tuple[str, ...] = ("state", "district", "member", "source", "day", "channel", "status")
STATUS_LABELS: dict[str, str] = {
    "delivered": "Delivered", "handed_off": "Handed off", "needs_constituent": "Needs constituent",
    "queued": "Queued", "sending": "Sending", "failed": "Failed",
}
PAGE = 100
_CAMPAIGNS_AUDITED = "actiontool.organizer.campaigns_audited"


class OrganizerUser(UserMixin):
    """The signed-in organizer as Flask-Login sees them."""

    def __init__(self, organizer_id: int, email: str) -> None:
        self.id = organizer_id
        self.email = email


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField("E-mail", validators=[InputRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[InputRequired(), Length(max=1000)])


class PostForm(FlaskForm):
    """A button that posts (sign-out, retry): only the CSRF token."""


def init_app(app: Flask) -> None:
    """Register the blueprint and Flask-Login."""
    manager = LoginManager()
    manager.login_view = "organizer.login"
    manager.login_message = "Please sign in to see the dashboard."
    manager.session_protection = "strong"
    manager.init_app(app)

    @manager.user_loader
    def load_user(user_id: str) -> OrganizerUser | None:
        if not user_id.isdigit():
            return None
        organizer = organizers.active_organizer(db.get_session(), int(user_id))
        return OrganizerUser(organizer.id, organizer.email) if organizer else None

    app.register_blueprint(bp)


@bp.before_request
def require_sign_in() -> Any:
    """Send anyone not signed in to the sign-in form (API-style 401 for non-GET requests)."""
    if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    if request.method != "GET":
        abort(401)
    return redirect(url_for("organizer.login", next=request.full_path if request.args else request.path))


@bp.before_request
def audit_campaign_files() -> None:
    """Once per process, record campaign files that changed since the audit log last saw them."""
    if not current_user.is_authenticated or current_app.extensions.get(_CAMPAIGNS_AUDITED):
        return
    digests = {}
    for slug, campaign in _campaigns().items():
        path = Path(getattr(campaign, "path", "") or "")
        if path.is_file():
            digests[slug] = hashlib.sha256(path.read_bytes()).hexdigest()
    organizers.record_campaign_changes(db.get_session(), digests)
    current_app.extensions[_CAMPAIGNS_AUDITED] = True


@bp.after_request
def no_store(response: Response) -> Response:
    """Keep organizer pages and exports out of shared caches."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _ip() -> str | None:
    return request.remote_addr


def _safe_next(target: str | None) -> str:
    """Return a same-site path under /organizer to go to after sign-in, never another site."""
    if target and target.startswith("/organizer") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("organizer.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Show the sign-in form; sign in on POST (throttled per account and per address)."""
    form = LoginForm()
    error = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                organizer = organizers.authenticate(db.get_session(), form.email.data or "",
                                                    form.password.data or "", ip=_ip())
            except organizers.Throttled as exc:
                error, status = str(exc), 429
            except organizers.SignInFailed as exc:
                error, status = str(exc), 401
            else:
                login_user(OrganizerUser(organizer.id, organizer.email))
                return redirect(_safe_next(request.args.get("next")))
        else:
            error, status = "Enter your e-mail and password.", 400
    return render_template("organizer/login.html", form=form, error=error), status


@bp.post("/logout")
def logout() -> Any:
    """Sign out."""
    if PostForm().validate_on_submit():
        organizers.audit(db.get_session(), current_user.email, organizers.SIGN_OUT, ip=_ip())
        db.get_session().commit()
        logout_user()
    return redirect(url_for("organizer.login"))


def _campaigns() -> dict[str, Any]:
    """Return the loaded campaigns by slug ({} when the campaign files are not loaded in this app)."""
    try:
        from actiontool.web.campaigns import all_campaigns

        return dict(all_campaigns())
    except (ImportError, KeyError):
        return {}


def _campaign_or_404(slug: str) -> Any:
    """Return the campaign object (or None for a campaign that only has counts); 404 when unknown."""
    campaigns = _campaigns()
    if slug in campaigns:
        return campaigns[slug]
    if slug in stats.campaigns_with_counts(db.get_session()):
        return None
    abort(404)


def _goal(campaign: Any) -> int:
    return int(getattr(campaign, "goal", 0) or 0)


def _title(campaign: Any, slug: str) -> str:
    """Return the campaign's English title, or its slug."""
    try:
        return str(campaign.text("en").title)
    except (AttributeError, KeyError):
        return slug


@bp.get("/")
def index() -> Any:
    """List the campaigns with their totals: the campaign chooser."""
    session = db.get_session()
    slugs = sorted(set(_campaigns()) | set(stats.campaigns_with_counts(session)))
    campaigns = _campaigns()
    rows = []
    for slug in slugs:
        campaign = campaigns.get(slug)
        rows.append({"slug": slug, "title": _title(campaign, slug), "goal": _goal(campaign),
                     "status": getattr(campaign, "status", "—"), "totals": stats.totals(session, slug)})
    return render_template("organizer/index.html", rows=rows)


def _filters() -> Filters:
    try:
        return Filters.from_args(request.args)
    except InvalidFilter as exc:
        abort(400, description=str(exc))


def _sort() -> tuple[str, bool]:
    sort = request.args.get("sort") or "messages"
    if sort not in stats.SORTS:
        abort(400, description=f"sort: one of {', '.join(stats.SORTS)}")
    direction = request.args.get("dir") or ("asc" if sort == "key" else "desc")
    if direction not in ("asc", "desc"):
        abort(400, description="dir: asc or desc")
    return sort, direction == "desc"


def _dataset() -> Any:
    """Return the district dataset, or None when it cannot be loaded (the map is then left out)."""
    try:
        from actiontool.web.deps import dataset

        return dataset()
    except Exception:  # noqa: BLE001 - a missing dataset must not take the counts down with it
        current_app.logger.exception("district dataset unavailable; the map is left out")
        return None


def _map_svg(slug: str, filters: Filters, districts: list[dict[str, Any]]) -> Markup | None:
    """Render the district map for the filters: national, or the filtered state's view."""
    dataset = _dataset()
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
    campaign = _campaign_or_404(slug)
    filters = _filters()
    table = request.args.get("table") or "state"
    if table not in TABLES:
        abort(400, description=f"table: one of {', '.join(TABLES)}")
    sort, descending = _sort()
    session = db.get_session()
    totals = stats.totals(session, slug, filters)
    days = stats.by(session, slug, "day", filters)
    first, last = stats.date_bounds(session, slug)
    points = svg.fill_days([(date.fromisoformat(r["key"]), r["messages"]) for r in days],
                           filters.date_from or first, filters.date_to or last)
    districts = stats.by(session, slug, "district", filters)
    rows = stats.by(session, slug, table, filters, sort=sort, descending=descending)
    goal = _goal(campaign)
    context = {
        "slug": slug, "title": _title(campaign, slug), "goal": goal, "filters": filters, "totals": totals,
        # As on the public counter: failed messages do not count towards the goal.
        "progress": min(100, round(100 * (totals["messages"] - totals["failed"]) / goal)) if goal else None,
        "chart": Markup(svg.daily_chart(points, title="Messages per day")), "points": points,
        "map": _map_svg(slug, filters, districts), "table": table, "tables": TABLES, "rows": rows,
        "sort": sort, "descending": descending, "statuses": STATUSES, "status_labels": STATUS_LABELS,
        "states": stats.states_with_messages(session, slug), "refs": stats.refs_with_messages(session, slug),
        "channels": ("handoff", "smtp", "cwc"), "first": first, "last": last,
        "args": filters.to_args(),
        # Submissions that looked automated never became actions; organizers see how many were kept out.
        "bots": bots.bot_counts(session, slug),
    }
    return render_template("organizer/dashboard.html", **context)


# Exports -------------------------------------------------------------------------------------------------

_DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Return a CSV cell that a spreadsheet will not run as a formula (text starting = + - @ tab CR)."""
    if isinstance(value, str) and value.startswith(_DANGEROUS_START):
        return "'" + value
    return value


def csv_stream(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """Yield CSV text line by line, every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow(["" if v is None else neutralise(v) for v in row])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _attachment(lines: Iterator[str], filename: str) -> Response:
    response = Response(stream_with_context(lines), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def aggregate_table(rows: list[dict[str, Any]], dim: str) -> tuple[list[str], list[list[Any]]]:
    """Return the header and rows of an aggregate export (or `actiontool stats --csv`)."""
    extra = {"district": ["member_name"], "member": ["chamber", "seat"]}.get(dim, [])
    header = [dim, *extra, "messages", "written", "sent", *STATUSES]  # written, sent: see services.counts
    body = [[r["label"], *(r.get(e) for e in extra), r["messages"], r["written"], r["sent"],
             *(r[s] for s in STATUSES)] for r in rows]
    if dim == "member":
        header.insert(0, "bioguide")
        body = [[r["key"], *line] for r, line in zip(rows, body, strict=True)]
    return header, body


@bp.get("/c/<slug>/export.csv")
def export_aggregate(slug: str) -> Any:
    """Download the filtered counts grouped by ?by= as CSV."""
    _campaign_or_404(slug)
    filters = _filters()
    dim = request.args.get("by") or "day"
    if dim not in stats.DIMENSIONS:
        abort(400, description=f"by: one of {', '.join(stats.DIMENSIONS)}")
    sort, descending = _sort()
    session = db.get_session()
    rows = stats.by(session, slug, dim, filters, sort=sort, descending=descending)
    organizers.audit(session, current_user.email, organizers.EXPORT, campaign=slug,
                     detail=f"counts by {dim} {filters.to_args()}", ip=_ip())
    session.commit()
    header, body = aggregate_table(rows, dim)
    return _attachment(csv_stream(header, body), f"{slug}-by-{dim}.csv")


@bp.get("/c/<slug>/actions.csv")
def export_actions(slug: str) -> Any:
    """Download the filtered action list as CSV, streamed; personal data only with ?personal=1."""
    _campaign_or_404(slug)
    filters = _filters()
    personal = request.args.get("personal") == "1"
    session = db.get_session()
    organizers.audit(session, current_user.email, organizers.EXPORT, campaign=slug,
                     detail=f"actions{' with personal data' if personal else ''} {filters.to_args()}",
                     ip=_ip())
    session.commit()
    header = stats.ACTION_COLUMNS + (stats.PERSONAL_COLUMNS if personal else ())
    name = f"{slug}-actions{'-personal' if personal else ''}.csv"

    def lines() -> Iterator[str]:
        # Its own read-only connection: a long stream reads a snapshot and never blocks submits.
        with db.engine().connect().execution_options(read_only=True) as conn:
            yield from csv_stream(header, stats.action_rows(conn, slug, filters, personal=personal))

    return _attachment(lines(), name)


# Delivery and audit --------------------------------------------------------------------------------------

def _page() -> int:
    raw = request.args.get("page") or "1"
    if not raw.isdigit() or int(raw) < 1:
        abort(400, description="page: a positive number")
    return int(raw)


@bp.get("/c/<slug>/delivery")
def delivery(slug: str) -> Any:
    """List failed messages (with their reason and a retry button) and messages waiting on constituents."""
    campaign = _campaign_or_404(slug)
    page = _page()
    session = db.get_session()
    offset = (page - 1) * PAGE
    failed = stats.messages_in_status(session, slug, "failed", limit=PAGE, offset=offset)
    waiting = stats.messages_in_status(session, slug, "needs_constituent", limit=PAGE, offset=offset)
    return render_template("organizer/delivery.html", slug=slug, title=_title(campaign, slug), failed=failed,
                           waiting=waiting, page=page, page_size=PAGE, form=PostForm(),
                           totals=stats.totals(session, slug))


@bp.post("/c/<slug>/messages/<message_id>/retry")
def retry(slug: str, message_id: str) -> Any:
    """Queue a failed message for delivery again."""
    if not PostForm().validate_on_submit():
        abort(400, description="the form expired; reload the page and try again")
    try:
        organizers.retry_message(db.get_session(), slug, message_id, actor=current_user.email, ip=_ip())
    except organizers.NotRetryable as exc:
        flash(str(exc), "error")
    else:
        flash("The message is queued for delivery again.", "ok")
    return redirect(url_for("organizer.delivery", slug=slug))


@bp.get("/audit")
def audit() -> Any:
    """Show the audit log, newest first."""
    page = _page()
    events = organizers.events(db.get_session(), limit=PAGE, offset=(page - 1) * PAGE)
    return render_template("organizer/audit.html", events=events, page=page, page_size=PAGE)


@bp.app_context_processor
def organizer_helpers() -> dict[str, Any]:
    """Give organizer templates a URL builder that keeps the current filters."""

    def filter_url(**changes: Any) -> str:
        args = {k: v for k, v in request.args.items() if k != "page"}
        for key, value in changes.items():
            if value is None:
                args.pop(key, None)
            else:
                args[key] = value
        return url_for(request.endpoint or "organizer.index", **(request.view_args or {}), **args)

    return {"filter_url": filter_url, "logout_form": PostForm, "data_currency": data_currency}


def _today() -> date:
    """Return today's UTC date (a seam for tests)."""
    return datetime.now(UTC).date()


def data_currency() -> dict[str, Any] | None:
    """Return what the district data is and whether its Congress is over, for the organizers' banner."""
    data = _dataset()
    if data is None:
        return None
    today = _today()
    return {"info": data.info, "ended": data.info.has_ended(today), "days_left": data.info.days_left(today)}
