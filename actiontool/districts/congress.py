"""Which Congress a dataset describes, how a Congress is named, and what to do around its last day.

Pure: no Flask, no database. The Congress number always comes from the data (the boundaries' `CDnnnFP`
property and the members' term starts), never from a constant in the code.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from actiontool.districts.model import DataInfo, ordinal

# The Census names a Congress's district property CD<number>FP (CD119FP, CD120FP, ...).
_CD_PROPERTY = re.compile(r"CD(\d{2,3})FP")

# How close to a Congress's last day `data check` starts (and stops) telling what to do.
TRANSITION_WINDOW_DAYS = 30
# Where that is written down: docs/DATA.md, this section.
RUNBOOK = 'docs/DATA.md, "Runbook: the Congress transition"'


def congress_on(day: date) -> int:
    """Return the number of the Congress sitting on `day` (each starts at noon, January 3 of an odd year)."""
    year = day.year - 1 if (day.month, day.day) < (1, 3) else day.year
    return (year - 1787) // 2


def ordinal_in(number: int, lang: str) -> str:
    """Return the ordinal of a Congress in a language: `119th` in English, `119.º` in Spanish."""
    if lang == "es":
        return f"{number}.º"
    return ordinal(number)


# The pure core renders letters in a chosen language without Babel, so a Congress's name in each interface
# language is kept here, beside its ordinal (as letters.LANGUAGE_NAMES keeps the languages' own names).
_CONGRESS_NAMES = {"en": "{ordinal} Congress", "es": "{ordinal} Congreso"}


def congress_name_in(number: int, lang: str) -> str:
    """Return a Congress's name in a language: `119th Congress`, `119.º Congreso` (English when unknown)."""
    return _CONGRESS_NAMES.get(lang, _CONGRESS_NAMES["en"]).format(ordinal=ordinal_in(number, lang))


def boundary_property(props: Mapping[str, Any]) -> tuple[str, int] | None:
    """Return (property name, Congress) of a boundary feature's district property, e.g. ("CD120FP", 120)."""
    for key in props:
        match = _CD_PROPERTY.fullmatch(str(key))
        if match:
            return str(key), int(match.group(1))
    return None


def members_congress(people: Iterable[Mapping[str, Any]]) -> int | None:
    """Return the Congress most House members' current terms began in (congress-legislators records), or None.

    House terms all start with a Congress (or within it, after a special election), so the most common one is
    the Congress the member file describes; senators' six-year terms say nothing about it.
    """
    seen: Counter[int] = Counter()
    for person in people:
        try:
            term = person["terms"][-1]
            if term["type"] == "rep":
                seen[congress_on(date.fromisoformat(term["start"]))] += 1
        except (KeyError, IndexError, TypeError, ValueError):
            continue
    return seen.most_common(1)[0][0] if seen else None


@dataclass(frozen=True)
class TransitionNotice:
    """What `data check` says in the 30 days before and after the data's Congress ends."""

    phase: Literal["before", "after"]
    days: int  # days until the end (before) or since it (after)
    text: str


def transition_notice(info: DataInfo, today: date) -> TransitionNotice | None:
    """Return the notice for `today` when it is within TRANSITION_WINDOW_DAYS of the Congress's end."""
    left = info.days_left(today)
    following = ordinal(info.congress + 1)
    if 0 < left <= TRANSITION_WINDOW_DAYS:
        return TransitionNotice("before", left, (
            f"the {info.congress_name} ends on {info.congress_ends}, in {left} day(s): the {following} "
            f"Congress's members are seated that day. Follow {RUNBOOK}: fetch the new upstream files, "
            "`actiontool data build`, `actiontool data check`, then deploy on the day"))
    if -TRANSITION_WINDOW_DAYS <= left <= 0:
        ago = "today" if left == 0 else f"{-left} day(s) ago"
        return TransitionNotice("after", -left, (
            f"the {info.congress_name} ended on {info.congress_ends}, {ago}: this data still names "
            f"its members. Follow {RUNBOOK}: rebuild with the {following} Congress's members (with "
            "`--redrawn-states` while a redrawn state's ZIP crosswalk is late) and deploy"))
    return None
