"""Packet fixtures: the tiny dataset (a member whose term has ended among them) and a packet campaign."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from actiontool import db
from actiontool.services import organizers
from tests.districts.tiny import build_tiny, write_inputs
from tests.packets.support import CAMPAIGN

PASSWORD = "correct horse battery staple"
CAMPAIGN_FILE = f"""\
slug: {CAMPAIGN}
status: live
targets: both
editable: true
goal: 100
languages: [en]
loc_topics: [Health]
title: Packet campaign
ask: Ask them to act.
subject: Please act
background: [A fact.]
letter: detect-and-defeat.en.txt.j2
bill: {{congress: 119, type: hr, number: 1234}}
delivery:
  house: {{channel: packet}}
  senate: {{channel: packet}}
"""


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a data folder holding the tiny dataset, built by the real build code."""
    root = tmp_path_factory.mktemp("tiny-packets")
    build_tiny(write_inputs(root / "inputs"), root / "data")
    return root / "data"


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path, tiny_dir: Path) -> dict[str, Any]:
    """Return the test configuration with the tiny dataset and a campaign delivered by packet."""
    campaigns = tmp_path / "campaigns"
    campaigns.mkdir()
    (campaigns / f"{CAMPAIGN}.yaml").write_text(CAMPAIGN_FILE, encoding="utf-8")
    return {**app_config, "DATA_DIR": str(tiny_dir), "CAMPAIGNS_DIR": str(campaigns)}


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """Yield a session on the app's database."""
    with db.session_scope(app) as s:
        yield s


@pytest.fixture
def signed_in(app: Flask, client: Any) -> Any:
    """Return a test client signed in as an organizer."""
    with db.session_scope(app) as s:
        organizers.create(s, "org@example.org", PASSWORD)
    response = client.post("/organizer/login", data={"email": "org@example.org", "password": PASSWORD})
    assert response.status_code == 302, response.data
    return client
