"""Security for every response: headers, cookie flags, the secret key, and trust in a reverse proxy.

- Content-Security-Policy allows scripts and styles from our own origin only (no inline script), and
  frames nowhere except the embed pages, which partner sites put in an iframe.
- Cookies are HttpOnly and SameSite=Lax always, and Secure whenever the request came over HTTPS.
- Links that leave the request (the receipt e-mail, the embed's button) are built only from
  ACTIONTOOL_BASE_URL or a host in ACTIONTOOL_ALLOWED_HOSTS; with the list set, any other host gets 400, so a
  forged Host or X-Forwarded-Host cannot put another site's address into the organization's mail.
- Organizer pages refuse requests another site started (Sec-Fetch-Site: cross-site or same-site) with 403:
  a link or form elsewhere cannot download personal data or write an audit row in an organizer's name.
- The app refuses to start in production with the well-known development key: a key is configured
  (ACTIONTOOL_SECRET_KEY, the same on every web machine), or the `actiontool` command generates one
  and keeps it in the instance folder (the one-machine install), or start fails with a clear message.
"""

from __future__ import annotations

import functools
import os
import secrets
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, current_app, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask.wrappers import Request
from itsdangerous import URLSafeTimedSerializer
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.sansio.utils import host_is_trusted

from actiontool.config import DEFAULT_SECRET_KEY, ConfigError, allowed_hosts
from actiontool.web.headers import append_checked, checked

SECRET_KEY_FILE = "secret_key"

_CSP_COMMON = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'self'; object-src 'none'"
)
CSP = _CSP_COMMON + "; frame-ancestors 'none'"
CSP_EMBED = _CSP_COMMON + "; frame-ancestors *"
HSTS = "max-age=31536000; includeSubDomains"
# Receipt URLs carry an unguessable token: never send them to the member sites a receipt links to.
REFERRER_POLICY = "same-origin"
PERMISSIONS_POLICY = "geolocation=(self), camera=(), microphone=(), payment=()"


def is_embed_endpoint(endpoint: str | None) -> bool:
    """Return True for the pages partner sites may frame (endpoints named embed...)."""
    if not endpoint:
        return False
    return endpoint.startswith("embed") or endpoint.rsplit(".", 1)[-1].startswith("embed")


# Pages no cache may keep: a receipt shows a constituent's name and address, organizer pages show counts
# and personal data only a signed-in organizer may see (a shared computer's back button included).
NO_STORE_BLUEPRINTS = frozenset({"organizer"})
NO_STORE_ENDPOINTS = frozenset({"public.receipt", "public.handed_off"})


# Behind the organizer sign-in but the same for every organizer and fixed per data version (its URL
# changes with the data): kept by the browser only ("private"), so the dashboard fetches it once.
CACHEABLE_PRIVATE_ENDPOINTS: frozenset[str] = frozenset({"organizer.map_asset"})


def is_private_endpoint(endpoint: str | None) -> bool:
    """Return True for the receipt and the organizer pages, which must never be cached."""
    if not endpoint or endpoint in CACHEABLE_PRIVATE_ENDPOINTS:
        return False
    return endpoint in NO_STORE_ENDPOINTS or endpoint.split(".", 1)[0] in NO_STORE_BLUEPRINTS


@functools.lru_cache(maxsize=512)
def policy_headers(endpoint: str | None, secure: bool) -> tuple[tuple[str, str], ...]:
    """Return the security headers of an endpoint's answers, worked out once per endpoint and scheme."""
    embeddable = is_embed_endpoint(endpoint)
    headers = [("Content-Security-Policy", CSP_EMBED if embeddable else CSP)]
    if not embeddable:
        headers.append(("X-Frame-Options", "DENY"))  # for browsers that predate frame-ancestors
    headers += [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", REFERRER_POLICY),
                ("Permissions-Policy", PERMISSIONS_POLICY), ("Cross-Origin-Opener-Policy", "same-origin")]
    if secure:
        headers.append(("Strict-Transport-Security", HSTS))
    return checked(tuple(headers))


_POLICY_NAMES = frozenset(name.lower() for name, _ in policy_headers(None, True))


def add_security_headers(response: Response) -> Response:
    """Set the security headers on one response.

    The headers of an endpoint are computed once (policy_headers); when the response carries none of them
    yet (nearly always) they are appended in one go rather than set one by one, each of which would scan
    the headers for an older value: about a fifth of a cached API answer's time in the app.
    """
    endpoint = request.endpoint
    headers = response.headers
    policy = policy_headers(endpoint, request.is_secure)
    if _POLICY_NAMES.isdisjoint(name.lower() for name, _ in headers.items()):
        append_checked(headers, policy)
    else:
        for name, value in policy:
            headers[name] = value
    if is_private_endpoint(endpoint):
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
    return response


def harden_cookie(cookie: str, *, secure: bool) -> str:
    """Return a Set-Cookie value with HttpOnly, SameSite=Lax and (over HTTPS) Secure added if missing."""
    attributes = {part.strip().split("=", 1)[0].lower() for part in cookie.split(";")[1:]}
    if "httponly" not in attributes:
        cookie += "; HttpOnly"
    if "samesite" not in attributes:
        cookie += "; SameSite=Lax"
    if secure and "secure" not in attributes:
        cookie += "; Secure"
    return cookie


class CookieHardening:
    """WSGI middleware: hardens every cookie, including those set after Flask's after_request hooks
    (the session cookie) or by extensions (Flask-Login's remember cookie)."""

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        secure = environ.get("wsgi.url_scheme") == "https"

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers = [
                (name, harden_cookie(value, secure=secure) if name.lower() == "set-cookie" else value)
                for name, value in headers
            ]
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with its signer built once per key, and none for the JSON API.

    The API reads no session and writes none, so opening one (verifying the cookie a browser sends
    along) is wasted on each lookup; an API request gets Flask's null session, which is never saved.
    """

    def __init__(self) -> None:
        self._signer: tuple[tuple[Any, ...], URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Return the signer of the app's current keys, built again only when a key changes."""
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if self._signer is None or self._signer[0] != keys:
            self._signer = (keys, super().get_signing_serializer(app))
        return self._signer[1]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """Return the request's session; the null session on /api/."""
        if request.path.startswith("/api/"):
            return self.null_session_class()
        return super().open_session(app, request)


def resolve_secret_key(app: Flask) -> None:
    """Replace the development key: use the configured key, the instance folder's, or a new one.

    A new key is generated only when the app is created by the `actiontool` command
    (GENERATE_SECRET_KEY), so that a fresh one-machine install works with `make run`, while gunicorn
    on several machines must be given one shared key and says so instead of starting with a weak one.
    """
    key = app.config.get("SECRET_KEY")
    if key and key != DEFAULT_SECRET_KEY:
        return
    path = Path(app.instance_path) / SECRET_KEY_FILE
    if path.is_file():
        app.config["SECRET_KEY"] = path.read_text(encoding="utf-8").strip()
        return
    if app.config.get("GENERATE_SECRET_KEY"):
        app.config["SECRET_KEY"] = _create_key_file(path)
        return
    # Tests only, never a debug flag: FLASK_DEBUG=1 under gunicorn would otherwise sign sessions with a
    # key anyone can read, and `actiontool serve --debug` generates a real key like any other command.
    if app.testing:
        app.config["SECRET_KEY"] = DEFAULT_SECRET_KEY
        return
    raise ConfigError(
        "refusing to start with the default secret key: set ACTIONTOOL_SECRET_KEY to a long random "
        "value (the same on every web machine), e.g. "
        "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
    )


def _create_key_file(path: Path) -> str:
    """Write a random key readable by its owner only; if another process won the race, use its key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(key + "\n")
        os.link(tmp, path)  # atomic, and fails when the file exists: the first writer wins
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    finally:
        os.unlink(tmp)
    return key


def public_origin() -> str | None:
    """Return the origin for links that leave the request (receipt e-mails), or None when none is safe.

    BASE_URL first; else the request's own origin, but only when its host was checked against the
    allow-list; with neither, None: the app does not know its own name and writes no such link.
    """
    base = current_app.config.get("BASE_URL")
    if base:
        return str(base).rstrip("/")
    if current_app.config.get("ALLOWED_HOSTS"):
        return request.url_root.rstrip("/")
    return None


# Every route under /organizer (the dashboard, exports, sign-in, office packets): the blueprints that own it.
SAME_ORIGIN_BLUEPRINTS = frozenset({"organizer", "packets"})
# same-origin: our own pages; none: typed, bookmarked, or pasted from a chat. A missing header (scripts, the
# test client, browsers older than Chrome 76, Firefox 90, Safari 16.4) is let through.
ALLOWED_FETCH_SITES = frozenset({"same-origin", "none"})
CROSS_SITE_REFUSED = (
    "This organizer page was opened from another site, so it was refused: exports and other organizer "
    "actions only start from the organizer's own pages. Open the dashboard, or paste the address into the "
    "address bar."
)


def refuse_cross_site() -> None:
    """Answer 403 to an organizer request another site started, before any view reads or writes.

    Top-level navigations carry the SameSite=Lax session cookie, so without this a link on any site could
    download a personal-data CSV or forge an audit entry. `same-site` is refused too: a sibling subdomain
    may belong to someone else.
    """
    if request.blueprint not in SAME_ORIGIN_BLUEPRINTS:
        return
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ALLOWED_FETCH_SITES:
        abort(403, description=CROSS_SITE_REFUSED)


# Forms that check their own fields for every control character and name the field in their message: the
# packet delivery form (its note), and the compose and address forms' visible fields (web/forms.py). A NUL in
# any other field, a key or a query string gets the plain 400 below.
FIELDS_NAMING_CONTROL_CHARACTERS: dict[str, frozenset[str]] = {
    "packets.mark_delivered": frozenset({"on", "how", "note"}),
    "public.send": frozenset({"first_name", "last_name", "email", "address1", "city", "zip", "phone",
                              "personal_message", "suggested_text"}),
    "public.district_by_address": frozenset({"address1"}),
}


def _has_control(text: str) -> bool:
    """Return True when `text` holds a control character (Unicode category Cc: NUL, CR, LF, ESC...)."""
    return any(unicodedata.category(char) == "Cc" for char in text)


def refuse_control_in_path() -> None:
    """Answer 400 to a path with a control character (`/r/abc%00def`): no slug, token or id holds one.

    Runs before every view and before sign-in, so the value never reaches a query (PostgreSQL refuses NUL
    with a 500) and an organizer URL is refused the same way signed in or not.
    """
    if _has_control(request.path) or any(isinstance(value, str) and _has_control(value)
                                         for value in (request.view_args or {}).values()):
        abort(400, description="the address carries a control character, which no page name contains")


# The control characters a form value may hold: line breaks and tabs (a letter, a note). Each single-line
# field refuses them itself with its own message (actiontool.web.forms.single_line).
_FORM_CONTROLS_KEPT = frozenset("\r\n\t")


def _bad_form_value(text: str) -> bool:
    """Return True for a form value with a control character other than a line break or a tab."""
    return any(char not in _FORM_CONTROLS_KEPT and unicodedata.category(char) == "Cc" for char in text)


CONTROL_REFUSED = "the request carries a control character (such as NUL), which no field accepts"


def refuse_nul() -> None:
    """Answer 400 to a query string or form that carries a NUL or another control character.

    No real text contains one. PostgreSQL cannot store NUL in a text column: without this check a crafted
    form reached the database and failed there with a 500 (found by tests/web/test_fuzz.py), and an escape
    character would be stored (the failed sign-in's audit row keeps the typed address). Form values may
    hold line breaks and tabs; query strings and keys none. The fields listed in
    FIELDS_NAMING_CONTROL_CHARACTERS for the endpoint say so themselves, next to the field.
    """
    query = request.environ.get("QUERY_STRING", "")
    # Most requests carry nothing that could decode to a control character: not decoded just for this check.
    if _may_hold_control(query) and any(_has_control(key) or _has_control(value)
                                        for key, value in request.args.items(multi=True)):
        abort(400, description=CONTROL_REFUSED)
    if request.method == "POST" and request.mimetype in ("application/x-www-form-urlencoded",
                                                         "multipart/form-data"):
        own = FIELDS_NAMING_CONTROL_CHARACTERS.get(request.endpoint or "", frozenset())
        if any(_has_control(key) or (key not in own and _bad_form_value(value))
               for key, value in request.form.items(multi=True)):
            abort(400, description=CONTROL_REFUSED)


def _may_hold_control(query_string: str) -> bool:
    """Return True when a raw query string could decode to a control character (percent-encoded, or raw,
    which no client sends)."""
    return "%" in query_string or any(char < " " or char == "\x7f" for char in query_string)


def check_host() -> None:
    """Answer 400 to a request for a host the site does not serve (when an allow-list is configured)."""
    hosts = allowed_hosts(current_app.config)
    if hosts and not host_is_trusted(request.host, hosts):
        abort(400, description="unknown host")


def init_app(app: Flask) -> None:
    """Check the secret key, trust the configured proxies, and add the headers to every response."""
    resolve_secret_key(app)
    app.session_interface = CookieSessions()
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    app.config["REMEMBER_COOKIE_SAMESITE"] = app.config.get("REMEMBER_COOKIE_SAMESITE") or "Lax"
    # Inside ProxyFix (wrapped below), so that it sees the scheme the proxy reported.
    app.wsgi_app = CookieHardening(app.wsgi_app)  # type: ignore[method-assign]
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        # Prefix and port only when asked for: nginx passes a client's X-Forwarded-Prefix on unless told
        # not to, and `@evil.example` as a prefix turned our links into links to another host.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies,
            x_port=proxies if app.config.get("TRUST_FORWARDED_PORT") else 0,
            x_prefix=proxies if app.config.get("TRUST_FORWARDED_PREFIX") else 0,
        )
    app.before_request(check_host)
    # Before the blueprints' own hooks (sign-in, the campaign-file audit), so nothing is written for a
    # refused request; on those blueprints only, so the public pages and the API do not pay for it.
    for blueprint in sorted(SAME_ORIGIN_BLUEPRINTS):
        app.before_request_funcs.setdefault(blueprint, []).insert(0, refuse_cross_site)
    app.before_request(refuse_control_in_path)
    app.before_request(refuse_nul)
    app.after_request(add_security_headers)
