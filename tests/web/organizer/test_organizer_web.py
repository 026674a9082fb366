"""The organizer dashboard over HTTP: sign-in and throttling, protection of every route, filters, exports,
retry, the public count and the embed."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from actiontool import db
from actiontool.csvexport import neutralise
from actiontool.models import AuditEvent, Message
from actiontool.services import organizers, stats
from actiontool.web.organizer import PUBLIC_ENDPOINTS
from tests.factories import MEMBERS, PASSWORD

SLUG = "detect-and-defeat"
DAY = date(2026, 3, 2)
OHIO = [m for m in MEMBERS if m.state == "OH" and m.chamber == "house"]


def audit_kinds(app: Flask) -> list[str]:
    with db.session_scope(app) as s:
        return list(s.execute(select(AuditEvent.kind).order_by(AuditEvent.id)).scalars())


def fill(app: Flask, writer: Callable[..., int]) -> None:
    """Write a few submissions: two Ohio constituents from ohio-parents, one from Wisconsin without a ref."""
    with db.session_scope(app) as s:
        writer(s, SLUG, "a@example.org", OHIO[0], day=DAY, ref="ohio-parents")
        writer(s, SLUG, "b@example.org", OHIO[1], day=DAY, ref="ohio-parents")
        writer(s, SLUG, "c@example.org", MEMBERS[7], day=date(2026, 3, 3), ref=None)


# Sign-in ---------------------------------------------------------------------------------------------------

def test_there_is_no_default_account(client: FlaskClient, app: Flask) -> None:
    with db.session_scope(app) as s:
        assert organizers.list_all(s) == []
    for email, password in [("admin", "admin"), ("admin@example.org", "password"), ("", "")]:
        response = client.post("/organizer/login", data={"email": email, "password": password})
        assert response.status_code in (400, 401)
    assert client.get("/organizer/").status_code == 302


def test_sign_in_then_dashboard_then_sign_out(signed_in: FlaskClient, app: Flask) -> None:
    assert signed_in.get("/organizer/").status_code == 200
    assert signed_in.post("/organizer/logout").status_code == 302
    assert signed_in.get("/organizer/").status_code == 302
    kinds = audit_kinds(app)
    assert kinds[-1] == "sign_out" and "sign_in" in kinds


def test_wrong_password_is_refused_and_audited(client: FlaskClient, organizer: str, app: Flask) -> None:
    response = client.post("/organizer/login", data={"email": organizer, "password": "wrong password!!"})
    assert response.status_code == 401
    assert b"wrong e-mail or password" in response.data
    assert audit_kinds(app)[-1] == "sign_in_failed"
    assert client.get("/organizer/").status_code == 302


def test_sign_in_is_throttled_per_account(client: FlaskClient, organizer: str, app: Flask) -> None:
    for _ in range(organizers.MAX_FAILURES_PER_ACCOUNT):
        assert client.post("/organizer/login", data={"email": organizer, "password": "nope nope nope"}
                           ).status_code == 401
    # Even the right password is refused now, without being checked.
    response = client.post("/organizer/login", data={"email": organizer, "password": PASSWORD})
    assert response.status_code == 429
    assert audit_kinds(app)[-1] == "sign_in_throttled"
    # Another account from another address is unaffected.
    with db.session_scope(app) as s:
        organizers.create(s, "other@example.org", PASSWORD)
    other = app.test_client()
    response = other.post("/organizer/login", data={"email": "other@example.org", "password": PASSWORD},
                          environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert response.status_code == 302


def test_sign_in_is_throttled_per_address(client: FlaskClient, organizer: str) -> None:
    for i in range(organizers.MAX_FAILURES_PER_IP):
        client.post("/organizer/login", data={"email": f"guess{i}@example.org", "password": "x" * 12})
    response = client.post("/organizer/login", data={"email": organizer, "password": PASSWORD})
    assert response.status_code == 429
    elsewhere = client.post("/organizer/login", data={"email": organizer, "password": PASSWORD},
                            environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert elsewhere.status_code == 302


def test_disabled_organizer_is_signed_out_and_cannot_sign_in(signed_in: FlaskClient, organizer: str,
                                                              app: Flask) -> None:
    with db.session_scope(app) as s:
        organizers.disable(s, organizer)
    assert signed_in.get("/organizer/").status_code == 302
    response = signed_in.post("/organizer/login", data={"email": organizer, "password": PASSWORD})
    assert response.status_code == 401


def test_sign_in_redirects_only_within_the_dashboard(client: FlaskClient, organizer: str) -> None:
    data = {"email": organizer, "password": PASSWORD}
    response = client.post("/organizer/login?next=//evil.example/x", data=data)
    assert response.headers["Location"].endswith("/organizer/")
    client.post("/organizer/logout")
    response = client.post("/organizer/login?next=/organizer/audit", data=data)
    assert response.headers["Location"].endswith("/organizer/audit")


def _fill_rule(rule: Any) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: "x" + m.group(1), rule.rule)


def test_every_organizer_route_requires_sign_in(app: Flask, client: FlaskClient) -> None:
    rules = [r for r in app.url_map.iter_rules()
             if r.endpoint.startswith("organizer.") or r.rule.startswith("/organizer")]
    assert len(rules) >= 8
    checked = 0
    for rule in rules:
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        path = _fill_rule(rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method)
            if method == "GET":
                assert response.status_code == 302, (method, path)
                assert "/organizer/login" in response.headers["Location"], path
            else:
                assert response.status_code == 401, (method, path)
            assert b"Delivered" not in response.data
            checked += 1
    assert checked >= 8
    assert PUBLIC_ENDPOINTS == {"organizer.login"}


# Dashboard ------------------------------------------------------------------------

def seat_squares(html: str) -> dict[str, str]:
    """Return the page's seat squares as {label: colour class}: a square's text is its district number, or
    its state's code for an at-large seat, inside its state's list (as organizer.js reads them)."""
    squares: dict[str, str] = {}
    for state, items in re.findall(r'<ul data-state="([A-Z]{2})">(.*?)</ul>', html, re.S):
        for css, text in re.findall(r'<li class="(c-?\d)" title="[^"]*">([^<]+)</li>', items):
            label = f"{state}-{'AL' if text == state else text}"
            assert label not in squares, label  # one square per seat
            squares[label] = css
    return squares


def test_dashboard_shows_totals_map_chart_and_tables(signed_in: FlaskClient, app: Flask,
                                                     writer: Callable[..., int]) -> None:
    fill(app, writer)
    page = signed_in.get(f"/organizer/c/{SLUG}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="total-messages">8<' in html  # 3 + 3 (Ohio: rep and two senators) + 2 (Wisconsin)
    assert 'id="total-actions">3<' in html
    assert 'class="daily-chart"' in html and 'id="district-map"' in html and "OH-1" in seat_squares(html)
    assert "2026-03-02" in html


def test_filters_combine_in_one_url(signed_in: FlaskClient, app: Flask, writer: Callable[..., int]) -> None:
    fill(app, writer)
    html = signed_in.get(f"/organizer/c/{SLUG}?state=OH&ref=ohio-parents&table=day").get_data(as_text=True)
    assert 'id="total-messages">6<' in html
    assert 'id="total-actions">2<' in html
    html = signed_in.get(f"/organizer/c/{SLUG}?state=WI&ref=ohio-parents").get_data(as_text=True)
    assert 'id="total-messages">0<' in html
    html = signed_in.get(f"/organizer/c/{SLUG}?district=OH-1&table=member").get_data(as_text=True)
    assert 'id="total-messages">1<' in html
    assert "Rep. Ohio One" in html and "Rep. Ohio Two" not in html


@pytest.mark.parametrize("query", ["from=yesterday", "state=Ohio", "district=OH3", "status=lost",
                                   "table=nope", "sort=evil", "from=2026-03-05&to=2026-03-01", "ref=%3Cx%3E"])
def test_bad_filters_are_a_clear_400(signed_in: FlaskClient, query: str) -> None:
    response = signed_in.get(f"/organizer/c/{SLUG}?{query}")
    assert response.status_code == 400
    # Explained on the dashboard itself, not the public site's error page.
    assert 'id="filter-error"' in response.get_data(as_text=True)


def test_tables_sort_server_side(signed_in: FlaskClient, app: Flask, writer: Callable[..., int]) -> None:
    fill(app, writer)
    html = signed_in.get(f"/organizer/c/{SLUG}?table=state&sort=messages&dir=desc").get_data(as_text=True)
    assert html.index('<th scope="row">OH</th>') < html.index('<th scope="row">WI</th>')
    html = signed_in.get(f"/organizer/c/{SLUG}?table=state&sort=messages&dir=asc").get_data(as_text=True)
    assert html.index('<th scope="row">WI</th>') < html.index('<th scope="row">OH</th>')


def test_unknown_campaign_is_404(signed_in: FlaskClient) -> None:
    assert signed_in.get("/organizer/c/no-such-campaign").status_code == 404


# Exports ------------------------------------------------------------------------

@pytest.mark.parametrize("cell, expected", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1", "'+1"), ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("plain", "plain"), (5, 5), ("", ""),
])
def test_cells_that_spreadsheets_would_run_are_neutralised(cell: Any, expected: Any) -> None:
    assert neutralise(cell) == expected


@pytest.mark.parametrize("cell", ["Ann;=1+1", "Ann,=1+1", "Ann\t=1+1", "Ann; =HYPERLINK(1)", 'a;"@SUM(A1)',
                                  "x,+1", "x;-1"])
def test_formula_starts_after_a_separator_are_neutralised(cell: str) -> None:
    # Finding 10 of the hardening issue: only the start of a cell was checked.
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Ann Smith", "Madison, WI", "a-b", "x=1", "5"])
def test_ordinary_text_is_left_alone(cell: str) -> None:
    assert neutralise(cell) == cell


def test_every_text_cell_is_quoted_in_a_stream() -> None:
    from actiontool.csvexport import csv_stream

    text = "".join(csv_stream(["name", "n"], [["Ann;=1+1", 3], [None, 4]]))
    assert text.splitlines() == ['"name","n"', '"\'Ann;=1+1",3', '"",4']


def _csv(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_aggregate_export_is_a_filtered_csv_attachment(signed_in: FlaskClient, app: Flask,
                                                      writer: Callable[..., int]) -> None:
    fill(app, writer)
    response = signed_in.get(f"/organizer/c/{SLUG}/export.csv?by=member&state=OH")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = _csv(response)
    assert rows[0][:4] == ["bioguide", "member", "chamber", "seat"]
    assert {r[0] for r in rows[1:]} == {"O000001", "O000002", "S000001", "S000002"}
    assert audit_kinds(app)[-1] == "export"


def test_action_export_has_personal_data_only_when_asked(signed_in: FlaskClient, app: Flask,
                                                        writer: Callable[..., int]) -> None:
    fill(app, writer)
    with db.session_scope(app) as s:
        from actiontool.models import Action

        action = s.execute(select(Action).order_by(Action.id)).scalars().first()
        assert action is not None
        action.first_name = "=cmd|' /C calc'!A0"
        action.email = "a@example.org"
        s.commit()
    plain = _csv(signed_in.get(f"/organizer/c/{SLUG}/actions.csv"))
    assert "email" not in plain[0] and len(plain) == 4
    assert plain[0][-1] == "flagged_repeat" and {row[-1] for row in plain[1:]} == {"0"}
    assert all("a@example.org" not in cell for row in plain for cell in row)
    personal = _csv(signed_in.get(f"/organizer/c/{SLUG}/actions.csv?personal=1&state=OH"))
    assert "email" in personal[0] and len(personal) == 3
    first_name = personal[1][personal[0].index("first_name")]
    assert first_name == "'=cmd|' /C calc'!A0"
    with db.session_scope(app) as s:
        details = list(s.execute(select(AuditEvent.detail).where(AuditEvent.kind == "export")).scalars())
    assert any("personal" in d for d in details)


# Delivery ------------------------------------------------------------------------

def test_retry_queues_a_failed_message_and_is_audited(signed_in: FlaskClient, app: Flask,
                                                      writer: Callable[..., int]) -> None:
    fill(app, writer)
    from actiontool.services.outbox import set_status

    with db.session_scope(app) as s:
        message = s.execute(select(Message).order_by(Message.id)).scalars().first()
        assert message is not None
        set_status(s, message, "failed", last_error="550 mailbox unavailable")
        s.commit()
        message_id = message.id
    html = signed_in.get(f"/organizer/c/{SLUG}/delivery").get_data(as_text=True)
    assert "550 mailbox unavailable" in html
    response = signed_in.post(f"/organizer/c/{SLUG}/messages/{message_id}/retry")
    assert response.status_code == 302
    with db.session_scope(app) as s:
        assert s.get(Message, message_id).status == "queued"  # type: ignore[union-attr]
        assert stats.totals(s, SLUG)["failed"] == 0
        assert stats.totals(s, SLUG)["queued"] == 8
    assert audit_kinds(app)[-1] == "retry"
    # A second retry of the now-queued message is refused, not repeated.
    signed_in.post(f"/organizer/c/{SLUG}/messages/{message_id}/retry")
    assert audit_kinds(app).count("retry") == 1


def test_a_retried_message_gets_fresh_attempts_instead_of_failing_again_at_once(
        signed_in: FlaskClient, app: Flask, writer: Callable[..., int]) -> None:
    from actiontool.db import session_factory
    from actiontool.delivery.settings import from_config
    from actiontool.delivery.worker import AppCampaigns, claim_messages
    from actiontool.services.outbox import set_status

    fill(app, writer)
    settings = from_config(app.config).worker
    with db.session_scope(app) as s:
        message = s.execute(select(Message).order_by(Message.id)).scalars().first()
        assert message is not None
        set_status(s, message, "failed", attempts=settings.max_attempts, last_error="gave up")
        s.commit()
        message_id = message.id
    assert signed_in.post(f"/organizer/c/{SLUG}/messages/{message_id}/retry").status_code == 302
    with session_factory(app)() as s:
        claims = claim_messages(s, AppCampaigns(app), settings, limit=100)
    assert [c.attempt for c in claims if c.message_id == message_id] == [1]
    with db.session_scope(app) as s:
        assert s.get(Message, message_id).status == "sending"  # type: ignore[union-attr]


def test_audit_log_page_lists_events(signed_in: FlaskClient) -> None:
    html = signed_in.get("/organizer/audit").get_data(as_text=True)
    assert "sign_in" in html and "org@example.org" in html
    assert "campaign_change" in html and "detect-and-defeat" in html  # the campaign file, first seen


def test_campaign_file_changes_are_audited_once(app: Flask) -> None:
    with db.session_scope(app) as s:
        assert organizers.record_campaign_changes(s, {"a": "1", "b": "2"}) == 2
        assert organizers.record_campaign_changes(s, {"a": "1", "b": "2"}) == 0
        assert organizers.record_campaign_changes(s, {"a": "1", "b": "3"}) == 1
        details = list(s.execute(select(AuditEvent.detail).where(AuditEvent.campaign == "b")
                                 .order_by(AuditEvent.id)).scalars())
    assert details[0].startswith("campaign file loaded") and details[1].startswith("campaign file changed")


# Public count and embed ------------------------------------------------------------------------

def test_public_count_is_cached_json(client: FlaskClient, app: Flask, writer: Callable[..., int]) -> None:
    fill(app, writer)
    response = client.get(f"/api/v1/campaigns/{SLUG}/count")
    assert response.status_code == 200
    body = response.get_json()
    assert body["messages"] == 8 and body["actions"] == 3 and body["goal"] > 0
    assert body["updated_at"].endswith("Z")
    assert "max-age" in response.headers["Cache-Control"]
    with db.session_scope(app) as s:
        writer(s, SLUG, "d@example.org", OHIO[2], day=DAY, ref=None)
        assert s.execute(select(func.count()).select_from(Message)).scalar_one() == 11
    assert client.get(f"/api/v1/campaigns/{SLUG}/count").get_json()["messages"] == 8  # still cached


def test_public_count_of_unknown_campaign_is_404_json(client: FlaskClient) -> None:
    response = client.get("/api/v1/campaigns/nope/count")
    assert response.status_code == 404
    assert response.get_json()["error"]


def test_embed_is_frameable_and_carries_the_ref(client: FlaskClient, app: Flask,
                                                writer: Callable[..., int]) -> None:
    fill(app, writer)
    response = client.get(f"/embed/{SLUG}?ref=ohio-parents")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"/c/{SLUG}?ref=ohio-parents" in html
    assert 'id="embed-messages">8<' in html
    assert "X-Frame-Options" not in response.headers
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    evil = client.get(f"/embed/{SLUG}?ref=%22%3E%3Cscript%3E").get_data(as_text=True)
    assert "<script>" not in evil and "?ref" not in evil.split("embed-button")[1].split(">")[0]
    assert client.get("/embed/nope").status_code == 404


@pytest.mark.parametrize("today,expected", [
    (date(2026, 6, 20), "members as of 2026-06-15."),
    (date(2026, 11, 27), "ends on 2027-01-03 (37 days)"),
    (date(2026, 11, 27), "The runbook: docs/DATA.md, “Runbook: the Congress transition”"),
    (date(2027, 1, 3), "which ended on 2027-01-03: members and maps may be out of date"),
    (date(2027, 1, 3), "The runbook: docs/DATA.md, “Runbook: the Congress transition”"),
])
def test_dashboard_says_how_old_the_district_data_is_and_warns_once_its_congress_is_over(
        signed_in: FlaskClient, monkeypatch: pytest.MonkeyPatch, today: date, expected: str) -> None:
    from actiontool.web import organizer

    monkeypatch.setattr(organizer, "_today", lambda: today)
    page = signed_in.get("/organizer/").get_data(as_text=True)
    assert expected in " ".join(page.split())


def test_dashboard_shows_submissions_kept_out_as_automated_apart_from_the_counts(
        signed_in: FlaskClient, app: Flask) -> None:
    from actiontool.services.bots import record_bot_submission

    with db.session_scope(app) as s:
        record_bot_submission(s, SLUG, "honeypot")
        record_bot_submission(s, SLUG, "honeypot")
        record_bot_submission(s, SLUG, "too_fast")
        record_bot_submission(s, "another-campaign", "too_fast")
    page = signed_in.get(f"/organizer/c/{SLUG}").get_data(as_text=True)
    assert re.search(r'id="total-bots">3<', page)
    assert re.search(r'id="total-actions">0<', page)
    assert '<td>honeypot</td><td class="num">2</td>' in page
    assert '<td>too fast</td><td class="num">1</td>' in page



def test_dashboard_shows_flagged_repeats_apart(signed_in: FlaskClient, app: Flask) -> None:
    from actiontool.services.submit import submit
    from tests.factories import outgoing, submission

    letters = [outgoing("S000001")]
    with db.session_scope(app) as s:
        submit(s, submission(letters, campaign=SLUG, first_name="Mallory"))
        submit(s, submission(letters, campaign=SLUG))  # the address's owner, under her own name
        submit(s, submission(letters, campaign=SLUG))  # identical: writes nothing
        submit(s, submission(letters, campaign="another-campaign", first_name="Mallory"))
        submit(s, submission(letters, campaign="another-campaign"))
    page = signed_in.get(f"/organizer/c/{SLUG}").get_data(as_text=True)
    assert re.search(r'id="total-flagged-repeats">1<', page)
    assert re.search(r'id="total-actions">2<', page)

# Query strings (finding 14 of the hardening issue: these answered 500) ------------

@pytest.mark.parametrize("path", [f"/organizer/c/{SLUG}/delivery", "/organizer/audit",
                                  f"/organizer/c/{SLUG}"])
@pytest.mark.parametrize("query", ["page=²", "page=99999999999999999999", "page=0", "page=-1", "page=1e3"])
def test_a_bad_page_number_is_a_400_with_a_message(signed_in: FlaskClient, path: str, query: str) -> None:
    response = signed_in.get(f"{path}?{query}")
    assert response.status_code == 400
    assert b"page: a whole number" in response.data
    if path.endswith(SLUG):  # the grouped table's pages: explained in place, like a bad filter
        assert b'id="filter-error"' in response.data


@pytest.mark.parametrize("query", ["slug=x", "state=%C2%B2", "since=x", "by=x", "sort=x", "table=x",
                                   "until=2026-13-01", "district=%C2%B2"])
def test_odd_query_strings_never_answer_500(signed_in: FlaskClient, query: str) -> None:
    for path in [f"/organizer/c/{SLUG}", f"/organizer/c/{SLUG}/export.csv", "/organizer/audit"]:
        assert signed_in.get(f"{path}?{query}").status_code in (200, 400), (path, query)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_grouping_tabs_have_distinct_names_in_each_language(signed_in: FlaskClient, lang: str) -> None:
    # Spanish says "Estado" for a state; a message's status must not be called the same on the next tab.
    html = signed_in.get(f"/organizer/c/{SLUG}?lang={lang}").get_data(as_text=True)
    tabs = re.search(r'<ul class="tabs">(.*?)</ul>', html, re.S)
    assert tabs is not None
    names = re.findall(r">([^<>]+)</a>", tabs.group(1))
    assert len(names) == 7 and len(set(names)) == len(names), names
