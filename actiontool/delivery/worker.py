"""The delivery worker: claim due messages under a lease, deliver them outside any transaction, record.

Claiming is one short write transaction: on PostgreSQL `SELECT ... FOR UPDATE SKIP LOCKED`, so workers
never wait on or take each other's rows; on SQLite every transaction starts with BEGIN IMMEDIATE (see
actiontool.db), so claims are serialised. A claim moves a message to `sending` with a lease and counts
the attempt. A worker that dies mid-delivery leaves the message `sending` until its lease runs out; then
any worker claims it again, and the retry carries the same message id (the CWC DeliveryId and the e-mail
Message-ID). Outcomes are recorded only through `actiontool.services.outbox.set_status`.

Packet letters are never claimed: they wait in `queued` until the organization delivers them (see
actiontool.services.packets). A letter whose member has left office (actiontool.districts.tenure) is not
delivered: its claim carries the problem, and it ends `failed` with the reason `models.LEFT_OFFICE`.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from flask import Flask
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from actiontool import registry
from actiontool.campaigns import CHANNELS
from actiontool.delivery import receipt
from actiontool.delivery.backoff import retry_delay
from actiontool.delivery.cwc import CwcChannel
from actiontool.delivery.errors import (
    DeliveryFailure,
    DeliveryOptionsError,
    NotConfigured,
    PermanentFailure,
    TransientFailure,
)
from actiontool.delivery.handoff import HandoffChannel
from actiontool.delivery.job import CampaignInfo, DeliveryJob, Sender
from actiontool.delivery.settings import DeliverySettings, WorkerSettings, from_config
from actiontool.delivery.smtp import SmtpChannel
from actiontool.districts.tenure import Roster
from actiontool.models import (
    DELIVERED,
    FAILED,
    FINAL_STATUSES,
    LEFT_OFFICE,
    NEEDS_CONSTITUENT,
    PACKET,
    QUEUED,
    SENDING,
    Message,
    utcnow,
)
from actiontool.services.outbox import set_status
from actiontool.services.tenure import end_letters_to_departed
from actiontool.services.transaction import transaction

log = logging.getLogger(__name__)


class Channel(Protocol):
    """A way to deliver a message: returns a note on acceptance, raises a DeliveryFailure otherwise."""

    name: str

    def deliver(self, job: DeliveryJob) -> str: ...


CampaignLookup = Callable[[str], CampaignInfo]
RosterLookup = Callable[[], Roster]
# The channels the worker delivers; packet letters wait for the organization instead.
WORKER_CHANNELS: tuple[str, ...] = tuple(c for c in CHANNELS if c != PACKET)


@dataclass(frozen=True)
class Claim:
    """A message this worker holds: the job to deliver, or the reason it cannot even be tried."""

    message_id: str
    attempt: int
    job: DeliveryJob | None = None
    problem: DeliveryFailure | None = None


def default_channels(settings: DeliverySettings) -> dict[str, Channel]:
    """Return the channels by name, built from the settings."""
    return {"handoff": HandoffChannel(), "smtp": SmtpChannel(settings.smtp), "cwc": CwcChannel(settings.cwc)}


def due_clause(now: datetime) -> Any:
    """Return the condition of a claimable message: queued and due, or sending with an expired lease."""
    return or_(
        and_(Message.status == QUEUED, Message.channel.in_(WORKER_CHANNELS),
             or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now)),
        and_(Message.status == SENDING, Message.lease_until < now),
    )


def _job(message: Message, campaign: CampaignInfo, attempt: int) -> DeliveryJob:
    action = message.action
    return DeliveryJob(
        message_id=message.id, attempt=attempt, channel=message.channel, chamber=message.chamber,
        bioguide=message.bioguide, member_name=message.member_name, member_title=message.member_title,
        state=message.state, district=message.district, subject=message.subject,
        suggested_text=message.suggested_text, constituent_text=message.constituent_text,
        edited=bool(message.edited), lang=action.lang or "en",
        sender=Sender(prefix=action.prefix, first_name=action.first_name, last_name=action.last_name,
                      email=action.email, address1=action.address1, city=action.city, state=action.state,
                      zip=action.zip, phone=action.phone),
        campaign=campaign,
    )


def claim_messages(session: Session, campaigns: CampaignLookup, settings: WorkerSettings, *,
                   now: datetime | None = None, limit: int | None = None,
                   roster: Roster | None = None) -> list[Claim]:
    """Claim up to `limit` due messages: mark them sending under a lease and commit; return the claims.

    With a `roster`, a message whose member has left office is claimed with that as its problem, so it
    ends failed (LEFT_OFFICE) instead of going out.
    """
    now = now or utcnow()
    limit = limit or settings.batch
    with transaction(session):
        rows = session.execute(
            select(Message).where(due_clause(now)).order_by(Message.created_at).limit(limit)
            .with_for_update(skip_locked=True)
        ).scalars().all()
        claims: list[Claim] = []
        lease_until = now + timedelta(seconds=settings.lease_seconds)
        for message in rows:
            if message.attempts >= settings.max_attempts:
                # Its last attempt's lease ran out (the worker died each time): stop trying.
                set_status(session, message, FAILED, now=now, lease_until=None, next_attempt_at=None,
                           last_error=_gave_up(message.attempts, message.last_error or "the worker stopped "
                                               "during delivery"))
                continue
            attempt = message.attempts + 1
            set_status(session, message, SENDING, now=now, attempts=attempt, lease_until=lease_until)
            if roster is not None and roster.has_left(message.bioguide, message.created_day):
                claims.append(Claim(message.id, attempt, problem=PermanentFailure(LEFT_OFFICE)))
                continue
            if message.action.purged_at is not None:
                # Older than the retention limit: the sender's details are gone, so no letter can go.
                claims.append(Claim(message.id, attempt, problem=PermanentFailure(
                    "the constituent's details were purged before delivery (past the retention limit)")))
                continue
            try:
                job = _job(message, campaigns(message.campaign), attempt)
                claims.append(Claim(message.id, attempt, job=job))
            except (LookupError, DeliveryOptionsError) as exc:
                claims.append(Claim(message.id, attempt, problem=TransientFailure(
                    f"campaign {message.campaign} cannot be used for delivery: {exc}")))
    return claims


def _gave_up(attempts: int, reason: str) -> str:
    return f"gave up after {attempts} attempt{'s' if attempts != 1 else ''}: {reason}"


def record_outcome(session: Session, claim: Claim, failure: DeliveryFailure | None, settings: WorkerSettings,
                   *, now: datetime | None = None, rng: random.Random | None = None) -> str:
    """Record one delivery's outcome and commit; return the status the message is left in."""
    now = now or utcnow()
    with transaction(session):
        message = session.get(Message, claim.message_id, with_for_update=True, populate_existing=True)
        if message is None:  # purged meanwhile: nothing to write
            return "gone"
        return _apply(session, message, claim, failure, settings, now, rng)


def _apply(session: Session, message: Message, claim: Claim, failure: DeliveryFailure | None,
           settings: WorkerSettings, now: datetime, rng: random.Random | None) -> str:
    if message.status in FINAL_STATUSES:
        return message.status
    ours = message.status == SENDING and message.attempts == claim.attempt
    cleared = {"lease_until": None, "next_attempt_at": None}
    if failure is None:
        # Accepted by the channel: record it even if our lease ran out meanwhile, so no one sends it again.
        set_status(session, message, DELIVERED, now=now, last_error=None, **cleared)
    elif not ours:
        log.warning("message %s: lease lost before the outcome was recorded (%s)", message.id, failure.reason)
        return message.status
    elif isinstance(failure, NotConfigured):
        set_status(session, message, NEEDS_CONSTITUENT, now=now, last_error=failure.reason, **cleared)
    elif isinstance(failure, PermanentFailure):
        set_status(session, message, FAILED, now=now, last_error=failure.reason, **cleared)
    elif message.attempts >= settings.max_attempts:
        set_status(session, message, FAILED, now=now, last_error=_gave_up(message.attempts, failure.reason),
                   **cleared)
    else:
        retry_after = failure.retry_after if isinstance(failure, TransientFailure) else None
        delay = retry_delay(message.attempts, settings.backoff_seconds, settings.backoff_max_seconds,
                            retry_after=retry_after, rng=rng)
        set_status(session, message, QUEUED, now=now, last_error=failure.reason, lease_until=None,
                   next_attempt_at=now + timedelta(seconds=delay))
    return message.status


def deliver(claim: Claim, channels: Mapping[str, Channel]) -> DeliveryFailure | None:
    """Attempt one claimed message; return None on acceptance, else the failure (never raises)."""
    if claim.problem is not None or claim.job is None:
        return claim.problem or PermanentFailure("nothing to deliver")
    job = claim.job
    channel = channels.get(job.channel)
    if channel is None:
        return PermanentFailure(f"unknown channel {job.channel!r}")
    try:
        note = channel.deliver(job)
    except DeliveryFailure as failure:
        log.info("message %s via %s, attempt %d: %s", job.message_id, job.channel, job.attempt,
                 failure.reason)
        return failure
    except Exception as exc:  # a bug in a channel must not leave the message stuck in `sending`
        log.exception("message %s via %s: unexpected error", job.message_id, job.channel)
        return TransientFailure(f"internal error while sending ({type(exc).__name__})")
    log.info("message %s via %s, attempt %d: %s", job.message_id, job.channel, job.attempt, note)
    return None


class AppCampaigns:
    """Look up a campaign's delivery facts among the app's loaded campaigns (cached per slug)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._cache: dict[str, CampaignInfo] = {}
        self._lock = threading.Lock()

    def __call__(self, slug: str) -> CampaignInfo:
        with self._lock:
            if slug not in self._cache:
                from actiontool.delivery.campaign_info import campaign_info
                self._cache[slug] = campaign_info(registry.get_campaign(slug, self.app))
            return self._cache[slug]


class AppRoster:
    """Return who is in office today by the app's current dataset (rebuilt when the day changes)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._roster: Roster | None = None
        self._lock = threading.Lock()

    def __call__(self) -> Roster:
        today = utcnow().date()
        with self._lock:
            if self._roster is None or self._roster.today != today:
                dataset = registry.dataset(self.app)
                self._roster = Roster.from_members(dataset.members(), date.fromisoformat(dataset.info.as_of),
                                                   today)
            return self._roster


class Worker:
    """Drain the outbox with `concurrency` threads until stopped (with once=True: until nothing is due)."""

    def __init__(self, app: Flask, *, concurrency: int = 1, channels: Mapping[str, Channel] | None = None,
                 campaigns: CampaignLookup | None = None, settings: DeliverySettings | None = None,
                 sessions: sessionmaker[Session] | None = None, roster: RosterLookup | None = None) -> None:
        from actiontool.db import session_factory

        self.app = app
        self.settings = settings or from_config(app.config)
        self.concurrency = max(1, concurrency)
        self.channels = dict(channels) if channels is not None else default_channels(self.settings)
        self.campaigns = campaigns or AppCampaigns(app)
        self.roster = roster or AppRoster(app)
        self.sessions = sessions or session_factory(app)
        self.stopping = threading.Event()
        self.counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()
        # SQLite has one writer; threads of this process queue on a lock rather than in SQLite's busy
        # handler, which sleeps in growing steps. Other processes still wait in the busy handler.
        bind = self.sessions.kw.get("bind")
        sqlite = bind is not None and bind.dialect.name == "sqlite"
        self._write_lock: Any = threading.Lock() if sqlite else contextlib.nullcontext()
        self._next_receipts = 0.0
        self._swept: Roster | None = None  # the roster the unclaimed letters were last checked against

    def stop(self) -> None:
        """Ask every thread to finish its current delivery and exit."""
        self.stopping.set()

    def step(self) -> int:
        """Claim one batch, deliver it and record the outcomes; return how many items were handled."""
        handled = self._end_letters_to_departed()
        with self._write_lock, self.sessions() as session:
            claims = claim_messages(session, self.campaigns, self.settings.worker, roster=self.roster())
        for claim in claims:
            failure = deliver(claim, self.channels)
            with self._write_lock, self.sessions() as session:
                status = record_outcome(session, claim, failure, self.settings.worker)
            self._count(status)
            handled += 1
        if self._receipts_due(idle=not claims):
            handled += receipt.send_due(self.app, self.sessions, self.settings,
                                        limit=self.settings.worker.batch, lock=self._write_lock)
        return handled

    def _end_letters_to_departed(self) -> int:
        """When the roster changed (at start, then daily), end the unclaimed letters to members who left."""
        roster = self.roster()
        with self._counts_lock:
            if roster == self._swept:
                return 0
            self._swept = roster
        with self._write_lock, self.sessions() as session:
            ended = end_letters_to_departed(session, roster)
        if ended:
            log.info("%d waiting letter(s) ended: %s", ended, LEFT_OFFICE)
        return ended

    def _receipts_due(self, *, idle: bool) -> bool:
        """Return True when receipt e-mails should be looked for: when idle, else once per poll interval."""
        if not self.settings.smtp.configured:
            return False
        now = time.monotonic()
        with self._counts_lock:
            if idle or now >= self._next_receipts:
                self._next_receipts = now + self.settings.worker.poll_seconds
                return True
        return False

    def _count(self, status: str) -> None:
        with self._counts_lock:
            self.counts[status] += 1

    def _loop(self, once: bool) -> None:
        while not self.stopping.is_set():
            try:
                handled = self.step()
            except Exception:  # the database went away, say: log, wait, try again
                log.exception("delivery step failed")
                handled = 0
                if once:
                    raise
            if handled == 0:
                if once:
                    return
                self.stopping.wait(self.settings.worker.poll_seconds)

    def run(self, *, once: bool = False) -> None:
        """Run the threads and wait for them; returns when stopped (or drained, with once=True)."""
        errors: list[BaseException] = []

        def target() -> None:
            try:
                self._loop(once)
            except BaseException as exc:  # surfaced to the caller below
                errors.append(exc)

        threads = [threading.Thread(target=target, name=f"delivery-{i}", daemon=True)
                   for i in range(self.concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    def start_background(self) -> threading.Thread:
        """Run the worker in a daemon thread (for `actiontool serve`); stop it with stop()."""
        thread = threading.Thread(target=self.run, name="delivery", daemon=True)
        thread.start()
        return thread
