"""The funnel: page views, ZIP lookups and letter forms counted from the public pages, against what was asked.

Every count is checked against the requests the test made (a brute-force tally of its own plan), on
SQLite and PostgreSQL, from one process and from two processes adding to the same rows.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from actiontool import db
from actiontool.services import funnel
from actiontool.web import funnel as web_funnel
from tests.factories import PASSWORD
from tests.web.flow_helpers import SLUG, send

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
CRAWLER = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
ROOT = Path(__file__).resolve().parents[2]


def person(client: FlaskClient) -> FlaskClient:
    """Make the client send a browser's User-Agent."""
    client.environ_base["HTTP_USER_AGENT"] = BROWSER
    return client


def stored(app: Flask, dim: str = "ref") -> dict[Any, dict[str, int]]:
    """Return the funnel as the dashboard reads it, after this process's counts are written."""
    web_funnel.flush(app)
    with db.session_scope(app) as s:
        return funnel.funnel_by(s, SLUG, dim)


def walk(client: FlaskClient, ref: str | None, *, views: int, exact: int, ambiguous: int, bad: int,
         sends: int, expected: Counter[tuple[str, str]], emails: list[str]) -> None:
    """Make requests as people do and tally what each should count under `ref`."""
    query = f"&ref={ref}" if ref else ""
    key = (ref or "").lower()  # refs are kept in lower case (one source however it is spelled)
    for _ in range(views):
        assert client.get(f"/c/{SLUG}?{query.lstrip('&')}").status_code == 200
        expected[(key, "views")] += 1
    for _ in range(exact):  # one lookup, and the letter form at once
        assert client.get(f"/c/{SLUG}/members?zip=53001{query}").status_code == 200
        expected[(key, "lookups")] += 1
        expected[(key, "forms")] += 1
    for _ in range(ambiguous):  # a lookup, the district choice, then the form: one lookup, one form
        assert client.get(f"/c/{SLUG}/members?zip=53002{query}").status_code == 200
        assert client.get(f"/c/{SLUG}/members?zip=53002&district=WI-1{query}").status_code == 200
        expected[(key, "lookups")] += 1
        expected[(key, "forms")] += 1
    for _ in range(bad):  # an unknown ZIP is shown the campaign page again: no step counted
        assert client.get(f"/c/{SLUG}/members?zip=99999{query}").status_code == 422
    for _ in range(sends):
        email = f"p{len(emails)}@example.org"
        emails.append(email)
        assert send(client, query=query, ref=ref or "", email=email).status_code == 303
        expected[(key, "lookups")] += 1  # send() opens the members step first
        expected[(key, "forms")] += 1
        expected[(key, "written")] += 1


def as_table(expected: Counter[tuple[str, str]]) -> dict[str, dict[str, int]]:
    refs = {ref for ref, _ in expected}
    return {ref: {step: expected[(ref, step)] for step in funnel.STEPS} for ref in refs}


def test_funnel_counts_what_people_asked_for_per_source_and_day(app: Flask, client: FlaskClient) -> None:
    person(client)
    expected: Counter[tuple[str, str]] = Counter()
    emails: list[str] = []
    walk(client, "ohio-parents", views=7, exact=3, ambiguous=2, bad=2, sends=2, expected=expected,
         emails=emails)
    walk(client, None, views=5, exact=1, ambiguous=0, bad=1, sends=1, expected=expected, emails=emails)
    walk(client, "Flyer_2", views=2, exact=0, ambiguous=1, bad=0, sends=0, expected=expected, emails=emails)
    assert stored(app) == as_table(expected)
    today = datetime.now(UTC).date()
    refs = {ref for ref, _ in expected}
    per_step = {step: sum(expected[(r, step)] for r in refs) for step in funnel.STEPS}
    assert stored(app, "day") == {today: per_step}


@pytest.mark.parametrize("headers,method", [
    ({"User-Agent": CRAWLER}, "GET"),
    ({"User-Agent": "curl/8.5.0"}, "GET"),
    ({}, "GET"),  # no User-Agent at all: a script
    ({"User-Agent": BROWSER, "Sec-Purpose": "prefetch"}, "GET"),
    ({"User-Agent": BROWSER, "Purpose": "prefetch"}, "GET"),
    ({"User-Agent": BROWSER}, "HEAD"),
], ids=["crawler", "curl", "no-agent", "sec-purpose-prefetch", "purpose-prefetch", "head"])
def test_bots_prefetches_and_heads_are_not_counted(app: Flask, client: FlaskClient, headers: dict[str, str],
                                                   method: str) -> None:
    client.environ_base.pop("HTTP_USER_AGENT", None)
    for path in (f"/c/{SLUG}?ref=x", f"/c/{SLUG}/members?zip=53001&ref=x"):
        assert client.open(path, method=method, headers=headers).status_code == 200
    assert stored(app) == {}


def test_a_bot_submission_writes_nothing_and_is_not_a_letter_written(app: Flask, client: FlaskClient) -> None:
    person(client)
    assert send(client, query="&ref=x", ref="x", website="http://spam.example").status_code == 200
    assert stored(app) == {"x": {"views": 0, "lookups": 1, "forms": 1, "written": 0}}


def test_views_are_not_written_one_by_one(app: Flask, client: FlaskClient) -> None:
    """No database write on the request path per view: the 200th count writes the batch."""
    person(client)
    writes: list[str] = []
    with app.app_context():
        engine = db.engine()

    def watch(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "funnel_counts" in statement:
            writes.append(statement)

    event.listen(engine, "before_cursor_execute", watch)
    try:
        for _ in range(funnel.FLUSH_EVENTS - 1):
            client.get(f"/c/{SLUG}")
        assert writes == []
        with client.get(f"/c/{SLUG}") as response:  # closing the answer runs the batch write
            assert response.status_code == 200
        assert len(writes) == 1
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    with db.session_scope(app) as s:
        assert funnel.funnel_by(s, SLUG, "all")[None]["views"] == funnel.FLUSH_EVENTS


def test_the_dashboard_shows_the_funnel_with_its_drop_off(app: Flask, client: FlaskClient,
                                                          organizer: str) -> None:
    person(client)
    expected: Counter[tuple[str, str]] = Counter()
    walk(client, "ohio-parents", views=8, exact=4, ambiguous=0, bad=0, sends=2, expected=expected, emails=[])
    walk(client, "flyer", views=2, exact=0, ambiguous=0, bad=0, sends=0, expected=expected, emails=[])
    org = app.test_client()
    assert org.post("/organizer/login", data={"email": organizer, "password": PASSWORD}).status_code == 302
    html = org.get(f"/organizer/c/{SLUG}").get_data(as_text=True)  # not flushed by the test: the page does
    section = html.split('id="funnel"', 1)[1].split("</section>", 1)[0]
    shown = dict(re.findall(r'id="funnel-([a-z]+)">([0-9,]+)<', section))
    assert shown == {"views": "10", "lookups": "6", "forms": "6", "written": "2"}
    assert "60.0%" in section  # 6 lookups of 10 views
    assert "33.3%" in section  # 2 written of 6 forms
    assert "<th scope=\"row\">flyer</th><td>2</td><td>0</td>" in section
    only = org.get(f"/organizer/c/{SLUG}?ref=flyer").get_data(as_text=True).split('id="funnel"', 1)[1]
    assert dict(re.findall(r'id="funnel-([a-z]+)">([0-9,]+)<', only))["views"] == "2"
    # Later views show on the next visit, though the request reads its user before the counts are written.
    for _ in range(3):
        client.get(f"/c/{SLUG}?ref=flyer")
    again = org.get(f"/organizer/c/{SLUG}?ref=flyer").get_data(as_text=True).split('id="funnel"', 1)[1]
    assert dict(re.findall(r'id="funnel-([a-z]+)">([0-9,]+)<', again))["views"] == "5"


def test_a_failed_write_keeps_the_counts_for_the_next_one(tmp_path: Path) -> None:
    from sqlalchemy.orm import Session

    from actiontool.db import make_engine

    buffer = funnel.FunnelBuffer()
    buffer.add("c", date(2026, 3, 1), "r", funnel.VIEWS)
    buffer.add("c", date(2026, 3, 1), None, funnel.FORMS)
    engine = make_engine(f"sqlite:///{tmp_path / 'no-tables.sqlite3'}")
    try:
        with Session(engine) as session, pytest.raises(Exception, match="funnel_counts"):
            funnel.flush(session, buffer)
    finally:
        engine.dispose()
    assert len(buffer) == 2
    assert buffer.take() == Counter({("c", date(2026, 3, 1), "r", "views"): 1,
                                     ("c", date(2026, 3, 1), "", "forms"): 1})


def test_the_buffer_asks_to_be_written_at_a_count_or_an_age() -> None:
    buffer = funnel.FunnelBuffer(flush_events=3, flush_seconds=10)
    day = date(2026, 3, 1)
    assert buffer.add("c", day, None, funnel.VIEWS, now=100.0) is False
    assert buffer.add("c", day, None, funnel.VIEWS, now=105.0) is False
    assert buffer.add("c", day, None, funnel.VIEWS, now=106.0) is True  # three held
    buffer.take()
    assert buffer.add("c", day, None, funnel.LOOKUPS, now=200.0) is False
    assert buffer.add("c", day, None, funnel.LOOKUPS, now=210.0) is True  # the oldest is ten seconds old
    with pytest.raises(ValueError):
        buffer.add("c", day, None, funnel.WRITTEN)


_CHILD = """
import json, sys
from actiontool import create_app
config, ref, views, lookups = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
app = create_app(config)
client = app.test_client()
client.environ_base["HTTP_USER_AGENT"] = {agent!r}
for _ in range(views):
    assert client.get("/c/{slug}?ref=" + ref).status_code == 200
for _ in range(lookups):
    assert client.get("/c/{slug}/members?zip=53001&ref=" + ref).status_code == 200
# No explicit write: what is left in the buffer is written at exit, as a gunicorn worker's is.
"""


def test_two_processes_add_up_exactly(app: Flask, app_config: dict[str, Any], tmp_path: Path) -> None:
    config = {k: v for k, v in app_config.items() if isinstance(v, str | int | bool)}
    script = _CHILD.format(agent=BROWSER, slug=SLUG)
    plan = [("shared", 230, 40), ("shared", 170, 65), ("second", 3, 0)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [subprocess.Popen([sys.executable, "-c", script, json.dumps(config), ref, str(v), str(n)],
                                 cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
                for ref, v, n in plan[:2]]
    for child in children:
        _, err = child.communicate(timeout=300)
        assert child.returncode == 0, err
        assert "could not be written" not in err
    last = subprocess.run([sys.executable, "-c", script, json.dumps(config), *map(str, plan[2])],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert last.returncode == 0, last.stderr
    with db.session_scope(app) as s:
        result = funnel.funnel_by(s, SLUG, "ref")
    assert result == {
        "shared": {"views": 400, "lookups": 105, "forms": 105, "written": 0},
        "second": {"views": 3, "lookups": 0, "forms": 0, "written": 0},
    }
