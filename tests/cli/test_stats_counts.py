"""`actiontool stats SLUG --rebuild` and `--compact` keep the printed totals as they were."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from flask import Flask
from flask.testing import FlaskCliRunner

from actiontool import db
from actiontool.cli import main
from actiontool.services.submit import submit
from tests.factories import outgoing, submission


def test_rebuild_and_compact_print_the_same_totals(app: Flask, runner: FlaskCliRunner) -> None:
    with app.app_context(), db.session_scope(app) as s:
        for i in range(5):
            when = datetime.combine(date(2026, 3, 1 + i % 3), time(12), UTC)
            submit(s, submission([outgoing("S000001"), outgoing("S000002")], campaign="c1",
                                 email=f"p{i}@example.org"), now=when)
    before = runner.invoke(main, ["stats", "c1"])
    assert before.exit_code == 0, before.output
    assert "10" in before.output  # ten letters written
    rebuilt = runner.invoke(main, ["stats", "c1", "--rebuild", "--compact"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "roll-up counts rebuilt" in rebuilt.output and "roll-up counts compacted" in rebuilt.output
    assert runner.invoke(main, ["stats", "c1"]).output == before.output
