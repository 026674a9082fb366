"""Fixtures for the organizer tests (helpers live in organizer_helpers.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from actiontool import db
from actiontool.services import organizers
from tests.factories import write_submission
from tests.organizer.organizer_helpers import PASSWORD


@pytest.fixture
def session(app: Flask) -> Any:
    """Yield a session on the app's database."""
    with db.session_scope(app) as s:
        yield s


@pytest.fixture
def writer() -> Callable[..., int]:
    """Return write_submission."""
    return write_submission


@pytest.fixture
def organizer(app: Flask) -> str:
    """Create an active organizer and return their e-mail."""
    with db.session_scope(app) as s:
        organizers.create(s, "org@example.org", PASSWORD)
    return "org@example.org"


@pytest.fixture
def signed_in(client: Any, organizer: str) -> Any:
    """Return a test client signed in as the organizer."""
    response = client.post("/organizer/login", data={"email": organizer, "password": PASSWORD})
    assert response.status_code == 302, response.data
    return client
