"""The fixed facts of the House and Senate that the data is checked against."""

from __future__ import annotations

# The 50 states: two senators each, and together 435 voting House seats.
STATES: frozenset[str] = frozenset(
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY "
    "NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY".split()
)

# Non-voting House seats (district 0): a delegate each, and Puerto Rico's Resident Commissioner. No senators.
NON_VOTING: frozenset[str] = frozenset({"DC", "PR", "GU", "VI", "AS", "MP"})

# Territories that have no ZIP tabulation areas and no polygons in the 119th boundaries.
ISLAND_AREAS: frozenset[str] = frozenset({"GU", "VI", "AS", "MP"})

VOTING_SEATS = 435
SENATORS_PER_STATE = 2


def house_title(state: str) -> str:
    """Return the title of the House member for `state`: Representative, Delegate or Resident Commissioner."""
    if state == "PR":
        return "Resident Commissioner"
    if state in NON_VOTING:
        return "Delegate"
    return "Representative"


def congress_end(congress: int) -> str:
    """Return the date (YYYY-MM-DD) a Congress ends: noon, January 3 of its third year (20th Amendment)."""
    return f"{1789 + 2 * congress}-01-03"
