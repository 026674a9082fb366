"""Interface languages (Flask-Babel): English and Spanish, chosen by ?lang=, then a cookie, then the browser.

Translations live in actiontool/translations/; see "Languages" in README.md for how to update them.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from flask import Flask, Response, request
from flask_babel import Babel, get_locale

from actiontool.districts.congress import congress_name_in
from actiontool.letters import LANGUAGE_NAMES

LANGUAGES: dict[str, str] = LANGUAGE_NAMES
DEFAULT_LANGUAGE = "en"
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def select_language() -> str:
    """Return the request's interface language: ?lang=, then the cookie, then Accept-Language."""
    asked = request.args.get("lang", "")
    if asked in LANGUAGES:
        return asked
    cookie = request.cookies.get(COOKIE, "")
    if cookie in LANGUAGES:
        return cookie
    return request.accept_languages.best_match(list(LANGUAGES), default=DEFAULT_LANGUAGE) or DEFAULT_LANGUAGE


def current_language() -> str:
    """Return the interface language of this request as a code ("en" or "es")."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def switch_url(lang: str, base: str | None = None) -> str:
    """Return a GET URL for this page in `lang`, so the switch works without JavaScript.

    `base` is the page's GET address when it was answered to a POST (a form shown again with errors);
    other POST answers switch on the home page, since their own address cannot be fetched.
    """
    if base is not None:
        sep = "&" if "?" in base else "?"
        return f"{base}{sep}{urlencode({'lang': lang})}"
    if request.method != "GET":
        return f"{request.script_root}/?{urlencode({'lang': lang})}"
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    args.append(("lang", lang))
    return f"{request.path}?{urlencode(args)}"


def init_app(app: Flask) -> None:
    """Set up Flask-Babel and remember an explicit ?lang= choice in a cookie."""
    Babel(app, locale_selector=select_language, default_translation_directories="translations")

    @app.after_request
    def remember_language(response: Response) -> Response:
        # Decided here, not in the selector: a page that never asks for the locale (a redirect) must
        # still remember an explicit choice.
        if "lang=" not in request.environ.get("QUERY_STRING", ""):
            return response  # nearly every request: no choice to remember, no query string to decode
        chosen = request.args.get("lang", "")
        if chosen in LANGUAGES and request.cookies.get(COOKIE) != chosen:
            response.set_cookie(COOKIE, chosen, max_age=COOKIE_MAX_AGE, samesite="Lax",
                                secure=request.is_secure, httponly=True)
        return response

    @app.template_filter("isodate")
    def isodate(value: str | date) -> date:
        """Turn a YYYY-MM-DD text into a date, for Babel's `dateformat` in the reader's language."""
        return value if isinstance(value, date) else date.fromisoformat(value)

    @app.context_processor
    def language_context() -> dict[str, object]:
        return {"languages": LANGUAGES, "current_language": current_language, "switch_url": switch_url,
                "congress_name": congress_name}


def congress_name(number: int) -> str:
    """Return a Congress's name in the interface language: `119th Congress`, `119.º Congreso`."""
    return congress_name_in(number, current_language())
