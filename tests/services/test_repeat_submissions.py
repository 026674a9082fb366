"""Repeat submissions from one e-mail address (finding 8 of the hardening issue).

The e-mail address is not verified, so it alone must not make a letter "already sent": a repeat with
the same e-mail but another name or street address is written under its own key and flagged for
organizers; an identical repeat (same e-mail, name and address, compared case- and space-insensitively)
still writes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from actiontool import db
from actiontool.models import Action, Message
from actiontool.services import stats
from actiontool.services.purge import purge_personal_data
from actiontool.services.submit import Submission, constituent_key, submit
from tests.factories import outgoing, submission

CAMPAIGN = "repeat-test"
SENATE = ("S000001", "S000002")


def _submission(email: str = "ana@example.org", bioguides: tuple[str, ...] = SENATE,
                **fields: Any) -> Submission:
    details = {"first_name": "Ana", "last_name": "Ruiz", "address1": "12 Oak St", "city": "Madison",
               "zip": "53703", **fields}
    return submission([outgoing(b) for b in bioguides], email=email, campaign=CAMPAIGN, **details)


def _messages(session: Any) -> int:
    return session.execute(select(func.count()).select_from(Message)
                           .where(Message.campaign == CAMPAIGN)).scalar_one()


def _action(session: Any, token: str) -> Action:
    return session.execute(select(Action).where(Action.receipt_token == token)).scalar_one()


def test_an_identical_repeat_writes_nothing_and_answers_with_the_first_receipt(app: Flask) -> None:
    with app.app_context(), db.session_scope() as session:
        first = submit(session, _submission())
        again = submit(session, _submission(" ANA@example.org", first_name="  ana ", address1="12  oak st"))
        assert first.created and not again.created
        assert again.receipt_token == first.receipt_token
        assert _messages(session) == 2
        assert not _action(session, first.receipt_token).flagged_repeat
        assert stats.flagged_repeats(session, CAMPAIGN) == 0


def test_another_name_with_a_known_email_is_written_and_flagged(app: Flask) -> None:
    with app.app_context(), db.session_scope() as session:
        first = submit(session, _submission(first_name="Mallory"))  # first, with Ana's address
        ana = submit(session, _submission())
        assert ana.created and ana.receipt_token != first.receipt_token
        assert _messages(session) == 4
        action = _action(session, ana.receipt_token)
        assert action.flagged_repeat and action.first_name == "Ana"
        keys = {m.constituent_key for m in action.messages}
        assert len(keys) == 1 and keys != {constituent_key("ana@example.org")}
        assert not _action(session, first.receipt_token).flagged_repeat
        assert stats.flagged_repeats(session, CAMPAIGN) == 1
        assert stats.totals(session, CAMPAIGN)["actions"] == 2


def test_another_street_address_is_a_flagged_repeat_too(app: Flask) -> None:
    with app.app_context(), db.session_scope() as session:
        submit(session, _submission())
        moved = submit(session, _submission(address1="99 Elm St"))
        assert moved.created and _action(session, moved.receipt_token).flagged_repeat


def test_a_flagged_repeat_repeated_identically_writes_nothing_and_keeps_its_own_receipt(app: Flask) -> None:
    with app.app_context(), db.session_scope() as session:
        submit(session, _submission(first_name="Mallory"))
        ana = submit(session, _submission())
        again = submit(session, _submission(last_name="RUIZ"))
        assert not again.created and again.receipt_token == ana.receipt_token
        assert _messages(session) == 4 and stats.flagged_repeats(session, CAMPAIGN) == 1


def test_only_members_written_to_under_another_name_get_the_repeat_key(app: Flask) -> None:
    with app.app_context(), db.session_scope() as session:
        submit(session, _submission(bioguides=("S000001",), first_name="Mallory"))
        ana = submit(session, _submission())
        keys = {m.bioguide: m.constituent_key for m in _action(session, ana.receipt_token).messages}
        assert keys["S000002"] == constituent_key("ana@example.org")
        assert keys["S000001"] != constituent_key("ana@example.org")
        # Ana's own letter to S000002 now dedupes her identical repeat as before.
        assert not submit(session, _submission(bioguides=("S000002",))).created


def test_other_campaigns_and_addresses_are_not_flagged(app: Flask) -> None:
    with app.app_context(), db.session_scope() as session:
        submit(session, _submission())
        other = submit(session, _submission("bo@example.org", first_name="Bo"))
        assert other.created and not _action(session, other.receipt_token).flagged_repeat
        assert stats.flagged_repeats(session, "another-campaign") == 0


def test_a_repeat_is_told_apart_after_the_first_is_purged(app: Flask) -> None:
    with app.app_context(), db.session_scope() as session:
        first = submit(session, _submission(first_name="Mallory"))
        _action(session, first.receipt_token).created_at -= timedelta(days=60)
        session.commit()
        assert purge_personal_data(session, timedelta(days=30)).actions == 1
        assert _action(session, first.receipt_token).first_name is None
        assert not submit(session, _submission(first_name="Mallory")).created
        ana = submit(session, _submission())
        assert ana.created and _action(session, ana.receipt_token).flagged_repeat


def test_the_action_list_export_says_which_actions_are_flagged_repeats(app: Flask) -> None:
    with app.app_context(), db.session_scope() as session:
        first = submit(session, _submission(first_name="Mallory"))
        ana = submit(session, _submission())
        column = stats.ACTION_COLUMNS.index("flagged_repeat")
        flags = {row[0]: row[column] for row in stats.action_rows(session, CAMPAIGN)}
        ids = {token: _action(session, token).id for token in (first.receipt_token, ana.receipt_token)}
    # 1 and 0, plain machine numbers, as every number of a CSV file (never True/False).
    assert flags == {ids[first.receipt_token]: 0, ids[ana.receipt_token]: 1}
    assert all(type(flag) is int for flag in flags.values())


def test_a_submit_writes_the_action_and_its_letters_as_one_constituent(app: Flask) -> None:
    # The action is a Core row (issue 16): each letter points at it and carries its source, and the
    # address is stored in its canonical form.
    with app.app_context(), db.session_scope() as session:
        result = submit(session, _submission("  Ana@Example.ORG ", bioguides=("H000001", *SENATE),
                                             ref="Partner-A", wants_receipt_email=True))
        action = _action(session, result.receipt_token)
        letters = session.execute(select(Message).where(Message.action_id == action.id)).scalars().all()
    assert (action.ref, action.email, action.flagged_repeat, action.wants_receipt_email) == (
        "partner-a", "Ana@example.org", False, True)
    assert action.receipt_email_attempts == 0  # a column default the ORM used to fill
    assert sorted(m.bioguide for m in letters) == ["H000001", *SENATE]
    assert {(m.ref, m.constituent_key, m.created_day) for m in letters} == {
        ("partner-a", constituent_key("ana@example.org"), action.created_day)}


def test_a_repeat_to_one_member_written_under_another_name_flags_the_new_action(app: Flask) -> None:
    with app.app_context(), db.session_scope() as session:
        submit(session, _submission(bioguides=SENATE[:1], first_name="Mallory"))
        ana = submit(session, _submission())  # the first senator under another name, the second anew
        action = _action(session, ana.receipt_token)
        assert ana.created and action.flagged_repeat
