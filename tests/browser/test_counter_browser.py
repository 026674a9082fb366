"""The public counter in a real browser when the campaign file chooses the sent count, and the embed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from actiontool.resources import data_dir

from .test_flow_browser import PHONE, SLUG, assert_accessible


@pytest.fixture
def live_config(tmp_path: Path) -> dict[str, Any]:
    """Serve the default campaign with `counter: {show: sent}`."""
    folder = tmp_path / "campaigns"
    folder.mkdir()
    text = (data_dir() / "campaigns" / f"{SLUG}.yaml").read_text(encoding="utf-8")
    (folder / f"{SLUG}.yaml").write_text(text.rstrip("\n") + "\ncounter:\n  show: sent\n", encoding="utf-8")
    return {"CAMPAIGNS_DIR": str(folder)}


def test_counter_showing_sent_refreshes_the_sent_count(server: Any, new_page: Any) -> None:
    page = new_page(viewport=PHONE)
    page.clock.install()
    page.route(re.compile(r".*/api/v1/campaigns/[^/]+/count$"),
               lambda route: route.fulfill(status=200, content_type="application/json",
                                           body=json.dumps({"messages": 1234, "sent": 56, "goal": 10000})))
    page.goto(f"{server.url}/c/{SLUG}")
    assert "letters sent to offices" in page.locator(".counter").inner_text()
    page.clock.run_for(31_000)
    from playwright.sync_api import expect

    expect(page.locator(".counter .count")).to_have_text("56")  # the sent count, not the written one
    assert page.locator(".counter progress").evaluate("bar => bar.value") == 56


@pytest.mark.parametrize("query", ["", "?lang=es", "?ref=ohio-parents&count=ref"])
def test_embed_is_accessible(server: Any, new_page: Any, query: str) -> None:
    page = new_page(viewport={"width": 320, "height": 170})
    page.goto(f"{server.url}/embed/{SLUG}{query}")
    assert page.locator("#embed-messages").inner_text() == "0"
    assert_accessible(page)
