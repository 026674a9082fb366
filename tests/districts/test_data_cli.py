"""`actiontool data check` and `data build` through the command line."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from actiontool.cli import main
from tests.districts.tiny import write_inputs


def test_data_check_prints_the_as_of_date_and_passes_on_the_bundled_data() -> None:
    result = CliRunner().invoke(main, ["data", "check", "--today", "2026-11-27"])
    assert result.exit_code == 0, result.output
    assert "members as of 2026-06-15" in result.stdout
    assert "ends on 2027-01-03 (37 days from 2026-11-27)" in result.stdout
    assert "WARNING" not in result.stdout
    assert result.stdout.count("is vacant") == 4


def test_data_check_warns_plainly_when_the_congress_has_ended() -> None:
    result = CliRunner().invoke(main, ["data", "check", "--today", "2027-03-01"])
    assert result.exit_code == 0, result.output
    assert "WARNING: the 119th Congress ended on 2027-01-03" in result.stdout


def test_data_check_fails_on_a_folder_without_data(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["data", "check", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "run `actiontool data build`" in result.stderr


def test_data_build_refuses_inputs_that_fail_the_checks_and_writes_nothing(tmp_path: Path) -> None:
    # The tiny inputs hold 5 voting seats, not 435: the real checks must refuse them.
    write_inputs(tmp_path / "in")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["data", "build", "--from-dir", str(tmp_path / "in"), "--zipcodes",
                                       str(tmp_path / "in" / "zipcodes.json"), "--out", str(out)])
    assert result.exit_code == 1
    assert "error: 5 voting House seats; there are 435" in result.stderr
    assert "nothing written" in result.stderr
    assert not out.exists() or list(out.iterdir()) == []


def test_data_build_reports_a_missing_input_in_one_line_per_problem(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["data", "build", "--from-dir", str(tmp_path), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "cannot read legislators from" in result.stderr
    assert "Traceback" not in result.output


def test_data_check_fails_when_a_file_differs_from_its_manifest(tiny_dir: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "data"
    shutil.copytree(tiny_dir, copy)
    members = copy / "members.json"
    members.write_text(members.read_text().replace("Rita One", "Rita Uno"))
    result = CliRunner().invoke(main, ["data", "check", "--data-dir", str(copy)])
    assert "members.json differs from the sha256 in MANIFEST.json" in result.stderr
    assert result.exit_code == 1
