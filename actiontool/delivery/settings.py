"""Delivery settings read once from the app's configuration into plain values (no Flask below here)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SMTP_TLS_MODES = ("starttls", "ssl", "none")
_PHONE = re.compile(r"^\d{3}-\d{3}-\d{4}$")


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the SMTP server and whom mail comes from."""

    host: str | None
    port: int
    username: str | None
    password: str | None
    tls: str
    timeout: float
    mail_from: str | None

    @property
    def configured(self) -> bool:
        """Return True when mail can be sent (a host and a From address)."""
        return bool(self.host and self.mail_from)


@dataclass(frozen=True)
class CwcSettings:
    """The CWC endpoint, key and delivery-agent identity (the agent must own the key)."""

    base_url: str | None
    api_key: str | None
    senate_base_url: str | None
    senate_api_key: str | None
    delivery_agent: str | None
    ack_email: str | None
    contact_name: str | None
    contact_email: str | None
    contact_phone: str | None
    timeout: float

    def missing(self) -> list[str]:
        """Return the names of the settings that House delivery needs and that are not set."""
        needed = {
            "CWC_BASE_URL": self.base_url,
            "CWC_API_KEY": self.api_key,
            "CWC_DELIVERY_AGENT": self.delivery_agent,
            "CWC_DELIVERY_AGENT_ACK_EMAIL": self.ack_email,
            "CWC_DELIVERY_AGENT_CONTACT_NAME": self.contact_name,
            "CWC_DELIVERY_AGENT_CONTACT_EMAIL": self.contact_email,
            "CWC_DELIVERY_AGENT_CONTACT_PHONE": self.contact_phone,
        }
        return [f"ACTIONTOOL_{name}" for name, value in needed.items() if not value]

    def problems(self) -> list[str]:
        """Return what is missing or malformed, as sentences naming the variables."""
        found = [f"{name} is not set" for name in self.missing()]
        if self.contact_phone and not _PHONE.match(self.contact_phone):
            found.append("ACTIONTOOL_CWC_DELIVERY_AGENT_CONTACT_PHONE must look like 202-555-0100")
        return found

    @property
    def configured(self) -> bool:
        """Return True when House messages can go through CWC."""
        return not self.problems()

    @property
    def senate_configured(self) -> bool:
        """Return True when a Senate endpoint is configured as well."""
        return self.configured and bool(self.senate_base_url)

    def endpoint(self, chamber: str) -> tuple[str, str]:
        """Return (base URL, API key) for `chamber`."""
        if chamber == "senate":
            return str(self.senate_base_url), str(self.senate_api_key or self.api_key)
        return str(self.base_url), str(self.api_key)

    def secrets(self) -> list[str]:
        """Return the values that must never be logged or stored."""
        return [key for key in (self.api_key, self.senate_api_key) if key]


@dataclass(frozen=True)
class WorkerSettings:
    """How the worker claims, leases and retries."""

    max_attempts: int
    lease_seconds: float
    backoff_seconds: float
    backoff_max_seconds: float
    poll_seconds: float
    batch: int
    channel_threads: int = 0  # 0: the worker's threads but one
    breaker_failures: int = 5
    breaker_seconds: float = 30.0

    def threads_per_channel(self, concurrency: int) -> int:
        """Return how many of `concurrency` threads one channel may hold, so a hanging one cannot take all."""
        if self.channel_threads > 0:
            return min(self.channel_threads, concurrency)
        return max(1, concurrency - 1)


@dataclass(frozen=True)
class DeliverySettings:
    """Everything delivery reads from the configuration."""

    smtp: SmtpSettings
    cwc: CwcSettings
    worker: WorkerSettings
    base_url: str | None

    def problems(self) -> list[str]:
        """Return settings the worker refuses to run with (each lets a live worker's lease run out)."""
        lease = self.worker.lease_seconds
        return [f"ACTIONTOOL_{name}={timeout:g} must be under half of ACTIONTOOL_DELIVERY_LEASE_SECONDS="
                f"{lease:g}: a delivery that takes that long would lose its lease and be sent again"
                for name, timeout in (("SMTP_TIMEOUT", self.smtp.timeout), ("CWC_TIMEOUT", self.cwc.timeout))
                if timeout <= 0 or 2 * timeout >= lease]

    def warnings(self) -> list[str]:
        """Return settings that work but risk a double delivery or a silent gap, as sentences."""
        found = []
        lease = self.worker.lease_seconds
        if lease < 10:
            found.append(f"ACTIONTOOL_DELIVERY_LEASE_SECONDS={lease:g} is short: a worker paused longer "
                         "than that (swapping, a stopped process) has its letters sent again by another "
                         "worker (with the same Message-ID / DeliveryId)")
        if self.worker.breaker_failures <= 0:
            found.append("ACTIONTOOL_DELIVERY_BREAKER_FAILURES=0: a channel outage spends every letter's "
                         "attempts and ends them failed")
        if self.smtp.configured and not self.base_url:
            found.append("ACTIONTOOL_BASE_URL is not set: receipt e-mails need it "
                         "(or an origin stored at submit)")
        return found

    def channel_available(self, channel: str, chamber: str) -> bool:
        """Return True when this server can deliver `channel` messages to `chamber` itself."""
        if channel == "smtp":
            return self.smtp.configured
        if channel == "cwc":
            return self.cwc.senate_configured if chamber == "senate" else self.cwc.configured
        return channel == "packet"  # the organization carries packets: nothing to configure here


def _num(config: Mapping[str, Any], name: str, default: float) -> float:
    """Return a numeric setting; only a missing value (not 0) takes the default."""
    value = config.get(name)
    return default if value in (None, "") else float(value)


def _opt(config: Mapping[str, Any], name: str) -> str | None:
    value = config.get(name)
    return str(value) if value not in (None, "") else None


def from_config(config: Mapping[str, Any]) -> DeliverySettings:
    """Build the settings from an app's config mapping (defaults come from actiontool.config)."""
    tls = str(config.get("SMTP_TLS") or "starttls").lower()
    if tls not in SMTP_TLS_MODES:
        raise ValueError(f"ACTIONTOOL_SMTP_TLS={tls!r} must be one of {', '.join(SMTP_TLS_MODES)}")
    smtp = SmtpSettings(
        host=_opt(config, "SMTP_HOST"),
        port=int(config.get("SMTP_PORT") or (465 if tls == "ssl" else 587)),
        username=_opt(config, "SMTP_USERNAME"),
        password=_opt(config, "SMTP_PASSWORD"),
        tls=tls,
        timeout=_num(config, "SMTP_TIMEOUT", 20.0),
        mail_from=_opt(config, "MAIL_FROM"),
    )
    cwc = CwcSettings(
        base_url=(_opt(config, "CWC_BASE_URL") or "").rstrip("/") or None,
        api_key=_opt(config, "CWC_API_KEY"),
        senate_base_url=(_opt(config, "CWC_SENATE_BASE_URL") or "").rstrip("/") or None,
        senate_api_key=_opt(config, "CWC_SENATE_API_KEY"),
        delivery_agent=_opt(config, "CWC_DELIVERY_AGENT"),
        ack_email=_opt(config, "CWC_DELIVERY_AGENT_ACK_EMAIL"),
        contact_name=_opt(config, "CWC_DELIVERY_AGENT_CONTACT_NAME"),
        contact_email=_opt(config, "CWC_DELIVERY_AGENT_CONTACT_EMAIL"),
        contact_phone=_opt(config, "CWC_DELIVERY_AGENT_CONTACT_PHONE"),
        timeout=_num(config, "CWC_TIMEOUT", 20.0),
    )
    lease = _num(config, "DELIVERY_LEASE_SECONDS", 120.0)
    slowest = max(smtp.timeout, cwc.timeout)
    # A claimed batch is delivered one message after another; the worker renews the lease of every message
    # it holds while it works (actiontool.delivery.worker), and a batch that fits twice in the lease keeps
    # the renewals few.
    auto_batch = max(1, min(10, int(lease // (2 * slowest)) if slowest else 10))
    worker = WorkerSettings(
        max_attempts=max(1, int(_num(config, "DELIVERY_MAX_ATTEMPTS", 8))),
        lease_seconds=lease,
        backoff_seconds=_num(config, "DELIVERY_BACKOFF_SECONDS", 30.0),
        backoff_max_seconds=_num(config, "DELIVERY_BACKOFF_MAX_SECONDS", 3600.0),
        poll_seconds=_num(config, "DELIVERY_POLL_SECONDS", 2.0),
        batch=int(config.get("DELIVERY_BATCH") or auto_batch),
        channel_threads=int(_num(config, "DELIVERY_CHANNEL_THREADS", 0)),
        breaker_failures=int(_num(config, "DELIVERY_BREAKER_FAILURES", 5)),
        breaker_seconds=_num(config, "DELIVERY_BREAKER_SECONDS", 30.0),
    )
    return DeliverySettings(smtp=smtp, cwc=cwc, worker=worker, base_url=_opt(config, "BASE_URL"))
