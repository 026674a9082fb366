"""The delivery worker: claim due messages under a lease, deliver them outside any transaction, record.

Claiming is one short write transaction: on PostgreSQL `SELECT ... FOR UPDATE SKIP LOCKED`, so workers
never wait on or take each other's rows; on SQLite every transaction starts with BEGIN IMMEDIATE (see
actiontool.db), so claims are serialised. A claim moves a message to `sending` with a lease and counts
the attempt. A worker that dies mid-delivery leaves the message `sending` until its lease runs out; then
any worker claims it again, and the retry carries the same message id (the CWC DeliveryId and the e-mail
Message-ID). Outcomes are recorded only through `actiontool.services.outbox.set_status`.

Faults (see docs/RELIABILITY.md):
- Every claim increments the message's `claims`, its fencing token. A failure is recorded, and a lease
  renewed, only while the message still carries the token of the claim that made it. An acceptance is
  always recorded: it wins over a give-up recorded meanwhile (`failed` becomes `delivered`, counts move).
- Leases, due times and backoff are measured by the database's clock (services.clock), so a worker whose
  clock is off cannot take live leases.
- Each send runs under one wall-clock deadline (the channel's timeout, under half the lease; see
  delivery.deadline), and a heartbeat renews the lease of every message this worker holds meanwhile.
- Each thread delivers one channel's batch at a time, and one channel may hold at most all threads but one,
  so a hanging channel cannot starve the others. A channel with repeated transient failures is paused
  (`CircuitBreaker`); the attempts that fail while it is paused are not counted, so an outage does not
  end letters `failed`.

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from flask import Flask
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from actiontool import registry
from actiontool.campaigns import CHANNELS
from actiontool.delivery import receipt
from actiontool.delivery.backoff import retry_delay
from actiontool.delivery.cwc import CwcChannel
from actiontool.delivery.errors import (
    DeliveryFailure,
    DeliveryOptionsError,
    DeliverySettingsError,
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
    HANDED_OFF,
    LEFT_OFFICE,
    NEEDS_CONSTITUENT,
    PACKET,
    QUEUED,
    SENDING,
    Message,
    utcnow,
)
from actiontool.services.clock import database_now
from actiontool.services.outbox import set_status
from actiontool.services.tenure import end_letters_to_departed
from actiontool.services.transaction import transaction

log = logging.getLogger(__name__)

# A batch's outcomes are recorded together, but none waits longer than this after its delivery ended.
RECORD_WITHIN_SECONDS = 0.5


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
    token: int = 0  # the message's `claims` after this claim: the fencing token of this attempt
    channel: str = ""


def default_channels(settings: DeliverySettings) -> dict[str, Channel]:
    """Return the channels by name, built from the settings."""
    return {"handoff": HandoffChannel(), "smtp": SmtpChannel(settings.smtp), "cwc": CwcChannel(settings.cwc)}


def due_clause(now: datetime, channels: Sequence[str] = WORKER_CHANNELS) -> Any:
    """Return the condition of a claimable message of `channels`: queued and due, or sending with an
    expired lease. `now` must be the database's time (services.clock)."""
    return or_(
        and_(Message.status == QUEUED, Message.channel.in_(channels),
             or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now)),
        and_(Message.status == SENDING, Message.channel.in_(channels), Message.lease_until < now),
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
                   roster: Roster | None = None, channels: Sequence[str] = WORKER_CHANNELS) -> list[Claim]:
    """Claim up to `limit` due messages of `channels`: mark them sending under a lease and commit; return
    the claims. Times come from the database's clock unless `now` is given (tests).

    With a `roster`, a message whose member has left office is claimed with that as its problem, so it
    ends failed (LEFT_OFFICE) instead of going out.
    """
    limit = limit or settings.batch
    with transaction(session):
        now = now or database_now(session)
        rows = session.execute(
            select(Message).where(due_clause(now, channels)).order_by(Message.created_at).limit(limit)
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
            token = (message.claims or 0) + 1
            set_status(session, message, SENDING, now=now, attempts=attempt, claims=token,
                       lease_until=lease_until)
            channel = message.channel
            if roster is not None and roster.has_left(message.bioguide, message.created_day):
                claims.append(Claim(message.id, attempt, problem=PermanentFailure(LEFT_OFFICE), token=token,
                                    channel=channel))
                continue
            if message.action.purged_at is not None:
                # Older than the retention limit: the sender's details are gone, so no letter can go.
                claims.append(Claim(message.id, attempt, problem=PermanentFailure(
                    "the constituent's details were purged before delivery (past the retention limit)"),
                    token=token, channel=channel))
                continue
            try:
                job = _job(message, campaigns(message.campaign), attempt)
                claims.append(Claim(message.id, attempt, job=job, token=token, channel=channel))
            except (LookupError, DeliveryOptionsError) as exc:
                claims.append(Claim(message.id, attempt, problem=TransientFailure(
                    f"campaign {message.campaign} cannot be used for delivery: {exc}"),
                    token=token, channel=channel))
    return claims


def renew_leases(session: Session, held: Mapping[str, int], lease_seconds: float, *,
                 now: datetime | None = None) -> int:
    """Extend the lease of each held message (id -> fencing token) still under that claim; commit.

    Return how many were renewed: a message another worker has claimed since, or whose outcome is
    recorded, keeps its state.
    """
    renewed = 0
    with transaction(session):
        now = now or database_now(session)
        until = now + timedelta(seconds=lease_seconds)
        for message_id in sorted(held):  # one order for every worker: no deadlocks between renewals
            result = session.execute(
                update(Message).where(Message.id == message_id, Message.claims == held[message_id],
                                      Message.status == SENDING)
                .values(lease_until=until).execution_options(synchronize_session=False))
            renewed += int(getattr(result, "rowcount", 0) or 0)
    return renewed


def _gave_up(attempts: int, reason: str) -> str:
    return f"gave up after {attempts} attempt{'s' if attempts != 1 else ''}: {reason}"


def record_outcome(session: Session, claim: Claim, failure: DeliveryFailure | None, settings: WorkerSettings,
                   *, now: datetime | None = None, rng: random.Random | None = None,
                   outage_pause: float | None = None) -> str:
    """Record one delivery's outcome and commit; return the status the message is left in.

    With `outage_pause`, a transient failure happened while its channel is paused (CircuitBreaker): the
    attempt is given back and the message waits that many seconds.
    """
    return record_outcomes(session, [Outcome(claim, failure, outage_pause)], settings, now=now, rng=rng)[0]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one claimed delivery came to: None for acceptance, and the breaker's pause, if any."""

    claim: Claim
    failure: DeliveryFailure | None
    outage_pause: float | None = None


def record_outcomes(session: Session, outcomes: Sequence[Outcome], settings: WorkerSettings, *,
                    now: datetime | None = None, rng: random.Random | None = None) -> list[str]:
    """Record several deliveries' outcomes in one transaction and commit; return each message's status.

    One write transaction for a batch instead of one per letter: on SQLite each takes the one write lock
    that submits wait for. Each message is still checked on its own (its fencing token, a late acceptance
    winning), exactly as record_outcome does; rows are locked in id order, as lease renewals lock them.
    """
    statuses: dict[str, str] = {}
    with transaction(session):
        now = now or database_now(session)
        for outcome in sorted(outcomes, key=lambda o: o.claim.message_id):
            claim = outcome.claim
            message = session.get(Message, claim.message_id, with_for_update=True, populate_existing=True)
            if message is None:  # purged meanwhile: nothing to write
                statuses[claim.message_id] = "gone"
                continue
            statuses[claim.message_id] = _apply(session, message, claim, outcome.failure, settings, now, rng,
                                                outcome.outage_pause)
    return [statuses[o.claim.message_id] for o in outcomes]


def _apply(session: Session, message: Message, claim: Claim, failure: DeliveryFailure | None,
           settings: WorkerSettings, now: datetime, rng: random.Random | None,
           outage_pause: float | None = None) -> str:
    cleared = {"lease_until": None, "next_attempt_at": None}
    if failure is None:
        # Accepted by the channel: that wins whatever the lease says, even over a give-up recorded
        # meanwhile by a worker that took our lease for lost, so the letter is never offered for Retry
        # (and sent again) and the counts move from failed to delivered.
        if message.status in (DELIVERED, HANDED_OFF):
            return message.status
        if message.status == FAILED:
            log.warning("message %s: accepted by %s after it was recorded failed (%s); now delivered",
                        message.id, message.channel, message.last_error)
        set_status(session, message, DELIVERED, now=now, last_error=None, **cleared)
        return message.status
    if message.status in FINAL_STATUSES:
        return message.status
    ours = message.status == SENDING and (message.claims or 0) == claim.token
    if not ours:
        log.warning("message %s: lease lost before the outcome was recorded (%s)", message.id, failure.reason)
        return message.status
    if isinstance(failure, NotConfigured):
        set_status(session, message, NEEDS_CONSTITUENT, now=now, last_error=failure.reason, **cleared)
    elif isinstance(failure, PermanentFailure):
        set_status(session, message, FAILED, now=now, last_error=failure.reason, **cleared)
    elif outage_pause is not None:
        # The channel is down for everyone: this attempt says nothing about the letter, so it is not counted.
        set_status(session, message, QUEUED, now=now, attempts=max(0, message.attempts - 1), lease_until=None,
                   last_error=f"{failure.reason} (channel paused; attempt not counted)"[:1000],
                   next_attempt_at=now + timedelta(seconds=outage_pause))
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


@dataclass
class _Circuit:
    failures: int = 0  # transient failures in a row
    paused_until: float | None = None  # monotonic time; None: the channel is not paused
    pause: float = 0.0
    probing: bool = False


@dataclass
class CircuitBreaker:
    """Pause a channel after `threshold` transient failures in a row, then let one probe through.

    While a channel is paused its letters are not claimed; after `seconds` one letter goes as a probe. An
    acceptance (or any answer that shows the endpoint works, such as a refusal) resumes the channel; a
    failed probe pauses it again for twice as long, up to 8 times `seconds`. Failures while paused are
    an outage's, not the letter's: the worker does not count those attempts. Per worker process.
    """

    threshold: int
    seconds: float
    clock: Callable[[], float] = time.monotonic
    _circuits: dict[str, _Circuit] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def admit(self, channel: str) -> int | None:
        """Return None when `channel` runs normally, 1 when one probe may go now, 0 while it is paused."""
        with self._lock:
            circuit = self._circuits.get(channel)
            if circuit is None or circuit.paused_until is None:
                return None
            if circuit.probing or self.clock() < circuit.paused_until:
                return 0
            circuit.probing = True
            return 1

    def end_probe(self, channel: str) -> None:
        """Give the probe back when nothing was there to send."""
        with self._lock:
            if channel in self._circuits:
                self._circuits[channel].probing = False

    def paused(self, channel: str) -> float | None:
        """Return the current pause in seconds when `channel` is paused, else None."""
        with self._lock:
            circuit = self._circuits.get(channel)
            return circuit.pause if circuit is not None and circuit.paused_until is not None else None

    def record(self, channel: str, failure: DeliveryFailure | None, *, probe: bool = False) -> float | None:
        """Note a delivery's outcome; return the pause (seconds) when the failure is part of an outage."""
        if self.threshold <= 0 or isinstance(failure, NotConfigured):
            return None
        with self._lock:
            circuit = self._circuits.setdefault(channel, _Circuit())
            if not isinstance(failure, TransientFailure):  # accepted or refused: the endpoint answers
                if circuit.paused_until is not None:
                    log.warning("channel %s answers again: resumed", channel)
                self._circuits[channel] = _Circuit()
                return None
            circuit.failures += 1
            if circuit.paused_until is not None:
                if probe:
                    circuit.probing = False
                    circuit.pause = min(circuit.pause * 2, self.seconds * 8)
                    circuit.paused_until = self.clock() + circuit.pause
                    log.warning("channel %s: probe failed (%s); paused for %g s", channel, failure.reason,
                                circuit.pause)
                return circuit.pause
            if circuit.failures >= self.threshold:
                circuit.pause = self.seconds
                circuit.paused_until = self.clock() + circuit.pause
                log.warning("channel %s: %d failures in a row (%s); paused for %g s, attempts not counted",
                            channel, circuit.failures, failure.reason, circuit.pause)
                return circuit.pause
            return None


class Worker:
    """Drain the outbox with `concurrency` threads until stopped (with once=True: until nothing is due)."""

    def __init__(self, app: Flask, *, concurrency: int = 1, channels: Mapping[str, Channel] | None = None,
                 campaigns: CampaignLookup | None = None, settings: DeliverySettings | None = None,
                 sessions: sessionmaker[Session] | None = None, roster: RosterLookup | None = None) -> None:
        from actiontool.db import session_factory

        self.app = app
        self.settings = settings or from_config(app.config)
        problems = self.settings.problems()
        if problems:
            raise DeliverySettingsError("; ".join(problems))
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
        worker = self.settings.worker
        self.breaker = CircuitBreaker(worker.breaker_failures, worker.breaker_seconds)
        self.channel_threads = worker.threads_per_channel(self.concurrency)
        self._busy: Counter[str] = Counter()  # threads delivering each channel now
        self._held: dict[str, int] = {}  # message id -> fencing token, of the claims not yet recorded
        self._turn = 0

    def stop(self) -> None:
        """Ask every thread to finish its current delivery and exit."""
        self.stopping.set()

    def step(self) -> int:
        """Claim one channel's batch, deliver it and record the outcomes; return how many items were handled.

        Channels take turns (each step starts at the next one), a channel busy on its share of the threads
        or paused by the breaker is passed over.
        """
        handled = self._end_letters_to_departed()
        with self._counts_lock:
            self._turn += 1
            turn = self._turn
        order = WORKER_CHANNELS[turn % len(WORKER_CHANNELS):] + WORKER_CHANNELS[:turn % len(WORKER_CHANNELS)]
        claimed = False
        for channel in order:
            limit = self._take_slot(channel)
            if limit is None:
                continue
            probe = limit == 1 and self.breaker.paused(channel) is not None
            try:
                with self._write_lock, self.sessions() as session:
                    claims = claim_messages(session, self.campaigns, self.settings.worker, limit=limit,
                                            roster=self.roster(), channels=(channel,))
                if claims:
                    handled += self._deliver_batch(channel, claims, probe=probe)
                    claimed = True
                    break
            finally:
                self._free_slot(channel, probe=probe)
        if self._receipts_due(idle=not claimed):
            handled += receipt.send_due(self.app, self.sessions, self.settings,
                                        limit=self.settings.worker.batch, lock=self._write_lock)
        return handled

    def _take_slot(self, channel: str) -> int | None:
        """Reserve a thread slot of `channel`; return how many to claim (None: not now)."""
        admitted = self.breaker.admit(channel)
        if admitted == 0:
            return None
        with self._counts_lock:
            if self._busy[channel] >= self.channel_threads:
                if admitted == 1:
                    self.breaker.end_probe(channel)
                return None
            self._busy[channel] += 1
        return 1 if admitted == 1 else self.settings.worker.batch

    def _free_slot(self, channel: str, *, probe: bool) -> None:
        with self._counts_lock:
            self._busy[channel] -= 1
        if probe:
            self.breaker.end_probe(channel)

    def _deliver_batch(self, channel: str, claims: list[Claim], *, probe: bool) -> int:
        """Deliver claimed messages one after another; record their outcomes a few at a time.

        Outcomes wait to be recorded together (one write transaction) until the batch ends or the oldest
        has waited RECORD_WITHIN_SECONDS, so a slow channel still records each letter about when it went.
        An outcome not yet recorded is a letter whose lease the heartbeat keeps renewing; if the worker
        dies meanwhile the letter goes again after its lease with the same message id, as it would if the
        worker died during the delivery itself.
        """
        with self._counts_lock:
            self._held.update({c.message_id: c.token for c in claims})
        pending: list[Outcome] = []
        oldest = 0.0
        handled = 0
        try:
            for claim in claims:
                pause = self.breaker.paused(channel)
                if pause is not None and not probe and claim.problem is None:
                    # Paused while this batch waited: do not hammer a channel that is down.
                    failure: DeliveryFailure | None = TransientFailure(
                        "not sent: the channel is paused after repeated failures")
                else:
                    failure = deliver(claim, self.channels)
                    if claim.problem is None:
                        pause = self.breaker.record(channel, failure, probe=probe)
                outage = pause if isinstance(failure, TransientFailure) and claim.problem is None else None
                if not pending:
                    oldest = time.monotonic()
                pending.append(Outcome(claim, failure, outage))
                if time.monotonic() - oldest >= RECORD_WITHIN_SECONDS:
                    handled += self._record_pending(pending)
            handled += self._record_pending(pending)
        finally:
            with self._counts_lock:
                for claim in claims:
                    self._held.pop(claim.message_id, None)
        return handled

    def _record_pending(self, pending: list[Outcome]) -> int:
        """Record and count the pending outcomes, then forget them; return how many."""
        if not pending:
            return 0
        statuses = self._record(pending)
        with self._counts_lock:
            for outcome in pending:
                self._held.pop(outcome.claim.message_id, None)
        for status in statuses:
            self._count(status)
        count = len(pending)
        pending.clear()
        return count

    def _record(self, outcomes: list[Outcome]) -> list[str]:
        """Record outcomes in one transaction. One that holds an acceptance is tried again for a few seconds
        while the database is away: lost, the letter would only be sent again when its lease ran out (with
        the same id)."""
        accepted = any(o.failure is None for o in outcomes)
        tries = 5 if accepted else 1
        for attempt in range(tries):
            try:
                with self._write_lock, self.sessions() as session:
                    return record_outcomes(session, outcomes, self.settings.worker)
            except SQLAlchemyError:
                if attempt == tries - 1:
                    raise
                log.warning("messages %s: recording an acceptance failed; trying again",
                            ", ".join(o.claim.message_id for o in outcomes), exc_info=True)
                time.sleep(0.5 * 2 ** attempt)
        raise AssertionError("unreachable")

    def renew(self) -> int:
        """Renew the lease of every message this worker holds (the heartbeat); return how many."""
        with self._counts_lock:
            held = dict(self._held)
        if not held:
            return 0
        with self._write_lock, self.sessions() as session:
            return renew_leases(session, held, self.settings.worker.lease_seconds)

    def _heartbeat(self, done: threading.Event) -> None:
        """Renew leases three times per lease while the delivery threads run."""
        interval = self.settings.worker.lease_seconds / 3
        while not done.wait(interval):
            try:
                self.renew()
            except Exception:  # the database went away, say: the next beat tries again
                log.exception("lease renewal failed")

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
        done = threading.Event()
        heartbeat = threading.Thread(target=self._heartbeat, args=(done,), name="delivery-lease", daemon=True)
        heartbeat.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        done.set()
        heartbeat.join()
        if errors:
            raise errors[0]

    def start_background(self) -> threading.Thread:
        """Run the worker in a daemon thread (for `actiontool serve`); stop it with stop()."""
        thread = threading.Thread(target=self.run, name="delivery", daemon=True)
        thread.start()
        return thread
