"""The organizer dashboard under /organizer: sign-in (`signin`), counts, map, chart, delivery view and audit
log (`dashboard`), and CSV downloads (`exports`), all on one blueprint.

Every route of this blueprint requires a signed-in, active organizer except the few named in
`PUBLIC_ENDPOINTS` (the sign-in form); a before_request hook enforces it, so a new route is protected by
default. Views parse GET parameters into `stats.Filters`, call services, render.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import Flask, Response, current_app, request, url_for
from flask_login import current_user

from actiontool import db, registry
from actiontool.services import organizers
from actiontool.web.organizer import dashboard, exports, share, signin
from actiontool.web.organizer.common import PostForm, bp, district_dataset
from actiontool.web.organizer.signin import PUBLIC_ENDPOINTS

__all__ = ["PUBLIC_ENDPOINTS", "bp", "dashboard", "data_currency", "exports", "init_app", "share", "signin"]

_CAMPAIGNS_AUDITED = "actiontool.organizer.campaigns_audited"


def init_app(app: Flask) -> None:
    """Register the blueprint and Flask-Login."""
    signin.init_login(app)
    app.register_blueprint(bp)


@bp.before_request
def audit_campaign_files() -> None:
    """Once per process, record campaign files that changed since the audit log last saw them."""
    if not current_user.is_authenticated or current_app.extensions.get(_CAMPAIGNS_AUDITED):
        return
    organizers.record_campaign_changes(db.get_session(), registry.campaign_digests())
    current_app.extensions[_CAMPAIGNS_AUDITED] = True


@bp.after_request
def no_store(response: Response) -> Response:
    """Keep organizer pages and exports out of shared caches (the map geometry asset sets its own)."""
    if request.endpoint != "organizer.map_asset":
        response.headers["Cache-Control"] = "no-store"
    return response


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
        # One merged mapping: a query parameter named like a route argument replaces it instead of raising.
        return url_for(request.endpoint or "organizer.index", **{**(request.view_args or {}), **args})

    return {"filter_url": filter_url, "logout_form": PostForm, "data_currency": data_currency}


def _today() -> date:
    """Return today's UTC date (a seam for tests)."""
    return datetime.now(UTC).date()


def data_currency() -> dict[str, Any] | None:
    """Return what the district data is and whether its Congress is over, for the organizers' banner."""
    data = district_dataset()
    if data is None:
        return None
    today = _today()
    return {"info": data.info, "ended": data.info.has_ended(today), "days_left": data.info.days_left(today)}
