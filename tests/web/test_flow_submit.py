"""The submit service on its own: one transaction, de-duplication by the unique constraint, concurrency."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import func, select

from actiontool import db
from actiontool.models import Action, Message
from actiontool.services.submit import NothingToSend, Submission, clean_ref, constituent_key, submit
from tests import factories

NOW = datetime(2026, 7, 1, 23, 59, tzinfo=UTC)


def submission(*bioguides: str, email: str = "a@example.com") -> Submission:
    """Return one constituent's handoff letters to the senators `bioguides`."""
    return factories.submission([factories.outgoing(b, channel="handoff") for b in bioguides], email=email)


def counts(app: Flask) -> tuple[int, int]:
    with db.session_scope(app) as session:
        return (session.execute(select(func.count()).select_from(Action)).scalar_one(),
                session.execute(select(func.count()).select_from(Message)).scalar_one())


def test_constituent_key_normalises_the_address() -> None:
    assert constituent_key(" A@Example.COM ") == constituent_key("a@example.com")
    assert len(constituent_key("a@example.com")) == 64


def test_ref_codes_are_checked() -> None:
    assert clean_ref("partner_1-x") == "partner_1-x"
    assert clean_ref("x" * 64) == "x" * 64
    assert clean_ref("x" * 65) is None and clean_ref("a b") is None and clean_ref("") is None


def test_created_day_is_the_local_day_of_the_campaign_time_zone(app: Flask) -> None:
    # Issue 15: a day is the organizers' day. 02:30 UTC on 2 July is 22:30 on 1 July in New York.
    late = datetime(2026, 7, 2, 2, 30, tzinfo=UTC)
    with db.session_scope(app) as session:
        submit(session, submission("S1"), now=late)
        submit(session, submission("S2", email="b@example.org"), now=late, time_zone="UTC")
        days = sorted(str(a.created_day) for a in session.execute(select(Action)).scalars())
        assert days == ["2026-07-01", "2026-07-02"]
        assert str(submit.__kwdefaults__["time_zone"]) == "America/New_York"  # the default zone


def test_ref_codes_are_kept_in_lower_case() -> None:
    assert clean_ref("Ohio-Parents") == "ohio-parents" and clean_ref("OHIO_X-1") == "ohio_x-1"


def test_partial_overlap_writes_only_the_new_members(app: Flask) -> None:
    with db.session_scope(app) as session:
        first = submit(session, submission("S1", "S2"))
        second = submit(session, submission("S2", "R9"))
    assert first.created and second.created and first.receipt_token != second.receipt_token
    assert counts(app) == (2, 3)


def test_nothing_new_rolls_back_and_returns_the_first_receipt(app: Flask) -> None:
    with db.session_scope(app) as session:
        first = submit(session, submission("S1", "S2"))
        again = submit(session, submission("S2", "S1", email="A@EXAMPLE.com "))
    assert again.created is False and again.receipt_token == first.receipt_token
    assert counts(app) == (1, 2)


def test_no_members_is_an_error(app: Flask) -> None:
    with db.session_scope(app) as session:
        try:
            submit(session, submission())
        except NothingToSend:
            pass
        else:
            raise AssertionError("an empty submission must be refused")
    assert counts(app) == (0, 0)


def test_concurrent_repeats_write_once(app: Flask) -> None:
    results: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            with db.session_scope(app) as session:
                results.append(submit(session, submission("S1", "S2")).receipt_token)
        except BaseException as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert counts(app) == (1, 2)
    assert len(set(results)) == 1 and len(results) == 4
