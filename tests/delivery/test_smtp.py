"""The e-mail channel against a real SMTP server on loopback."""

from __future__ import annotations

import pytest
from flask import Flask

from actiontool.delivery.errors import PermanentFailure
from actiontool.delivery.smtp import build_email
from actiontool.models import DELIVERED, FAILED, QUEUED
from tests.delivery.conftest import SENATOR, SmtpSink, add_messages, message, run_worker

SENATE_ONLY = {"members": (SENATOR,)}


def test_letter_arrives_with_headers_and_both_texts(app: Flask, smtp_server: SmtpSink) -> None:
    [mid] = add_messages(app, **SENATE_ONLY)

    run_worker(app)

    assert len(smtp_server.messages) == 1
    mail = smtp_server.messages[0]
    assert mail["From"] == "Jane Doe <letters@act.example.org>"
    assert mail["To"] == "senator-one@example.org"  # the campaign's by_bioguide address wins
    assert mail["Reply-To"] == "Jane Doe <person0@example.org>"
    assert mail["Subject"] == "Please act"
    assert mail["Message-ID"] == f"<{mid}@act.example.org>"
    body = mail.get_content()
    assert "Dear Senator Sam Senator," in body and "Please act." in body
    assert body.index("My own words.") < body.index("Please act.")  # their words after the salutation
    assert smtp_server.envelopes == [("letters@act.example.org", ["senator-one@example.org"])]
    stored = message(app, mid)
    assert (stored.status, stored.attempts, stored.last_error) == (DELIVERED, 1, None)
    assert stored.delivered_at is not None


def test_chamber_default_address_is_used_for_other_members(app: Flask, smtp_server: SmtpSink) -> None:
    other = dict(SENATOR, bioguide="S000002", member_name="Other Senator")
    add_messages(app, members=(other,))

    run_worker(app)

    assert [m["To"] for m in smtp_server.messages] == ["senate-desk@example.org"]


@pytest.mark.parametrize("field,value", [
    ("subject", "Hello\r\nBcc: victim@example.org"),
    ("subject", "Hello\nBcc: victim@example.org"),
    ("first_name", "Jane\r\nBcc: victim@example.org"),
])
def test_header_injection_fails_the_message_and_sends_nothing(app: Flask, smtp_server: SmtpSink, field: str,
                                                               value: str) -> None:
    [mid] = add_messages(app, members=(SENATOR,), **{field: value})

    run_worker(app)

    stored = message(app, mid)
    assert stored.status == FAILED
    assert "line break or NUL" in stored.last_error
    assert stored.attempts == 1  # permanent: no retry
    assert smtp_server.messages == []


@pytest.mark.parametrize("header", ["mail_from", "to", "subject", "reply_to", "from_name"])
@pytest.mark.parametrize("bad", ["\r", "\n", "\x00"])
def test_build_email_refuses_control_characters_in_every_header(header: str, bad: str) -> None:
    values = {"mail_from": "a@example.org", "to": ["b@example.org"], "subject": "S",
              "reply_to": "c@example.org", "from_name": "Name"}
    evil = f"b@example.org{bad}Bcc: x@example.org"
    values[header] = [evil] if header == "to" else evil
    with pytest.raises(PermanentFailure, match="line break or NUL"):
        build_email(body="text", message_id="abc", **values)


def test_recipient_refused_with_5xx_fails_at_once(app: Flask, smtp_server: SmtpSink) -> None:
    smtp_server.rcpt_answer = "550 5.1.1 no such mailbox"
    [mid] = add_messages(app, **SENATE_ONLY)

    run_worker(app)

    stored = message(app, mid)
    assert stored.status == FAILED and stored.attempts == 1
    assert "550" in stored.last_error and "no such mailbox" in stored.last_error


def test_recipient_deferred_with_4xx_retries_then_fails_after_max_attempts(app: Flask,
                                                                          smtp_server: SmtpSink) -> None:
    smtp_server.rcpt_answer = "451 4.3.0 try again later"
    [mid] = add_messages(app, **SENATE_ONLY)

    run_worker(app)  # backoff is 0 in tests, so the worker retries until it gives up

    stored = message(app, mid)
    assert stored.status == FAILED
    assert stored.attempts == app.config["DELIVERY_MAX_ATTEMPTS"]
    assert stored.last_error.startswith("gave up after 3 attempts") and "451" in stored.last_error


def test_transient_failure_requeues_with_backoff(app: Flask, smtp_server: SmtpSink) -> None:
    app.config["DELIVERY_BACKOFF_SECONDS"] = 60.0
    smtp_server.rcpt_answer = "421 4.7.0 busy"
    [mid] = add_messages(app, **SENATE_ONLY)

    run_worker(app)

    stored = message(app, mid)
    assert (stored.status, stored.attempts) == (QUEUED, 1)
    assert stored.lease_until is None
    # Equal jitter: between half and all of the nominal 60 s.
    wait = (stored.next_attempt_at - stored.updated_at).total_seconds()
    assert 30 <= wait <= 60


def test_unreachable_server_is_transient(app: Flask) -> None:
    from tests.delivery.conftest import free_port

    app.config.update(SMTP_PORT=free_port(), DELIVERY_BACKOFF_SECONDS=60.0)
    [mid] = add_messages(app, **SENATE_ONLY)

    run_worker(app)

    stored = message(app, mid)
    assert stored.status == QUEUED
    assert "cannot talk to the SMTP server" in stored.last_error


def test_receipt_email_is_sent_once_with_the_absolute_link(app: Flask, smtp_server: SmtpSink) -> None:
    from sqlalchemy import select

    from actiontool.db import session_factory
    from actiontool.models import Action

    add_messages(app, wants_receipt_email=True, **SENATE_ONLY)

    run_worker(app)
    run_worker(app)

    receipts = [m for m in smtp_server.messages if m["To"] == "person0@example.org"]
    assert len(receipts) == 1
    with session_factory(app)() as session:
        action = session.execute(select(Action)).scalar_one()
        token, sent_at = action.receipt_token, action.receipt_email_sent_at
    assert sent_at is not None
    body = receipts[0].get_content()
    assert f"https://act.example.org/r/{token}" in body
    assert "Senator Sam Senator" in body
    assert receipts[0]["Subject"] == "Your letters to Congress: Test campaign"


def test_no_receipt_email_without_opt_in(app: Flask, smtp_server: SmtpSink) -> None:
    add_messages(app, wants_receipt_email=False, **SENATE_ONLY)

    run_worker(app)

    assert [m["To"] for m in smtp_server.messages] == ["senator-one@example.org"]


def test_receipt_email_is_written_in_the_constituents_language(app: Flask, smtp_server: SmtpSink) -> None:
    add_messages(app, wants_receipt_email=True, lang="es", **SENATE_ONLY)

    run_worker(app)

    [receipt] = [m for m in smtp_server.messages if m["To"] == "person0@example.org"]
    assert receipt["Subject"] == "Sus cartas al Congreso: Test campaign"
    assert "Hola, Jane:" in receipt.get_content()


def test_no_receipt_email_without_a_public_origin(app: Flask, smtp_server: SmtpSink) -> None:
    app.config["BASE_URL"] = None
    add_messages(app, wants_receipt_email=True, **SENATE_ONLY)

    run_worker(app)

    assert [m["To"] for m in smtp_server.messages] == ["senator-one@example.org"]


def test_worker_command_drains_the_outbox_and_reports(app: Flask, smtp_server: SmtpSink) -> None:
    from actiontool.cli import main

    add_messages(app, 3, **SENATE_ONLY)

    result = app.test_cli_runner().invoke(main, ["worker", "--once", "--concurrency", "2"])

    assert result.exit_code == 0, result.output
    assert "worker stopped: 3 delivered" in result.output
    assert len(smtp_server.messages) == 3
