"""Interface languages (Flask-Babel): English and Spanish, chosen by ?lang=, then a cookie, then the browser.

Translations live in actiontool/translations/; see "Languages" in README.md for how to update them.
"""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from babel import Locale
from babel.dates import format_skeleton
from babel.numbers import format_compact_decimal
from flask import Flask, Response, request
from flask_babel import Babel, format_decimal, get_locale
from jinja2 import pass_context

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

    # Context filters: Jinja would otherwise work out `100|percent(0)` once, when it compiles the template,
    # in whatever language the first page was read in.
    @app.template_filter("number")
    @pass_context
    def number_filter(_context: Any, value: int | None) -> str:
        return format_number(value)

    @app.template_filter("percent")
    @pass_context
    def percent_filter(_context: Any, value: float | None, digits: int = 1) -> str:
        return format_share(value, digits)

    @app.template_filter("isodate")
    def isodate(value: str | date) -> date:
        """Turn a YYYY-MM-DD text into a date, for Babel's `dateformat` in the reader's language."""
        return value if isinstance(value, date) else date.fromisoformat(value)

    @app.context_processor
    def language_context() -> dict[str, object]:
        return {"languages": LANGUAGES, "current_language": current_language, "switch_url": switch_url,
                "congress_name": congress_name}


def format_number(value: int | None) -> str:
    """Return a count as the reader's language writes it ("1,234"; Spanish "1.234"), by Babel's rules.

    Pages only: CSV files keep plain machine numbers.
    """
    number = int(value or 0)
    group = _group_separator(str(_locale())) if number >= 0 else None
    if group is None:
        return format_decimal(number)
    return f"{number:,}".replace(",", group)


# Numbers that show every grouping case of a count (none, one, several groups).
_PROBES = (0, 7, 42, 999, 1000, 1234, 9999, 12345, 123456, 1234567, 12345678, 1000000000)


@lru_cache(maxsize=16)
def _group_separator(locale_name: str) -> str | None:
    """Return the locale's group separator when Babel writes its counts as Python's "{:,}" with that
    separator (English, Spanish), else None: Babel then formats each number itself.

    Why: a page of the dashboard prints a couple of thousand counts, and Babel's format_decimal costs
    about 30 µs each (60 ms of a by-district page). Checked against Babel itself on numbers of every
    length, so the fast path never writes a number differently (tests/web/test_number_format.py).
    """
    from babel.numbers import format_decimal as babel_format_decimal
    from babel.numbers import get_group_symbol

    group = get_group_symbol(locale=locale_name)
    if all(babel_format_decimal(n, locale=locale_name) == f"{n:,}".replace(",", group) for n in _PROBES):
        return group
    return None


def format_share(percent: float | None, digits: int = 1) -> str:
    """Return a percentage (12.5 for 12.5 %) with `digits` decimals in the reader's language: "12.5%",
    "12,5 %". The locale's own percent pattern, only its number of decimals fixed."""
    locale = _locale()
    pattern = copy.copy(locale.percent_formats[None])
    pattern.frac_prec = (digits, digits)
    # Decimal, so 12.3 is 0.123 and not 0.12299999999999999; the pattern rounds half-even as Babel does.
    return pattern.apply(Decimal(str(percent or 0)) / 100, locale)


def format_axis_number(value: int) -> str:
    """Return a chart axis number short enough for a phone in the reader's language: 950, 12K, 1.5M;
    "12 mil", "1,5 M". Under 10,000 the whole number, as the axis always wrote it."""
    if value < 10_000:
        return format_number(value)
    return format_compact_decimal(value, format_type="short", fraction_digits=1, locale=_locale())


def format_short_day(day: date) -> str:
    """Return a chart's day label in the reader's language: "Mar 2", "2 mar"."""
    return format_skeleton("MMMd", day, locale=_locale())


def _locale() -> Locale:
    return get_locale() or Locale.parse(DEFAULT_LANGUAGE)


def congress_name(number: int) -> str:
    """Return a Congress's name in the interface language: `119th Congress`, `119.º Congreso`."""
    return congress_name_in(number, current_language())
