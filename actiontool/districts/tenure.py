"""PURE: is the member a letter was written to still in office? Asked before any letter is carried.

A member has left office when their recorded term end is before today, or when they are missing from
the dataset the app runs on now although that dataset is no older than the letter (a `data build` made
after the letter was written left them out). A member missing from a dataset older than the letter was
never in it (a test's or a demo's made-up member) and says nothing about leaving.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from actiontool.districts.model import SPECIAL_ELECTION, Member


def term_has_ended(member: Member, today: date) -> bool:
    """Return True when the member's recorded term end is before `today` (False when none is recorded).

    An appointee's recorded end is the date of the special election, not the day they leave: they sit
    until the winner is sworn in, which only a newer dataset can tell (it leaves them out then).
    """
    if not member.term_end or member.term_end_type == SPECIAL_ELECTION:
        return False
    try:
        return date.fromisoformat(member.term_end) < today
    except ValueError:  # an unreadable date says nothing about the member having left
        return False


@dataclass(frozen=True)
class Roster:
    """Who is in office on `today`, by the dataset whose members are as of `as_of`."""

    known: frozenset[str]  # every member of the dataset
    ended: frozenset[str]  # those of them whose term ended before today
    as_of: date
    today: date

    @classmethod
    def from_members(cls, members: Iterable[Member], as_of: date, today: date) -> Roster:
        """Return the roster of a dataset's `members` (as of `as_of`) on `today`."""
        members = list(members)
        return cls(frozenset(m.bioguide for m in members),
                   frozenset(m.bioguide for m in members if term_has_ended(m, today)), as_of, today)

    def has_left(self, bioguide: str, written_on: date) -> bool:
        """Return True when the member a letter written on `written_on` addresses is no longer in office."""
        if bioguide in self.known:
            return bioguide in self.ended
        return self.as_of >= written_on
