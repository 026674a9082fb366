"""Tell people from scripts on the compose form: a honeypot field and a minimum time to fill it in.

The form carries two extra fields: `website`, hidden from people (and screen readers) with the HTML
`hidden` attribute, which form-filling scripts tend to fill; and `started`, the time the form was shown,
signed so it cannot be forged. A submission that fills the honeypot, or comes back sooner than
BOT_MIN_FILL_SECONDS, is answered with a page that looks like success, writes no action and no
message, and is counted apart (services.bots) so organizers see it. Works with JavaScript off.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from flask import Flask, current_app, render_template
from flask_babel import gettext
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup, escape

from actiontool.db import get_session
from actiontool.services.bots import record_bot_submission

HONEYPOT_FIELD = "website"
STARTED_FIELD = "started"
_SALT = "actiontool.compose-started"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def started_token(now: float | None = None) -> str:
    """Return the signed time at which the form is being shown."""
    return _serializer().dumps(round(now if now is not None else time.time(), 3))


def guard_fields() -> Markup:
    """Return the two hidden fields to put inside the compose form."""
    return Markup(
        '<div hidden><label for="{field}">{label}</label>'
        '<input type="text" id="{field}" name="{field}" value="" tabindex="-1" autocomplete="off"></div>'
        '<input type="hidden" name="{started}" value="{token}">'
    ).format(field=HONEYPOT_FIELD, label=gettext("Website (leave this empty)"), started=STARTED_FIELD,
             token=escape(started_token()))


def bot_reason(form: Mapping[str, str], *, now: float | None = None) -> str | None:
    """Return why a posted compose form looks automated, or None when it looks like a person."""
    if (form.get(HONEYPOT_FIELD) or "").strip():
        return "honeypot"
    minimum = float(current_app.config.get("BOT_MIN_FILL_SECONDS") or 0)
    if minimum <= 0:
        return None
    try:
        started = float(_serializer().loads(form.get(STARTED_FIELD) or ""))
    except (BadSignature, TypeError, ValueError):
        return "no_timestamp"
    elapsed = (now if now is not None else time.time()) - started
    return "too_fast" if elapsed < minimum else None


def answer_bot(campaign_slug: str, title: str, reason: str) -> tuple[str, int]:
    """Record the submission as automated and answer with a page that looks like success."""
    record_bot_submission(get_session(), campaign_slug, reason)
    return render_template("pages/sent.html", title=title), 200


def init_app(app: Flask) -> None:
    """Offer `bot_guard()` to templates."""
    app.add_template_global(guard_fields, "bot_guard")
