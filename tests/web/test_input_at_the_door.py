"""Bad input stopped at the door (issue 13 findings 5 and 10), on SQLite and PostgreSQL.

- One person, one action: Unicode variants of one e-mail address (NFC and NFD, a domain in Unicode or in
  IDNA, upper and lower case) are one constituent; the address is stored in its canonical form.
- A control character in any path segment (a slug, a receipt token, a message id, an organizer page before
  sign-in) gets 400, never a 500 from PostgreSQL and never a stored NUL on SQLite.
"""

from __future__ import annotations

import unicodedata

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from actiontool import db
from actiontool.models import Action, AuditEvent, Message
from actiontool.services.submit import constituent_key
from tests.web.flow_helpers import SLUG, count, send

NFC = unicodedata.normalize("NFC", "josé@example.org")
NFD = unicodedata.normalize("NFD", "josé@example.org")


@pytest.mark.parametrize(("first", "second"), [
    (NFC, NFD),
    ("ana@exämple.org", "ana@xn--exmple-cua.org"),
    ("Ana@EXÄMPLE.org", "ana@exämple.org"),
    (" ana@example.org ", "ANA@example.org"),
])
def test_variants_of_one_address_are_one_action(app: Flask, client: FlaskClient, first: str,
                                                second: str) -> None:
    assert first != second
    assert send(client, email=first).status_code == 303
    messages = count(app, Message)
    again = send(client, email=second)
    assert again.status_code in (200, 303)
    assert count(app, Action) == 1 and count(app, Message) == messages
    assert constituent_key(first) == constituent_key(second)


def test_the_address_is_stored_in_its_canonical_form(app: Flask, client: FlaskClient) -> None:
    assert send(client, email=unicodedata.normalize("NFD", "José@Exämple.ORG")).status_code == 303
    with app.app_context():
        stored = db.get_session().execute(select(Action.email)).scalar_one()
    assert stored == "José@xn--exmple-cua.org"  # NFC, the domain in IDNA and lower case, the local part kept


def test_an_address_email_validator_refuses_gets_the_field_message(client: FlaskClient, app: Flask) -> None:
    response = send(client, email="ana@exa mple.org")
    assert response.status_code == 422
    assert "Enter an e-mail address like name@example.com." in response.get_data(as_text=True)
    assert count(app, Action) == 0


@pytest.mark.parametrize("path", [
    "/r/abc%00def", "/r/abc%0Adef", f"/c/{SLUG}%00", f"/c/{SLUG}%1b/members?zip=53001",
    "/organizer/c/x%00/delivery", "/organizer/c/x%7f/delivery", "/api/v1/members/OH%00-3",
    "/organizer/c/x/offices/A00%000/packets/1%00",
])
def test_a_control_character_in_a_path_is_a_400(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 400, (path, response.status_code)


@pytest.mark.parametrize("path", ["/r/x%00/sent/y%00", "/r/x/sent/y%0D%0A", f"/c/{SLUG}%00/send",
                                  "/organizer/c/x%00/messages/y%00/retry",
                                  "/organizer/c/x%00/delivery/retry"])
def test_a_control_character_in_a_posted_path_is_a_400_and_writes_nothing(app: Flask, client: FlaskClient,
                                                                         path: str) -> None:
    response = client.post(path, data={"first_name": "Ana"})
    assert response.status_code == 400
    assert count(app, AuditEvent) == 0 and count(app, Action) == 0


@pytest.mark.parametrize("email", ["org\x00@example.org", "org\x1b[31m@example.org",
                                   "org@example.org\r\nX: y"])
def test_sign_in_with_control_characters_is_refused_before_anything_is_written(
        app: Flask, client: FlaskClient, email: str) -> None:
    response = client.post("/organizer/login", data={"email": email, "password": "x" * 12})
    assert response.status_code == 400
    assert count(app, AuditEvent) == 0


def test_a_query_string_with_a_control_character_is_refused(client: FlaskClient) -> None:
    assert client.get(f"/c/{SLUG}/members?zip=53001%1b").status_code == 400
    assert client.get(f"/c/{SLUG}/members?zip=53001&ref=a%09b").status_code == 400
