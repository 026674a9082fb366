"""A hand-off that finishes: each card leads from the letter to the office (form, site, official page,
phone, switchboard), progress counts what was sent, and "I sent it" can be taken back (issue 10, sec. 2)."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from actiontool import db
from actiontool.models import FAILED, HANDED_OFF, LEFT_OFFICE, NEEDS_CONSTITUENT, STATUSES, Action, Message
from actiontool.services import counts
from actiontool.services.outbox import set_status
from actiontool.services.transaction import transaction
from tests.delivery.conftest import SmtpSink, run_worker, smtp_server  # noqa: F401 (a fixture)
from tests.web.flow_helpers import GOOD, SLUG, compose, form_fields, page, rows, send, text_of

HOUSE_FIND = "https://www.house.gov/representatives/find-your-representative"
SENATE_FIND = "https://www.senate.gov/senators/senators-contact.htm"


def receipt_of(client: FlaskClient, zip_code: str = "53001", **changes: str) -> str:
    """Write the letters for `zip_code` and return the receipt's path."""
    response = send(client, zip_code, **changes)
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"]


def card(response: Any, name: str) -> Any:
    """Return the receipt card of the member whose heading contains `name`."""
    [found] = page(response).xpath(f"//li[contains(@class, 'message')][.//h2[contains(., '{name}')]]")
    return found


def card_text(response: Any, name: str) -> str:
    return " ".join(card(response, name).text_content().split())


def post_button(client: FlaskClient, response: Any, name: str, path_part: str) -> Any:
    [action] = card(response, name).xpath(f".//form[contains(@action, '/{path_part}/')]/@action")
    return client.post(action)


def statuses(app: Flask) -> dict[str, str]:
    return {m.bioguide: m.status for m in rows(app)[1]}


def assert_counts_exact(app: Flask) -> None:
    """The campaign's roll-up equals a recount of the messages themselves."""
    with app.app_context():
        session = db.get_session()
        totals = counts.campaign_totals(session, SLUG)
        recount = Counter(session.execute(select(Message.status)).scalars())
    assert {s: totals[s] for s in STATUSES} == {s: recount.get(s, 0) for s in STATUSES}


def test_card_gives_letter_then_form_then_call_script_then_i_sent_it(client: FlaskClient) -> None:
    receipt = client.get(receipt_of(client))
    walt = card(receipt, "Walt Junior")  # the tiny dataset gives him a contact form
    order = [el for el in walt.iter() if el.tag in ("textarea", "a", "blockquote", "button")]
    kinds = [("letter" if el.tag == "textarea" else "copy" if el.get("data-copy") else
              "form" if el.get("href") == "https://x.example" else
              "phone" if (el.get("href") or "").startswith("tel:") else
              "script" if el.tag == "blockquote" else
              "sent" if el.text_content().strip() == "I sent it" else None) for el in order]
    kinds = [k for k in kinds if k]
    assert kinds == ["letter", "copy", "form", "phone", "script", "sent"]
    [form_link] = walt.xpath(".//a[@href='https://x.example']")
    assert "Open the office’s form" in form_link.text_content()
    assert form_link.get("target") == "_blank" and form_link.get("rel") == "noopener"


def test_call_script_says_who_where_and_the_campaigns_ask_not_the_subject(client: FlaskClient) -> None:
    receipt = client.get(receipt_of(client))
    [script] = card(receipt, "Walt Junior").xpath(".//blockquote[contains(@class, 'script')]")
    said = " ".join(script.text_content().split())
    assert said.startswith("“Hello, my name is Ana Díaz and I live in Madison, WI.")
    assert "I am calling to ask Senator Walt Junior to support this: " in said
    assert 'Pass the "Detect and Defeat" proposal to stop fentanyl' in said
    assert "Please pass the" not in said  # the e-mail subject line is not something to say aloud


def test_member_without_a_form_gets_their_site_and_the_chambers_official_page(client: FlaskClient) -> None:
    receipt = client.get(receipt_of(client))
    rita = card(receipt, "Rita One")
    assert rita.xpath("//a[@href='https://one.example.gov']")
    assert rita.xpath(f".//a[@href='{HOUSE_FIND}'][@rel='noopener']")
    assert not rita.xpath(f".//a[@href='{SENATE_FIND}']")
    wanda = card(receipt, "Wanda Senior")
    assert wanda.xpath(f".//a[@href='{SENATE_FIND}']") and not wanda.xpath(f".//a[@href='{HOUSE_FIND}']")
    assert not card(receipt, "Walt Junior").xpath(f".//a[@href='{SENATE_FIND}']")  # he has a form


def test_member_with_no_phone_site_or_form_is_never_a_dead_end(client: FlaskClient) -> None:
    receipt = client.get(receipt_of(client, "96910", city="Hagatna"))
    assert receipt.status_code == 200
    gus = card(receipt, "Gus Island")
    text = card_text(receipt, "Gus Island")
    assert gus.xpath(f".//a[@href='{HOUSE_FIND}']")
    assert gus.xpath(".//a[@href='tel:202-224-3121']")
    assert ("Call the Capitol switchboard at 202-224-3121 and ask for the office of Delegate Gus Island."
            in text)
    assert "I live in Hagatna, GU" in text
    assert "Next steps" not in text_of(receipt)  # no heading with nothing under it
    assert gus.xpath(".//button[normalize-space()='I sent it']")


def test_progress_counts_sent_letters_and_ends_in_a_done_state(app: Flask, client: FlaskClient) -> None:
    location = receipt_of(client)
    receipt = client.get(location)
    assert "0 of 3 letters sent" in text_of(receipt)
    assert "Not sent yet: 3 letters wait for you to send them yourself" in text_of(receipt)
    for name, sent in (("Rita One", 1), ("Wanda Senior", 2)):
        answer = post_button(client, receipt, name, "sent")
        receipt = client.get(answer.headers["Location"])
        assert f"{sent} of 3 letters sent" in text_of(receipt)
    assert "Not sent yet: one letter waits for you" in text_of(receipt)
    answer = post_button(client, receipt, "Walt Junior", "sent")
    receipt = client.get(answer.headers["Location"])
    text = text_of(receipt)
    assert "3 of 3 letters sent" in text
    assert "All your letters are sent. Thank you for speaking up!" in text
    assert "Not sent yet" not in text and "One more step" not in text
    doc = page(receipt)
    assert doc.xpath("//div[@id='progress']/following-sibling::section[contains(@class, 'share')]")
    assert doc.xpath("//input[@id='share-url']/@value") == [f"http://localhost/c/{SLUG}"]
    assert set(statuses(app).values()) == {HANDED_OFF}
    assert_counts_exact(app)


def end_as_left_office(app: Flask, bioguide: str) -> None:
    """End one letter as the worker does when its member has left office."""
    with app.app_context():
        session = db.get_session()
        message = session.execute(select(Message).where(Message.bioguide == bioguide)).scalar_one()
        with transaction(session):
            set_status(session, message, FAILED, last_error=LEFT_OFFICE)


def test_a_letter_to_a_member_who_left_office_says_so_and_asks_nothing(app: Flask,
                                                                         client: FlaskClient) -> None:
    location = receipt_of(client)
    end_as_left_office(app, "S000001")
    receipt = client.get(location)
    text = text_of(receipt)
    assert "0 of 2 letters sent" in text
    assert "One letter was not sent because its member has left office." in text
    left = card_text(receipt, "Wanda Senior")
    assert "Not sent: this member has left office" in left
    assert "nothing for you to do" in left
    assert not card(receipt, "Wanda Senior").xpath(".//form") and "I sent it" not in left
    for name in ("Rita One", "Walt Junior"):
        receipt = client.get(post_button(client, receipt, name, "sent").headers["Location"])
    text = text_of(receipt)
    assert "2 of 2 letters sent" in text
    assert "All your letters are sent. Thank you for speaking up!" in text
    assert_counts_exact(app)


def test_each_button_comes_back_to_its_card(client: FlaskClient) -> None:
    receipt = client.get(receipt_of(client))
    message_id = card(receipt, "Rita One").get("id").removeprefix("m-")
    answer = post_button(client, receipt, "Rita One", "sent")
    assert answer.status_code == 303 and answer.headers["Location"].endswith(f"#m-{message_id}")
    again = client.get(answer.headers["Location"])
    rita = card(again, "Rita One")
    assert rita.get("tabindex") == "-1"  # focusable, so the anchor moves keyboard focus to it
    undo = post_button(client, again, "Rita One", "unsent")
    assert undo.status_code == 303 and undo.headers["Location"].endswith(f"#m-{message_id}")


def test_undo_puts_the_letter_back_to_waiting_and_keeps_counts_exact(app: Flask, client: FlaskClient) -> None:
    receipt = client.get(receipt_of(client))
    answer = post_button(client, receipt, "Rita One", "sent")
    receipt = client.get(answer.headers["Location"])
    assert "We recorded that you sent it." in card_text(receipt, "Rita One")
    assert not card(receipt, "Rita One").xpath(".//button[normalize-space()='I sent it']")
    assert_counts_exact(app)

    undo = post_button(client, receipt, "Rita One", "unsent")
    receipt = client.get(undo.headers["Location"])
    assert "Undone: this letter is marked as not sent yet." in card_text(receipt, "Rita One")
    assert "0 of 3 letters sent" in text_of(receipt)
    assert card(receipt, "Rita One").xpath(".//button[normalize-space()='I sent it']")
    assert statuses(app)["R000001"] == NEEDS_CONSTITUENT
    assert all(m.handed_off_at is None for m in rows(app)[1])
    assert_counts_exact(app)
    assert client.post(_undo_path(receipt, "Rita One")).status_code == 303  # undoing twice is harmless
    assert statuses(app)["R000001"] == NEEDS_CONSTITUENT


def _undo_path(receipt: Any, name: str) -> str:
    """Return the undo address of a waiting letter (built like the page builds it): undoing it is harmless."""
    [sent] = card(receipt, name).xpath(".//form[contains(@action, '/sent/')]/@action")
    return sent.replace("/sent/", "/unsent/")


def test_undo_needs_the_receipt_token_of_that_letter(app: Flask, client: FlaskClient) -> None:
    mine = client.get(receipt_of(client))
    theirs = client.get(receipt_of(app.test_client(), email="someone.else@example.com"))
    answer = post_button(client, mine, "Rita One", "sent")
    assert answer.status_code == 303
    my_token = re.search(r"/r/([^/?#]+)", answer.headers["Location"]).group(1)  # type: ignore[union-attr]
    my_id = card(mine, "Rita One").get("id").removeprefix("m-")
    their_id = card(theirs, "Rita One").get("id").removeprefix("m-")
    assert client.post(f"/r/not-a-real-token/unsent/{my_id}").status_code == 404
    assert client.post(f"/r/{my_token}/unsent/{their_id}").status_code == 404
    assert client.post(f"/r/{my_token}/unsent/no-such-message").status_code == 404
    assert client.get(f"/r/{my_token}/unsent/{my_id}").status_code == 405  # a change only by POST
    assert sorted(statuses_by_email(app).items()) == [
        ("ana@example.com", [HANDED_OFF, NEEDS_CONSTITUENT, NEEDS_CONSTITUENT]),
        ("someone.else@example.com", [NEEDS_CONSTITUENT] * 3)]


def statuses_by_email(app: Flask) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    with app.app_context():
        for email, status in db.get_session().execute(
                select(Action.email, Message.status).join(Message).order_by(Message.status)):
            found.setdefault(email.lower(), []).append(status)
    return found


class TestWithCsrf:
    @pytest.fixture
    def app_config(self, app_config: dict[str, Any]) -> dict[str, Any]:
        return {**app_config, "WTF_CSRF_ENABLED": True}

    def test_undo_without_the_form_token_changes_nothing(self, app: Flask, client: FlaskClient) -> None:
        _doc, fields = compose(client)
        location = client.post(f"/c/{SLUG}/send", data={**fields, **GOOD, "send": "1"}).headers["Location"]
        receipt = client.get(location)
        [sent] = card(receipt, "Rita One").xpath(".//form[contains(@action, '/sent/')]")
        token = form_fields(page(receipt), "/sent/")["csrf_token"]
        assert client.post(sent.get("action"), data={"csrf_token": token}).status_code == 303
        undo = sent.get("action").replace("/sent/", "/unsent/")
        assert client.post(undo).status_code == 400
        assert statuses(app)["R000001"] == HANDED_OFF
        assert client.post(undo, data={"csrf_token": token}).status_code == 303
        assert statuses(app)["R000001"] == NEEDS_CONSTITUENT


def test_spanish_receipt_has_the_steps_in_spanish(client: FlaskClient) -> None:
    receipt = client.get(receipt_of(client) + "?lang=es")
    text = card_text(receipt, "Walt Junior")
    assert "Abrir el formulario de la oficina" in text
    assert "Hola, me llamo Ana Díaz y vivo en Madison, WI." in text
    assert "Ya la envié" in text
    assert "0 de 3 cartas enviadas" in text_of(receipt)


# -- writing again from another browser -----------------------------------------------------------------

def test_repeat_without_email_configured_does_not_claim_letters_are_on_their_way(app: Flask,
                                                                                client: FlaskClient) -> None:
    send(client)
    response = send(app.test_client(), email="ana@example.com")
    text = text_of(response)
    assert "You already wrote to these members" in text
    assert "on their way" not in text
    assert not page(response).xpath("//form[contains(@action, '/receipt-link')]")
    refused = app.test_client().post(f"/c/{SLUG}/receipt-link", data={"email": "ana@example.com"})
    assert refused.status_code == 404


class TestReceiptLinkAgain:
    @pytest.fixture
    def app_config(self, app_config: dict[str, Any], smtp_server: SmtpSink) -> dict[str, Any]:  # noqa: F811
        return {**app_config, "SMTP_HOST": smtp_server.host, "SMTP_PORT": smtp_server.port,
                "SMTP_TLS": "none", "MAIL_FROM": "letters@act.example.org", "BASE_URL": "https://act.example.org"}

    def test_repeat_offers_the_receipt_link_by_email_to_that_address_only(
            self, app: Flask, client: FlaskClient, smtp_server: SmtpSink) -> None:  # noqa: F811
        token = receipt_of(client).removeprefix("/r/")
        other = app.test_client()
        repeat = send(other, email="ANA@example.com ")
        [form] = page(repeat).xpath("//form[contains(@action, '/receipt-link')]")
        assert form.xpath(".//input[@name='email']/@type") == ["hidden"]
        answer = other.post(form.get("action"), data={"email": "ANA@example.com"})
        assert answer.status_code == 200
        assert "we are sending the link to your receipt to that address" in text_of(answer)
        assert token not in answer.get_data(as_text=True)
        stranger = other.post(form.get("action"), data={"email": "nobody@example.com"})
        assert stranger.status_code == 200 and "we are sending the link" in text_of(stranger)  # same answer
        run_worker(app)
        mails = smtp_server.messages  # hand-off letters are not e-mailed: only the receipt is
        assert [m["To"] for m in mails] == ["Ana@example.com"]  # the canonical form: domain lower-cased
        body = mails[0].get_content()
        assert f"https://act.example.org/r/{token}" in body
        assert "Representative Rita One: not sent yet: waiting for you to send it" in body
        assert "3 letters are not sent yet: please send them yourself." in body


class TestReceiptLinkLimited:
    @pytest.fixture
    def app_config(self, app_config: dict[str, Any]) -> dict[str, Any]:
        return {**app_config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": 2525, "MAIL_FROM": "x@example.org",
                "RATELIMIT_ENABLED": True, "RATELIMIT_SUBMIT": "50/minute",
                "RATELIMIT_SUBMIT_EMAIL": "2/hour"}

    def test_receipt_link_requests_are_rate_limited_per_address(self, app: Flask) -> None:
        client = app.test_client()
        post = lambda email: client.post(f"/c/{SLUG}/receipt-link", data={"email": email})  # noqa: E731
        assert [post("ana@example.com").status_code for _ in range(3)] == [200, 200, 429]
        assert post("other@example.com").status_code == 200
