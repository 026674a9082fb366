"""Counting the funnel's steps from the public pages, without a database write per page view.

`count(step, slug)` adds to the app's in-memory buffer (services.funnel) and, when the buffer is due,
writes it after the answer has gone out (the response's close hook), so the visitor never waits for it.
A visit is counted only when a person plausibly made it: a GET, not a prefetch, with a User-Agent that
is not a known crawler's (the crawler-user-agents list). No cookie is set or read and no address kept.
The JSON lookup API counts nothing: it names no campaign, and its answers are meant to be cached.
"""

from __future__ import annotations

import atexit
import threading
import weakref
from datetime import UTC, datetime
from functools import lru_cache

from flask import Flask, after_this_request, current_app, request
from werkzeug.wrappers import Response as BaseResponse

from actiontool import db
from actiontool.registry import time_zone_of
from actiontool.services import funnel
from actiontool.services.submit import clean_ref
from actiontool.timezones import local_day

VIEWS, LOOKUPS, FORMS = funnel.VIEWS, funnel.LOOKUPS, funnel.FORMS
_EXTENSION = "actiontool.funnel"


def buffer(app: Flask | None = None) -> funnel.FunnelBuffer:
    """Return the app's funnel buffer, creating it (and its exit hook) on first use in this process."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    held: funnel.FunnelBuffer | None = app.extensions.get(_EXTENSION)
    if held is None:
        held = app.extensions[_EXTENSION] = funnel.FunnelBuffer()
        atexit.register(_flush_at_exit, weakref.ref(app))
    return held


def flush(app: Flask | None = None) -> int:
    """Write this process's unsaved funnel counts now; return how many were written."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    with db.session_scope(app) as session:
        return funnel.flush(session, buffer(app))


def _flush_at_exit(app_ref: weakref.ReferenceType[Flask]) -> None:
    """Write what is left when the process exits (gunicorn's workers exit through sys.exit)."""
    app = app_ref()
    if app is None or not len(buffer(app)):
        return
    try:
        flush(app)
    except Exception:  # noqa: BLE001 - at exit there is nobody to tell but the log
        app.logger.exception("funnel counts could not be written at exit")


@lru_cache(maxsize=2048)
def is_crawler(user_agent: str) -> bool:
    """Return True for a User-Agent on the crawler list (cached: matching the list costs ~0.1 ms)."""
    # Imported on the first page view, not at start: loading and compiling the list takes a third of a
    # second, which `actiontool serve` and every lookup-only worker need not pay.
    import crawleruseragents

    return bool(crawleruseragents.is_crawler(user_agent))


def is_countable() -> bool:
    """Return True when this request looks like a person viewing the page, not a bot or a prefetch."""
    if request.method != "GET":
        return False
    purpose = request.headers.get("Sec-Purpose", "") + request.headers.get("Purpose", "")
    if "prefetch" in purpose or "prerender" in purpose:
        return False  # the browser guessed; the person may never look
    user_agent = request.headers.get("User-Agent", "")
    return bool(user_agent) and not is_crawler(user_agent[:512])


def count(step: str, slug: str) -> None:
    """Count one step of the funnel for this request (if a person made it); write later, in a batch."""
    if not is_countable():
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    today = local_day(datetime.now(UTC), time_zone_of(slug, app))  # the campaign's day, as its counts
    if not buffer(app).add(slug, today, clean_ref(request.args.get("ref")), step):
        return

    @after_this_request
    def write_after_answer(response: BaseResponse) -> BaseResponse:
        response.call_on_close(lambda: flush_quietly(app))
        return response


def flush_briefly(app: Flask | None = None, wait: float = 0.25) -> None:
    """Write the buffer, waiting at most `wait` seconds (the dashboard, before it reads the funnel).

    The write runs in a thread of its own: when another writer holds the database (SQLite's one write
    lock), the page does not wait the lock timeout for it; the counts are written when the lock frees,
    and the page shows them on its next load.
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    if not len(buffer(app)):
        return
    writer = threading.Thread(target=flush_quietly, args=(app,), name="funnel-flush", daemon=True)
    writer.start()
    writer.join(wait)


def flush_quietly(app: Flask | None = None) -> None:
    """Write the buffer; on failure log it and keep the counts for the next try (never fail a page)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    if not len(buffer(app)):
        return
    try:
        flush(app)
    except Exception:  # noqa: BLE001 - the answer is gone; the counts stay in the buffer for the next try
        app.logger.exception("funnel counts could not be written; kept for the next try")
