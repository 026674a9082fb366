"""The campaign overview and an empty campaign's getting-started block in Debian's chromium, on a phone and a
desktop: no sideways scroll, no serious accessibility violation, the sparkline and the QR code drawn."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from actiontool import create_app, db
from actiontool.services import organizers
from browser.support import CHROMIUM_ARGS, chromium_path
from tests.browser.test_organizer_browser import assert_accessible
from tests.factories import MEMBERS, PASSWORD, write_submission

pytestmark = pytest.mark.browser

SLUG = "detect-and-defeat"


@pytest.fixture
def served(tmp_path: Any) -> Iterator[str]:
    """Serve an app whose one campaign has letters on a few of the last seven days."""
    app: Flask = create_app({"TESTING": True, "SECRET_KEY": "browser-test", "WTF_CSRF_ENABLED": True,
                             "RATELIMIT_ENABLED": False,
                             "DATABASE_URL": f"sqlite:///{tmp_path / 'o.sqlite3'}"})
    app.instance_path = str(tmp_path / "instance")
    today = datetime.now(UTC).date()
    with db.session_scope(app) as s:
        organizers.create(s, "org@example.org", PASSWORD)
        house = [m for m in MEMBERS if m.chamber == "house"]
        for i, back in enumerate((0, 0, 2, 5, 5, 6)):
            write_submission(s, SLUG, f"p{i}@example.org", house[i % len(house)],
                             day=today - timedelta(days=back), ref=None)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine().dispose()


# The words of the given elements that the browser broke across two lines (a header read "Pro-/gress" at
# 1280 px): a word whose text spans client rectangles at two different heights.
BROKEN_WORDS = """els => els.flatMap(el => {
  const broken = [];
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const m of node.data.matchAll(/\\S+/g)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const tops = new Set(Array.from(range.getClientRects()).filter(r => r.width > 0)
                                                            .map(r => Math.round(r.top)));
      if (tops.size > 1) { broken.push(m[0]); }
    }
  }
  return broken;
})"""


@pytest.mark.parametrize("width,height", [(390, 844), (1280, 900)], ids=["phone", "desktop"])
def test_overview_and_getting_started_fit_and_are_accessible(served: str, width: int, height: int) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS,
                                             headless=True)
        try:
            page = browser.new_context(viewport={"width": width, "height": height}).new_page()
            page.goto(f"{served}/organizer/login")
            page.fill("#email", "org@example.org")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.goto(f"{served}/organizer/")
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            assert page.locator(f"#campaign-{SLUG} svg.sparkline rect").count() == 7
            label = page.locator(f"#campaign-{SLUG} svg.sparkline").get_attribute("aria-label") or ""
            numbers = re.fullmatch(r"Letters written per day, \S+ to \S+: ((?:\d+, ){6}\d+)\.", label)
            assert numbers is not None, label
            days = [int(n) for n in numbers.group(1).split(", ")]
            assert [n > 0 for n in days] == [True, True, False, False, True, False, True]  # 6, 5, 2, 0 back
            assert page.inner_text(f"#campaign-{SLUG} [data-count=today]") == str(days[-1])
            headers = page.locator("table.overview thead th")
            assert headers.count() == 9
            assert page.eval_on_selector_all("table.overview thead th", BROKEN_WORDS) == []
            assert_accessible(page)
            # The bundled campaign with letters shows no getting-started block; a fresh dashboard does
            # (the overview lists only campaigns with files or counts, so it is opened by its address).
            page.goto(f"{served}/organizer/c/{SLUG}")
            assert page.locator("#getting-started").count() == 0
        finally:
            browser.close()


def test_an_empty_campaign_shows_its_link_embed_code_and_a_qr_code_that_loads(tmp_path: Any) -> None:
    from playwright.sync_api import sync_playwright

    app: Flask = create_app({"TESTING": True, "SECRET_KEY": "browser-test", "WTF_CSRF_ENABLED": True,
                             "RATELIMIT_ENABLED": False,
                             "DATABASE_URL": f"sqlite:///{tmp_path / 'e.sqlite3'}"})
    app.instance_path = str(tmp_path / "instance")
    with db.session_scope(app) as s:
        organizers.create(s, "org@example.org", PASSWORD)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS,
                                                 headless=True)
            try:
                page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
                page.goto(f"{base}/organizer/login")
                page.fill("#email", "org@example.org")
                page.fill("#password", PASSWORD)
                page.click("button[type=submit]")
                page.goto(f"{base}/organizer/c/{SLUG}")
                assert page.input_value("#share-link") == f"{base}/c/{SLUG}"
                assert page.input_value("#share-embed").startswith(f'<iframe src="{base}/embed/{SLUG}"')
                qr = page.locator("#getting-started img")
                qr.scroll_into_view_if_needed()
                page.wait_for_function("document.querySelector('#getting-started img').complete")
                assert page.evaluate("document.querySelector('#getting-started img').naturalWidth") > 0
                assert page.locator("svg.daily-chart").count() == 0
                assert page.evaluate("document.documentElement.scrollWidth") <= 390
                assert_accessible(page)
            finally:
                browser.close()
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine().dispose()
