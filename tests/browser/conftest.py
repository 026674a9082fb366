"""Browser tests: the app served on loopback, driven by Playwright through Debian's chromium.

No chromium on PATH: these tests skip with the reason, except when CI=true, where that is a failure.
The server uses a temporary SQLite database and the tiny dataset that the real data build makes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from actiontool import create_app
from tests.browser.support import CHROMIUM_ARGS, chromium_path
from tests.districts.tiny import build_tiny_data


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


class LiveServer:
    """The app served by werkzeug in a thread on 127.0.0.1 and a free port."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-server", daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Return a headless chromium, one per test module."""
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture(scope="session")
def tiny_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a data folder holding the tiny dataset, built once per test session."""
    return build_tiny_data(tmp_path_factory.mktemp("tiny-browser"))


@pytest.fixture
def live_config() -> dict[str, Any]:
    """Return extra configuration for the served app (tests override this fixture to change it)."""
    return {}


@pytest.fixture
def live_app(tmp_path: Path, tiny_data_dir: Path, live_config: dict[str, Any]) -> Iterator[Flask]:
    """Return the app (real CSRF, a fresh SQLite file, the tiny dataset)."""
    app = create_app({
        "TESTING": False,
        "SECRET_KEY": "browser-test-secret-key-0123456789",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'browser.sqlite3'}",
        "RATELIMIT_ENABLED": False,
        "BOT_MIN_FILL_SECONDS": 0,
        "DATA_DIR": str(tiny_data_dir),
        **live_config,
    })
    app.instance_path = str(tmp_path / "instance")
    yield app
    from actiontool import db

    with app.app_context():
        db.engine().dispose()


@pytest.fixture
def server(live_app: Flask) -> Iterator[LiveServer]:
    """Serve the app for one test."""
    with LiveServer(live_app) as live:
        yield live


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    """Return a factory of pages in fresh contexts (viewport, JavaScript, locale, geolocation...)."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        options.setdefault("viewport", {"width": 1280, "height": 800})
        options.setdefault("locale", "en-US")
        context = browser.new_context(**options)
        context.set_default_timeout(15000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
