"""The CWC channel: the XML document, and delivery to a stand-in endpoint on loopback."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from flask import Flask
from lxml import etree

from actiontool.cli import main
from actiontool.delivery.cwc import build_document, member_office, redact
from actiontool.delivery.errors import PermanentFailure
from actiontool.delivery.job import BillRef, CampaignInfo, DeliveryJob, Sender
from actiontool.delivery.options import ChannelOptions
from actiontool.delivery.settings import from_config
from actiontool.models import DELIVERED, FAILED, NEEDS_CONSTITUENT, QUEUED
from tests.delivery.conftest import SENATOR, add_messages, cwc_settings, message, run_worker
from tests.delivery.cwc_standin import CwcStandIn, check_document

SETTINGS = from_config(cwc_settings("http://cwc.invalid", "k")).cwc


def job(**changes: object) -> DeliveryJob:
    base = dict(
        message_id="0123456789abcdef0123456789abcdef", attempt=1, channel="cwc", chamber="house",
        bioguide="R000001", member_name="Rita Rep", member_title="Representative", state="CA", district=13,
        subject="Please act", suggested_text="Dear Representative Rep,\n\nPlease act.", constituent_text=None,
        edited=False, lang="en",
        sender=Sender(prefix="Ms.", first_name="Jane", last_name="Doe", email="jane@example.org",
                      address1="1 Main St", city="Oakland", state="CA", zip="94612", phone="5105550123"),
        campaign=CampaignInfo(slug="test-delivery", title="T", topics=("Health",),
                              bill=BillRef(119, "hr", 1234), house=ChannelOptions("cwc"),
                              senate=ChannelOptions()),
    )
    base.update(changes)
    return DeliveryJob(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize("state,district,office", [
    ("CA", 13, "HCA13"), ("AK", 0, "HAK00"), ("DC", 0, "HDC00"), ("PR", 0, "HPR00"), ("NY", 7, "HNY07"),
])
def test_member_office_is_h_state_two_digit_district(state: str, district: int, office: str) -> None:
    assert member_office(state, district) == office


def test_document_passes_the_stand_ins_checks_and_carries_the_message_id() -> None:
    document = build_document(job(), SETTINGS, date(2026, 11, 27))
    problems, root = check_document(document)
    assert problems == []
    assert root.findtext("Delivery/DeliveryId") == "0123456789abcdef0123456789abcdef"
    assert root.findtext("Delivery/DeliveryDate") == "20261127"
    assert root.findtext("Recipient/MemberOffice") == "HCA13"
    assert root.findtext("Constituent/Phone") == "510-555-0123"
    assert [b.findtext("BillNumber") for b in root.findall("Message/Bills/Bill")] == ["1234"]
    assert root.findtext("Message/Bills/Bill/BillTypeAbbreviation") == "hr"


def test_suggested_text_is_organization_statement_and_own_words_are_constituent_message() -> None:
    root = etree.fromstring(build_document(job(constituent_text="I lost my brother."), SETTINGS,
                                           date(2026, 1, 2)))
    assert root.findtext("Message/OrganizationStatement") == "Dear Representative Rep,\n\nPlease act."
    assert root.findtext("Message/ConstituentMessage") == "I lost my brother."


def test_an_edited_letter_travels_as_the_constituents_message_not_the_organisations() -> None:
    root = etree.fromstring(build_document(job(edited=True, suggested_text="Dear Rep,\n\nMy own version.",
                                               constituent_text="I lost my brother."),
                                           SETTINGS, date(2026, 1, 2)))
    assert root.find("Message/OrganizationStatement") is None
    assert root.findtext("Message/ConstituentMessage") == "Dear Rep,\n\nMy own version.\n\nI lost my brother."


def test_no_constituent_message_element_without_own_words() -> None:
    root = etree.fromstring(build_document(job(constituent_text=None), SETTINGS, date(2026, 1, 2)))
    assert root.find("Message/ConstituentMessage") is None


def test_markup_in_text_is_escaped_not_injected() -> None:
    evil = "</ConstituentMessage><Injected/>&amp; <b>bold</b> \x0b"
    root = etree.fromstring(build_document(job(constituent_text=evil), SETTINGS, date(2026, 1, 2)))
    assert root.find(".//Injected") is None
    assert root.findtext("Message/ConstituentMessage") == evil.replace("\x0b", "")


@pytest.mark.parametrize("changes,reason", [
    ({"message_id": "not-an-id"}, "DeliveryId"),
    ({"sender": Sender("Mx.", "J", "D", "j@example.org", "1 St", "C", "CA", "94612", None)}, "prefixes"),
    ({"sender": Sender("Mr.", "J", "D", None, "1 St", "C", "CA", "94612", None)}, "e-mail"),
    ({"suggested_text": None, "constituent_text": None}, "no text"),
])
def test_document_refuses_what_cwc_would_reject(changes: dict[str, object], reason: str) -> None:
    with pytest.raises(PermanentFailure, match=reason):
        build_document(job(**changes), SETTINGS, date(2026, 1, 2))


def test_redact_hides_the_key_in_urls_and_anywhere_else() -> None:
    text = "HTTPConnectionPool: Max retries exceeded with url: /v2/message?apikey=SeCrEt&x=1 (SeCrEt)"
    assert "SeCrEt" not in redact(text, ["SeCrEt"])
    assert "apikey=REDACTED" in redact(text)


def test_house_message_is_delivered_once_with_a_valid_document(app: Flask, cwc_server: CwcStandIn) -> None:
    [mid] = add_messages(app)

    run_worker(app)

    assert cwc_server.ids() == [mid]
    assert cwc_server.received[0].problems == ()
    assert cwc_server.received[0].office == "HCA13"
    assert cwc_server.accepted == {mid: 1}
    stored = message(app, mid)
    assert (stored.status, stored.attempts) == (DELIVERED, 1)


def test_server_error_is_retried_with_the_same_delivery_id(app: Flask, cwc_server: CwcStandIn) -> None:
    [mid] = add_messages(app)
    cwc_server.mode = "500"
    run_worker(app, )  # backoff 0: retries until the attempts run out
    assert message(app, mid).status == FAILED
    assert "HTTP 500" in message(app, mid).last_error
    assert cwc_server.ids() == [mid] * 3


def test_endpoint_recovering_delivers_on_a_later_attempt(app: Flask, cwc_server: CwcStandIn) -> None:
    from actiontool.delivery.worker import Worker

    app.config["DELIVERY_BACKOFF_SECONDS"] = 0.0
    [mid] = add_messages(app)
    worker = Worker(app)
    cwc_server.mode = "429"
    worker.step()
    assert message(app, mid).status == QUEUED
    cwc_server.mode = "ok"
    worker.step()

    assert message(app, mid).status == DELIVERED
    assert cwc_server.ids() == [mid, mid]
    assert cwc_server.accepted == {mid: 1}


def test_hanging_endpoint_times_out_and_is_retried(app: Flask, cwc_server: CwcStandIn) -> None:
    from actiontool.delivery.worker import Worker

    cwc_server.mode = "hang"
    [mid] = add_messages(app)
    Worker(app).step()

    stored = message(app, mid)
    assert stored.status == QUEUED and stored.attempts == 1
    assert "did not answer within 1 s" in stored.last_error


@pytest.mark.parametrize("mode,reason", [
    ("error", "Message delivery is not enabled for HCA13"),
    ("400", "HTTP 400"),
])
def test_cwc_refusal_fails_at_once_with_the_reason(app: Flask, cwc_server: CwcStandIn, mode: str,
                                                    reason: str) -> None:
    cwc_server.mode = mode
    [mid] = add_messages(app)

    run_worker(app)

    stored = message(app, mid)
    assert (stored.status, stored.attempts) == (FAILED, 1)
    assert reason in stored.last_error


def test_api_key_never_reaches_logs_or_the_database(app: Flask, cwc_server: CwcStandIn,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    from tests.delivery.conftest import free_port

    caplog.set_level(logging.DEBUG)
    app.config["CWC_BASE_URL"] = f"http://127.0.0.1:{free_port()}"  # nothing listens: a connection error
    app.config["DELIVERY_BACKOFF_SECONDS"] = 60.0
    [mid] = add_messages(app)

    run_worker(app)

    stored = message(app, mid)
    assert stored.status == QUEUED and "cannot reach CWC" in stored.last_error
    assert cwc_server.api_key not in stored.last_error
    assert cwc_server.api_key not in caplog.text
    assert "apikey=REDACTED" in stored.last_error


def test_api_key_stays_out_of_debug_logs_of_a_successful_delivery(app: Flask, cwc_server: CwcStandIn,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    add_messages(app)

    run_worker(app)

    assert "/v2/message" in caplog.text  # the request line was logged...
    assert cwc_server.api_key not in caplog.text  # ...without the key


def test_senators_are_handed_off_without_a_senate_endpoint(app: Flask, cwc_server: CwcStandIn) -> None:
    [mid] = add_messages(app, members=(SENATOR,), channels={"house": "cwc", "senate": "cwc"})

    run_worker(app)

    stored = message(app, mid)
    assert stored.status == NEEDS_CONSTITUENT
    assert "Senate" in stored.last_error
    assert cwc_server.received == []


def test_cwc_not_configured_hands_the_letter_back(app: Flask, cwc_server: CwcStandIn) -> None:
    app.config["CWC_API_KEY"] = None
    [mid] = add_messages(app)

    run_worker(app)

    assert message(app, mid).status == NEEDS_CONSTITUENT
    assert "ACTIONTOOL_CWC_API_KEY" in message(app, mid).last_error
    assert cwc_server.received == []


def test_cwc_validate_command_sends_a_sample_to_validate(app: Flask, cwc_server: CwcStandIn) -> None:
    result = app.test_cli_runner().invoke(main, ["cwc", "validate", "--campaign", "test-delivery"])

    assert result.exit_code == 0, result.output
    assert "valid" in result.output
    assert [r.path for r in cwc_server.received] == ["/v2/validate"]
    assert cwc_server.received[0].problems == ()


def test_cwc_validate_command_reports_errors(app: Flask, cwc_server: CwcStandIn) -> None:
    cwc_server.mode = "error"
    result = app.test_cli_runner().invoke(main, ["cwc", "validate", "--campaign", "test-delivery"])

    assert result.exit_code == 1
    assert "not valid" in result.output and "not enabled" in result.output
    assert cwc_server.api_key not in result.output


def test_cwc_validate_command_rejects_an_unknown_campaign(app: Flask) -> None:
    result = app.test_cli_runner().invoke(main, ["cwc", "validate", "--campaign", "nope"])
    assert result.exit_code == 2
    assert "no campaign 'nope'" in result.output
