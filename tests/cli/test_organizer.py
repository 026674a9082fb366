"""`actiontool organizer`, `actiontool stats` and `actiontool dev seed`."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from actiontool import db
from actiontool.cli import main
from actiontool.models import Action, Message, Organizer
from tests.factories import MEMBERS, PASSWORD

SLUG = "detect-and-defeat"


def test_create_asks_twice_and_stores_an_scrypt_hash(runner: FlaskCliRunner, app: Flask) -> None:
    result = runner.invoke(main, ["organizer", "create", "Ann@Example.org"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    with db.session_scope(app) as s:
        row = s.execute(select(Organizer)).scalar_one()
    assert row.email == "ann@example.org"
    assert row.password_hash.startswith("scrypt:")
    assert check_password_hash(row.password_hash, PASSWORD)


def test_create_with_mismatched_passwords_writes_nothing(runner: FlaskCliRunner, app: Flask) -> None:
    result = runner.invoke(main, ["organizer", "create", "a@example.org"], input=f"{PASSWORD}\nother one\n")
    assert result.exit_code != 0
    with db.session_scope(app) as s:
        assert s.execute(select(func.count()).select_from(Organizer)).scalar_one() == 0


def test_create_from_stdin_refuses_short_passwords_and_duplicates(runner: FlaskCliRunner) -> None:
    args = ["organizer", "create", "a@example.org", "--password-stdin"]
    result = runner.invoke(main, args, input="short\n")
    assert result.exit_code == 1 and "at least" in result.output
    ok = runner.invoke(main, args, input=PASSWORD + "\n")
    assert ok.exit_code == 0, ok.output
    again = runner.invoke(main, ["organizer", "create", "A@example.org", "--password-stdin"], input=PASSWORD)
    assert again.exit_code == 1 and "exists" in again.output
    bad = runner.invoke(main, ["organizer", "create", "not-an-email", "--password-stdin"], input=PASSWORD)
    assert bad.exit_code == 1 and "Traceback" not in bad.output


def test_list_and_disable(runner: FlaskCliRunner) -> None:
    runner.invoke(main, ["organizer", "create", "a@example.org", "--password-stdin"], input=PASSWORD)
    assert "a@example.org\tactive" in runner.invoke(main, ["organizer", "list"]).output
    assert runner.invoke(main, ["organizer", "disable", "a@example.org"]).exit_code == 0
    assert "a@example.org\tdisabled" in runner.invoke(main, ["organizer", "list"]).output
    missing = runner.invoke(main, ["organizer", "disable", "b@example.org"])
    assert missing.exit_code == 1 and "no organizer" in missing.output


def test_stats_by_state_as_csv(runner: FlaskCliRunner, app: Flask, writer: Callable[..., int]) -> None:
    with db.session_scope(app) as s:
        writer(s, SLUG, "a@example.org", MEMBERS[0], day=date(2026, 3, 1), ref="x")
        writer(s, SLUG, "b@example.org", MEMBERS[7], day=date(2026, 3, 1), ref=None)
    result = runner.invoke(main, ["stats", SLUG, "--by", "state", "--csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0][:2] == ["state", "messages"]
    assert {r[0]: r[1] for r in rows[1:]} == {"OH": "3", "WI": "2"}
    table = runner.invoke(main, ["stats", SLUG])
    assert "messages" in table.output and "5" in table.output
    filtered = runner.invoke(main, ["stats", SLUG, "--by", "source", "--state", "OH"])
    assert "x" in filtered.output and "(none)" not in filtered.output
    assert runner.invoke(main, ["stats", SLUG, "--state", "Ohio"]).exit_code == 2


def test_dev_seed_fills_messages_and_counts(runner: FlaskCliRunner, app: Flask) -> None:
    result = runner.invoke(main, ["dev", "seed", "demo", "--messages", "400", "--days", "5"])
    assert result.exit_code == 0, result.output
    with db.session_scope(app) as s:
        n = s.execute(select(func.count()).select_from(Message)).scalar_one()
    assert n >= 400
    out = runner.invoke(main, ["stats", "demo", "--csv"]).output
    assert f"messages,{n}" in out
    assert runner.invoke(main, ["dev", "seed", "demo", "--messages", "0"]).exit_code == 2


def test_dev_seed_counts_in_the_campaigns_time_zone(runner: FlaskCliRunner, app: Flask) -> None:
    """The seed writes the local days a submit would (registry.time_zone_of), not UTC days."""
    from actiontool.timezones import local_day

    app.config["TIME_ZONE"] = "Asia/Tokyo"
    result = runner.invoke(main, ["dev", "seed", "demo", "--messages", "200", "--days", "3"])
    assert result.exit_code == 0, result.output
    assert "Asia/Tokyo" in result.output
    with db.session_scope(app) as s:
        rows = s.execute(select(Action.created_at, Action.created_day)).all()
    assert rows and all(local_day(at, "Asia/Tokyo") == day for at, day in rows)


def test_real_submissions_work_after_a_seed(runner: FlaskCliRunner, app: Flask, client: Any) -> None:
    """Issue 15: on PostgreSQL the seed wrote action ids without moving the sequence (500 next)."""
    from tests.web.flow_helpers import send

    assert runner.invoke(main, ["dev", "seed", SLUG, "--messages", "60", "--days", "3"]).exit_code == 0
    with db.session_scope(app) as s:
        before = s.execute(select(func.count()).select_from(Action)).scalar_one()
    for i in range(3):
        response = send(client, email=f"real{i}@example.org")
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
    with db.session_scope(app) as s:
        assert s.execute(select(func.count()).select_from(Action)).scalar_one() == before + 3
    # And a second seed after real submits continues past both.
    assert runner.invoke(main, ["dev", "seed", SLUG, "--messages", "10", "--days", "2"]).exit_code == 0
    assert send(client, email="real-again@example.org").status_code == 303


def test_stats_for_an_unknown_campaign_exits_1_and_stats_lists_every_campaign(
        runner: FlaskCliRunner, app: Flask, writer: Callable[..., int]) -> None:
    unknown = runner.invoke(main, ["stats", "no-such-campaign"])
    assert unknown.exit_code == 1
    assert "no campaign 'no-such-campaign'" in unknown.output and SLUG in unknown.output
    # A loaded campaign nobody has written to yet is listed, with zero messages.
    listed = runner.invoke(main, ["stats"])
    assert listed.exit_code == 0 and listed.output.splitlines() == [f"{SLUG}\tlive\t0 messages"]
    with db.session_scope(app) as s:
        writer(s, "retired-campaign", "a@example.org", MEMBERS[0], day=date(2026, 3, 1), ref=None)
    listed = runner.invoke(main, ["stats"]).output.splitlines()
    assert listed == [f"{SLUG}\tlive\t0 messages", "retired-campaign\tno campaign file\t3 messages"]
    assert runner.invoke(main, ["stats", "retired-campaign"]).exit_code == 0
