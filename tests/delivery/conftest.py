"""Delivery fixtures: a real SMTP server (aiosmtpd) and a CWC stand-in on loopback, a test campaign
(tests.factories.write_campaign), and helpers that write messages to the outbox through the submit service."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message as EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

from actiontool.services.submit import OutgoingMessage, Submission, submit
from tests.delivery.cwc_standin import CwcStandIn
from tests.factories import submission, write_campaign


def free_port() -> int:
    """Return a TCP port that is free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SmtpSink:
    """What the SMTP server received, and how it should answer RCPT."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    rcpt_answer: str | None = None  # e.g. "550 no such user"; None accepts
    received: threading.Event = field(default_factory=threading.Event)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        if self.rcpt_answer:
            return self.rcpt_answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
        self.received.set()
        return "250 Message accepted"


Sink = TypeVar("Sink", bound=SmtpSink)


@contextmanager
def serving(sink: Sink) -> Iterator[Sink]:
    """Run `sink` as a real SMTP server (aiosmtpd) on its loopback port while the block runs."""
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpSink]:
    """Run a real SMTP server (aiosmtpd) on loopback for one test."""
    with serving(SmtpSink("127.0.0.1", free_port())) as sink:
        yield sink


@pytest.fixture
def cwc_server() -> Iterator[CwcStandIn]:
    """Run the CWC stand-in on loopback for one test."""
    server = CwcStandIn().start()
    try:
        yield server
    finally:
        server.stop()


def delivery_config(tmp_path: Path, smtp: SmtpSink | None = None, cwc: CwcStandIn | None = None,
                    **campaign: Any) -> dict[str, Any]:
    """Return settings for fast delivery tests (short timeouts, no backoff wait) and write the campaign."""
    campaigns = tmp_path / "campaigns"
    write_campaign(campaigns, **campaign)
    config: dict[str, Any] = {
        "CAMPAIGNS_DIR": str(campaigns),
        "BASE_URL": "https://act.example.org",
        "DELIVERY_MAX_ATTEMPTS": 3,
        "DELIVERY_LEASE_SECONDS": 60,
        "DELIVERY_BACKOFF_SECONDS": 0.0,
        "DELIVERY_POLL_SECONDS": 0.05,
        "SMTP_TIMEOUT": 2.0,
        "CWC_TIMEOUT": 1.0,
    }
    if smtp is not None:
        config.update({"SMTP_HOST": smtp.host, "SMTP_PORT": smtp.port, "SMTP_TLS": "none",
                       "MAIL_FROM": "letters@act.example.org"})
    if cwc is not None:
        config.update(cwc_settings(cwc.url, cwc.api_key))
    return config


def cwc_settings(url: str, api_key: str) -> dict[str, Any]:
    """Return the CWC settings that point at `url`."""
    return {
        "CWC_BASE_URL": url,
        "CWC_API_KEY": api_key,
        "CWC_DELIVERY_AGENT": "Test Agent",
        "CWC_DELIVERY_AGENT_ACK_EMAIL": "ack@agent.example.org",
        "CWC_DELIVERY_AGENT_CONTACT_NAME": "Agent Contact",
        "CWC_DELIVERY_AGENT_CONTACT_EMAIL": "contact@agent.example.org",
        "CWC_DELIVERY_AGENT_CONTACT_PHONE": "202-555-0100",
    }


HOUSE = {"bioguide": "R000001", "member_name": "Rita Rep", "member_title": "Representative",
         "chamber": "house", "state": "CA", "district": 13}
SENATOR = {"bioguide": "S000001", "member_name": "Sam Senator", "member_title": "Senator",
           "chamber": "senate", "state": "CA", "district": None}


def _letter(member: dict[str, Any]) -> str:
    return f"Dear {member['member_title']} {member['member_name']},\n\nPlease act."


def make_submission(email: str = "jane@example.org", *, members: tuple[dict[str, Any], ...] = (HOUSE,),
                    channels: dict[str, str] | None = None, first_name: str = "Jane",
                    subject: str = "Please act", personal: str | None = "My own words.",
                    wants_receipt_email: bool = False, prefix: str = "Ms.",
                    campaign: str = "test-delivery", lang: str = "en") -> Submission:
    """Return a submission to `members` with the given channel per chamber."""
    channels = channels or {"house": "cwc", "senate": "smtp"}
    letters = [OutgoingMessage(channel=channels[m["chamber"]], subject=subject, edited=False,
                               suggested_text=_letter(m), **m) for m in members]
    return submission(letters, email=email, campaign=campaign, lang=lang, state="CA", district_label="CA-13",
                      personal=personal, wants_receipt_email=wants_receipt_email, first_name=first_name,
                      city="Oakland", zip="94612", prefix=prefix, phone="(510) 555-0123")


def add_messages(app: Flask, count: int = 1, **kwargs: Any) -> list[str]:
    """Submit `count` constituents' letters through the submit service; return the new message ids."""
    from sqlalchemy import select

    from actiontool.db import session_factory
    from actiontool.models import Action, Message

    tokens = []
    with session_factory(app)() as session:
        for i in range(count):
            email = kwargs.pop("email", None) or f"person{i}@example.org"
            tokens.append(submit(session, make_submission(email, **kwargs)).receipt_token)
        ids = session.execute(select(Message.id).join(Action).where(Action.receipt_token.in_(tokens))
                              .order_by(Message.created_at)).scalars().all()
    return list(ids)


def message(app: Flask, message_id: str) -> Any:
    """Return a fresh copy of one message."""
    from actiontool.db import session_factory
    from actiontool.models import Message

    with session_factory(app)() as session:
        return session.get(Message, message_id)


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path, smtp_server: SmtpSink,
               cwc_server: CwcStandIn) -> dict[str, Any]:
    """Return the test configuration with SMTP and CWC pointing at the loopback servers."""
    app_config.update(delivery_config(tmp_path, smtp_server, cwc_server))
    return app_config


def run_worker(app: Flask, **kwargs: Any) -> Any:
    """Run a worker until nothing is due; return it (its `counts` say what happened)."""
    from actiontool.delivery.worker import Worker

    worker = Worker(app, **kwargs)
    worker.run(once=True)
    return worker
