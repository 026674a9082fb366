"""Tell people from scripts on the compose form: a honeypot field and a minimum time to fill it in.

The form carries two extra fields: `website`, hidden from people (and screen readers) with the HTML
`hidden` attribute, which form-filling scripts tend to fill; and `started`, the time the form was shown,
signed so it cannot be forged. A submission that fills the honeypot, or comes back sooner than
BOT_MIN_FILL_SECONDS, is answered with a page that looks like success, writes no action and no
message, and is counted apart (services.bots) so organizers see it. Works with JavaScript off.

The start token is bound to the browser's session (a random id kept in it), expires after
FORM_TOKEN_SECONDS, and is good for one submission (its nonce is recorded when used): a token a script
fetched once cannot be replayed across sessions or reused after its three seconds.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app, render_template, session
from flask_babel import gettext
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup, escape

from actiontool.db import get_session
from actiontool.registry import time_zone_of
from actiontool.services.bots import record_bot_submission, use_form_token

HONEYPOT_FIELD = "website"
STARTED_FIELD = "started"
_SALT = "actiontool.compose-started.v2"
BINDING_KEY = "form_binding"  # the session's random id that start tokens are bound to
FORM_TOKEN_SECONDS = 2 * 3600  # a form left open longer is shown again rather than trusted


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def form_binding() -> str:
    """Return this session's random id for start tokens, creating it on first use."""
    if BINDING_KEY not in session:
        session[BINDING_KEY] = secrets.token_urlsafe(16)
    return str(session[BINDING_KEY])


def started_token(now: float | None = None, *, binding: str | None = None) -> str:
    """Return the signed time at which the form is being shown, bound to this session, with a nonce."""
    return _serializer().dumps({"t": round(now if now is not None else time.time(), 3),
                                "n": secrets.token_hex(16), "s": binding or form_binding()})


def guard_fields() -> Markup:
    """Return the two hidden fields to put inside the compose form."""
    return Markup(
        '<div hidden><label for="{field}">{label}</label>'
        '<input type="text" id="{field}" name="{field}" value="" tabindex="-1" autocomplete="off"></div>'
        '<input type="hidden" name="{started}" value="{token}">'
    ).format(field=HONEYPOT_FIELD, label=gettext("Website (leave this empty)"), started=STARTED_FIELD,
             token=escape(started_token()))


def bot_reason(form: Mapping[str, str], *, now: float | None = None) -> str | None:
    """Return why a posted compose form looks automated, or None when it looks like a person.

    A token that passes is used up: the same form sent again is "replayed".
    """
    if (form.get(HONEYPOT_FIELD) or "").strip():
        return "honeypot"
    minimum = float(current_app.config.get("BOT_MIN_FILL_SECONDS") or 0)
    if minimum <= 0:
        return None
    try:
        token = _serializer().loads(form.get(STARTED_FIELD) or "")
        started, nonce, binding = float(token["t"]), str(token["n"]), str(token["s"])
    except (BadSignature, TypeError, ValueError, KeyError):
        return "no_timestamp"
    if binding != session.get(BINDING_KEY):
        return "no_timestamp"  # fetched in another session (a script's, or a stolen page's)
    elapsed = (now if now is not None else time.time()) - started
    if elapsed > FORM_TOKEN_SECONDS:
        return "expired"
    if elapsed < minimum:
        return "too_fast"
    expires = datetime.fromtimestamp(started, UTC) + timedelta(seconds=FORM_TOKEN_SECONDS)
    if not use_form_token(get_session(), nonce, expires_at=expires):
        return "replayed"
    return None


def answer_bot(campaign_slug: str, title: str, reason: str) -> tuple[str, int]:
    """Record the submission as automated and answer with a page that looks like success."""
    record_bot_submission(get_session(), campaign_slug, reason, time_zone=time_zone_of(campaign_slug))
    return render_template("pages/sent.html", title=title), 200


def init_app(app: Flask) -> None:
    """Offer `bot_guard()` to templates."""
    app.add_template_global(guard_fields, "bot_guard")
