"""`actiontool lookup`: output, exit codes (0 found, 1 not found, 2 invalid) and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from actiontool.cli import main


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["lookup", *args])


def test_a_zip_prints_a_table_of_members() -> None:
    result = run("10001")
    assert result.exit_code == 0, result.output
    assert "ZIP 10001 (New York, NY)" in result.stdout
    assert "ambiguous" in result.stdout
    for line_start in ("NY-10", "NY-12", "NY     Senator"):
        assert any(line.startswith(line_start) for line in result.stdout.splitlines()), line_start
    assert "members as of 2026-06-15" in result.stdout


def test_json_output_follows_the_contract() -> None:
    result = run("99501", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["query"] == {"zip": "99501"}
    assert body["status"] == "exact"
    assert body["districts"][0]["label"] == "AK-AL"
    assert body["districts"][0]["district"] == 0
    assert body["data"] == {"as_of": "2026-06-15", "congress": 119}
    assert len(body["senators"]) == 2


def test_a_point_is_looked_up() -> None:
    result = run("--lat", "43.0747", "--lon", "-89.3841", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["districts"][0]["label"] == "WI-2"


def test_a_vacant_seat_is_shown_as_vacant() -> None:
    result = run("94541")  # Hayward: CA-14, vacant in the bundled snapshot
    assert result.exit_code == 0, result.output
    assert any(line.startswith("CA-14") and "(vacant seat)" in line for line in result.stdout.splitlines())


def test_a_well_formed_zip_that_is_not_found_exits_1_with_one_line() -> None:
    result = run("00000")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "00000" in result.stderr
    assert result.stdout == ""


def test_not_found_with_json_prints_the_error_object() -> None:
    result = run("00000", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "args",
    [["1234"], ["abcde"], [], ["10001", "--lat", "1", "--lon", "2"], ["--lat", "40"],
     ["--lat", "x", "--lon", "1"], ["--lat", "95", "--lon", "1"], ["--bogus"], ["10001", "20001"], ["--lat"]],
)
def test_invalid_input_exits_2_with_one_line_on_stderr(args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.output


def test_the_installed_command_needs_neither_the_app_nor_the_checkout(tmp_path: Path) -> None:
    # A separate process from another directory, as a user (and CI, from a wheel) runs it.
    code = "import sys; from actiontool.cli import main; sys.argv = ['actiontool', *sys.argv[1:]]; main()"
    done = subprocess.run([sys.executable, "-c", code, "lookup", "5381"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "not a ZIP code" in done.stderr
    done = subprocess.run([sys.executable, "-c", code, "lookup", "20001", "--json"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["senators"] == []
    assert not (tmp_path / "instance").exists()


def test_a_point_in_the_pacific_near_guam_names_the_territory() -> None:
    result = run("--lat", "13.47", "--lon", "144.75")
    assert result.exit_code == 0, result.output
    assert "territory has a single seat" in result.stdout
    assert any(line.startswith("GU-AL") and "Delegate" in line for line in result.stdout.splitlines())
