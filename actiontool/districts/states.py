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

# Census state FIPS codes, for boundary files that name a district's state only by STATEFP.
STATE_FIPS: dict[str, str] = dict(pair.split(":") for pair in (
    "01:AL 02:AK 04:AZ 05:AR 06:CA 08:CO 09:CT 10:DE 11:DC 12:FL 13:GA 15:HI 16:ID 17:IL 18:IN 19:IA 20:KS "
    "21:KY 22:LA 23:ME 24:MD 25:MA 26:MI 27:MN 28:MS 29:MO 30:MT 31:NE 32:NV 33:NH 34:NJ 35:NM 36:NY 37:NC "
    "38:ND 39:OH 40:OK 41:OR 42:PA 44:RI 45:SC 46:SD 47:TN 48:TX 49:UT 50:VT 51:VA 53:WA 54:WV 55:WI 56:WY "
    "60:AS 66:GU 69:MP 72:PR 78:VI"
).split())

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

# The Census Bureau's two-digit state codes (FIPS), as its geocoder and boundary files name states.
STATE_BY_FIPS: dict[str, str] = {
    "01": "AL", "02": "AK", "04": "AZ", "05": "AR", "06": "CA", "08": "CO", "09": "CT", "10": "DE",
    "11": "DC", "12": "FL", "13": "GA", "15": "HI", "16": "ID", "17": "IL", "18": "IN", "19": "IA",
    "20": "KS", "21": "KY", "22": "LA", "23": "ME", "24": "MD", "25": "MA", "26": "MI", "27": "MN",
    "28": "MS", "29": "MO", "30": "MT", "31": "NE", "32": "NV", "33": "NH", "34": "NJ", "35": "NM",
    "36": "NY", "37": "NC", "38": "ND", "39": "OH", "40": "OK", "41": "OR", "42": "PA", "44": "RI",
    "45": "SC", "46": "SD", "47": "TN", "48": "TX", "49": "UT", "50": "VT", "51": "VA", "53": "WA",
    "54": "WV", "55": "WI", "56": "WY", "60": "AS", "66": "GU", "69": "MP", "72": "PR", "78": "VI",
}
