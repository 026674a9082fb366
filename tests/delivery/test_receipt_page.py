"""The receipt page tells the truth about delivery: when it was accepted, retries, and failures."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from actiontool.models import Action
from tests.delivery.conftest import add_messages, run_worker
from tests.delivery.cwc_standin import CwcStandIn


def receipt_html(app: Flask) -> str:
    from actiontool.db import session_factory

    with session_factory(app)() as session:
        token = session.execute(select(Action.receipt_token)).scalar_one()
    response = app.test_client().get(f"/r/{token}", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_delivered_message_shows_when_the_office_accepted_it(app: Flask, cwc_server: CwcStandIn) -> None:
    add_messages(app)
    run_worker(app)

    html = receipt_html(app)
    assert "Delivered to the office" in html
    assert "Accepted by the office’s system on" in html


def test_failed_message_tells_the_constituent_what_to_do(app: Flask, cwc_server: CwcStandIn) -> None:
    cwc_server.mode = "error"
    add_messages(app)
    run_worker(app)

    html = receipt_html(app)
    assert "Delivery failed" in html
    assert "We could not deliver this letter" in html


def test_retrying_message_says_so(app: Flask, cwc_server: CwcStandIn) -> None:
    app.config["DELIVERY_BACKOFF_SECONDS"] = 600.0
    cwc_server.mode = "500"
    add_messages(app)
    run_worker(app)

    html = receipt_html(app)
    assert "Queued for delivery" in html
    assert "We will keep trying automatically" in html


def test_letter_handed_back_for_lack_of_configuration_is_explained(app: Flask) -> None:
    app.config["CWC_API_KEY"] = None
    add_messages(app)
    run_worker(app)

    html = receipt_html(app)
    assert "Waiting for you to send it" in html
    assert "We cannot deliver this letter to this office ourselves right now" in html
