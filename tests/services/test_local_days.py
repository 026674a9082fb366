"""Local days and hours (issue 15) equal brute-force recounts from each row's UTC instant, across DST.

Submits land around midnight and around the switch to daylight time in New York (2026-03-08 02:00 local);
the roll-ups by day, actions per day, state, district and source, and the hour-of-day view are compared
with a recount that converts every `created_at` with zoneinfo itself. Then the campaign's zone changes and
`stats --rebuild` (local_days.relocalise + counts.rebuild) must move every row to its new local day.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from actiontool import db
from actiontool.models import Action, Message
from actiontool.services import counts, local_days, stats
from actiontool.services.stats import NO_REF, Filters
from actiontool.services.submit import submit
from actiontool.timezones import UnknownTimeZone, local_day, zone
from tests.factories import MEMBERS, outgoing_to, with_senators
from tests.factories import submission as make_submission

CAMPAIGN = "c1"
HOUSE = [m for m in MEMBERS if m.chamber == "house"]
REFS = [None, "ohio-parents", "Nurses"]  # "Nurses" is stored as "nurses"
# New York switches to daylight time on 2026-03-08 at 02:00 local (07:00 UTC).
SWITCH = datetime(2026, 3, 8, 7, tzinfo=UTC)


def _instants(rng: random.Random, n: int) -> list[datetime]:
    """Return instants near local midnights and near the DST switch, where UTC and local days differ."""
    out = []
    for _ in range(n):
        base = rng.choice([SWITCH, datetime(2026, 3, 7, 4, 30, tzinfo=UTC),
                           datetime(2026, 3, 9, 3, 59, tzinfo=UTC), datetime(2026, 3, 9, 4, 1, tzinfo=UTC),
                           datetime(2026, 3, 6, 23, tzinfo=UTC)])
        out.append(base + timedelta(minutes=rng.randrange(-150, 150)))
    return out


def _submit_around_the_switch(session: Session, rng: random.Random, time_zone: str, n: int = 60) -> None:
    for i, when in enumerate(_instants(rng, n)):
        house = rng.choice(HOUSE)
        letters = [outgoing_to(m, channel="cwc") for m in with_senators(house)]
        submit(session, make_submission(letters, email=f"p{i}@example.org", campaign=CAMPAIGN,
                                        ref=rng.choice(REFS), state=house.state,
                                        district_label=stats.district_label(house.state, house.district)),
               now=when, time_zone=time_zone)


def _local(at: datetime, time_zone: str) -> datetime:
    """The brute force's own conversion: a stored UTC instant to local time."""
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(ZoneInfo(time_zone))


def _brute_days(session: Session, time_zone: str, f: Filters) -> tuple[Counter[str], Counter[str]]:
    """Recount messages and actions per local day (within f's date range) from created_at."""
    def inside(day: date) -> bool:
        return (f.date_from is None or day >= f.date_from) and (f.date_to is None or day <= f.date_to)

    messages: Counter[str] = Counter()
    for (at,) in session.execute(select(Message.created_at).where(Message.campaign == CAMPAIGN)):
        day = _local(at, time_zone).date()
        if inside(day):
            messages[day.isoformat()] += 1
    actions: Counter[str] = Counter()
    for (at,) in session.execute(select(Action.created_at).where(Action.campaign == CAMPAIGN)):
        day = _local(at, time_zone).date()
        if inside(day):
            actions[day.isoformat()] += 1
    return messages, actions


def _brute_actions_by(session: Session, column: Any, time_zone: str, f: Filters) -> Counter[str]:
    result: Counter[str] = Counter()
    for at, key in session.execute(select(Action.created_at, column).where(Action.campaign == CAMPAIGN)):
        day = _local(at, time_zone).date()
        if (f.date_from is None or day >= f.date_from) and (f.date_to is None or day <= f.date_to):
            result[key or NO_REF] += 1
    return result


def _assert_local_counts(session: Session, time_zone: str, rng: random.Random) -> None:
    session.expire_all()
    days = [date(2026, 3, d) for d in range(5, 11)]
    combos = [Filters()] + [Filters(date_from=rng.choice(days + [None]), date_to=None) for _ in range(4)]
    combos += [Filters(date_from=d, date_to=d) for d in days]
    for f in combos:
        messages, actions = _brute_days(session, time_zone, f)
        got = {r["key"]: r["messages"] for r in stats.by(session, CAMPAIGN, "day", f)}
        assert got == dict(messages), f
        assert stats.actions_by(session, CAMPAIGN, "day", f) == dict(actions), f
        assert stats.totals(session, CAMPAIGN, f)["actions"] == sum(actions.values()), f
        for dim, column in (("state", Action.state), ("district", Action.district_label),
                            ("source", Action.ref)):
            assert stats.actions_by(session, CAMPAIGN, dim, f) == dict(
                _brute_actions_by(session, column, time_zone, f)), (dim, f)
        hours = [0] * 24
        for (at,) in session.execute(select(Action.created_at).where(Action.campaign == CAMPAIGN)):
            moment = _local(at, time_zone)
            if (f.date_from is None or moment.date() >= f.date_from) and (
                    f.date_to is None or moment.date() <= f.date_to):
                hours[moment.hour] += 1
        assert local_days.by_hour(session, CAMPAIGN, f.date_from, f.date_to) == hours, f
    # No hour 2 on the day of the switch: it does not exist in New York.
    if time_zone == "America/New_York":
        assert local_days.by_hour(session, CAMPAIGN, date(2026, 3, 8), date(2026, 3, 8))[2] == 0


def test_local_days_and_hours_match_brute_force_across_dst(app: Flask) -> None:
    rng = random.Random(15)
    with app.app_context(), db.session_scope(app) as s:
        _submit_around_the_switch(s, rng, "America/New_York")
        # Some rows really do sit on another day than their UTC day, or the test proves nothing.
        shifted = [at for (at,) in s.execute(select(Action.created_at))
                   if _local(at, "America/New_York").date() != (at.replace(tzinfo=UTC)).date()]
        assert len(shifted) >= 5
        _assert_local_counts(s, "America/New_York", rng)
        assert all(ref in (None, "ohio-parents", "nurses") for (ref,) in s.execute(select(Action.ref)))


def test_rebuild_moves_rows_to_the_new_zones_local_days(app: Flask) -> None:
    rng = random.Random(16)
    with app.app_context(), db.session_scope(app) as s:
        _submit_around_the_switch(s, rng, "America/New_York", n=40)
        changed = local_days.relocalise(s, lambda _slug: "Asia/Tokyo", CAMPAIGN)
        counts.rebuild(s, CAMPAIGN)
        assert changed > 0
        _assert_local_counts(s, "Asia/Tokyo", rng)
        # And back: a second rebuild with the first zone restores the first answers.
        local_days.relocalise(s, lambda _slug: "America/New_York", CAMPAIGN)
        counts.rebuild(s, CAMPAIGN)
        _assert_local_counts(s, "America/New_York", rng)


def test_local_day_of_an_evening_in_new_york_is_that_day() -> None:
    # 10 pm in New York on 1 March is 03:00 UTC on 2 March: it counts on 1 March.
    assert local_day(datetime(2026, 3, 2, 3, tzinfo=UTC), "America/New_York") == date(2026, 3, 1)
    assert local_day(datetime(2026, 3, 2, 3), "UTC") == date(2026, 3, 2)  # naive values are UTC


@pytest.mark.parametrize("name", ["Mars/Olympus", "", " UTC", "../etc/passwd", "America/New_York\x00",
                                  "x" * 100])
def test_unknown_time_zones_are_refused(name: str) -> None:
    with pytest.raises(UnknownTimeZone):
        zone(name)
