"""Roll-up counts equal brute-force recounts, after concurrent submits and random status changes."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actiontool import db
from actiontool.campaigns import CHANNELS
from actiontool.districts import parse_label
from actiontool.models import STATUSES, Action, Message
from actiontool.services import counts, stats
from actiontool.services.outbox import set_status
from actiontool.services.seed import seed
from actiontool.services.stats import NO_REF, Filters
from tests.factories import MEMBERS

CAMPAIGN = "c1"
DAY0 = date(2026, 3, 1)
REFS = [None, "ohio-parents", "nurses"]
HOUSE = [m for m in MEMBERS if m.chamber == "house"]


def brute_by(session: Session, dim: str, f: Filters) -> dict[str, int]:
    """Recount messages per group straight from the messages table."""
    label = {
        "day": Message.created_day, "state": Message.state, "member": Message.bioguide,
        "source": func.coalesce(Message.ref, ""), "channel": Message.channel, "status": Message.status,
        "district": Message.district,
    }[dim]
    cols = [Message.state, label] if dim == "district" else [label]
    where: list[Any] = [Message.campaign == CAMPAIGN]
    if f.date_from:
        where.append(Message.created_day >= f.date_from)
    if f.date_to:
        where.append(Message.created_day <= f.date_to)
    if f.state:
        where.append(Message.state == f.state)
    if f.district:
        state, number = parse_label(f.district)
        where += [Message.state == state, Message.district == number]
    if f.ref is not None:
        where.append(Message.ref.is_(None) if f.ref == NO_REF else Message.ref == f.ref)
    if f.channel:
        where.append(Message.channel == f.channel)
    if f.status:
        where.append(Message.status == f.status)
    if dim == "district":
        where.append(Message.district.is_not(None))
    result: dict[str, int] = {}
    for *key, n in session.execute(select(*cols, func.count()).where(*where).group_by(*cols)):
        if dim == "district":
            name = stats.district_label(key[0], key[1])
        elif dim == "day":
            name = key[0].isoformat()
        elif dim == "source":
            name = key[0] or NO_REF
        else:
            name = key[0]
        result[name] = n
    return result


def brute_actions(session: Session, f: Filters) -> int:
    """Recount actions straight from the actions table."""
    where: list[Any] = [Action.campaign == CAMPAIGN]
    if f.date_from:
        where.append(Action.created_day >= f.date_from)
    if f.date_to:
        where.append(Action.created_day <= f.date_to)
    if f.state:
        where.append(Action.state == f.state)
    if f.district:
        where.append(Action.district_label == f.district)
    if f.ref is not None:
        where.append(Action.ref.is_(None) if f.ref == NO_REF else Action.ref == f.ref)
    return int(session.execute(select(func.count()).select_from(Action).where(*where)).scalar_one())


def random_filters(rng: random.Random) -> Filters:
    """Return a random combination of filters over the tiny dataset."""
    start = DAY0 + timedelta(days=rng.randrange(4)) if rng.random() < 0.4 else None
    end = (start or DAY0) + timedelta(days=rng.randrange(4)) if rng.random() < 0.4 else None
    house = rng.choice(HOUSE)
    district = stats.district_label(house.state, house.district) if rng.random() < 0.2 else None
    return Filters(
        date_from=start, date_to=end,
        state=rng.choice(["OH", "AK", "WI"]) if rng.random() < 0.3 else None,
        district=district,
        ref=rng.choice([NO_REF, "ohio-parents", "nurses"]) if rng.random() < 0.3 else None,
        channel=rng.choice(CHANNELS) if rng.random() < 0.2 else None,
        status=rng.choice(STATUSES) if rng.random() < 0.3 else None,
    )


def assert_counts_match(session: Session, rng: random.Random, rounds: int = 40) -> None:
    """Compare roll-up answers with brute-force recounts for the empty filter and random combinations."""
    session.expire_all()
    combos = [Filters()] + [random_filters(rng) for _ in range(rounds)]
    for f in combos:
        for dim in stats.DIMENSIONS:
            got = {r["key"]: r["messages"] for r in stats.by(session, CAMPAIGN, dim, f)}
            assert got == brute_by(session, dim, f), (dim, f)
        states, districts = stats.by_state_and_district(session, CAMPAIGN, f)  # the dashboard's one query
        assert {r["key"]: r["messages"] for r in states} == brute_by(session, "state", f), f
        assert {r["key"]: r["messages"] for r in districts} == brute_by(session, "district", f), f
        t = stats.totals(session, CAMPAIGN, f)
        assert t["messages"] == sum(brute_by(session, "status", f).values()), f
        for status in STATUSES:
            assert t[status] == brute_by(session, "status", f).get(status, 0), (status, f)
        assert t["actions"] == brute_actions(session, f), f
    distinct = session.execute(select(func.count(func.distinct(Message.constituent_key)))
                               .where(Message.campaign == CAMPAIGN)).scalar_one()
    assert stats.totals(session, CAMPAIGN)["constituents"] == distinct


def submit_concurrently(app: Flask, writer: Callable[..., int], threads: int = 4,
                        per_thread: int = 12) -> None:
    """Run submissions from several threads, including repeats that the dedup key must drop."""
    errors: list[BaseException] = []

    def work(seed_value: int) -> None:
        rng = random.Random(seed_value)
        try:
            with db.session_scope(app) as s:
                for i in range(per_thread):
                    # Every thread reuses a few e-mails, so duplicates race each other across threads.
                    email = f"person{rng.randrange(per_thread * 2)}@example.org"
                    writer(s, CAMPAIGN, email, rng.choice(HOUSE), day=DAY0 + timedelta(days=i % 5),
                           ref=rng.choice(REFS), channel=rng.choice(CHANNELS))
        except BaseException as exc:  # collected and re-raised in the main thread
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not errors, errors


def test_counts_match_brute_force_after_concurrent_submits(app: Flask, writer: Callable[..., int]) -> None:
    submit_concurrently(app, writer)
    with db.session_scope(app) as s:
        total = s.execute(select(func.count()).select_from(Message)).scalar_one()
        assert total > 0
        assert stats.totals(s, CAMPAIGN)["queued"] == total
        assert_counts_match(s, random.Random(1))


def test_counts_match_brute_force_after_random_status_changes(app: Flask, writer: Callable[..., int]) -> None:
    submit_concurrently(app, writer, threads=2, per_thread=10)
    rng = random.Random(2)
    with db.session_scope(app) as s:
        ids = list(s.execute(select(Message.id)).scalars())
        for _ in range(60):
            message = s.get(Message, rng.choice(ids))
            assert message is not None
            set_status(s, message, rng.choice(STATUSES))
            if rng.random() < 0.5:
                s.commit()
        s.commit()
        assert_counts_match(s, rng)


def test_status_changes_from_threads_stay_exact(app: Flask, writer: Callable[..., int]) -> None:
    submit_concurrently(app, writer, threads=2, per_thread=10)
    with db.session_scope(app) as s:
        ids = list(s.execute(select(Message.id)).scalars())
    errors: list[BaseException] = []

    def work(seed_value: int) -> None:
        rng = random.Random(seed_value)
        try:
            with db.session_scope(app) as s:
                for _ in range(15):
                    message = s.execute(select(Message).where(Message.id == rng.choice(ids))
                                        .with_for_update()).scalar_one()
                    set_status(s, message, rng.choice(STATUSES))
                    s.commit()
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(n,)) for n in range(3)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not errors, errors
    with db.session_scope(app) as s:
        assert_counts_match(s, random.Random(3), rounds=15)


def test_rebuild_reproduces_the_maintained_counts(app: Flask, writer: Callable[..., int]) -> None:
    submit_concurrently(app, writer, threads=2, per_thread=8)
    with db.session_scope(app) as s:
        before = {d: stats.by(s, CAMPAIGN, d) for d in stats.DIMENSIONS}
        totals_before = stats.totals(s, CAMPAIGN)
        counts.rebuild(s, CAMPAIGN)
        s.expire_all()
        assert {d: stats.by(s, CAMPAIGN, d) for d in stats.DIMENSIONS} == before
        after = stats.totals(s, CAMPAIGN)
        assert {k: v for k, v in after.items() if k != "updated_at"} == \
            {k: v for k, v in totals_before.items() if k != "updated_at"}


def test_seeded_counts_match_brute_force(app: Flask) -> None:
    with db.session_scope(app) as s:
        inserted = seed(s, CAMPAIGN, 300, MEMBERS, days=4, last_day=DAY0 + timedelta(days=3))
        assert inserted >= 300
        assert s.execute(select(func.count()).select_from(Message)).scalar_one() == inserted
        assert_counts_match(s, random.Random(4))


def test_status_filter_and_sorting(app: Flask, writer: Callable[..., int]) -> None:
    with db.session_scope(app) as s:
        writer(s, CAMPAIGN, "a@example.org", HOUSE[0], day=DAY0, ref="x")
        writer(s, CAMPAIGN, "b@example.org", HOUSE[0], day=DAY0, ref="x")
        writer(s, CAMPAIGN, "c@example.org", HOUSE[-1], day=DAY0, ref=None)
        rows = stats.by(s, CAMPAIGN, "source", sort="messages", descending=True)
        assert [r["key"] for r in rows] == ["x", NO_REF]
        rows = stats.by(s, CAMPAIGN, "source", sort="key")
        assert [r["key"] for r in rows] == ["x", NO_REF]  # "(none)" sorts last
        assert stats.by(s, CAMPAIGN, "state", Filters(status="failed")) == []


def test_submits_and_batched_status_changes_together_stay_exact(app: Flask,
                                                                writer: Callable[..., int]) -> None:
    """Like the worker: several status changes per transaction while submits run (no deadlock, exact)."""
    submit_concurrently(app, writer, threads=2, per_thread=6)
    errors: list[BaseException] = []

    def change(seed_value: int) -> None:
        rng = random.Random(seed_value)
        try:
            with db.session_scope(app) as s:
                for _ in range(8):
                    rows = s.execute(select(Message).order_by(Message.created_at).limit(6)
                                     .with_for_update()).scalars().all()
                    for message in rows:
                        set_status(s, message, rng.choice(STATUSES))
                    s.commit()
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=change, args=(n,)) for n in range(2)]
    for t in pool:
        t.start()
    submit_concurrently(app, writer, threads=2, per_thread=6)
    for t in pool:
        t.join()
    assert not errors, errors
    with db.session_scope(app) as s:
        assert_counts_match(s, random.Random(5), rounds=15)


def test_a_rolled_back_status_change_is_not_counted(app: Flask, writer: Callable[..., int]) -> None:
    with db.session_scope(app) as s:
        writer(s, CAMPAIGN, "a@example.org", HOUSE[0], day=DAY0, ref=None)
        message = s.execute(select(Message)).scalars().first()
        assert message is not None
        set_status(s, message, "failed")
        s.rollback()
        writer(s, CAMPAIGN, "b@example.org", HOUSE[0], day=DAY0, ref=None)  # commits: nothing stale applied
        assert stats.totals(s, CAMPAIGN)["failed"] == 0
        assert_counts_match(s, random.Random(6), rounds=5)


def test_counts_match_after_concurrent_real_submits(app: Flask) -> None:
    """services.submit itself, from threads, with repeated e-mails that de-duplication must drop."""
    from datetime import UTC, datetime, time

    from actiontool.services.submit import Submission, submit
    from tests.factories import outgoing_to, with_senators
    from tests.factories import submission as make_submission

    def submission(email: str, house: Any, ref: str | None) -> Submission:
        letters = [outgoing_to(m, channel="smtp" if m.chamber == "senate" else "cwc")
                   for m in with_senators(house)]
        return make_submission(letters, email=email, campaign=CAMPAIGN, ref=ref, state=house.state,
                               district_label=stats.district_label(house.state, house.district))

    errors: list[BaseException] = []

    def work(seed_value: int) -> None:
        rng = random.Random(seed_value)
        try:
            with app.app_context(), db.session_scope(app) as s:
                for i in range(10):
                    when = datetime.combine(DAY0 + timedelta(days=i % 4), time(12), UTC)
                    submit(s, submission(f"p{rng.randrange(15)}@example.org", rng.choice(HOUSE),
                                         rng.choice(REFS)), now=when)
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(n,)) for n in range(3)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not errors, errors
    with db.session_scope(app) as s:
        assert_counts_match(s, random.Random(7), rounds=20)


def test_a_seat_whose_member_changed_names_each_member_most_written_to_first(
        app: Flask, writer: Callable[..., int]) -> None:
    from actiontool.services.seed import SeedMember

    before = HOUSE[0]  # OH-1's member until a new Congress; then someone else holds the seat
    after = SeedMember("N000009", "Rep. Ohio Zed", "Representative", "house", before.state, before.district)
    with db.session_scope(app) as s:
        writer(s, CAMPAIGN, "a@example.org", before, day=DAY0, ref=None)
        writer(s, CAMPAIGN, "b@example.org", after, day=DAY0 + timedelta(days=1), ref=None)
        writer(s, CAMPAIGN, "c@example.org", after, day=DAY0 + timedelta(days=2), ref="x")
        writer(s, CAMPAIGN, "d@example.org", HOUSE[1], day=DAY0, ref=None)
        for filters in (Filters(), Filters(ref="x"), Filters(date_to=DAY0)):
            seats = {r["key"]: r for r in stats.by(s, CAMPAIGN, "district", filters)}
            shown = seats[f"{before.state}-{before.district}"]
            if filters.ref:  # only the new member has letters from that source
                assert (shown["member_name"], shown["messages"]) == ("Rep. Ohio Zed", 1)
            elif filters.date_to:
                assert (shown["member_name"], shown["messages"]) == (before.name, 1)
            else:
                assert (shown["member_name"], shown["messages"]) == (f"Rep. Ohio Zed, {before.name}", 3)
            other = seats.get(f"{HOUSE[1].state}-{HOUSE[1].district}")
            assert other is None or other["member_name"] == HOUSE[1].name
