"""Fixtures of the web tests: the app reads the tiny dataset that the real data build makes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.districts.tiny import build_tiny_data


@pytest.fixture(scope="session")
def tiny_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a data folder holding the tiny dataset, built once per test session."""
    return build_tiny_data(tmp_path_factory.mktemp("tiny-web"))


@pytest.fixture
def app_config(app_config: dict[str, Any], tiny_data_dir: Path,
               request: pytest.FixtureRequest) -> dict[str, Any]:
    """Point the app at the tiny dataset (DATA_DIR) instead of the bundled one, unless marked bundled_data."""
    if request.node.get_closest_marker("bundled_data"):
        return app_config
    return {**app_config, "DATA_DIR": str(tiny_data_dir)}
