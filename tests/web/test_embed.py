"""The public count (`/api/v1/campaigns/<slug>/count`) and the embed show messages written, not failed."""

from __future__ import annotations

from datetime import date

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from actiontool import db
from actiontool.models import FAILED, NEEDS_CONSTITUENT, SENDING, Message
from actiontool.services.outbox import set_status
from tests.factories import MEMBERS, write_submission

SLUG = "detect-and-defeat"
OHIO_HOUSE = [m for m in MEMBERS if m.state == "OH" and m.chamber == "house"]


def write_six_messages_one_failed(app: Flask) -> None:
    """Write two Ohio constituents' letters (three each), then fail one and hold two others mid-way."""
    with db.session_scope(app) as s:
        for email, house in [("a@example.org", OHIO_HOUSE[0]), ("b@example.org", OHIO_HOUSE[1])]:
            write_submission(s, SLUG, email, house, day=date(2026, 3, 2), ref=None)
        messages = s.execute(select(Message).order_by(Message.id)).scalars().all()
        assert len(messages) == 6
        for message, status in zip(messages, [FAILED, SENDING, NEEDS_CONSTITUENT], strict=False):
            set_status(s, message, status)
        s.commit()


def test_public_count_leaves_out_failed_messages(client: FlaskClient, app: Flask) -> None:
    write_six_messages_one_failed(app)
    body = client.get(f"/api/v1/campaigns/{SLUG}/count").get_json()
    assert (body["messages"], body["actions"]) == (5, 2)


def test_embed_counter_leaves_out_failed_messages(client: FlaskClient, app: Flask) -> None:
    write_six_messages_one_failed(app)
    html = client.get(f"/embed/{SLUG}").get_data(as_text=True)
    assert 'id="embed-messages">5<' in html
