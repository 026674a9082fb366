"""`actiontool purge`: personal data of every action past the limit goes; every count and the dedup key stay.

Changed by the hardening issue (finding 3): actions with unfinished messages (a hand-off letter waiting
for its constituent, a message still queued) or an unsent receipt e-mail were kept forever; now
everything older than the limit is purged whatever its statuses.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from actiontool import db
from actiontool.cli import main
from actiontool.models import (
    DELIVERED,
    FAILED,
    HANDED_OFF,
    NEEDS_CONSTITUENT,
    QUEUED,
    SENDING,
    Action,
    Message,
    utcnow,
)
from actiontool.services import outbox, stats
from actiontool.services.purge import (
    PERSONAL_ACTION_FIELDS,
    InvalidDuration,
    parse_duration,
    purge_personal_data,
)
from actiontool.services.submit import Submission, submit
from tests.factories import outgoing, submission

CAMPAIGN = "purge-test"


def _submission(email: str, *, ref: str | None = "partner", wants_receipt: bool = False) -> Submission:
    letters = [outgoing("S000001"), outgoing("H000001", chamber="house", district=3, title="Representative")]
    return submission(letters, email=email, campaign=CAMPAIGN, ref=ref, district_label="WI-3",
                      personal="My own words.", wants_receipt_email=wants_receipt, first_name="Ada",
                      last_name="Lovelace", prefix="Ms.", phone="608-555-0100")


def _counts(session: Any) -> dict[str, Any]:
    """Every count the dashboard shows, plus a brute-force recount from the rows."""
    totals = stats.totals(session, CAMPAIGN)
    totals.pop("updated_at", None)
    return {
        "totals": totals,
        **{dim: stats.by(session, CAMPAIGN, dim) for dim in ("day", "state", "district", "member", "source")},
        "rows": session.execute(select(Message.status, func.count()).where(Message.campaign == CAMPAIGN)
                                .group_by(Message.status).order_by(Message.status)).all(),
        "keys": session.execute(select(func.count(func.distinct(Message.constituent_key)))).scalar_one(),
    }


@pytest.fixture
def seeded(app: Flask) -> dict[str, str]:
    """Old finished, old unfinished, old awaiting a receipt e-mail, and recent finished actions."""
    old = utcnow() - timedelta(days=40)
    tokens: dict[str, str] = {}
    with app.app_context(), db.session_scope() as session:
        for name, when, receipt in [("old-final", old, False), ("old-open", old, False),
                                    ("old-receipt", old, True), ("new-final", utcnow(), False)]:
            tokens[name] = submit(session, _submission(f"{name}@example.org", wants_receipt=receipt),
                                  now=when).receipt_token
        for name, final in [("old-final", (DELIVERED, FAILED)), ("old-open", (DELIVERED,)),
                            ("old-receipt", (DELIVERED, HANDED_OFF)), ("new-final", (DELIVERED, DELIVERED))]:
            action = session.execute(select(Action).where(Action.receipt_token == tokens[name])).scalar_one()
            for message, status in zip(action.messages, final, strict=False):
                outbox.set_status(session, message, status)
        session.commit()
    return tokens


def _action(session: Any, token: str) -> Action:
    return session.execute(select(Action).where(Action.receipt_token == token)).scalar_one()


def test_purge_clears_personal_data_of_every_old_action_only(app: Flask, seeded: dict[str, str]) -> None:
    with app.app_context(), db.session_scope() as session:
        result = purge_personal_data(session, timedelta(days=30))
        assert (result.actions, result.messages) == (3, 6)
        for name in ("old-final", "old-open", "old-receipt"):
            purged = _action(session, seeded[name])
            assert purged.purged_at is not None
            assert all(getattr(purged, f) is None for f in PERSONAL_ACTION_FIELDS)
            assert all(m.constituent_text is None and m.suggested_text is None for m in purged.messages)
            assert all(m.constituent_key for m in purged.messages)  # the dedup key stays
        kept = _action(session, seeded["new-final"])
        assert kept.purged_at is None and kept.email == "new-final@example.org"
        assert all(m.constituent_text == "My own words." for m in kept.messages)


def test_purge_keeps_every_count(app: Flask, seeded: dict[str, str]) -> None:
    with app.app_context(), db.session_scope() as session:
        before = _counts(session)
        purge_personal_data(session, timedelta(days=30))
    with app.app_context(), db.session_scope() as session:
        assert _counts(session) == before


def test_a_purged_constituent_still_cannot_send_twice(app: Flask, seeded: dict[str, str]) -> None:
    with app.app_context(), db.session_scope() as session:
        purge_personal_data(session, timedelta(days=30))
        again = submit(session, _submission("Old-Final@example.org "))
        assert again.created is False and again.receipt_token == seeded["old-final"]
        assert session.execute(select(func.count()).select_from(Message)).scalar_one() == 8


def test_dry_run_changes_nothing(app: Flask, seeded: dict[str, str]) -> None:
    with app.app_context(), db.session_scope() as session:
        assert purge_personal_data(session, timedelta(days=30), dry_run=True).actions == 3
        assert _action(session, seeded["old-final"]).email == "old-final@example.org"


def test_a_second_purge_finds_nothing_more(app: Flask, seeded: dict[str, str]) -> None:
    with app.app_context(), db.session_scope() as session:
        purge_personal_data(session, timedelta(days=30))
        assert purge_personal_data(session, timedelta(days=30)).actions == 0


def _old_action(app: Flask, email: str, statuses: tuple[str, str], *, created_at: datetime,
                receipt_attempts: int | None = None) -> str:
    """Submit one constituent's two letters at `created_at`, move them to `statuses`; return the token."""
    with app.app_context(), db.session_scope() as session:
        token = submit(session, _submission(email, wants_receipt=receipt_attempts is not None),
                       now=created_at).receipt_token
        action = _action(session, token)
        for message, status in zip(action.messages, statuses, strict=True):
            outbox.set_status(session, message, status)
        if receipt_attempts is not None:
            action.receipt_email_attempts = receipt_attempts
        session.commit()
    return token


def _is_purged(app: Flask, token: str) -> bool:
    """Return True when the action lost its personal data; check its letters went (or stayed) with it."""
    with app.app_context(), db.session_scope() as session:
        action = _action(session, token)
        letters = [(m.constituent_text, m.suggested_text) for m in action.messages]
        if action.purged_at is None:
            assert action.email is not None and all(None not in pair for pair in letters)
            return False
        assert letters == [(None, None)] * len(letters)
        return True


@pytest.mark.parametrize("unfinished", [QUEUED, SENDING, NEEDS_CONSTITUENT])
def test_purge_clears_an_old_action_whatever_its_messages_statuses(app: Flask, unfinished: str) -> None:
    now = utcnow()
    token = _old_action(app, "open@example.org", (DELIVERED, unfinished), created_at=now - timedelta(days=40))
    with app.app_context(), db.session_scope() as session:
        assert purge_personal_data(session, timedelta(days=30), now=now).actions == 1
        statuses = sorted(m.status for m in _action(session, token).messages)
    assert _is_purged(app, token)
    assert statuses == sorted([DELIVERED, unfinished])  # the statuses stay, for the receipt and the counts


def test_a_purged_receipt_shows_the_statuses_only(app: Flask, client: Any) -> None:
    now = utcnow()
    token = _old_action(app, "handoff@example.org", (DELIVERED, NEEDS_CONSTITUENT),
                        created_at=now - timedelta(days=40))
    with app.app_context(), db.session_scope() as session:
        purge_personal_data(session, timedelta(days=30), now=now)
    page = client.get(f"/r/{token}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Lovelace" not in text and "My own words." not in text and "608-555-0100" not in text


def test_the_worker_fails_a_queued_message_of_a_purged_action_instead_of_sending_it(app: Flask) -> None:
    from actiontool.delivery.worker import Worker

    class Recorder:
        sent: list[Any] = []

        def deliver(self, job: Any) -> str:
            self.sent.append(job)
            return "sent"

    now = utcnow()
    token = _old_action(app, "queued@example.org", (DELIVERED, QUEUED), created_at=now - timedelta(days=40))
    with app.app_context(), db.session_scope() as session:
        purge_personal_data(session, timedelta(days=30), now=now)
    recorder = Recorder()
    worker = Worker(app, channels={"handoff": recorder, "smtp": recorder, "cwc": recorder},
                    campaigns=lambda slug: None)  # type: ignore[arg-type,return-value]
    worker.run(once=True)
    with app.app_context(), db.session_scope() as session:
        messages = _action(session, token).messages
        assert sorted(m.status for m in messages) == [DELIVERED, FAILED]
        assert any("purged" in (m.last_error or "") for m in messages)
    assert recorder.sent == []


def test_purge_takes_actions_older_than_the_cutoff_only(app: Flask) -> None:
    now = utcnow()
    at_cutoff = _old_action(app, "edge@example.org", (DELIVERED, FAILED), created_at=now - timedelta(days=30))
    just_older = _old_action(app, "older@example.org", (DELIVERED, FAILED),
                             created_at=now - timedelta(days=30, seconds=1))
    with app.app_context(), db.session_scope() as session:
        assert purge_personal_data(session, timedelta(days=30), now=now).actions == 1
    assert (_is_purged(app, at_cutoff), _is_purged(app, just_older)) == (False, True)


@pytest.mark.parametrize("attempts", [0, 7, 8])
def test_an_unsent_receipt_email_does_not_keep_an_old_action(app: Flask, attempts: int) -> None:
    now = utcnow()
    token = _old_action(app, "receipt@example.org", (DELIVERED, DELIVERED),
                        created_at=now - timedelta(days=40), receipt_attempts=attempts)
    with app.app_context(), db.session_scope() as session:
        purge_personal_data(session, timedelta(days=30), now=now)
    assert _is_purged(app, token)


@pytest.mark.parametrize("text,expected", [
    ("30d", timedelta(days=30)), ("12h", timedelta(hours=12)), ("2w", timedelta(weeks=2)),
    (" 7d ", timedelta(days=7)),
])
def test_durations_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "30", "d", "-3d", "3.5d", "30x", "30 days"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(InvalidDuration):
        parse_duration(text)


def test_purge_command_reports_and_refuses_bad_input(runner: Any, seeded: dict[str, str]) -> None:
    result = runner.invoke(main, ["purge", "--older-than", "30d", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would purge personal data of 3 actions" in result.output
    result = runner.invoke(main, ["purge", "--older-than", "30d"])
    assert result.exit_code == 0, result.output
    assert "purged personal data of 3 actions (6 messages)" in result.output
    bad = runner.invoke(main, ["purge", "--older-than", "soon"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_purge_command_defaults_to_the_retention_setting(app_config: dict[str, Any], seeded: dict[str, str],
                                                          runner: Any, app: Flask) -> None:
    app.config["RETENTION_DAYS"] = 50  # the seeded old actions are 40 days old
    assert "would purge personal data of 0 actions" in runner.invoke(main, ["purge", "--dry-run"]).output
    app.config["RETENTION_DAYS"] = 30
    assert "would purge personal data of 3 actions" in runner.invoke(main, ["purge", "--dry-run"]).output
