"""Districts and places named in words, in the interface language: "Wisconsin’s 2nd congressional district"
beside "WI-2". The names are translatable strings, so the Spanish catalog holds their Spanish forms."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from actiontool.districts import District, ordinal
from actiontool.districts.states import NON_VOTING
from actiontool.web.i18n import current_language

PLACE_NAMES = {
    "AL": _l("Alabama"), "AK": _l("Alaska"), "AZ": _l("Arizona"), "AR": _l("Arkansas"),
    "CA": _l("California"), "CO": _l("Colorado"), "CT": _l("Connecticut"), "DE": _l("Delaware"),
    "FL": _l("Florida"), "GA": _l("Georgia"), "HI": _l("Hawaii"), "ID": _l("Idaho"), "IL": _l("Illinois"),
    "IN": _l("Indiana"), "IA": _l("Iowa"), "KS": _l("Kansas"), "KY": _l("Kentucky"), "LA": _l("Louisiana"),
    "ME": _l("Maine"), "MD": _l("Maryland"), "MA": _l("Massachusetts"), "MI": _l("Michigan"),
    "MN": _l("Minnesota"), "MS": _l("Mississippi"), "MO": _l("Missouri"), "MT": _l("Montana"),
    "NE": _l("Nebraska"), "NV": _l("Nevada"), "NH": _l("New Hampshire"), "NJ": _l("New Jersey"),
    "NM": _l("New Mexico"), "NY": _l("New York"), "NC": _l("North Carolina"), "ND": _l("North Dakota"),
    "OH": _l("Ohio"), "OK": _l("Oklahoma"), "OR": _l("Oregon"), "PA": _l("Pennsylvania"),
    "RI": _l("Rhode Island"), "SC": _l("South Carolina"), "SD": _l("South Dakota"), "TN": _l("Tennessee"),
    "TX": _l("Texas"), "UT": _l("Utah"), "VT": _l("Vermont"), "VA": _l("Virginia"), "WA": _l("Washington"),
    "WV": _l("West Virginia"), "WI": _l("Wisconsin"), "WY": _l("Wyoming"),
    "DC": _l("the District of Columbia"), "PR": _l("Puerto Rico"), "GU": _l("Guam"),
    "VI": _l("the U.S. Virgin Islands"), "AS": _l("American Samoa"), "MP": _l("the Northern Mariana Islands"),
}

# How a district's number is written in each interface language: "2nd", "2.º".
_ORDINALS: dict[str, Callable[[int], str]] = {"en": ordinal, "es": lambda number: f"{number}.º"}


def place_name(state: str) -> str:
    """Return the state's or territory's name in the interface language (its code when unknown)."""
    name = PLACE_NAMES.get(state)
    return str(name) if name is not None else state


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def district_words(district: District) -> str:
    """Return the district named in words: "Wisconsin’s 2nd congressional district"."""
    place = place_name(district.state)
    if district.district == 0:
        words = _("%(place)s’s at-large congressional district", place=place)
    else:
        number = _ORDINALS.get(current_language(), ordinal)(district.district)
        words = _("%(place)s’s %(ordinal)s congressional district", place=place, ordinal=number)
    if current_language() == "es":  # "de el Distrito de Columbia" is written "del Distrito de Columbia"
        words = words.replace(" de el ", " del ")
    return _capitalised(words)


def no_senators(state: str) -> str | None:
    """Return why DC or a territory has no senators to write to; None for a state."""
    if state not in NON_VOTING:
        return None
    return _capitalised(_("%(place)s has no senators: the Constitution gives seats in the Senate only to "
                          "states, and %(place)s is not a state.",
                          place=place_name(state)))


def init_app(app: Flask) -> None:
    """Offer the helpers to templates."""
    app.add_template_filter(district_words, "district_words")
    app.add_template_filter(place_name, "place_name")
    app.add_template_global(no_senators, "no_senators")
