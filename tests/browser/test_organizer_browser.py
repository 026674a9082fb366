"""The dashboard in Debian's chromium (Playwright): sign in, read the map and chart, filter, sort, export.

No chromium on PATH: skipped with the reason, except when CI=true, where that is a failure.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from actiontool import create_app, db
from actiontool.services import organizers, stats
from browser.support import CHROMIUM_ARGS, chromium_path
from tests.factories import MEMBERS, PASSWORD, write_submission

pytestmark = pytest.mark.browser

SLUG = "detect-and-defeat"


@pytest.fixture
def served(tmp_path: Any) -> Iterator[tuple[str, Flask]]:
    """Serve an app with a little data and one organizer on loopback; yield its URL and the app."""
    app = create_app({"TESTING": True, "SECRET_KEY": "browser-test", "WTF_CSRF_ENABLED": True,
                      "RATELIMIT_ENABLED": False, "DATABASE_URL": f"sqlite:///{tmp_path / 'b.sqlite3'}"})
    app.instance_path = str(tmp_path / "instance")
    with db.session_scope(app) as s:
        organizers.create(s, "org@example.org", PASSWORD)
        house = [m for m in MEMBERS if m.chamber == "house"]
        for i in range(12):
            write_submission(s, SLUG, f"p{i}@example.org", house[i % len(house)],
                             day=date(2026, 3, 1 + i % 4), ref="ohio-parents" if i % 3 == 0 else None)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine().dispose()


def assert_accessible(page: Any) -> None:
    """Run axe-core on the page; fail on any serious or critical violation."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not bad, f"{page.url}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}" for v in bad)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_organizer_signs_in_and_uses_the_dashboard(served: tuple[str, Flask], javascript: bool) -> None:
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    base, app = served
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(java_script_enabled=javascript, accept_downloads=True)
            page = context.new_page()
            page.goto(f"{base}/organizer/")
            assert "/organizer/login" in page.url
            if javascript:
                assert_accessible(page)
            page.fill("#email", "org@example.org")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.click(f"a[href='/organizer/c/{SLUG}']")
            # Six House seats twice each: Ohio's three with two senators, Alaska's and Wisconsin's with one.
            assert page.inner_text("#total-messages") == "30"
            with app.app_context():
                from actiontool.registry import dataset

                labels = list(dataset().boundaries())
            districts, ohio = len(labels), sum(1 for label in labels if label.startswith("OH-"))
            if javascript:  # the shaped map is the cached geometry asset, coloured by organizer.js
                page.wait_for_selector("svg.district-map")
                assert page.locator("svg.district-map path").count() == districts
                title = page.locator("svg.district-map path[data-district='OH-1'] title").text_content() or ""
                assert title.startswith("OH-1 — Rep. Ohio One — ")
                assert page.locator("svg.district-map a path[data-district='OH-1']").count() == 1
            assert page.eval_on_selector_all("#seat-tiles li", _SQUARE_LABELS).count("OH-1") == 1
            assert page.locator("svg.daily-chart rect").count() == 4
            if javascript:
                assert_accessible(page)
            # Filters combine in the URL: Ohio × ohio-parents.
            page.select_option("#f-state", "OH")
            page.select_option("#f-ref", "ohio-parents")
            page.click("text=Apply filters")
            assert "state=OH" in page.url and "ref=ohio-parents" in page.url
            assert page.inner_text("#total-messages") == "6"  # two Ohio actions × (rep + 2 senators)
            if javascript:
                page.wait_for_selector("svg.district-map")
                assert page.locator("svg.district-map path").count() == ohio  # the state view: Ohio alone
            # Sort the table server-side by messages, ascending then descending.
            page.click("a:has-text('Member')")
            page.click("thead a:has-text('Messages')")
            assert "sort=messages" in page.url
            if javascript:
                assert_accessible(page)
            with page.expect_download() as download:
                page.click("text=Download this table as CSV")
            assert download.value.suggested_filename == f"{SLUG}-by-member.csv"
        finally:
            browser.close()


# Every organizer page, on a phone and on a laptop (issue 15).
ORGANIZER_PAGES = ("/organizer/", f"/organizer/c/{SLUG}", f"/organizer/c/{SLUG}?table=district",
                   f"/organizer/c/{SLUG}?table=source&state=OH", f"/organizer/c/{SLUG}/delivery",
                   f"/organizer/c/{SLUG}/offices", "/organizer/audit", f"/organizer/c/{SLUG}?lang=es",
                   f"/organizer/c/{SLUG}?table=district&page=2",  # the pager (two rows a page, below)
                   # Spanish runs longer than English: the same pages must still fit.
                   "/organizer/?lang=es", f"/organizer/c/{SLUG}/delivery?lang=es",
                   f"/organizer/c/{SLUG}/offices?lang=es", "/organizer/audit?lang=es")
VIEWPORTS = ({"width": 390, "height": 844}, {"width": 1280, "height": 900})

# Rendered size of SVG text: its font size times the scale the SVG is drawn at.
_SMALLEST_VISIBLE_SVG_TEXT = """() => {
  let smallest = 1000;
  for (const t of document.querySelectorAll('figure svg text')) {
    const box = t.getBoundingClientRect();
    if (!box.width || getComputedStyle(t).display === 'none') continue;
    smallest = Math.min(smallest, parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a);
  }
  return smallest;
}"""
_SMALL_TARGETS = """() => Array.from(document.querySelectorAll(
    'button, select, input:not([type=checkbox]):not([type=hidden]), summary, .tabs a, .org-header a, '
    + '.actions-bar a, .pager a'))
  .filter(e => e.getBoundingClientRect().width > 0 && e.getBoundingClientRect().height < 44)
  .map(e => e.outerHTML.slice(0, 80))"""


def _screenshot(page: Any, name: str, folder: Any) -> None:
    """Keep a full-page screenshot (in ACTIONTOOL_SCREENSHOTS when set, for a person to look at)."""
    import os
    from pathlib import Path

    target = Path(os.environ.get("ACTIONTOOL_SCREENSHOTS") or folder)
    target.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["phone", "laptop"])
def test_organizer_pages_fit_the_screen_and_are_accessible(served: tuple[str, Flask],
                                                          viewport: dict[str, int], tmp_path: Any,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    executable = chromium_path()
    from actiontool.web.organizer import dashboard

    monkeypatch.setattr(dashboard, "TABLE_PAGE", 2)  # a few rows, so the grouped table has pages
    from playwright.sync_api import sync_playwright

    base, app = served
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport=viewport)
            page.goto(f"{base}/organizer/login")
            _fits(page, "login")
            assert_accessible(page)
            _screenshot(page, f"login-{viewport['width']}", tmp_path)
            page.fill("#email", "org@example.org")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            for path in ORGANIZER_PAGES:
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                _fits(page, path)
                assert page.evaluate(_SMALL_TARGETS) == [], path
                assert_accessible(page)
                _screenshot(page, f"{path.strip('/').replace('/', '_').replace('?', '_') or 'index'}-"
                                  f"{viewport['width']}", tmp_path)
            # The grouped table's pages: the middle one links both ways and says which rows it shows.
            page.goto(f"{base}/organizer/c/{SLUG}?table=district&page=2&lang=en")  # es was chosen above
            assert page.locator(".pager a[aria-current=page]").inner_text() == "2"
            assert page.locator(".pager a[rel=prev]").count() == 1
            assert page.locator(".pager a[rel=next]").count() == 1
            assert page.inner_text("#table-rows").startswith("Rows 3 to 4 of ")
            # The dashboard: totals on the first screen, readable chart and map text, the time zone said.
            page.goto(f"{base}/organizer/c/{SLUG}")
            page.wait_for_selector("svg.district-map")
            assert page.locator("#total-messages").bounding_box()["y"] < viewport["height"] - 40
            assert page.evaluate(_SMALLEST_VISIBLE_SVG_TEXT) >= 12
            assert "America/New_York" in page.inner_text("#time-zone")
            # A shape or a square for every one of the 441 seats, on the map and in the squares.
            with app.app_context():
                from actiontool.registry import dataset

                seats = {stats.district_label(s, n) for s, n in dataset().house_seats()}
            assert len(seats) == 441
            drawn = set(page.eval_on_selector_all("svg.district-map [data-district]",
                                                  "els => els.map(e => e.dataset.district)"))
            squares = set(page.eval_on_selector_all("#seat-tiles li", _SQUARE_LABELS))
            assert seats <= drawn and seats <= squares
            # A bad filter: the message in place, the filters kept.
            page.goto(f"{base}/organizer/c/{SLUG}?district=OH3&state=OH&lang=en")  # es was chosen above
            assert "This filter cannot be used" in page.inner_text("#filter-error")
            assert page.input_value("#f-district") == "OH3"
            _fits(page, "bad filter")
            assert_accessible(page)
            _screenshot(page, f"bad-filter-{viewport['width']}", tmp_path)
        finally:
            browser.close()


# A seat square's label, as organizer.js reads it: its state's code and its text (the district number, or
# the state's code again for an at-large seat).
_SQUARE_LABELS = """els => els.map(e => {
  const state = e.parentElement.dataset.state;
  return state + "-" + (e.textContent === state ? "AL" : e.textContent);
})"""


def _fits(page: Any, what: str) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], (what, widths)  # wide tables scroll in their own box
