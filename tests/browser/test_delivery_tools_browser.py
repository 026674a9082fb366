"""The delivery tools in Debian's chromium: filter failed messages, Retry all that match, the nudge list.

At 390×844 (a phone) and 1280×900: no sideways scroll, every new control a 44 px touch target inside the
screen, axe-core without serious or critical violations, and the retry works through the real form (CSRF on).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from actiontool import create_app, db
from actiontool.models import FAILED, Message
from actiontool.services import organizers, outbox
from browser.support import CHROMIUM_ARGS, chromium_path
from tests.browser.test_organizer_browser import assert_accessible
from tests.factories import MEMBERS, PASSWORD, write_submission

pytestmark = pytest.mark.browser

SLUG = "detect-and-defeat"
REASON = "CWC answered 503 Service Unavailable: the House's server was down for maintenance this morning"


@pytest.fixture
def served(tmp_path: Any) -> Iterator[tuple[str, Flask]]:
    """Serve an app with failed and waiting messages and one organizer; yield its URL and the app."""
    app = create_app({"TESTING": True, "SECRET_KEY": "browser-test", "WTF_CSRF_ENABLED": True,
                      "RATELIMIT_ENABLED": False, "DATABASE_URL": f"sqlite:///{tmp_path / 'b.sqlite3'}"})
    app.instance_path = str(tmp_path / "instance")
    with db.session_scope(app) as s:
        organizers.create(s, "org@example.org", PASSWORD)
        house = [m for m in MEMBERS if m.chamber == "house"]
        for i in range(8):
            write_submission(s, SLUG, f"p{i}@example.org", house[i % len(house)], day=date(2026, 3, 1),
                             ref=None)
        for i in range(3):
            write_submission(s, SLUG, f"h{i}@example.org", house[i], day=date(2026, 3, 2), ref=None,
                             channel="handoff", status="needs_constituent")
        for message in s.execute(select(Message).where(Message.status == "queued")).scalars().all()[:10]:
            outbox.set_status(s, message, FAILED, last_error=REASON)
        s.commit()
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


CONTROLS = (".delivery-tools button, .delivery-tools input:not([type=hidden]), .delivery-tools select, "
            ".delivery-tools .filter-buttons a")


@pytest.mark.parametrize("viewport", [(390, 844), (1280, 900)], ids=["phone", "desktop"])
def test_the_delivery_tools_fit_and_retry_all_that_match(served: tuple[str, Flask],
                                                         viewport: tuple[int, int]) -> None:
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    base, app = served
    width, height = viewport
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(f"{base}/organizer/login")
            page.fill("#email", "org@example.org")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.goto(f"{base}/organizer/c/{SLUG}/delivery")
            shots = os.environ.get("ACTIONTOOL_SCREENSHOTS")
            if shots:  # for looking at the page by eye: ACTIONTOOL_SCREENSHOTS=<folder>
                page.screenshot(path=f"{shots}/delivery-{width}.png", full_page=True)
            widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert widths[0] <= widths[1], widths
            controls = page.locator(CONTROLS)
            assert controls.count() >= 6
            for i in range(controls.count()):
                box = controls.nth(i).bounding_box()
                assert box is not None
                assert box["height"] >= 44 and box["width"] >= 44, (i, box)
                assert box["x"] >= 0 and box["x"] + box["width"] <= width, (i, box)
            assert_accessible(page)
            nudge = page.locator("table.nudge tbody tr")
            assert nudge.count() == 3 and "Under 1 day" in nudge.nth(0).inner_text()
            # Filter by a piece of the reason, then retry all that match through the real form.
            page.fill("#reason", "service unavailable")
            page.click(".failed-filter button[type=submit]")
            assert "reason=service+unavailable" in page.url
            page.click("text=Retry all 10 messages that match")
            assert "10 failed messages are queued for delivery again." in page.inner_text("main")
            assert "reason=service+unavailable" in page.url  # the filters are kept
            with app.app_context():
                failed = db.get_session().execute(select(Message).where(Message.status == FAILED)).all()
            assert failed == []
            widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert widths[0] <= widths[1], widths
        finally:
            browser.close()
