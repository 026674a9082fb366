"""The campaign overview (/organizer) and an empty campaign's dashboard: numbers against a recount, the
sparkline and its text, the link, embed code and QR code offered to start a campaign."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from actiontool import db
from actiontool.models import FAILED, Message
from actiontool.registry import get_campaign
from actiontool.services import overview
from actiontool.sparkline import sparkline
from actiontool.web.organizer import dashboard
from tests.factories import MEMBERS

SLUG = "detect-and-defeat"
TODAY = date(2026, 3, 10)
OHIO = [m for m in MEMBERS if m.state == "OH" and m.chamber == "house"]


def cells(html: str, slug: str = SLUG) -> dict[str, str]:
    row = html.split(f'id="campaign-{slug}"', 1)[1].split("</tr>", 1)[0]
    return dict(re.findall(r'data-count="([a-z0-9-]+)">([^<]*)<', row))


def recount(app: Flask, first: date, last: date) -> int:
    """Letters written between two days, counted from the messages themselves."""
    with db.session_scope(app) as s:
        return int(s.execute(select(func.count()).select_from(Message).where(
            Message.campaign == SLUG, Message.status != FAILED, Message.created_day >= first,
            Message.created_day <= last)).scalar_one())


@pytest.fixture
def filled(app: Flask, writer: Callable[..., int], monkeypatch: pytest.MonkeyPatch) -> Flask:
    """Letters today, three days ago, a week ago (outside the window) and failed ones today."""
    monkeypatch.setattr(dashboard, "today_local", lambda: TODAY)
    with db.session_scope(app) as s:
        writer(s, SLUG, "a@example.org", OHIO[0], day=TODAY, ref=None)
        writer(s, SLUG, "b@example.org", OHIO[1], day=TODAY, ref="x", status=FAILED)
        writer(s, SLUG, "c@example.org", OHIO[2], day=TODAY - timedelta(days=3), ref=None)
        writer(s, SLUG, "d@example.org", OHIO[0], day=TODAY - timedelta(days=6), ref=None)
        writer(s, SLUG, "e@example.org", OHIO[1], day=TODAY - timedelta(days=7), ref=None)
    return app


def test_overview_shows_today_seven_days_total_and_goal_as_a_recount_does(filled: Flask,
                                                                         signed_in: FlaskClient) -> None:
    html = signed_in.get("/organizer/").get_data(as_text=True)
    shown = cells(html)
    today, week = recount(filled, TODAY, TODAY), recount(filled, TODAY - timedelta(days=6), TODAY)
    total = recount(filled, date.min, date.max)
    assert (today, week, total) == (3, 9, 12)  # the plan, so the recount itself is checked too
    assert (shown["today"], shown["last-7-days"], shown["written"]) == (str(today), str(week), str(total))
    assert shown["actions"] == "5"
    row = html.split(f'id="campaign-{SLUG}"', 1)[1].split("</tr>", 1)[0]
    with filled.app_context():
        goal = get_campaign(SLUG).goal
    assert goal > 0
    assert f'<progress max="100" value="{100 * total // goal}"' in row
    assert f"{100 * total // goal}% of {goal:,}" in row
    assert row.count("<rect ") == 7
    label = re.search(r'<svg class="sparkline"[^>]*aria-label="([^"]*)"', row)
    assert label is not None
    assert label.group(1) == "Letters written per day, 2026-03-04 to 2026-03-10: 3, 0, 0, 3, 0, 0, 3."


def test_overview_line_of_a_campaign_with_nothing_is_zeros(app: Flask) -> None:
    with db.session_scope(app) as s:
        line = overview.overview(s, [SLUG], TODAY)[SLUG]
    assert (line.today, line.last_days, line.written, line.actions) == (0, 0, 0, 0)
    assert [d for d, _ in line.days] == [TODAY - timedelta(days=6 - i) for i in range(7)]
    assert line.progress(0) is None and line.progress(10) == 0


def test_progress_is_whole_percent_and_stops_at_a_hundred() -> None:
    line = overview.CampaignOverview(SLUG, 1, 7, 7, 0, ((TODAY, 7),))
    assert line.progress(8) == 87 and line.progress(7) == 100 and line.progress(3) == 100


def test_sparkline_bars_follow_the_numbers_and_keep_a_stub_for_zero() -> None:
    svg = sparkline([0, 5, 10], label="a <b> & c", width=32, height=21, gap=1)
    heights = [float(h) for h in re.findall(r'height="([0-9.]+)" fill', svg)]
    assert heights == [1.0, 10.0, 20.0]
    assert 'aria-label="a &lt;b&gt; &amp; c"' in svg and "<title>a &lt;b&gt; &amp; c</title>" in svg
    assert 'role="img"' in svg
    flat = sparkline([0, 0], label="none")
    assert re.findall(r'height="([0-9.]+)" fill', flat) == ["1.0", "1.0"]
    with pytest.raises(ValueError):
        sparkline([], label="x")
    with pytest.raises(ValueError):
        sparkline([1, -1], label="x")


def test_an_empty_campaign_offers_its_link_embed_code_and_qr_code(signed_in: FlaskClient) -> None:
    html = signed_in.get(f"/organizer/c/{SLUG}").get_data(as_text=True)
    block = html.split('id="getting-started"', 1)[1].split("</section>", 1)[0]
    assert f'value="http://localhost/c/{SLUG}"' in block
    assert (f'&lt;iframe src=&#34;http://localhost/embed/{SLUG}&#34;' in block
            or f"&lt;iframe src=&quot;http://localhost/embed/{SLUG}&quot;" in block)
    assert f'src="/organizer/c/{SLUG}/qr.svg"' in block
    assert "No messages match these filters" not in html
    assert "daily-chart" not in html and 'id="chart-empty"' in html
    qr = signed_in.get(f"/organizer/c/{SLUG}/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    assert b"<svg" in qr.data and b"<path" in qr.data
    assert qr.headers["Cache-Control"] == "no-store"
    download = signed_in.get(f"/organizer/c/{SLUG}/qr.svg?download=1")
    assert download.headers["Content-Disposition"] == f'attachment; filename="{SLUG}-qr.svg"'


def test_the_qr_code_holds_the_campaign_link() -> None:
    import segno

    from actiontool.web.organizer.share import qr_svg

    link = f"https://act.example.org/c/{SLUG}"
    assert qr_svg(link, "t") == _svg(segno.make(link, error="m"))
    assert qr_svg(link, "t") != qr_svg(link + "x", "t")


def _svg(code: object) -> bytes:
    import io

    out = io.BytesIO()
    code.save(out, kind="svg", scale=8, border=4, title="t")  # type: ignore[attr-defined]
    return out.getvalue()


def test_a_campaign_with_letters_or_filters_shows_no_getting_started_block(filled: Flask,
                                                                          signed_in: FlaskClient) -> None:
    html = signed_in.get(f"/organizer/c/{SLUG}").get_data(as_text=True)
    assert 'id="getting-started"' not in html and "daily-chart" in html
    filtered = signed_in.get(f"/organizer/c/{SLUG}?state=AK").get_data(as_text=True)
    assert 'id="getting-started"' not in filtered
    assert "No messages match these filters" in filtered


def test_the_overview_is_protected(client: FlaskClient) -> None:
    assert client.get("/organizer/").status_code == 302
    assert client.get(f"/organizer/c/{SLUG}/qr.svg").status_code == 302


def test_a_warm_overview_reads_only_the_totals_and_still_follows_every_change(
        filled: Flask, signed_in: FlaskClient, writer: Callable[..., int]) -> None:
    """The page keeps each campaign's days while its totals row holds: exact after a submit or a failure."""
    from sqlalchemy import event

    from actiontool.services.outbox import set_status

    signed_in.get("/organizer/")  # counts the days and keeps them
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    with filled.app_context():
        engine = db.engine()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        warm = cells(signed_in.get("/organizer/").get_data(as_text=True))
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert not [s for s in statements if "message_counts_by_member" in s]
    assert (warm["today"], warm["last-7-days"]) == ("3", "9")
    with db.session_scope(filled) as s:
        writer(s, SLUG, "f@example.org", OHIO[2], day=TODAY - timedelta(days=1), ref=None)
    after = cells(signed_in.get("/organizer/").get_data(as_text=True))
    assert after["last-7-days"] == str(recount(filled, TODAY - timedelta(days=6), TODAY)) == "12"
    with db.session_scope(filled) as s:
        message = s.execute(select(Message).where(Message.campaign == SLUG, Message.created_day == TODAY,
                                                  Message.status != FAILED).limit(1)).scalar_one()
        set_status(s, message, FAILED)
        s.commit()
    failed = cells(signed_in.get("/organizer/").get_data(as_text=True))
    assert (failed["today"], failed["last-7-days"]) == (str(recount(filled, TODAY, TODAY)), "11")
