"""Recovery in one step (issue 13 finding 9, issue 15 delivery tools): retry all failed messages that match.

The service, `actiontool retry` and the delivery page's "Retry all that match" share `retry_matching`: one
transaction, one audit row, exact roll-up counts, idempotent; purged and channel-accepted messages refused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from actiontool import db
from actiontool.cli import main
from actiontool.models import FAILED, QUEUED, STATUSES, Action, AuditEvent, Message, utcnow
from actiontool.services import counts, outbox, packet_counts, retries
from actiontool.services.retries import FailedFilter, InvalidRetryFilter, retry_matching
from tests.factories import MEMBERS
from tests.web.organizer.test_organizer_web import SLUG, fill

DAY = date(2026, 3, 2)


def _fail(app: Flask, *, reason: str, bioguide: str | None = None, limit: int | None = None,
          when: datetime | None = None) -> list[str]:
    """Fail queued messages (of one member, or any), with `reason`; return their ids."""
    with db.session_scope(app) as s:
        stmt = select(Message).where(Message.status == QUEUED).order_by(Message.id)
        if bioguide:
            stmt = stmt.where(Message.bioguide == bioguide)
        chosen = list(s.execute(stmt.limit(limit)).scalars())
        for message in chosen:
            outbox.set_status(s, message, FAILED, last_error=reason, attempts=8, now=when)
        s.commit()
        return [m.id for m in chosen]


def _statuses(app: Flask) -> dict[str, str]:
    with db.session_scope(app) as s:
        return {i: st for i, st in s.execute(select(Message.id, Message.status)).all()}


def assert_counts_exact(app: Flask) -> None:
    """Every roll-up (the campaign's totals and each per-key table) equals a recount of the messages."""
    with db.session_scope(app) as s:
        totals = counts.campaign_totals(s, SLUG)
        recount = Counter(s.execute(select(Message.status)).scalars())
        expected = {st: recount.get(st, 0) for st in STATUSES}
        assert {st: totals[st] for st in STATUSES} == expected
        for rollup in counts.ROLLUPS:
            columns = [func.coalesce(func.sum(rollup.table.c[st]), 0) for st in STATUSES]
            sums = s.execute(select(*columns)).one()
            assert dict(zip(STATUSES, sums, strict=True)) == expected, rollup.table.name


def _retry_events(app: Flask) -> list[str]:
    with db.session_scope(app) as s:
        return list(s.execute(select(AuditEvent.detail).where(AuditEvent.kind == "retry")
                              .order_by(AuditEvent.id)).scalars())


def test_retry_matching_queues_only_the_matching_failed_messages_once(app: Flask,
                                                                      writer: Callable[..., int]) -> None:
    fill(app, writer)
    timeouts = _fail(app, reason="CWC answered 503 Service Unavailable", limit=3)
    other = _fail(app, reason="550 mailbox unavailable", limit=2)
    with db.session_scope(app) as s:
        outcome = retry_matching(s, SLUG, FailedFilter(reason="503 service"), actor="test")
    assert (outcome.retried, outcome.purged, outcome.accepted) == (3, 0, 0)
    status = _statuses(app)
    assert [status[i] for i in timeouts] == [QUEUED] * 3
    assert [status[i] for i in other] == [FAILED] * 2
    with db.session_scope(app) as s:
        fresh = s.execute(select(Message.attempts, Message.next_attempt_at)
                          .where(Message.id.in_(timeouts))).all()
    assert all(attempts == 0 and due is not None for attempts, due in fresh)
    assert_counts_exact(app)
    # Idempotent: the same retry again finds nothing failed that matches; it is audited as doing nothing.
    with db.session_scope(app) as s:
        assert retry_matching(s, SLUG, FailedFilter(reason="503 service"), actor="test").retried == 0
    events = _retry_events(app)
    assert len(events) == 2 and "3 failed -> queued" in events[0] and "0 failed -> queued" in events[1]
    assert "'503 service'" in events[0]
    assert_counts_exact(app)


def test_member_and_since_filters(app: Flask, writer: Callable[..., int]) -> None:
    fill(app, writer)
    member = MEMBERS[7].bioguide
    old = _fail(app, reason="timeout", bioguide=member, when=utcnow() - timedelta(days=10))
    recent = _fail(app, reason="timeout", limit=2)
    with db.session_scope(app) as s:
        # Matches nothing: the member's failures are ten days old.
        since = (utcnow() - timedelta(days=2)).date()
        assert retry_matching(s, SLUG, FailedFilter(member=member, since=since), actor="t").retried == 0
        outcome = retry_matching(s, SLUG, FailedFilter(member=member), actor="t")
        assert outcome.retried == len(old)
    status = _statuses(app)
    assert all(status[i] == QUEUED for i in old) and all(status[i] == FAILED for i in recent)
    assert_counts_exact(app)


def test_purged_and_accepted_messages_are_refused_and_counted_apart(app: Flask, signed_in: FlaskClient,
                                                                    writer: Callable[..., int]) -> None:
    fill(app, writer)
    failed = _fail(app, reason="outage")
    purged_id, accepted_id = failed[0], failed[1]
    with db.session_scope(app) as s:
        action_id = s.get(Message, purged_id).action_id  # type: ignore[union-attr]
        s.execute(update(Action).where(Action.id == action_id).values(purged_at=utcnow(), email=None))
        s.execute(update(Message).where(Message.id == accepted_id).values(delivered_at=utcnow()))
        s.commit()
        purged_ids = set(s.execute(select(Message.id).where(Message.action_id == action_id,
                                                           Message.id.in_(failed))).scalars())
    html = signed_in.get(f"/organizer/c/{SLUG}/delivery").get_data(as_text=True)
    # No Retry button on the purged and accepted rows.
    assert f"/messages/{purged_id}/retry" not in html and f"/messages/{accepted_id}/retry" not in html
    retryable = [i for i in failed if i not in purged_ids and i != accepted_id]
    assert retryable and all(f"/messages/{i}/retry" in html for i in retryable)
    for message_id in (purged_id, accepted_id):  # and a forged post is refused too
        signed_in.post(f"/organizer/c/{SLUG}/messages/{message_id}/retry")
        assert _statuses(app)[message_id] == FAILED
    with db.session_scope(app) as s:
        outcome = retry_matching(s, SLUG, FailedFilter(), actor="t")
    assert outcome.purged == len(purged_ids) and outcome.accepted == (0 if accepted_id in purged_ids else 1)
    status = _statuses(app)
    assert status[purged_id] == FAILED and status[accepted_id] == FAILED
    assert outcome.retried == len(failed) - len(purged_ids) - outcome.accepted
    assert_counts_exact(app)


def test_a_failed_packet_letter_retried_waits_for_a_packet_again(app: Flask,
                                                                 writer: Callable[..., int]) -> None:
    with db.session_scope(app) as s:
        writer(s, SLUG, "p@example.org", MEMBERS[0], day=DAY, ref=None, channel="packet", status=FAILED)
        counts.rebuild(s, SLUG)
        packet_counts.rebuild(s, SLUG)
        s.commit()
        before = s.execute(select(func.coalesce(func.sum(packet_counts.DAYS.c.n), 0))
                           ).scalar_one()
        assert before == 0
        assert retry_matching(s, SLUG, FailedFilter(), actor="t").retried == 3
        after = s.execute(select(func.sum(packet_counts.DAYS.c.n))).scalar_one()
    assert after == 3


@pytest.mark.parametrize(("reason", "member", "since"), [
    ("x" * 201, None, None), (None, "S000148; DROP", None), (None, None, "2026-02-30"),
    (None, None, "yesterday"),
])
def test_bad_filters_are_refused(reason: str | None, member: str | None, since: str | None) -> None:
    with pytest.raises(InvalidRetryFilter):
        FailedFilter.parse(reason, member, since)


def test_a_reason_with_like_wildcards_matches_them_literally(app: Flask, writer: Callable[..., int]) -> None:
    fill(app, writer)
    _fail(app, reason="disk 100% full", limit=1)
    _fail(app, reason="disk 1000 full", limit=1)
    with db.session_scope(app) as s:
        assert retries.count_matching(s, SLUG, FailedFilter(reason="100%")).retried == 1
        assert retries.count_matching(s, SLUG, FailedFilter(reason="10_0")).retried == 0


def test_the_cli_retries_what_matches_and_says_so(app: Flask, writer: Callable[..., int]) -> None:
    fill(app, writer)
    ids = _fail(app, reason="CWC 500", limit=4)
    runner = app.test_cli_runner()
    dry = runner.invoke(main, ["retry", "--campaign", SLUG, "--reason", "cwc", "--dry-run"])
    assert dry.exit_code == 0 and "would queue 4 failed messages" in dry.output
    assert all(_statuses(app)[i] == FAILED for i in ids)
    result = runner.invoke(main, ["retry", "--campaign", SLUG, "--reason", "cwc",
                                  "--since", date.today().isoformat()])
    assert result.exit_code == 0, result.output
    assert "queued 4 failed messages again" in result.output
    assert all(_statuses(app)[i] == QUEUED for i in ids)
    assert _retry_events(app)[-1].startswith("retry all that match (reason contains 'cwc'")
    assert_counts_exact(app)
    unknown = runner.invoke(main, ["retry", "--campaign", "no-such-campaign"])
    assert unknown.exit_code == 1 and "no campaign 'no-such-campaign'" in unknown.output
    bad = runner.invoke(main, ["retry", "--campaign", SLUG, "--since", "March"])
    assert bad.exit_code == 2 and "not a date" in bad.output


def test_the_delivery_page_filters_and_retries_all_that_match(app: Flask, signed_in: FlaskClient,
                                                              writer: Callable[..., int]) -> None:
    fill(app, writer)
    with db.session_scope(app) as s:  # a senator of Ohio: two letters to them
        bioguide = s.execute(select(Message.bioguide).group_by(Message.bioguide)
                             .order_by(func.count().desc(), Message.bioguide).limit(1)).scalar_one()
    member = next(m for m in MEMBERS if m.bioguide == bioguide)
    theirs = _fail(app, reason="CWC answered 500", bioguide=member.bioguide)
    assert len(theirs) == 2
    others = _fail(app, reason="550 mailbox unavailable", limit=2)
    page = signed_in.get(f"/organizer/c/{SLUG}/delivery", query_string={"member": member.bioguide})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"Retry all {len(theirs)} messages that match" in html
    assert all(f"/messages/{i}/retry" in html for i in theirs)
    assert not any(f"/messages/{i}/retry" in html for i in others)
    assert "550 mailbox unavailable (2)" in html  # the reasons offered, with their counts
    response = signed_in.post(f"/organizer/c/{SLUG}/delivery/retry",
                              data={"member": member.bioguide, "reason": "cwc"})
    assert response.status_code == 302 and f"member={member.bioguide}" in response.headers["Location"]
    status = _statuses(app)
    assert all(status[i] == QUEUED for i in theirs) and all(status[i] == FAILED for i in others)
    done = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert f"{len(theirs)} failed messages are queued for delivery again." in done
    # A second post (double click, back button) changes nothing more.
    signed_in.post(f"/organizer/c/{SLUG}/delivery/retry", data={"member": member.bioguide, "reason": "cwc"})
    assert _statuses(app) == status
    assert_counts_exact(app)
    bad_date = signed_in.post(f"/organizer/c/{SLUG}/delivery/retry", data={"since": "2026-13-01"})
    assert bad_date.status_code == 400
    assert signed_in.get(f"/organizer/c/{SLUG}/delivery?reason=" + "x" * 300).status_code == 400


def test_the_delivery_page_in_spanish(app: Flask, signed_in: FlaskClient, writer: Callable[..., int]) -> None:
    fill(app, writer)
    _fail(app, reason="timeout", limit=2)
    html = signed_in.get(f"/organizer/c/{SLUG}/delivery?lang=es").get_data(as_text=True)
    assert "Reintentar los 2 mensajes que coinciden" in html
    assert "Cartas de entrega personal aún pendientes, por antigüedad" in html


def test_the_nudge_list_counts_waiting_hand_off_letters_by_age(app: Flask, signed_in: FlaskClient,
                                                               writer: Callable[..., int]) -> None:
    now = utcnow()
    with db.session_scope(app) as s:
        for email, member in (("a@example.org", MEMBERS[0]), ("b@example.org", MEMBERS[1]),
                              ("c@example.org", MEMBERS[7])):
            writer(s, SLUG, email, member, day=DAY, ref=None, channel="handoff", status="needs_constituent")
        actions = sorted(s.execute(select(Action.id)).scalars())
        ages = {actions[0]: timedelta(hours=2), actions[1]: timedelta(days=3), actions[2]: timedelta(days=9)}
        for action_id, age in ages.items():
            s.execute(update(Message).where(Message.action_id == action_id).values(created_at=now - age))
        s.commit()
        per_action = dict(s.execute(select(Message.action_id, func.count())
                                    .group_by(Message.action_id)).all())
        found = retries.waiting_by_age(s, SLUG, now=now)
    assert [(a.bucket, a.letters, a.people) for a in found] == [
        ("under_1_day", per_action[actions[0]], 1), ("1_to_7_days", per_action[actions[1]], 1),
        ("over_7_days", per_action[actions[2]], 1)]
    html = signed_in.get(f"/organizer/c/{SLUG}/delivery").get_data(as_text=True)
    assert "Hand-off letters still waiting, by age" in html and "Over 7 days" in html


def test_a_retry_waits_for_another_retry_of_the_same_campaign(app: Flask, writer: Callable[..., int]) -> None:
    # PostgreSQL: two retries with overlapping filters could lock the same failed messages in opposite
    # orders and deadlock; the second waits for the first's commit instead. SQLite's one write lock
    # already serialises them.
    if app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("SQLite's write lock serialises retries")
    import threading

    from sqlalchemy import text

    fill(app, writer)
    _fail(app, reason="CWC answered 503 Service Unavailable", limit=4)
    done = threading.Event()
    results: list[int] = []

    def second_retry() -> None:
        with db.session_scope(app) as s:
            results.append(retry_matching(s, SLUG, FailedFilter(reason="503"), actor="second").retried)
        done.set()

    with db.session_scope(app) as first:  # holds the campaign's retry lock, as a retry in progress does
        first.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": retries.retry_lock_key(SLUG)})
        thread = threading.Thread(target=second_retry)
        thread.start()
        assert not done.wait(1.0)  # still waiting for the lock (not a speed check: it must not finish)
        assert _statuses(app) and results == []
        first.commit()  # the first retry ends
    assert done.wait(30)
    thread.join()
    assert results == [4]
    assert retries.retry_lock_key(SLUG + "-other") != retries.retry_lock_key(SLUG)  # campaigns apart
    assert_counts_exact(app)
