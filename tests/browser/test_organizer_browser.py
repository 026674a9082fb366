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
from actiontool.services import organizers
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
            assert page.locator("svg.district-map path").count() == districts
            title = page.locator("svg.district-map path[data-district='OH-1'] title").text_content() or ""
            assert title.startswith("OH-1 — Rep. Ohio One — ")
            assert page.locator("svg.daily-chart rect").count() == 4
            if javascript:
                assert_accessible(page)
            # Filters combine in the URL: Ohio × ohio-parents.
            page.select_option("#f-state", "OH")
            page.select_option("#f-ref", "ohio-parents")
            page.click("text=Apply filters")
            assert "state=OH" in page.url and "ref=ohio-parents" in page.url
            assert page.inner_text("#total-messages") == "6"  # two Ohio actions × (rep + 2 senators)
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


def test_organizer_pages_do_not_scroll_sideways_on_a_phone(served: tuple[str, Flask]) -> None:
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    base, _ = served
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(f"{base}/organizer/login")
            page.fill("#email", "org@example.org")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            for path in ("/organizer/", f"/organizer/c/{SLUG}", "/organizer/audit"):
                page.goto(base + path)
                assert page.locator("table.data").count() > 0, path
                widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
                assert widths[0] <= widths[1], (path, widths)  # wide tables scroll in their own box
            assert_accessible(page)
        finally:
            browser.close()
