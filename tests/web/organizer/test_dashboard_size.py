"""The dashboard's weight with every seat and member written to (issue 15: under 120 KiB of HTML), and every
row of the grouped table still in reach through its pages, sorted over all of them."""

from __future__ import annotations

import csv
import html as html_lib
import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from actiontool import db
from actiontool.districts import district_label
from actiontool.registry import dataset
from actiontool.services.seed import members_from_dataset, seed
from actiontool.web.organizer.dashboard import TABLE_PAGE
from tests.web.organizer.test_organizer_web import SLUG

pytestmark = pytest.mark.bundled_data  # every member and seat of the real data, not the tiny dataset

LIMIT = 120 * 1024
# The test's counts have one or two digits; at a million messages a cell reads "38,412". Each count on the
# page is charged this many more bytes, so the limit holds for the benchmark's page too.
GROWTH_PER_COUNT = 4


def _write_to_everyone(app: Flask) -> dict[str, Any]:
    """Seed letters to every bundled member (so to every seat); return the members by bioguide."""
    with app.app_context():
        members = members_from_dataset(dataset())
    house = [m for m in members if m.chamber == "house"]
    with db.session_scope(app) as s:
        seed(s, SLUG, 6 * len(members), members)
        # The seed draws seats at random: top up the ones it missed, until every seat has letters (a
        # House letter also goes to the state's senators).
        for attempt in range(2, 6):
            missed = _unwritten(s, house)
            if not missed:
                break
            seed(s, SLUG, 3 * len(missed) * 4, [*missed, *(m for m in members if m.chamber == "senate")],
                 rng_seed=attempt)
        assert not _unwritten(s, members)
    return {m.bioguide: m for m in members}


def _unwritten(session: Any, members: list[Any]) -> list[Any]:
    from sqlalchemy import select

    from actiontool.models import Message

    written = set(session.execute(select(Message.bioguide).where(Message.campaign == SLUG).distinct())
                  .scalars())
    return [m for m in members if m.bioguide not in written]


def _get(client: FlaskClient, query: str) -> str:
    response = client.get(f"/organizer/c/{SLUG}?{query}")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _number(text: str) -> int:
    """Read a count as either language prints it: 12,345 in English, 12.345 in Spanish."""
    digits = re.sub(r"[,.\s\u00a0\u202f]", "", text)
    assert digits.isdigit(), text
    return int(digits)


def _projected_size(page: str) -> int:
    """Return the page's bytes with every count charged GROWTH_PER_COUNT more (see above)."""
    counts = len(re.findall(r"<td>[\d,.]+%?</td>", page)) + len(re.findall(r"— [\d,]+ messages", page))
    return len(page.encode()) + GROWTH_PER_COUNT * counts


def _rows(page: str) -> list[tuple[str, ...]]:
    """Return the grouped table's body rows as their cells' text."""
    body = re.search(r'id="group-table".*?<tbody>(.*?)</tbody>', page, re.S)
    assert body is not None
    return [tuple(html_lib.unescape(cell) for cell in re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", row))
            for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)]


def _all_pages(client: FlaskClient, query: str) -> tuple[list[str], list[tuple[str, ...]]]:
    """Follow the pager from page 1 to the last; return every page's HTML and every row in order."""
    pages, rows = [], []
    page = _get(client, query)
    while True:
        pages.append(page)
        rows += _rows(page)
        following = re.search(r'<a href="([^"]+)" rel="next">', page)
        if following is None:
            return pages, rows
        page = _get(client, html_lib.unescape(following.group(1)).split("?", 1)[1].split("#")[0])


@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_view_stays_small_and_reaches_every_row(signed_in: FlaskClient, app: Flask, lang: str) -> None:
    members = _write_to_everyone(app)
    seats = {district_label(m.state, m.district or 0) for m in members.values() if m.chamber == "house"}
    assert len(members) > 500 and len(seats) > 400  # the bundled data, not a test fixture

    for table in ("state", "district", "member", "source", "day", "channel", "status"):
        page = _get(signed_in, f"table={table}&lang={lang}")
        assert _projected_size(page) < LIMIT, (table, len(page.encode()))

    # Every member exactly once across the member table's pages, most messages first over all of them.
    pages, rows = _all_pages(signed_in, f"table=member&lang={lang}")
    assert len(pages) == -(-len(members) // TABLE_PAGE)
    assert all(_projected_size(page) < LIMIT for page in pages)
    assert all(len(_rows(page)) <= TABLE_PAGE for page in pages)
    expected = sorted((m.name, m.state if m.chamber == "senate" else district_label(m.state, m.district or 0))
                      for m in members.values())
    assert sorted((row[0], row[1]) for row in rows) == expected
    messages = [_number(row[4]) for row in rows]  # name, seat, party, actions, messages
    assert messages == sorted(messages, reverse=True)
    # The total row is the whole table's, on every page.
    total = re.compile(r'id="total-row-messages">([^<]+)<')
    assert {_number(total.search(page).group(1)) for page in pages} == {sum(messages)}  # type: ignore[union-attr]

    # Every seat exactly once across the district table's pages, in seat order when sorted by seat.
    pages, rows = _all_pages(signed_in, f"table=district&sort=key&dir=asc&lang={lang}")
    assert len(pages) == -(-len(seats) // TABLE_PAGE)
    assert all(_projected_size(page) < LIMIT for page in pages)
    labels = [row[0] for row in rows]
    assert sorted(labels) == sorted(seats) and len(labels) == len(set(labels))
    assert labels == sorted(labels, key=lambda label: (label[:2], 0 if label.endswith("AL") else
                                                      int(label[3:])))


def test_the_pager_keeps_filters_and_sort_and_clamps(signed_in: FlaskClient, app: Flask) -> None:
    members = _write_to_everyone(app)
    page = _get(signed_in, "table=member&sort=failed&dir=asc&ref=ohio-parents&page=2")
    links = [html_lib.unescape(h) for h in re.findall(r'<nav class="pager"[^>]*>.*?</nav>', page, re.S)]
    assert links, "a pager"
    for href in re.findall(r'href="([^"]+)"', links[0]):
        assert "sort=failed" in href and "dir=asc" in href and "ref=ohio-parents" in href
        assert "table=member" in href and "page=" in href
    assert 'aria-current="page">2<' in page and 'rel="prev"' in page
    assert re.search(r'id="table-rows">Rows 101 to 200 of [\d,]+', page)
    # Sorting or filtering starts again at the first page.
    header = re.search(r'<a href="([^"]+)">Messages', page)
    assert header is not None and "page=" not in header.group(1)
    # A page past the end shows the last page; the CSV still has every row.
    last = _get(signed_in, "table=member&page=999")
    assert 'rel="next"' not in last and 'rel="prev"' in last
    response = signed_in.get(f"/organizer/c/{SLUG}/export.csv?by=member")
    assert response.status_code == 200
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert sorted(line[0] for line in lines[1:]) == sorted(members)  # every bioguide once
