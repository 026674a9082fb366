"""Campaign time zones: the local day and hour an action counts under, so "per day" means the organizers' day.

Pure (the standard library's zoneinfo only). A campaign file may name its zone (`time_zone: America/Chicago`);
otherwise the site's TIME_ZONE setting applies, by default America/New_York. Days are computed once, when a
row is written (`created_day`), so every roll-up by day is a local day; `actiontool stats --rebuild`
recomputes them after a campaign's zone changes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIME_ZONE = "America/New_York"


class UnknownTimeZone(ValueError):
    """A time zone name zoneinfo does not know."""


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """Return the zone called `name` (an IANA name such as America/Chicago); raise UnknownTimeZone."""
    if not name or name != name.strip() or "\x00" in name or len(name) > 64:
        raise UnknownTimeZone(f"unknown time zone {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UnknownTimeZone(f"unknown time zone {name!r}: expected a name like America/Chicago") from None


def is_time_zone(name: str) -> bool:
    """Return True when zoneinfo knows `name`."""
    try:
        zone(name)
    except UnknownTimeZone:
        return False
    return True


def local(at: datetime, name: str) -> datetime:
    """Return the instant `at` (naive values are UTC) as a local time in zone `name`."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(zone(name))


def local_day(at: datetime, name: str) -> date:
    """Return the local calendar day of the instant `at` in zone `name`."""
    return local(at, name).date()


def local_hour(at: datetime, name: str) -> int:
    """Return the local hour (0-23) of the instant `at` in zone `name`."""
    return local(at, name).hour


def abbreviation(name: str, at: datetime) -> str:
    """Return the zone's abbreviation at `at` (EST or EDT), for saying which zone a page uses."""
    return local(at, name).tzname() or name
