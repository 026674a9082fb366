"""Organizer accounts, sign-in with throttling, the append-only audit log, and retrying failed messages.

Throttling counts sign-in attempts in the database (table sign_in_throttles), so it holds across every
web process: each attempt is counted by one atomic upsert before any password is checked, so concurrent
guesses cannot all slip under the limit, on SQLite and PostgreSQL alike. The limits are per account
from one address (a stranger elsewhere cannot lock the real organizer out) and per address; a success
clears its account-and-address count. Refused attempts are audited as one row per burst, whose detail
carries the running count, so a flood cannot fill the audit log.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from actiontool.models import (
    FAILED,
    QUEUED,
    AuditEvent,
    Message,
    Organizer,
    SignInThrottle,
    UTCDateTime,
    utcnow,
)
from actiontool.services.outbox import set_status
from actiontool.services.transaction import transaction

MIN_PASSWORD_LENGTH = 12
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5  # per account from one address
MAX_FAILURES_PER_IP = 20
MAX_EMAIL_LENGTH = 254  # the longest address SMTP can carry (RFC 5321 path limit)
# An address's shape: no spaces or control characters, one @, a dot in the domain.
EMAIL_SHAPE = re.compile(r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")
_EMAIL = EMAIL_SHAPE


@functools.cache
def _dummy_hash() -> str:
    """Return a hash checked against when the e-mail is unknown, so an unknown account costs the same time
    as a wrong password. Made on the first sign-in, not at import: scrypt takes a few hundred milliseconds
    of CPU that every process (web worker, command) paid at start."""
    return generate_password_hash("not a real password", method="scrypt")


SIGN_IN = "sign_in"
SIGN_IN_FAILED = "sign_in_failed"
SIGN_IN_THROTTLED = "sign_in_throttled"
SIGN_OUT = "sign_out"
EXPORT = "export"
RETRY = "retry"
ORGANIZER_CHANGE = "organizer_change"
CAMPAIGN_CHANGE = "campaign_change"


class OrganizerError(ValueError):
    """Base of the organizer service's domain errors (in English; `details` carries the message's parts
    so the web layer can say it in the reader's language)."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details


class InvalidEmail(OrganizerError):
    """Not an e-mail address."""


class WeakPassword(OrganizerError):
    """The password is too short."""


class OrganizerExists(OrganizerError):
    """An organizer with this e-mail exists already."""


class NoSuchOrganizer(OrganizerError):
    """No organizer has this e-mail."""


class SignInFailed(OrganizerError):
    """Wrong e-mail or password, or a disabled account (the message never says which)."""


class Throttled(OrganizerError):
    """Too many failed sign-ins recently; try again later."""


class NotRetryable(OrganizerError):
    """The message does not exist in this campaign or is not failed/waiting."""


def normalize_email(email: str) -> str:
    """Return the e-mail trimmed and lower-cased, as accounts are keyed."""
    return email.strip().lower()


def audit(session: Session, actor: str, kind: str, *, campaign: str | None = None, detail: str | None = None,
          ip: str | None = None) -> AuditEvent:
    """Append an audit event to the caller's transaction."""
    event = AuditEvent(actor=actor[:320], kind=kind, campaign=campaign, detail=detail,
                       ip=ip[:64] if ip else None, at=utcnow())
    session.add(event)
    return event


def sign_out(session: Session, actor: str, *, ip: str | None = None) -> None:
    """Record an organizer signing out and end every session of theirs (the version goes up); commit."""
    with transaction(session):
        _end_sessions(session, actor)
        audit(session, actor, SIGN_OUT, ip=ip)


def _end_sessions(session: Session, email: str) -> None:
    """Raise the organizer's session version in one statement, so concurrent sign-outs both count."""
    session.execute(update(Organizer).where(Organizer.email == normalize_email(email))
                    .values(session_version=Organizer.session_version + 1))


def record_export(session: Session, actor: str, campaign: str, detail: str, *, ip: str | None = None) -> None:
    """Record an export of a campaign's data before it is sent; commit."""
    with transaction(session):
        audit(session, actor, EXPORT, campaign=campaign, detail=detail, ip=ip)


def create(session: Session, email: str, password: str, *, actor: str = "cli") -> Organizer:
    """Create an active organizer with a scrypt password hash; commit."""
    email = normalize_email(email)
    if not _EMAIL.match(email) or len(email) > 320:
        raise InvalidEmail(f"not an e-mail address: {email!r}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
    with transaction(session):
        if session.execute(select(Organizer.id).where(Organizer.email == email)).first() is not None:
            raise OrganizerExists(f"an organizer with e-mail {email} exists already")
        organizer = Organizer(email=email, password_hash=generate_password_hash(password, method="scrypt"),
                              active=True, created_at=utcnow())
        session.add(organizer)
        audit(session, actor, ORGANIZER_CHANGE, detail=f"created {email}")
    return organizer


def list_all(session: Session) -> list[Organizer]:
    """Return every organizer, by e-mail."""
    return list(session.execute(select(Organizer).order_by(Organizer.email)).scalars())


def disable(session: Session, email: str, *, actor: str = "cli") -> Organizer:
    """Disable an organizer (their sessions stop working at the next request); commit."""
    email = normalize_email(email)
    with transaction(session):
        organizer = session.execute(select(Organizer).where(Organizer.email == email)).scalar_one_or_none()
        if organizer is None:
            raise NoSuchOrganizer(f"no organizer with e-mail {email}")
        organizer.active = False
        _end_sessions(session, email)
        audit(session, actor, ORGANIZER_CHANGE, detail=f"disabled {email}")
    return organizer


def authenticate(session: Session, email: str, password: str, *, ip: str | None) -> Organizer:
    """Return the active organizer for these credentials, auditing the attempt; commit.

    Raises Throttled before checking anything when the account (from this address) or the address
    tried too often lately, and SignInFailed for an unknown e-mail, a wrong password or a disabled
    account alike. The password is checked outside any transaction: no lock waits on scrypt.
    """
    email = normalize_email(email)[:320]
    now = utcnow()
    with transaction(session):
        refusal = _count_attempt(session, email, ip, now)
        organizer = None if refusal else session.execute(
            select(Organizer).where(Organizer.email == email)).scalar_one_or_none()
    if refusal is not None:
        raise refusal  # after the commit: the burst's audit row must stay
    ok = check_password_hash(organizer.password_hash if organizer else _dummy_hash(), password)
    with transaction(session):
        if organizer is None or not ok or not organizer.active:
            audit(session, email or "?", SIGN_IN_FAILED, ip=ip)
            failed = True
        else:
            _clear_attempt(session, email, ip)
            organizer.last_login_at = now
            audit(session, email, SIGN_IN, ip=ip)
            failed = False
    if failed:
        raise SignInFailed("wrong e-mail or password")
    assert organizer is not None
    return organizer


def _throttle_keys(email: str, ip: str | None) -> list[tuple[str, int]]:
    """Return the keys an attempt counts against, with their limits: account from address, address."""
    address = ip or "?"
    return [(_digest(f"account:{email}|ip:{address}"), MAX_FAILURES_PER_ACCOUNT),
            (_digest(f"ip:{address}"), MAX_FAILURES_PER_IP)]


def _digest(text: str) -> str:
    """Return a fixed-length key that keeps e-mail addresses out of the throttle table."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _count_attempt(session: Session, email: str, ip: str | None, now: datetime) -> Throttled | None:
    """Count one attempt against each key (atomically); audit and return a refusal when one is over."""
    over = None
    for key, limit in _throttle_keys(email, ip):
        attempts = _upsert_attempt(session, key, now)
        if attempts > limit and over is None:
            over = key
    if over is None:
        return None
    _audit_burst(session, over, email, ip)
    return Throttled("too many failed sign-ins; try again in a few minutes")


def _upsert_attempt(session: Session, key: str, now: datetime) -> int:
    """Add one attempt to `key` (a new window when the last one is over) and return the count."""
    dialect = session.get_bind().dialect.name
    insert: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(SignInThrottle)
    table = SignInThrottle.__table__.c
    at = literal(now, UTCDateTime())
    stale = table.window_start < literal(now - THROTTLE_WINDOW, UTCDateTime())
    stmt = insert.values(key=key, attempts=1, window_start=now, throttled=0, burst_event_id=None)
    stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={
        # One statement: the row is locked (PostgreSQL) or the database is (SQLite) while it counts.
        "attempts": case((stale, 1), else_=table.attempts + 1),
        "window_start": case((stale, at), else_=table.window_start),
        "throttled": case((stale, 0), else_=table.throttled),
        "burst_event_id": case((stale, None), else_=table.burst_event_id),
    }).returning(table.attempts)
    return int(session.execute(stmt).scalar_one())


def _audit_burst(session: Session, key: str, email: str, ip: str | None) -> None:
    """Count a refused attempt on the burst's one audit row, writing that row on the burst's first."""
    table = SignInThrottle.__table__.c
    throttled, event_id = session.execute(
        update(SignInThrottle).where(table.key == key).values(throttled=table.throttled + 1)
        .returning(table.throttled, table.burst_event_id)).one()
    detail = f"{throttled} attempt{'s' if throttled != 1 else ''} refused in this burst"
    if event_id is not None and session.get(AuditEvent, event_id) is not None:
        session.execute(update(AuditEvent).where(AuditEvent.id == event_id).values(detail=detail))
        return
    event = audit(session, email or "?", SIGN_IN_THROTTLED, detail=detail, ip=ip)
    session.flush()
    session.execute(update(SignInThrottle).where(table.key == key).values(burst_event_id=event.id))


def _clear_attempt(session: Session, email: str, ip: str | None) -> None:
    """Forget the account-and-address attempts after a success; give the address its attempt back."""
    (pair, _), (address, _) = _throttle_keys(email, ip)
    session.execute(delete(SignInThrottle).where(SignInThrottle.key == pair))
    table = SignInThrottle.__table__.c
    session.execute(update(SignInThrottle).where(table.key == address, table.attempts > 0)
                    .values(attempts=table.attempts - 1))



def active_organizer(session: Session, organizer_id: int) -> Organizer | None:
    """Return the organizer with this id when the account is active."""
    organizer = session.get(Organizer, organizer_id)
    return organizer if organizer is not None and organizer.active else None


def events(session: Session, *, limit: int = 100, offset: int = 0,
           kinds: Sequence[str] | None = None) -> list[AuditEvent]:
    """Return audit events, newest first."""
    stmt = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit).offset(offset)
    if kinds:
        stmt = stmt.where(AuditEvent.kind.in_(kinds))
    return list(session.execute(stmt).scalars())


def retry_message(session: Session, campaign: str, message_id: str, *, actor: str,
                  ip: str | None = None) -> Message:
    """Queue a failed message again for delivery with fresh attempts, auditing it; commit.

    Refused for a purged message and for one a channel accepted (see services.retries).
    """
    from actiontool.services.retries import refusal  # retries audits through this module

    with transaction(session):
        message = session.get(Message, message_id)
        if message is None or message.campaign != campaign or message.status != FAILED:
            raise NotRetryable("only failed messages of this campaign can be retried")
        refused = refusal(session, message)
        if refused is not None:
            raise NotRetryable(f"this message cannot be retried: {refused}", refused=refused)
        set_status(session, message, QUEUED, next_attempt_at=utcnow(), lease_until=None, attempts=0)
        audit(session, actor, RETRY, campaign=campaign, detail=f"message {message_id} (failed -> queued)",
              ip=ip)
    return message


def record_campaign_changes(session: Session, digests: Mapping[str, str], *, actor: str = "system") -> int:
    """Append a campaign_change event for each campaign whose file digest differs from the last one recorded.

    Campaigns are files an operator edits; the dashboard compares their digests with the audit log the
    first time it serves a request in a process, so each change shows up once. Returns the events added.
    """
    added = 0
    with transaction(session):
        for slug in sorted(digests):
            marker = f"sha256:{digests[slug]}"
            last = session.execute(
                select(AuditEvent.detail)
                .where(AuditEvent.kind == CAMPAIGN_CHANGE, AuditEvent.campaign == slug)
                .order_by(AuditEvent.id.desc()).limit(1)).scalar_one_or_none()
            if last is not None and marker in last:
                continue
            verb = "loaded" if last is None else "changed"
            audit(session, actor, CAMPAIGN_CHANGE, campaign=slug, detail=f"campaign file {verb} ({marker})")
            added += 1
    return added
