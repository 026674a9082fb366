"""Rate limits (Flask-Limiter) on lookup and submit, per client IP and per constituent e-mail.

One Limiter per app (so tests and several apps in a process never share counters). Limits are set in
configuration (RATELIMIT_LOOKUP, RATELIMIT_PREVIEW, RATELIMIT_SUBMIT, RATELIMIT_SUBMIT_EMAIL) and attached
here to the views that need them, so the views stay free of limit decorators. Storage is in memory by default;
several web processes share Redis through ACTIONTOOL_RATELIMIT_STORAGE_URL. If that storage is down
the limits fall back to each process's memory rather than failing constituents' requests.

`memory://` is served by InlineExpiryMemoryStorage: the `limits` library's in-memory storage starts a
timer thread to drop expired counters whenever a hit comes 10 ms after the last sweep, and each start
waits for the new thread to take the GIL, which under load cost the lookup API more than half its speed.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from flask import Flask, Response, current_app, render_template, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits.storage import MemoryStorage

from actiontool.web.errors import json_error, wants_json

if TYPE_CHECKING:
    from flask.typing import RouteCallable

_EXTENSION = "actiontool.limiter"
_MEMORY_SCHEME = "actiontool-memory"


class InlineExpiryMemoryStorage(MemoryStorage):
    """limits' in-memory storage, sweeping expired counters inline at most once a second, not in a thread.

    Counters are still checked for expiry whenever they are read (MemoryStorage.get), so limits behave
    the same; the sweep only bounds memory, and once a second is often enough for that.
    """

    STORAGE_SCHEME = [_MEMORY_SCHEME]  # registered with `limits` by its metaclass
    SWEEP_SECONDS = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._next_sweep = 0.0

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces MemoryStorage's private thread start
        now = time.time()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_SECONDS
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


@dataclass(frozen=True)
class RouteLimit:
    """One limit on one endpoint: the config key holding it and whose requests it counts."""

    endpoint: str
    setting: str
    per: str  # "ip" | "email"
    methods: tuple[str, ...] = ("GET",)
    counts: str = "all"  # on POST: "all", "sends" (previews exempt) or "previews" (only previews count)


ROUTE_LIMITS: tuple[RouteLimit, ...] = (
    RouteLimit("api.lookup", "RATELIMIT_LOOKUP", "ip"),
    RouteLimit("public.members", "RATELIMIT_LOOKUP", "ip"),
    # Each request may ask the outside geocoder: limited like a lookup, so we do not flood the service.
    RouteLimit("public.district_by_address", "RATELIMIT_LOOKUP", "ip", ("POST",)),
    RouteLimit("public.send", "RATELIMIT_SUBMIT", "ip", ("POST",), "sends"),
    RouteLimit("public.send", "RATELIMIT_SUBMIT_EMAIL", "email", ("POST",), "sends"),
    # A preview sends nothing but renders every letter, as a lookup renders the members: limited apart.
    RouteLimit("public.send", "RATELIMIT_PREVIEW", "ip", ("POST",), "previews"),
    # Each request may send an e-mail: limited like a submit, per IP and per address.
    RouteLimit("public.receipt_link", "RATELIMIT_SUBMIT", "ip", ("POST",), "sends"),
    RouteLimit("public.receipt_link", "RATELIMIT_SUBMIT_EMAIL", "email", ("POST",), "sends"),
    RouteLimit("organizer.login", "RATELIMIT_LOGIN", "ip", ("POST",)),
)


def client_ip() -> str:
    """Return the client's address (the proxy-reported one when TRUSTED_PROXIES is set)."""
    return get_remote_address()


def email_key() -> str:
    """Return a key for the posted e-mail, normalised as de-duplication does, and hashed.

    Hashing keeps addresses out of the limit storage. A post without an e-mail falls back to the IP.
    """
    email = request.form.get("email", "").strip().lower()
    if not email:
        return "ip:" + client_ip()
    return "email:" + hashlib.sha256(email.encode("utf-8")).hexdigest()


def _is_preview() -> bool:
    """A preview of the letter sends nothing, so it does not count against the submit limits."""
    return "preview" in request.form


def _is_not_preview() -> bool:
    """Only previews count against the preview limit (a send is counted by the submit limits)."""
    return "preview" not in request.form


_EXEMPT = {"all": None, "sends": _is_preview, "previews": _is_not_preview}


def limiter(app: Flask | None = None) -> Limiter:
    """Return the app's limiter."""
    return (app or current_app).extensions[_EXTENSION]


def _configure(app: Flask) -> None:
    """Translate our settings into Flask-Limiter's."""
    config = app.config
    storage = config.get("RATELIMIT_STORAGE_URL") or "memory://"
    config["RATELIMIT_STORAGE_URI"] = f"{_MEMORY_SCHEME}://" if storage == "memory://" else storage
    config.setdefault("RATELIMIT_ENABLED", True)
    config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    config.setdefault("RATELIMIT_KEY_PREFIX", "actiontool")
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)


def _attach(app: Flask, instance: Limiter) -> None:
    """Wrap each limited view (present in this app) with its limits; leave them bare when limits are off."""
    if not instance.enabled:
        return  # a disabled limiter's wrapper still resolves limits on every request, to find none
    key_funcs = {"ip": client_ip, "email": email_key}
    for rule in ROUTE_LIMITS:
        view = app.view_functions.get(rule.endpoint)
        value = app.config.get(rule.setting)
        if view is None or not value:
            continue
        limited = instance.limit(
            value, key_func=key_funcs[rule.per], methods=list(rule.methods), exempt_when=_EXEMPT[rule.counts],
            scope=f"{rule.endpoint}:{rule.counts}:{rule.per}",
        )(view)
        # Flask-Limiter types its wrapper as "sync or async" for any view; ours are sync, so it is one.
        app.view_functions[rule.endpoint] = cast("RouteCallable", limited)


def _drop_request_wide_check(app: Flask, instance: Limiter) -> None:
    """Remove Flask-Limiter's before-request pass, so a limited request is checked once, not twice.

    That pass applies default, application-wide and blueprint limits, and this app configures none:
    every limit is on a view (_attach), whose wrapper checks it. The pass still resolved and evaluated
    an empty set of limits on every request, a third of a lookup's time with limits on.
    """
    manager = instance.limit_manager
    if manager.default_limits or manager.application_limits or instance._in_memory_fallback:
        return  # someone configured request-wide limits after all: keep the pass that applies them
    hooks = app.before_request_funcs.get(None, [])
    app.before_request_funcs[None] = [hook for hook in hooks if hook != instance._check_request_limit]


def too_many_requests(exc: RateLimitExceeded) -> tuple[Response | str, int]:
    """Answer a breached limit: JSON on the API, a friendly page elsewhere."""
    retry_after = _retry_after_seconds(exc)
    if wants_json():
        response, status = json_error(
            "rate_limited", f"Too many requests; try again in {retry_after} seconds.", 429)
    else:
        response = Response(render_template("pages/429.html", retry_after=retry_after,
                                            minutes=max(1, math.ceil(retry_after / 60))),
                            mimetype="text/html")
        status = 429
    response.headers["Retry-After"] = str(retry_after)
    return response, status


def _retry_after_seconds(exc: RateLimitExceeded) -> int:
    """Return how long until the breached window frees up (at least one second)."""
    breached = [lim for lim in limiter().current_limits if lim.breached]
    if not breached:
        return 60
    try:
        return max(1, math.ceil(max(lim.reset_at for lim in breached) - time.time()))
    except Exception:  # the storage went away mid-request: a minute is a sensible guess
        return 60


def init_app(app: Flask) -> None:
    """Create the app's limiter, attach the route limits and the 429 handler (after the blueprints)."""
    _configure(app)
    instance = Limiter(key_func=client_ip, app=app, default_limits=[])
    app.extensions[_EXTENSION] = instance
    _attach(app, instance)
    _drop_request_wide_check(app, instance)
    app.register_error_handler(RateLimitExceeded, too_many_requests)
