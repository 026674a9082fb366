"""Pages beyond the main flow in a real browser: the campaign list and a closed campaign, with axe-core."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from actiontool.resources import data_dir
from tests.browser.test_flow_browser import PHONE, SLUG, assert_accessible, assert_fits


@pytest.fixture
def live_config(tmp_path: Path) -> dict[str, Any]:
    """Serve three campaigns: the default, a second live one and a closed one."""
    from web.flow_helpers import campaign_variant

    folder = tmp_path / "campaigns"
    folder.mkdir()
    shutil.copy(data_dir() / "campaigns" / f"{SLUG}.yaml", folder)
    campaign_variant(folder, "second-campaign")
    campaign_variant(folder, "finished", **{"status: live": "status: closed"})
    return {"CAMPAIGNS_DIR": str(folder)}


def test_campaign_list_and_closed_campaign(server: Any, new_page: Any) -> None:
    page = new_page(viewport=PHONE)
    page.goto(f"{server.url}/")
    assert page.get_by_role("heading", name="Take action").is_visible()
    links = page.locator("main a")
    assert links.count() == 2  # the two live campaigns; the closed one is not listed
    assert_accessible(page)
    assert_fits(page, PHONE["width"])
    page.goto(f"{server.url}/c/finished")
    assert page.get_by_role("heading", name="This campaign is closed").is_visible()
    assert page.get_by_label("Your ZIP code").count() == 0
    assert_accessible(page)
