"""Issue 13's fuzz test: NUL, CR/LF, RTL, emoji, NFD and IDNA input in every form field and every path.

On SQLite and PostgreSQL: no 5xx, no control character stored anywhere (line breaks and tabs only in the
multi-line texts), and one action per normalised e-mail address.
"""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import String, Text, select

from actiontool import db
from actiontool.addresses import email_key_text
from actiontool.models import Action, AuditEvent, Message
from tests.web.flow_helpers import GOOD, SLUG, compose
from tests.web.test_fuzz import NASTY, TEXT

# Unicode troublemakers for addresses and names on top of test_fuzz.NASTY.
TRICKY = [
    "\u202eevil\u202c", "\u200f\u05d0\u05d1\u05d2", "\U0001f600", "e\u0301",
    unicodedata.normalize("NFD", "José"),
    "a\r\nb", "a\nb", "a\rb", "a\x00b", "a\x1fb", "a\x7fb", "a\x85b", "\ufeff", "\u2028", "x" * 5000,
]
EMAILS = [
    "josé@example.org", unicodedata.normalize("NFD", "josé@example.org"), "JOSÉ@EXAMPLE.ORG",
    "ana@exämple.org", "ana@xn--exmple-cua.org", "Ana@EXÄMPLE.org", " ana@exämple.org ",
    "b@example.org", "B@Example.Org", "b@example.org\x00", "b@example.org\r\nBcc: x@evil.example",
    "\u202eb@example.org", "b\U0001f600@example.org", "@example.org", "b@", "b@xn--", "b@-example.org",
]
FIELDS = ["prefix", "first_name", "last_name", "email", "address1", "city", "zip", "phone",
          "personal_message", "suggested_text", "district", "letter_lang", "ref", "lookup_zip"]
MULTI_LINE = {"personal_message", "suggested_text", "constituent_text", "detail"}
FUZZ = settings(max_examples=50, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def value() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(TRICKY), st.sampled_from(NASTY), st.sampled_from(EMAILS), TEXT)


def stored_control_characters(app: Flask) -> list[tuple[str, str, str]]:
    """Return (table, column, value) for every stored text holding a control character it must not."""
    found = []
    with db.session_scope(app) as s:
        for model in (Action, Message, AuditEvent):
            columns = [c for c in model.__table__.columns if isinstance(c.type, String | Text)]
            for row in s.execute(select(*columns)).all():
                for column, text in zip(columns, row, strict=True):
                    allowed = "\r\n\t" if column.name in MULTI_LINE else ""
                    if isinstance(text, str) and any(unicodedata.category(ch) == "Cc" and ch not in allowed
                                                     for ch in text):
                        found.append((model.__tablename__, column.name, text[:40]))
    return found


def test_every_form_field_answers_without_a_5xx_or_a_stored_control_character(app: Flask,
                                                                               client: FlaskClient) -> None:
    _doc, fields = compose(client)
    base = {**fields, **GOOD, "send": "1"}

    @given(changes=st.dictionaries(st.sampled_from(FIELDS), value(), min_size=1, max_size=4))
    @FUZZ
    def run(changes: dict[str, str]) -> None:
        response = client.post(f"/c/{SLUG}/send", data={**base, **changes})
        assert response.status_code < 500, changes
        email = changes.get("email", "a@example.org")
        receipt = client.post(f"/c/{SLUG}/receipt-link", data={"email": email})
        assert receipt.status_code < 500, changes

    run()
    assert stored_control_characters(app) == []


def test_one_action_per_normalised_address(app: Flask, client: FlaskClient) -> None:
    """Only the address varies (name and street stay): every variant of one address is one action."""
    _doc, fields = compose(client)
    base = {**fields, **GOOD, "send": "1"}

    @given(email=st.sampled_from(EMAILS))
    @FUZZ
    def run(email: str) -> None:
        assert client.post(f"/c/{SLUG}/send", data={**base, "email": email}).status_code < 500

    run()
    with db.session_scope(app) as s:
        emails = list(s.execute(select(Action.email)).scalars())
    keys = [email_key_text(e or "") for e in emails]
    assert len(keys) == len(set(keys)), emails  # one action per normalised address
    assert all(e == unicodedata.normalize("NFC", e.strip()) and e.split("@")[1].isascii() for e in emails)
    assert len(emails) <= 4  # josé@, ana@exämple.org, b@example.org and b😀@example.org (valid with SMTPUTF8)
    assert stored_control_characters(app) == []


def _paths(app: Flask) -> list[tuple[str, str, tuple[str, ...]]]:
    """Return (rule, method, arguments) of every route with a path argument, static files aside."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or not rule.arguments:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.rule, method, tuple(sorted(rule.arguments))))
    return found


def _url(rule: str, values: dict[str, str]) -> str:
    url = rule
    for name, text in values.items():
        for converter in (f"<{name}>", f"<path:{name}>"):
            url = url.replace(converter, quote(text, safe=""))
    return url


@pytest.mark.parametrize("signed", [False, True], ids=["anonymous", "organizer"])
def test_every_path_answers_without_a_5xx(app: Flask, client: FlaskClient, organizer: str,
                                          signed: bool) -> None:
    if signed:
        from tests.factories import PASSWORD

        login = client.post("/organizer/login", data={"email": organizer, "password": PASSWORD})
        assert login.status_code == 302
    routes = _paths(app)
    assert len(routes) >= 15  # every public, API and organizer route with an argument

    @given(route=st.sampled_from(routes), data=st.data())
    @settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def run(route: tuple[str, str, tuple[str, ...]], data: Any) -> None:
        rule, method, arguments = route
        values = {name: data.draw(st.one_of(st.sampled_from(TRICKY + NASTY + [SLUG, "1", "pdf"]), TEXT), name)
                  for name in arguments}
        url = _url(rule, values)
        response = client.open(url, method=method, data={"note": "x"} if method == "POST" else None)
        assert response.status_code < 500, (method, url)
        if any(unicodedata.category(ch) == "Cc" for text in values.values() for ch in text):
            assert response.status_code in (400, 404, 405), (method, url, response.status_code)

    run()
    assert stored_control_characters(app) == []
