"""Shared objects that views need, created once per app: the district dataset."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from actiontool.districts import Dataset, bundled, load

_KEY = "actiontool.dataset"


def app_dataset(app: Flask) -> Dataset:
    """Return the app's dataset: config DATA_DIR when set, else the bundled data; loaded once per app."""
    dataset = app.extensions.get(_KEY)
    if dataset is None:
        folder = app.config.get("DATA_DIR")
        dataset = load(Path(folder)) if folder else bundled()
        app.extensions[_KEY] = dataset
    return dataset


def dataset() -> Dataset:
    """Return the current app's district dataset."""
    return app_dataset(current_app._get_current_object())  # type: ignore[attr-defined]
