"""Commands that need the app say in one line why it cannot start, instead of printing a traceback."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner

from actiontool.cli import main


def run(*args: str, env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


def test_a_database_with_unknown_tables_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "stale.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE actions (id INTEGER)")
    code, output = run("stats", "detect-and-defeat", env={"ACTIONTOOL_DATABASE_URL": f"sqlite:///{path}"})
    assert code == 1
    assert output.startswith("Error: the app cannot start: ") and "Traceback" not in output
    assert "back it up" in output


def test_an_unreachable_database_is_refused_in_one_line(tmp_path: Path) -> None:
    code, output = run("stats", "detect-and-defeat",
                       env={"ACTIONTOOL_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    assert code == 1
    assert output.startswith("Error: the app cannot start: ") and "Traceback" not in output
    assert len(output.strip().splitlines()) == 1


def test_a_setting_that_is_not_a_number_is_refused_in_one_line(tmp_path: Path) -> None:
    code, output = run("stats", "detect-and-defeat",
                       env={"ACTIONTOOL_DATABASE_URL": f"sqlite:///{tmp_path / 'ok.sqlite3'}",
                            "ACTIONTOOL_SMTP_PORT": "twenty-five"})
    assert code == 1
    assert "ACTIONTOOL_SMTP_PORT='twenty-five' is not a number" in output
