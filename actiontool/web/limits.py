"""Rate limits (Flask-Limiter) on lookup, count and submit, per client IP and per constituent e-mail.

One Limiter per app (so tests and several apps in a process never share counters). Limits are set in
configuration (RATELIMIT_LOOKUP, RATELIMIT_COUNT, RATELIMIT_PREVIEW, RATELIMIT_SUBMIT,
RATELIMIT_SUBMIT_EMAIL) and attached here to the views that need them, so the views stay free of limit
decorators. Storage is in memory by default; several web processes share Redis through
ACTIONTOOL_RATELIMIT_STORAGE_URL. If that storage is down the limits fall back to each process's memory
rather than failing constituents' requests.

`memory://` is served by InlineExpiryMemoryStorage: the `limits` library's in-memory storage starts a
timer thread to drop expired counters whenever a hit comes 10 ms after the last sweep, and each start
waits for the new thread to take the GIL, which under load cost the lookup API more than half its speed.
"""

from __future__ import annotations

import functools
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from flask import Flask, Response, current_app, render_template, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import STRATEGIES, RateLimiter

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
    # Cached for seconds, so cheap, but each answer still costs a request's CPU: limited apart from lookups,
    # with room for a partner page that polls it.
    RouteLimit("api.campaign_count", "RATELIMIT_COUNT", "ip"),
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


# Checked by DirectLimit instead of Flask-Limiter's wrapper: the JSON API's hot path.
DIRECT_ENDPOINTS = frozenset({"api.lookup", "api.campaign_count"})
# Headers a refusal keeps from the answer it replaces: partner pages read the count across origins, and a
# 429 without this header would reach their script as an opaque network error instead.
_REFUSAL_HEADERS: dict[str, tuple[tuple[str, str], ...]] = {
    "api.campaign_count": (("Access-Control-Allow-Origin", "*"),),
}
_STORAGE_RETRY_SECONDS = 30.0


@dataclass(frozen=True)
class Verdict:
    """The outcome of one request's limit check: the limit reported in the headers and its window."""

    amount: int
    remaining: int
    reset: float  # when the window frees up, epoch seconds
    breached: bool

    @property
    def reset_at(self) -> int:
        """Return X-RateLimit-Reset as Flask-Limiter writes it."""
        return int(self.reset + 1)


class DirectLimit:
    """One view's limit checked with the `limits` library directly: one hit and one read of the storage.

    Flask-Limiter's wrapper resolves the view's limits on every request, then its after-request hook reads
    the window again for the X-RateLimit-* headers: most of the lookup API's cost with limits on. This
    keeps what a client sees (the same headers, the same 429 answer) and the same storage keys
    ([prefix, client, scope]), so counters are shared with Flask-Limiter's and across processes (Redis).
    When the storage fails, requests are counted in this process's memory for a while, as Flask-Limiter's
    in-memory fallback does, and the storage is tried again after _STORAGE_RETRY_SECONDS.
    """

    def __init__(self, app: Flask, instance: Limiter, rule: RouteLimit, value: str) -> None:
        self.instance = instance
        self.items = sorted(parse_many(value))
        self.scope = f"{rule.endpoint}:{rule.counts}:{rule.per}"
        self.refusal_headers = _REFUSAL_HEADERS.get(rule.endpoint, ())
        self.prefix = str(app.config.get("RATELIMIT_KEY_PREFIX") or "")
        self.fallback_enabled = bool(app.config.get("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"))
        self.swallow_errors = bool(app.config.get("RATELIMIT_SWALLOW_ERRORS"))
        strategy = str(app.config.get("RATELIMIT_STRATEGY") or "fixed-window")
        self.fallback = STRATEGIES[strategy](InlineExpiryMemoryStorage())
        self.storage_dead_until = 0.0

    def _strategy(self) -> RateLimiter:
        if self.storage_dead_until and time.monotonic() < self.storage_dead_until:
            return self.fallback
        return self.instance.limiter

    def check(self) -> Verdict | None:
        """Count this request against each limit; None when the storage failed and errors are swallowed."""
        args = [self.prefix, client_ip(), self.scope] if self.prefix else [client_ip(), self.scope]
        try:
            return self._check(self._strategy(), args)
        except Exception:
            if self.fallback_enabled:
                if not self.storage_dead_until or time.monotonic() >= self.storage_dead_until:
                    current_app.logger.warning("Rate limit storage unreachable - falling back to memory")
                self.storage_dead_until = time.monotonic() + _STORAGE_RETRY_SECONDS
                return self._check(self.fallback, args)
            if self.swallow_errors:
                current_app.logger.exception("Failed to rate limit. Swallowing error")
                return None
            raise

    def _check(self, strategy: RateLimiter, args: list[str]) -> Verdict:
        shown: tuple[RateLimitItem, bool] | None = None
        for item in self.items:
            if not strategy.hit(item, *args):
                shown = (item, True)
                break
            if shown is None:
                shown = (item, False)
        assert shown is not None  # parse_many refuses an empty setting
        item, breached = shown
        reset, remaining = strategy.get_window_stats(item, *args)
        return Verdict(item.amount, remaining, reset, breached)

    def wrap(self, view: Callable[..., Any]) -> Callable[..., Any]:
        """Return `view` with this limit checked before it and its headers added to its answer."""
        @functools.wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Any:
            verdict = self.check()
            if verdict is None:
                return view(*args, **kwargs)
            if verdict.breached:
                response = _too_many(max(1, math.ceil(verdict.reset - time.time())))
                for name, value in self.refusal_headers:
                    response.headers[name] = value
            else:
                response = current_app.make_response(view(*args, **kwargs))
            headers = response.headers
            headers.add("X-RateLimit-Limit", str(verdict.amount))
            headers.add("X-RateLimit-Remaining", str(verdict.remaining))
            headers.add("X-RateLimit-Reset", str(verdict.reset_at))
            if not verdict.breached:  # a 429 carries its own, at least one second
                headers["Retry-After"] = str(int(verdict.reset_at - time.time()))
            return response

        return limited


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
        if rule.endpoint in DIRECT_ENDPOINTS:
            app.view_functions[rule.endpoint] = DirectLimit(app, instance, rule, value).wrap(view)
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
    response = _too_many(_retry_after_seconds(exc))
    return response, response.status_code


def _too_many(retry_after: int) -> Response:
    """Return the 429 answer: JSON on the API, a friendly page elsewhere."""
    if wants_json():
        response, status = json_error(
            "rate_limited", f"Too many requests; try again in {retry_after} seconds.", 429)
    else:
        response = Response(render_template("pages/429.html", retry_after=retry_after,
                                            minutes=max(1, math.ceil(retry_after / 60))),
                            mimetype="text/html")
        status = 429
    response.headers["Retry-After"] = str(retry_after)
    response.status_code = status
    return response


def _retry_after_seconds(exc: RateLimitExceeded) -> int:
    """Return how long until the breached window frees up (at least one second)."""
    breached = [lim for lim in limiter().current_limits if lim.breached]
    if not breached:
        return 60
    try:
        return max(1, math.ceil(max(lim.reset_at for lim in breached) - time.time()))
    except Exception:  # the storage went away mid-request: a minute is a sensible guess
        return 60


def _drop_hooks_of_a_disabled_limiter(app: Flask, instance: Limiter) -> None:
    """Remove Flask-Limiter's after-request and teardown hooks when limits are off: they add nothing then,
    yet ran on every request (a few microseconds each, a noticeable share of a cached API answer)."""
    if instance.enabled:
        _skip_header_hook_on_direct_endpoints(app, instance)
        return
    hooks = app.after_request_funcs.get(None, [])
    app.after_request_funcs[None] = [h for h in hooks if getattr(h, "args", (None,))[0] is not instance]
    teardown = app.teardown_request_funcs.get(None, [])
    app.teardown_request_funcs[None] = [h for h in teardown if getattr(h, "__self__", None) is not instance]


def _skip_header_hook_on_direct_endpoints(app: Flask, instance: Limiter) -> None:
    """Let Flask-Limiter's header hook pass over the endpoints DirectLimit checks: it found nothing to
    report there, after looking its per-request context up three times."""
    hooks = app.after_request_funcs.get(None, [])
    for index, hook in enumerate(hooks):
        if getattr(hook, "args", (None,))[0] is instance:
            hooks[index] = _unless_direct(cast("Callable[[Response], Response]", hook))


def _unless_direct(hook: Callable[[Response], Response]) -> Callable[[Response], Response]:
    @functools.wraps(hook)
    def inject_headers_unless_direct(response: Response) -> Response:
        if request.endpoint in DIRECT_ENDPOINTS:
            return response
        return hook(response)

    return inject_headers_unless_direct


def init_app(app: Flask) -> None:
    """Create the app's limiter, attach the route limits and the 429 handler (after the blueprints)."""
    _configure(app)
    instance = Limiter(key_func=client_ip, app=app, default_limits=[])
    app.extensions[_EXTENSION] = instance
    _attach(app, instance)
    _drop_request_wide_check(app, instance)
    _drop_hooks_of_a_disabled_limiter(app, instance)
    app.register_error_handler(RateLimitExceeded, too_many_requests)
