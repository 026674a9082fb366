"""The constituent's receipt e-mail: opt-in, sent once, with the absolute link to their receipt page.

It is claimed like a message (attempts and a lease time on the action, one short write transaction), so
several workers never send it twice; it goes only when SMTP is configured and a public origin is known
(ACTIONTOOL_BASE_URL, else the origin the constituent used, stored at submit).
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from actiontool.delivery.backoff import retry_delay
from actiontool.delivery.errors import DeliveryFailure, PermanentFailure
from actiontool.delivery.settings import DeliverySettings
from actiontool.delivery.smtp import build_email, send_email
from actiontool.letters import LANGUAGES
from actiontool.models import Action
from actiontool.services.clock import database_now
from actiontool.services.transaction import transaction

log = logging.getLogger(__name__)

RECEIPT_PATH = "/r/"


@dataclass(frozen=True)
class ReceiptJob:
    """One receipt e-mail to send."""

    action_id: int
    attempt: int
    to: str
    first_name: str
    lang: str
    campaign: str
    link: str
    members: tuple[str, ...]
    statuses: tuple[str, ...] = ()  # each member's message status when the e-mail was written


def receipt_link(base_url: str, token: str) -> str:
    """Return the absolute receipt URL for `token` under `base_url`."""
    return base_url.rstrip("/") + RECEIPT_PATH + token


def _due(now: datetime, max_attempts: int) -> ColumnElement[bool]:
    return and_(
        Action.wants_receipt_email.is_(True),
        Action.receipt_email_sent_at.is_(None),
        Action.purged_at.is_(None),
        Action.email.is_not(None),
        Action.receipt_email_attempts < max_attempts,
        or_(Action.receipt_email_next_at.is_(None), Action.receipt_email_next_at <= now),
    )


def claim_receipts(session: Session, settings: DeliverySettings, *, now: datetime | None = None,
                   limit: int = 10) -> list[ReceiptJob]:
    """Claim due receipt e-mails (lease on the action) and commit; return what to send.

    Times come from the database's clock (services.clock) unless `now` is given, like message leases.
    """
    worker = settings.worker
    with transaction(session):
        now = now or database_now(session)
        actions = session.execute(
            select(Action).where(_due(now, worker.max_attempts)).order_by(Action.id).limit(limit)
            .with_for_update(skip_locked=True)
        ).scalars().all()
        jobs = []
        for action in actions:
            base = settings.base_url or action.receipt_base_url
            if not base:
                # Without an origin the link cannot be written; stop trying rather than poll forever.
                log.warning("receipt e-mail for action %s: no ACTIONTOOL_BASE_URL and no stored origin",
                            action.id)
                action.receipt_email_attempts = worker.max_attempts
                continue
            action.receipt_email_attempts = (action.receipt_email_attempts or 0) + 1
            action.receipt_email_next_at = now + timedelta(seconds=worker.lease_seconds)
            jobs.append(ReceiptJob(
                action_id=action.id, attempt=action.receipt_email_attempts, to=str(action.email),
                first_name=action.first_name or "", lang=action.lang if action.lang in LANGUAGES else "en",
                campaign=action.campaign, link=receipt_link(base, action.receipt_token),
                members=tuple(f"{m.member_title} {m.member_name}" for m in action.messages),
                statuses=tuple(m.status for m in action.messages),
            ))
    return jobs


def render(app: Flask, job: ReceiptJob, campaign_title: str) -> tuple[str, str]:
    """Return (subject, body) of the receipt e-mail from templates/email/receipt.<lang>.txt."""
    template = app.jinja_env.get_template(f"email/receipt.{job.lang}.txt")
    statuses = job.statuses or ("",) * len(job.members)
    context = {"first_name": job.first_name, "campaign_title": campaign_title, "link": job.link,
               "members": job.members, "letters": list(zip(job.members, statuses, strict=True)),
               "waiting": statuses.count("needs_constituent")}
    body = template.render(**context)
    subject = str(getattr(template.make_module(context), "subject", "")).strip()
    return subject or campaign_title, body


def _campaign_title(app: Flask, slug: str) -> str:
    from actiontool.registry import get_campaign

    try:
        return get_campaign(slug, app).title
    except LookupError:
        return slug


def send_one(app: Flask, job: ReceiptJob, settings: DeliverySettings) -> DeliveryFailure | None:
    """Send one receipt e-mail; return None on success, else the failure."""
    try:
        subject, body = render(app, job, _campaign_title(app, job.campaign))
        email = build_email(mail_from=str(settings.smtp.mail_from), to=[job.to], subject=subject, body=body,
                            message_id=f"receipt.{job.action_id}.{job.attempt}")
        send_email(email, settings.smtp)
    except DeliveryFailure as failure:
        log.warning("receipt e-mail for action %s, attempt %d: %s", job.action_id, job.attempt,
                    failure.reason)
        return failure
    return None


def record(session: Session, job: ReceiptJob, failure: DeliveryFailure | None, settings: DeliverySettings, *,
           now: datetime | None = None) -> None:
    """Record a receipt e-mail's outcome and commit."""
    worker = settings.worker
    with transaction(session):
        now = now or database_now(session)
        action = session.get(Action, job.action_id, with_for_update=True, populate_existing=True)
        if action is None or action.receipt_email_sent_at is not None:  # purged or sent: nothing to write
            return
        if failure is None:
            action.receipt_email_sent_at = now
            action.receipt_email_next_at = None
        elif isinstance(failure, PermanentFailure):
            action.receipt_email_attempts = worker.max_attempts  # retrying cannot help
            action.receipt_email_next_at = None
        else:
            delay = retry_delay(job.attempt, worker.backoff_seconds, worker.backoff_max_seconds)
            action.receipt_email_next_at = now + timedelta(seconds=delay)


def send_due(app: Flask, sessions: sessionmaker[Session], settings: DeliverySettings, *,
             limit: int = 10, lock: AbstractContextManager[Any] | None = None) -> int:
    """Claim, send and record due receipt e-mails; return how many were attempted (0 without SMTP).

    `lock` is held around each database transaction (the worker's SQLite write lock), not while sending.
    """
    if not settings.smtp.configured:
        return 0
    lock = lock or nullcontext()
    with lock, sessions() as session:
        jobs = claim_receipts(session, settings, limit=limit)
    for job in jobs:
        failure = send_one(app, job, settings)
        with lock, sessions() as session:
            record(session, job, failure, settings)
    return len(jobs)
