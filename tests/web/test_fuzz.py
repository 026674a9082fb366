"""Hostile input on the public compose form and every organizer query string: answered, never a 5xx.

Hypothesis draws values from a list of known troublemakers (NUL, CR/LF, right-to-left marks, emoji,
non-ASCII digits, very long strings) mixed with arbitrary text and with valid values, so that the deeper
code paths behind the checks are reached too. Bounded to a few dozen examples per endpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actiontool.models import Action
from actiontool.services import stats
from tests.web.flow_helpers import GOOD, SLUG, compose, count
from tests.web.organizer.test_organizer_web import fill

NASTY = [
    "", " ", "\x00", "a\x00b", "53001\x00", "\r\n", "x\r\nSet-Cookie: a=b", "\t", "\x1b[31m",
    "\u202eRTL\u202c", "\u200f\u05e9\u05dc\u05d5\u05dd", "\U0001f44d\U0001f3fd",
    "\U0001f3f3\ufe0f\u200d\U0001f308" * 30, "\u00b2", "\u0663", "\uff11\uff12", "-1", "0", "+1", "1e9",
    "1.5", "9" * 40, "x" * 5000, "\u00e9" * 2000, "%", "%00", "../../etc/passwd", "<script>alert(1)</script>",
    "' OR 1=1 --", "{{ 7*7 }}", "=1+1", "null", "[]", "2026-02-30", "2026-13-01", "99999-01-01", "0001-01-01",
]
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)  # lone surrogates cannot be sent


def values(*valid: str) -> st.SearchStrategy[str]:
    """Return a strategy mixing nasty strings, arbitrary text and the parameter's valid values."""
    choices = [st.sampled_from(NASTY), TEXT]
    if valid:
        choices.append(st.sampled_from(valid))
    return st.one_of(*choices)


QUERY = {
    "from": values("2026-03-01", "2026-03-02"),
    "to": values("2026-03-03", "2026-03-02"),
    "state": values("OH", "wi"),
    "district": values("OH-3", "AK-AL", "WI-1"),
    "ref": values("ohio-parents", stats.NO_REF),
    "channel": values(*stats.CHANNELS),
    "status": values(*stats.STATUSES),
    "page": values("1", "2", "100000", "100001"),
    "sort": values(*stats.SORTS),
    "dir": values("asc", "desc"),
    "table": values(*stats.DIMENSIONS),
    "by": values(*stats.DIMENSIONS),
    "personal": values("1"),
    "bioguide": values("R000001", "r000001"),
    "lang": values("en", "es"),
    "next": values("/organizer/audit", "//evil.example"),
}
ORGANIZER_URLS = [
    "/organizer/", f"/organizer/c/{SLUG}", f"/organizer/c/{SLUG}/delivery", "/organizer/audit",
    f"/organizer/c/{SLUG}/offices", f"/organizer/c/{SLUG}/offices/report", f"/organizer/c/{SLUG}/export.csv",
    f"/organizer/c/{SLUG}/actions.csv", "/organizer/login",
]
FORM_FIELDS = ["prefix", "first_name", "last_name", "email", "address1", "city", "zip", "phone",
               "personal_message", "suggested_text", "wants_receipt", "district", "letter_lang", "ref",
               "lookup_zip", "preview"]
FORM_VALID = {"zip": ("53001",), "lookup_zip": ("53001",), "district": ("WI-1",), "email": ("a@example.org",),
              "letter_lang": ("en", "es"), "preview": ("1",), "phone": ("608-555-0123",)}
FUZZ = settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("url", ORGANIZER_URLS)
def test_organizer_query_strings_never_get_a_server_error(signed_in: FlaskClient, app: Flask,
                                                          writer: Callable[..., int], url: str) -> None:
    fill(app, writer)

    @given(args=st.dictionaries(st.sampled_from(sorted(QUERY)), st.just(None), max_size=6).flatmap(
        lambda keys: st.fixed_dictionaries({k: QUERY[k] for k in keys})))
    @FUZZ
    def run(args: dict[str, str]) -> None:
        response = signed_in.get(url, query_string=args)
        response.get_data()  # exports stream: a failure would surface only while reading
        assert response.status_code < 500, (url, args)

    run()


def test_the_compose_form_never_gets_a_server_error(client: FlaskClient) -> None:
    _doc, fields = compose(client)
    base = {**fields, **GOOD, "send": "1"}

    fields_to_change = st.dictionaries(st.sampled_from(FORM_FIELDS), st.just(None), min_size=1, max_size=5)

    @given(changes=fields_to_change.flatmap(
        lambda keys: st.fixed_dictionaries({k: values(*FORM_VALID.get(k, ())) for k in keys})))
    @FUZZ
    def run(changes: dict[str, str]) -> None:
        response = client.post(f"/c/{SLUG}/send", data={**base, **changes})
        assert response.status_code < 500, changes

    run()


def test_the_fuzzed_values_reach_past_the_checks(signed_in: FlaskClient, app: Flask,
                                                 writer: Callable[..., int]) -> None:
    """The valid values in the strategies are really valid: otherwise the fuzz would test only refusals."""
    fill(app, writer)
    args: dict[str, Any] = {"from": "2026-03-01", "to": "2026-03-03", "state": "OH",
                            "ref": "ohio-parents", "sort": "key", "dir": "asc", "table": "district"}
    assert signed_in.get(f"/organizer/c/{SLUG}", query_string=args).status_code == 200
    export = signed_in.get(f"/organizer/c/{SLUG}/export.csv", query_string={**args, "by": "day"})
    assert export.status_code == 200 and "2026-03-02" in export.get_data(as_text=True)


def test_a_nul_character_is_refused_before_it_reaches_the_database(app: Flask, client: FlaskClient) -> None:
    """Found by the fuzz test: PostgreSQL refused the row and the form answered 500."""
    _doc, fields = compose(client)
    # A field the form checks itself names the problem next to it; any other field gets a plain 400.
    response = client.post(f"/c/{SLUG}/send", data={**fields, **GOOD, "send": "1", "first_name": "A\x00na"})
    assert response.status_code == 422
    response = client.post(f"/c/{SLUG}/send", data={**fields, **GOOD, "send": "1", "ref": "a\x00b"})
    assert response.status_code == 400
    assert count(app, Action) == 0
    assert client.get(f"/c/{SLUG}/members?zip=53001%00").status_code == 400
    api = client.get("/api/v1/lookup?zip=53001%00")
    assert api.status_code == 400 and "NUL" in api.get_json()["error"]["message"]
    login = {"email": "org\x00@example.org", "password": "x"}
    assert client.post("/organizer/login", data=login).status_code == 400
    assert client.post(f"/c/{SLUG}/send", data={**fields, **GOOD, "send": "1"}).status_code == 303
