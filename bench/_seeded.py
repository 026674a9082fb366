"""An app on a given database with the bundled members, for the benchmarks that seed a million rows."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask

from actiontool import create_app, registry
from actiontool.services.seed import SeedMember, members_from_dataset


@contextmanager
def bench_app(url: str) -> Iterator[tuple[Flask, list[SeedMember]]]:
    """Yield an app on `url` (limits and CSRF off, a throwaway instance folder) and the members to seed."""
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True,
                          "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
        app.instance_path = instance
        yield app, members_from_dataset(registry.dataset(app))
