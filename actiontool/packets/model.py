"""The values an office packet and an office report are rendered from, and the tallies they show.

Pure: plain frozen dataclasses that the packet service fills from the database and the renderers read.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

# (label, count) pairs, largest count first: "Madison, WI" -> 120, or "53703" -> 40.
Tally = tuple[tuple[str, int], ...]


class EmptyPacket(ValueError):
    """A packet or a cover was asked for with no letters in it."""


@dataclass(frozen=True)
class PacketLetter:
    """One constituent's letter as the office receives it, with the address that proves they are one."""

    name: str
    street: str
    city: str
    state: str
    zip: str
    sent_at: datetime
    text: str  # the letter a person reads: letters.full_text(suggested_text, constituent_text)
    edited: bool = False  # the constituent changed the suggested text


@dataclass(frozen=True)
class PacketCover:
    """What the first page of a packet says: whose letters, to whom, about what, from where and when."""

    campaign_title: str
    ask: str
    bill: str
    organization: str
    member: str  # how the office is named on the cover, e.g. "Senator Tammy Baldwin (WI)"
    first_date: date
    last_date: date
    by_city: Tally
    by_zip: Tally
    total: int
    prepared_on: date | None = None


@dataclass(frozen=True)
class OfficeReport:
    """A one-page summary of one member's letters for a lobby meeting; it holds no contact details."""

    member: str
    campaign_title: str
    by_status: Tally  # labels as they should read, e.g. ("Delivered", 120), ("Waiting for delivery", 8)
    first_date: date | None
    last_date: date | None
    by_city: Tally
    by_zip: Tally
    own_words_count: int  # letters that carry the constituent's own words
    own_words: tuple[str, ...]  # those words, in the order they should be shown
    prepared_on: date | None = None

    @property
    def total(self) -> int:
        """Return the number of letters over every status."""
        return sum(count for _, count in self.by_status)


def _ranked(counts: Counter[str]) -> Tally:
    """Return the counts largest first, ties in label order, so the same letters always read the same."""
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def tally_cities(places: Iterable[tuple[str, str]]) -> Tally:
    """Count (city, state) pairs as "City, ST", merging spellings that differ only in case or spaces.

    The label is the spelling most letters used, so "madison" and "Madison" count as one Madison.
    """
    counts: Counter[tuple[str, str]] = Counter()
    spellings: dict[tuple[str, str], Counter[str]] = {}
    for city, state in places:
        shown = " ".join(city.split()) or "(no city)"
        key = (shown.casefold(), state.strip().upper())
        counts[key] += 1
        spellings.setdefault(key, Counter())[shown] += 1
    labelled: Counter[str] = Counter()
    for key, count in counts.items():
        spelling = min(spellings[key].items(), key=lambda item: (-item[1], item[0]))[0]
        labelled[f"{spelling}, {key[1]}" if key[1] else spelling] += count
    return _ranked(labelled)


def zip5(zip_code: str) -> str:
    """Return the five-digit ZIP of "53703" or "53703-1234" (other text as it is, trimmed)."""
    digits = zip_code.strip()
    return digits[:5] if re.fullmatch(r"\d{5}(-?\d{4})?", digits) else digits or "(no ZIP)"


def tally_zips(zip_codes: Iterable[str]) -> Tally:
    """Count five-digit ZIPs."""
    return _ranked(Counter(zip5(z) for z in zip_codes))


def make_cover(letters: Sequence[PacketLetter], *, campaign_title: str, ask: str, bill: str,
               organization: str, member: str, prepared_on: date | None = None) -> PacketCover:
    """Return the cover of a packet of `letters`, its counts and dates taken from the letters themselves."""
    if not letters:
        raise EmptyPacket("a packet needs at least one letter")
    days = [letter.sent_at.date() for letter in letters]
    return PacketCover(
        campaign_title=campaign_title, ask=ask, bill=bill, organization=organization, member=member,
        first_date=min(days), last_date=max(days),
        by_city=tally_cities((letter.city, letter.state) for letter in letters),
        by_zip=tally_zips(letter.zip for letter in letters),
        total=len(letters), prepared_on=prepared_on)


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w+])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-]?)\d{3}[\s.-]?\d{4}(?!\w)")
_STREET = re.compile(
    r"\b\d{1,6}\s+(?:[NSEW]\.?\s+)?(?:[A-Za-z0-9'-]+\s+){1,3}"
    r"(?:St|Street|Ave|Avenue|Rd|Road|Blvd|Boulevard|Dr|Drive|Ln|Lane|Ct|Court|Way|Pl|Place|Pkwy|Parkway"
    r"|Hwy|Highway|Ter|Terrace|Cir|Circle)\b\.?", re.IGNORECASE)


def redact_contact_details(text: str) -> str:
    """Replace e-mail addresses, phone numbers and street addresses a constituent typed into their words.

    The office report is shown in meetings: people write "call me at 608-555-1234" into letters, and
    those details belong only in the packet that goes to their own office.
    """
    text = _EMAIL.sub("[e-mail]", text)
    text = _STREET.sub("[address]", text)
    return _PHONE.sub("[phone]", text)
