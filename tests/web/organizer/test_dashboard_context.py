"""The dashboard's context around the numbers (issue 15): the goal on the whole campaign, filters that say
whether they apply and explain themselves in place, people per row with a total row, party, shares, the
time zone, sources by actions, and the map geometry served as a cached asset."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from actiontool import db
from actiontool.registry import dataset
from actiontool.services import bots, stats
from tests.factories import MEMBERS, SeedMember
from tests.web.organizer.test_organizer_web import DAY, OHIO, SLUG, fill, seat_squares


def _html(client: FlaskClient, query: str = "") -> str:
    response = client.get(f"/organizer/c/{SLUG}{query}")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_goal_bar_is_always_the_whole_campaign(signed_in: FlaskClient, app: Flask,
                                                    writer: Callable[..., int]) -> None:
    fill(app, writer)
    whole = _html(signed_in)
    filtered = _html(signed_in, "?state=WI")
    assert 'id="total-messages">2<' in filtered  # the totals follow the filter ...
    bar = re.compile(r'<progress id="goal-progress" max="(\d+)" value="(\d+)"')
    assert bar.findall(whole) == bar.findall(filtered) == [("10000", "8")]  # ... the goal bar does not
    assert "Whole campaign, filters do not apply" in filtered and "messages written" in filtered


def test_totals_say_whether_filters_apply(signed_in: FlaskClient, app: Flask,
                                          writer: Callable[..., int]) -> None:
    fill(app, writer)
    assert "Totals for the whole campaign" in _html(signed_in)
    html = _html(signed_in, "?state=OH")
    assert "Totals for these filters" in html and 'id="totals-scope"' in html and "State = OH" in html
    # Kept-out submissions have no place: with a place filter they are labelled whole-campaign.
    assert "whole campaign: a kept-out submission has no place or source" in html


def test_bot_count_follows_the_date_filter(signed_in: FlaskClient, app: Flask) -> None:
    from datetime import UTC, datetime

    with db.session_scope(app) as s:
        bots.record_bot_submission(s, SLUG, "honeypot", now=datetime(2026, 3, 2, 15, tzinfo=UTC))
        bots.record_bot_submission(s, SLUG, "honeypot", now=datetime(2026, 3, 5, 15, tzinfo=UTC))
    assert 'id="total-bots">2<' in _html(signed_in)
    html = _html(signed_in, "?from=2026-03-04")
    assert 'id="total-bots">1<' in html and "(these dates)" in html


@pytest.mark.parametrize("query, field, kept", [
    ("district=OH3", "f-district", "OH3"), ("state=Ohio", "f-state", "Ohio"),
    ("from=2026-03-05&to=2026-03-01", "f-from", "2026-03-05"),
])
def test_a_bad_filter_is_explained_on_the_dashboard_with_the_filters_kept(
        signed_in: FlaskClient, app: Flask, writer: Callable[..., int], query: str, field: str,
        kept: str) -> None:
    fill(app, writer)
    response = signed_in.get(f"/organizer/c/{SLUG}?{query}&table=member")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="filter-error"' in html and "This filter cannot be used" in html
    assert 'id="total-messages">8<' in html  # the whole campaign meanwhile
    element = re.search(rf'id="{field}"[^>]*>', html)
    assert element is not None and 'aria-invalid="true"' in element.group(0)
    assert f'value="{kept}"' in html  # what the organizer typed is still there to correct
    assert 'aria-current="true">Member<' in html  # and the rest of the view too


def test_district_is_a_choice_of_the_districts_with_messages(signed_in: FlaskClient, app: Flask,
                                                             writer: Callable[..., int]) -> None:
    fill(app, writer)
    html = _html(signed_in)
    select = re.search(r'<select id="f-district".*?</select>', html, re.S)
    assert select is not None
    options = re.findall(r"<option(?: selected)?>([A-Z]{2}-\w+)</option>", select.group(0))
    with db.session_scope(app) as s:
        assert options == stats.districts_with_messages(s, SLUG)
    writers = (OHIO[0], OHIO[1], MEMBERS[7])
    assert options == sorted({stats.district_label(m.state, m.district) for m in writers}
                             - {None})


def test_rows_have_people_shares_and_a_total_row(signed_in: FlaskClient, app: Flask,
                                                 writer: Callable[..., int]) -> None:
    fill(app, writer)
    html = _html(signed_in, "?table=state&sort=key&dir=asc")
    body = re.search(r'id="group-table".*?<tbody>(.*?)</tbody>', html, re.S)
    assert body is not None
    rows = re.findall(r'<th scope="row">(\w+)</th>\s*<td>([\d,]+)</td>\s*'
                      r'<td>([\d,]+)</td><td>([\d.]+)%</td>', body.group(1))
    # OH: two actions, six messages (rep + 2 senators each); WI: one action, two messages.
    assert rows == [("OH", "2", "6", "75.0"), ("WI", "1", "2", "25.0")]
    assert 'id="total-row-actions">3<' in html and 'id="total-row-messages">8<' in html


def test_member_table_has_party_from_the_member_data(signed_in: FlaskClient, app: Flask,
                                                     writer: Callable[..., int]) -> None:
    with app.app_context():
        member = next(m for m in dataset().members() if m.chamber == "house" and m.party)
    with db.session_scope(app) as s:
        writer(s, SLUG, "p@example.org", SeedMember(member.bioguide, member.name, "Representative", "house",
                                                    member.state, member.district), day=DAY, ref=None)
    html = _html(signed_in, "?table=member")
    row = re.search(rf"<th scope=\"row\">{re.escape(member.name)}</th>\s*<td class=\"t\">[^<]*</td>"
                    rf"<td class=\"t\">([^<]*)</td>", html)
    assert row is not None and row.group(1) == member.party


def test_day_table_is_sorted_by_date_newest_first(signed_in: FlaskClient, app: Flask,
                                                  writer: Callable[..., int]) -> None:
    fill(app, writer)
    html = _html(signed_in, "?table=day")
    body = re.search(r'<table class="data sortable".*?<tbody>(.*?)</tbody>', html, re.S)
    assert body is not None
    days = re.findall(r'<th scope="row">(\d{4}-\d\d-\d\d)</th>', body.group(1))
    assert days == ["2026-03-03", DAY.isoformat()]  # 03-02 has more messages, but the table is a calendar


def test_sources_are_compared_by_actions_and_are_case_insensitive(signed_in: FlaskClient, app: Flask,
                                                                  writer: Callable[..., int]) -> None:
    fill(app, writer)
    html = _html(signed_in, "?table=source&ref=Ohio-Parents")
    assert 'id="total-actions">2<' in html  # the same source as ohio-parents
    assert "Actions, last 7 days" in html and "Trend" in html


def test_the_time_zone_is_said_on_the_page(signed_in: FlaskClient) -> None:
    html = _html(signed_in)
    assert 'id="time-zone"' in html and "America/New_York" in html


def test_the_map_geometry_is_a_cached_asset_with_an_etag(signed_in: FlaskClient, app: Flask) -> None:
    html = _html(signed_in)
    src = re.search(r'data-src="([^"]+)"', html)
    assert src is not None
    first = signed_in.get(src.group(1).replace("&amp;", "&"))
    assert first.status_code == 200 and first.mimetype == "image/svg+xml"
    assert "private" in first.headers["Cache-Control"] and "no-store" not in first.headers["Cache-Control"]
    etag = first.headers["ETag"]
    again = signed_in.get(src.group(1).replace("&amp;", "&"), headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.get_data()
    with app.app_context():
        seats = {stats.district_label(s, n) for s, n in dataset().house_seats()} | set(dataset().boundaries())
    drawn = set(re.findall(r'data-district="([^"]+)"', first.get_data(as_text=True)))
    assert drawn == seats  # a shape or a square for every seat, territories without shapes included
    assert signed_in.get("/organizer/map/ZZ.svg").status_code == 404


def test_every_seat_has_a_square_on_the_page(signed_in: FlaskClient, app: Flask,
                                             writer: Callable[..., int]) -> None:
    fill(app, writer)
    html = _html(signed_in)
    tiles = re.search(r'<div class="tiles" id="seat-tiles">(.*?)</div>\s*<p', html, re.S)
    assert tiles is not None
    squares = seat_squares(tiles.group(1))
    assert tiles.group(1).count("<li") == len(squares)  # every square names a seat
    with app.app_context():
        seats = {stats.district_label(s, n) for s, n in dataset().house_seats()} | set(dataset().boundaries())
        with db.session_scope(app) as s:
            seats |= set(stats.districts_with_messages(s, SLUG))
    assert set(squares) == seats
    assert squares["OH-1"] != "c-1" and squares["AK-AL"] == "c-1"  # written to, and not


def test_the_map_asset_needs_a_sign_in(client: FlaskClient) -> None:
    assert client.get("/organizer/map/us.svg").status_code == 302


def test_equal_interval_breaks_keep_close_counts_together() -> None:
    from actiontool import svg

    bounds = svg.breaks([146, 151, 152, 157, 500])
    assert bounds == [100, 200, 300, 400, 500]
    assert svg.class_of(146, bounds) == svg.class_of(157, bounds)
    assert svg.class_of(0, bounds) == -1 and svg.class_of(500, bounds) == 4
    # The legend's ranges and the classes agree at the edges: 1–100, 101–200, ...
    assert [text for _fill, text in svg.legend_items(bounds)][:3] == ["0", "1–100", "101–200"]
    assert (svg.class_of(100, bounds), svg.class_of(101, bounds)) == (0, 1)
    assert svg.breaks([]) == [] and svg.breaks([3]) == [1, 2, 3]


def test_organizer_pages_follow_the_language_switch(signed_in: FlaskClient, app: Flask,
                                                    writer: Callable[..., int]) -> None:
    fill(app, writer)
    html = _html(signed_in, "?lang=es")
    assert '<html lang="es">' in html and "Totales de toda la campaña" in html and "Aplicar filtros" in html
    assert "Totals for the whole campaign" not in html
    # The choice is remembered (a cookie), so the next organizer page is Spanish too.
    audit = signed_in.get("/organizer/audit").get_data(as_text=True)
    assert "Registro de auditoría" in audit
    english = _html(signed_in, "?lang=en")
    assert "Totals for the whole campaign" in english and 'hreflang="es"' in english


def test_kept_counts_never_go_stale(signed_in: FlaskClient, app: Flask, writer: Callable[..., int]) -> None:
    """The per-process dashboard cache is keyed on the campaign's totals row: a submit or a status change
    shows at once, in the totals and in the tables alike."""
    from sqlalchemy import select

    from actiontool.models import Message
    from actiontool.services.outbox import set_status

    fill(app, writer)
    assert 'id="total-row-messages">8<' in _html(signed_in)
    assert 'id="total-row-messages">8<' in _html(signed_in)  # the kept answer
    with db.session_scope(app) as s:
        writer(s, SLUG, "late@example.org", MEMBERS[7], day=DAY, ref=None)
    html = _html(signed_in)
    assert 'id="total-messages">10<' in html and 'id="total-row-messages">10<' in html
    with db.session_scope(app) as s:
        message = s.execute(select(Message).where(Message.state == "WI").limit(1)).scalars().one()
        set_status(s, message, "failed")
        s.commit()
    html = _html(signed_in, "?table=status")
    assert re.search(r'<th scope="row">Failed</th>\s*<td>1</td>', html) is not None
    assert 'id="total-written">9<' in _html(signed_in)


def test_a_bad_filter_is_explained_in_spanish_too(signed_in: FlaskClient) -> None:
    response = signed_in.get(f"/organizer/c/{SLUG}?district=OH3&lang=es")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert ("No se puede usar este filtro: district (distrito): se espera una etiqueta como OH-3 o AK-AL"
            in html)
