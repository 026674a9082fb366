"""Configuration: defaults, then ACTIONTOOL_* environment variables, then a test mapping."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

DEFAULT_SECRET_KEY = "dev-only-insecure-secret-key"

# Every setting the app reads, with its default. Each can be set as ACTIONTOOL_<NAME>, read as the
# type of its default: a bool, an int or a float default makes the variable one (None: text).
# The README's configuration table documents these; keep them in step.
DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": None,  # None: a SQLite file in the instance folder
    "SECRET_KEY": DEFAULT_SECRET_KEY,
    "DATA_DIR": None,  # None: the bundled data/
    "CAMPAIGNS_DIR": None,  # None: data/campaigns
    "BASE_URL": None,  # public origin for links in e-mails, e.g. https://act.example.org
    "ORGANIZATION": None,  # who runs the site: header, footer, /privacy, packet covers; None: "this site"
    "ORGANIZATION_URL": None,  # the organization's web site (http(s)), linked from its name
    "CONTACT": None,  # an e-mail address or http(s) URL people can reach the organization at
    "PRIVACY_POLICY": None,  # an http(s) URL, or the policy's text; None: the default /privacy text only
    # Host names the site answers to, comma-separated (".example.org" takes its subdomains); others get 400.
    # With BASE_URL or this set, links in e-mails and the embed come from them; with neither, no receipt
    # e-mail is sent.
    "ALLOWED_HOSTS": None,
    "SMTP_HOST": None,
    "SMTP_PORT": 587,
    "SMTP_USERNAME": None,
    "SMTP_PASSWORD": None,
    "SMTP_TLS": "starttls",  # starttls | ssl | none
    "SMTP_TIMEOUT": 20.0,  # seconds for a whole SMTP session (connect to QUIT); under half the lease
    "MAIL_FROM": None,
    "CWC_BASE_URL": None,
    "CWC_API_KEY": None,
    "CWC_DELIVERY_AGENT": None,
    "CWC_DELIVERY_AGENT_ACK_EMAIL": None,
    "CWC_DELIVERY_AGENT_CONTACT_NAME": None,
    "CWC_DELIVERY_AGENT_CONTACT_EMAIL": None,
    "CWC_DELIVERY_AGENT_CONTACT_PHONE": None,
    "CWC_TIMEOUT": 20.0,  # seconds for a whole CWC POST (connect to the answer's end); under half the lease
    "CWC_SENATE_BASE_URL": None,  # None: Senate messages of cwc campaigns are handed off
    "CWC_SENATE_API_KEY": None,  # None: the House key
    "DELIVERY_MAX_ATTEMPTS": 8,
    "DELIVERY_LEASE_SECONDS": 120,
    "DELIVERY_BACKOFF_SECONDS": 30.0,
    "DELIVERY_BACKOFF_MAX_SECONDS": 3600.0,
    "DELIVERY_POLL_SECONDS": 2.0,
    "DELIVERY_BATCH": 0,  # messages per claim; 0: as many as fit twice over in the lease (at most 10)
    "DELIVERY_CHANNEL_THREADS": 0,  # worker threads one channel may hold; 0: all but one (at least 1)
    "DELIVERY_BREAKER_FAILURES": 5,  # transient failures in a row that pause a channel (0: never pause)
    "DELIVERY_BREAKER_SECONDS": 30.0,  # first pause of a failing channel; doubles per failed probe (max 8x)
    "DB_LOCK_TIMEOUT_SECONDS": 2.0,  # longest wait for a lock (PostgreSQL lock_timeout, SQLite write lock)
    "DB_STATEMENT_TIMEOUT_SECONDS": 60.0,  # PostgreSQL statement_timeout; 0: none
    "DB_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS": 10.0,  # PostgreSQL idle_in_transaction_session_timeout; 0: none
    "RATELIMIT_STORAGE_URL": "memory://",  # redis://host:6379/0 when several web processes run
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_LOOKUP": "30/minute;300/hour",  # per IP, lookup API and members page
    "RATELIMIT_COUNT": "120/minute;3000/hour",  # per IP, public count API (cached; partner pages poll it)
    "RATELIMIT_PREVIEW": "30/minute;300/hour",  # per IP, "Update preview" posts (a render, like a lookup)
    "RATELIMIT_SUBMIT": "10/minute;100/hour",  # per IP
    "RATELIMIT_SUBMIT_EMAIL": "5/hour",  # per normalised e-mail address
    "RATELIMIT_LOGIN": "10/minute;60/hour",  # per IP, sign-in form posts
    "BOT_MIN_FILL_SECONDS": 3.0,
    # IANA time zone of the organizers' days and hours (per-day chart, day table, date filters, CSV) for
    # campaigns whose file names no time_zone
    "TIME_ZONE": "America/New_York",
    # Dashboard answers kept per process, reused while the campaign's counts are unchanged; 0: none
    "DASHBOARD_CACHE_ENTRIES": 64,  # a compose form sent sooner than this is treated as a bot
    "AUTO_MIGRATE": True,  # upgrade the schema at start; false: refuse to start until `actiontool db upgrade`
    "TRUSTED_PROXIES": 0,  # reverse proxies in front whose X-Forwarded-For/-Proto/-Host headers are believed
    "TRUST_FORWARDED_PREFIX": False,  # also believe X-Forwarded-Prefix (the app served under a path)
    "TRUST_FORWARDED_PORT": False,  # also believe X-Forwarded-Port
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "RETENTION_DAYS": 30,  # `actiontool purge` clears personal data of actions older than this
    # A split ZIP's district from the street address: off | census (the Census Bureau's geocoder). Off by
    # default so a fresh install and the tests make no outside call; docs/DEPLOY.md recommends census.
    "GEOCODER": "off",
    "GEOCODER_URL": "https://geocoding.geo.census.gov/geocoder",  # tests point it at a local stand-in
    "GEOCODER_TIMEOUT": 3.0,  # seconds; past it the page offers the choice of districts
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigError(ValueError):
    """A setting has a value the app cannot use."""


def _coerce(name: str, raw: str) -> Any:
    """Turn an environment string into the type of the setting's default, or raise ConfigError naming it."""
    kind = type(DEFAULTS[name])
    if kind is bool:  # before int: a bool is an int too
        if raw.strip().lower() not in _TRUE | _FALSE:
            raise ConfigError(f"ACTIONTOOL_{name}={raw!r} is not one of 1/0, true/false, yes/no, on/off")
        return raw.strip().lower() in _TRUE
    try:
        if kind in (int, float):
            return kind(raw)
    except ValueError as exc:
        raise ConfigError(f"ACTIONTOOL_{name}={raw!r} is not a number") from exc
    return raw


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return the defaults overlaid with every ACTIONTOOL_* variable that is set and not empty."""
    environ = os.environ if environ is None else environ
    settings = dict(DEFAULTS)
    for name in DEFAULTS:
        raw = environ.get(f"ACTIONTOOL_{name}")
        if raw not in (None, ""):
            settings[name] = _coerce(name, raw)
    return settings


def allowed_hosts(config: Any) -> list[str]:
    """Return the host names of ACTIONTOOL_ALLOWED_HOSTS (empty: every host is answered)."""
    return [h.strip().lower() for h in str(config.get("ALLOWED_HOSTS") or "").split(",") if h.strip()]


def links_configured(config: Any) -> bool:
    """Return True when absolute links may be written: BASE_URL or an allow-list of hosts is set."""
    return bool(config.get("BASE_URL")) or bool(allowed_hosts(config))
