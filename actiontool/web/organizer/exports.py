"""The organizer's CSV downloads: counts grouped by a dimension, and the action list (streamed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Response, abort, request, stream_with_context
from flask_login import current_user

from actiontool import db
from actiontool.csvexport import aggregate_table, csv_stream
from actiontool.services import organizers, stats
from actiontool.web.organizer.common import bp, campaign_or_404, client_ip, parse_filters, parse_sort


def _attachment(lines: Iterator[str], filename: str) -> Response:
    """Return a streamed CSV download named `filename`."""
    response = Response(stream_with_context(lines), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/c/<slug>/export.csv")
def export_aggregate(slug: str) -> Any:
    """Download the filtered counts grouped by ?by= as CSV."""
    campaign_or_404(slug)
    filters = parse_filters()
    dim = request.args.get("by") or "day"
    if dim not in stats.DIMENSIONS:
        abort(400, description=f"by: one of {', '.join(stats.DIMENSIONS)}")
    sort, descending = parse_sort()
    session = db.get_session()
    rows = stats.by(session, slug, dim, filters, sort=sort, descending=descending)
    organizers.record_export(session, current_user.email, slug, f"counts by {dim} {filters.to_args()}",
                             ip=client_ip())
    header, body = aggregate_table(rows, dim)
    return _attachment(csv_stream(header, body), f"{slug}-by-{dim}.csv")


@bp.get("/c/<slug>/actions.csv")
def export_actions(slug: str) -> Any:
    """Download the filtered action list as CSV, streamed; personal data only with ?personal=1."""
    campaign_or_404(slug)
    filters = parse_filters()
    personal = request.args.get("personal") == "1"
    organizers.record_export(db.get_session(), current_user.email, slug,
                             f"actions{' with personal data' if personal else ''} {filters.to_args()}",
                             ip=client_ip())
    header = stats.ACTION_COLUMNS + (stats.PERSONAL_COLUMNS if personal else ())
    name = f"{slug}-actions{'-personal' if personal else ''}.csv"

    def lines() -> Iterator[str]:
        # Its own read-only connection: a long stream reads a snapshot and never blocks submits.
        with db.engine().connect().execution_options(read_only=True) as conn:
            yield from csv_stream(header, stats.action_rows(conn, slug, filters, personal=personal))

    return _attachment(lines(), name)
