"""Fixtures: the tiny dataset, built once per session by the real build code from tiny inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from actiontool.districts import Dataset, load
from tests.districts.tiny import CONTACT_FORMS, build_tiny, write_inputs


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a data folder holding the tiny dataset (with contact-congress's form URLs)."""
    root = tmp_path_factory.mktemp("tiny")
    inputs = write_inputs(root / "inputs", contact_forms=CONTACT_FORMS)
    build_tiny(inputs, root / "data")
    return root / "data"


@pytest.fixture(scope="session")
def tiny(tiny_dir: Path) -> Dataset:
    """Return the tiny dataset, loaded."""
    return load(tiny_dir)
