"""ZIP code or point -> members of Congress, from the dataset bundled with the tool.

Pure: no Flask, no database, no network. `bundled()` loads the shipped data once per process;
`load(path)` loads any folder the data build wrote (tests use tiny ones).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from actiontool.districts.dataset import DataError, Dataset, load, normalize_zip, parse_label, parse_point
from actiontool.districts.model import (
    DataInfo,
    District,
    InvalidPoint,
    InvalidZip,
    Lookup,
    LookupError_,
    Member,
    NotFound,
    Office,
    district_label,
    ordinal,
)

__all__ = [
    "DataError",
    "DataInfo",
    "Dataset",
    "District",
    "InvalidPoint",
    "InvalidZip",
    "Lookup",
    "LookupError_",
    "Member",
    "NotFound",
    "Office",
    "bundled",
    "district_label",
    "load",
    "lookup",
    "lookup_point",
    "normalize_zip",
    "ordinal",
    "parse_label",
    "parse_point",
]


@cache
def bundled() -> Dataset:
    """Return the dataset shipped with the tool, loaded once per process."""
    from actiontool.resources import data_dir

    return load(Path(data_dir()))


def lookup(zip_text: str) -> Lookup:
    """Look a ZIP up in the bundled dataset; raise InvalidZip or NotFound."""
    return bundled().lookup(zip_text)


def lookup_point(lat: Any, lon: Any) -> Lookup:
    """Look a latitude/longitude up in the bundled dataset; raise InvalidPoint or NotFound."""
    return bundled().lookup_point(lat, lon)
