"""Locate the bundled templates/ and data/ folders, in a checkout or inside an installed wheel."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

_PACKAGE = "actiontool"


@cache
def project_root() -> Path | None:
    """Return the checkout's root when running from a source tree, else None."""
    root = Path(str(resources.files(_PACKAGE))).resolve().parent
    if (root / "pyproject.toml").is_file() and (root / "data").is_dir():
        return root
    return None


@cache
def resource_dir(name: str) -> Path:
    """Return the folder `name` ("data" or "templates"): the checkout's own, else the wheel's copy.

    A source tree wins over a bundled copy so that an editable install never serves stale files.
    """
    root = project_root()
    if root is not None:
        return root / name
    bundled = Path(str(resources.files(_PACKAGE))) / "_bundle" / name
    if bundled.is_dir():
        return bundled
    raise FileNotFoundError(f"actiontool is installed without its {name}/ folder")


def data_dir() -> Path:
    """Return the bundled data folder."""
    return resource_dir("data")


def templates_dir() -> Path:
    """Return the bundled templates folder."""
    return resource_dir("templates")
