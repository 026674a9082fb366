"""The Congress transition: the next Congress's data is built from its inputs, a redrawn state without an
updated ZIP crosswalk is placed on the new map, and `data check` says what to do around the last day."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from actiontool.cli import main
from actiontool.districts import DataInfo, Dataset, load
from actiontool.districts.build import BuildError
from actiontool.districts.checks import check_dataset
from actiontool.districts.congress import congress_on, ordinal_in, transition_notice
from actiontool.districts.states import congress_end
from tests.districts import next_congress as nxt
from tests.districts import tiny


@pytest.fixture(scope="module")
def next_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return nxt.build_next_data(tmp_path_factory.mktemp("next"))


@pytest.fixture(scope="module")
def nextdata(next_dir: Path) -> Dataset:
    return load(next_dir)


def _labels(data: Dataset, zip_code: str) -> list[str]:
    return [d.label for d in data.lookup(zip_code).districts]


# -- the Congress comes from the inputs ------------------------------------------------------------


def test_the_build_takes_the_congress_from_the_newest_boundaries_file(next_dir: Path,
                                                                      nextdata: Dataset) -> None:
    manifest = json.loads((next_dir / "MANIFEST.json").read_text())["dataset"]
    assert (manifest["congress"], manifest["congress_ends"]) == (120, "2029-01-03")
    assert manifest["redrawn_states"] == ["WI"]
    assert nextdata.info.congress_name == "120th Congress"


def test_boundaries_of_another_congress_than_the_members_are_refused_unless_the_congress_is_given(
        tmp_path: Path) -> None:
    # The new boundaries file is late: only the 119th's is there, beside the 120th's members.
    old = tiny.write_inputs(tmp_path / "old")
    stale = replace(nxt.write_inputs(tmp_path / "in"), boundaries=old.boundaries)
    with pytest.raises(BuildError) as refused:
        nxt.build_next(stale, tmp_path / "out", redrawn=frozenset())
    assert refused.value.problems == [
        "the House members' terms are of the 120th Congress, the data is built as the 119th: update the "
        "out-of-date input, or give --congress to build anyway"]
    assert not (tmp_path / "out" / "MANIFEST.json").exists()
    built = nxt.build_next(stale, tmp_path / "out", redrawn=frozenset(), congress=120)
    warning = "the boundaries are of the 119th Congress, the data is built as the 120th"
    assert warning in built.summary["warnings"]
    assert load(tmp_path / "out").info.congress == 120


def test_the_tiny_inputs_still_build_the_119th(tiny: Dataset) -> None:
    assert (tiny.info.congress, tiny.info.congress_ends, tiny.info.redrawn_states) == (119, "2027-01-03", ())


# -- a redrawn state without an updated crosswalk --------------------------------------------------


def test_without_the_redrawn_list_the_stale_crosswalk_answers(tmp_path: Path) -> None:
    nxt.build_next(nxt.write_inputs(tmp_path / "in"), tmp_path / "out", redrawn=frozenset())
    stale = load(tmp_path / "out")
    assert _labels(stale, "53002") == ["WI-1", "WI-2"]  # the old map's split
    assert stale.lookup("53002").basis == "zcta"


def test_a_redrawn_states_zips_are_placed_on_the_new_map(nextdata: Dataset) -> None:
    deep = nextdata.lookup("53002")  # its centre is 20 km inside the new WI-2
    assert (deep.status, deep.basis, _labels(nextdata, "53002")) == ("approximate", "coordinates", ["WI-2"])
    assert [m.name for m in deep.members()] == ["Nia New", "Wanda Senior", "Walt Junior"]
    beside = nextdata.lookup("53004")  # in the new WI-2, 0.8 km from WI-1: both are candidates
    assert (beside.status, beside.basis, _labels(nextdata, "53004")) == ("approximate", "coordinates",
                                                                         ["WI-1", "WI-2"])


def test_other_states_keep_the_crosswalk(nextdata: Dataset) -> None:
    assert (nextdata.lookup("99501").status, nextdata.lookup("99501").basis) == ("exact", "zcta")
    # Two states: MN-1 stays from the crosswalk, the WI part is placed on the new map.
    assert _labels(nextdata, "56001") == ["MN-1", "WI-1"]
    assert nextdata.lookup("56001").basis == "coordinates"


def test_the_redrawn_list_is_checked(tmp_path: Path) -> None:
    inputs = nxt.write_inputs(tmp_path / "in")
    with pytest.raises(BuildError) as refused:
        nxt.build_next(inputs, tmp_path / "out", redrawn=frozenset({"ZZ", "AK"}))
    assert "redrawn states: 'ZZ' is not a state" in refused.value.problems
    assert "redrawn states: AK has one seat, so no map to redraw" in refused.value.problems


def test_data_build_takes_redrawn_states_on_the_command_line(tmp_path: Path) -> None:
    nxt.write_inputs(tmp_path / "in")
    args = ["data", "build", "--from-dir", str(tmp_path / "in"),
            "--zipcodes", str(tmp_path / "in" / "zipcodes.json"),
            "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(main, [*args, "--redrawn-states", " wi,ak"])
    # The list reached the build, read case-blind: AK is refused (one seat), WI is not.
    assert result.exit_code == 1
    assert "error: redrawn states: AK has one seat, so no map to redraw" in result.stderr
    assert "redrawn states: WI" not in result.stderr
    bad = CliRunner().invoke(main, [*args, "--redrawn-states", "W1"])
    assert bad.exit_code == 2 and "'W1' is not a two-letter state code" in bad.stderr


# -- the whole check of the next Congress ----------------------------------------------------------


def test_the_next_congress_passes_the_checks_and_names_what_changed(nextdata: Dataset) -> None:
    report = check_dataset(nextdata, expect=tiny.EXPECT, today=date(2027, 1, 4))
    assert report.errors == []
    assert "MN-1 is vacant (no member in the source data)" in report.warnings
    assert any(w.startswith("ZIPs of WI were placed by their centre point") for w in report.warnings)
    assert report.transition is None and not report.congress_ended  # the 120th has just begun
    assert nextdata.member("R000002") is None and nextdata.member("S000004") is None
    assert nextdata.left_office("R000002", date(2027, 1, 4))
    assert [m.name for m in nextdata.senators("MN")] == ["Mina North", "Sam Successor"]


# -- data check around the end of a Congress -------------------------------------------------------


@pytest.mark.parametrize(("day", "phase"), [
    ("2026-12-03", None), ("2026-12-04", "before"), ("2027-01-02", "before"),
    ("2027-01-03", "after"), ("2027-02-02", "after"), ("2027-02-03", None),
])
def test_data_check_says_what_to_do_30_days_before_and_after_the_end(day: str, phase: str | None) -> None:
    result = CliRunner().invoke(main, ["data", "check", "--today", day])
    assert result.exit_code == 0, result.output
    runbook = 'docs/DATA.md, "Runbook: the Congress transition"'
    if phase is None:
        assert runbook not in result.stdout
    else:
        line = next(x for x in result.stdout.splitlines() if runbook in x)
        assert line.startswith("WARNING:" if phase == "after" else "warning:")
        assert "120th Congress" in line
    if day == "2027-02-03":
        assert "WARNING: the 119th Congress ended on 2027-01-03" in result.stdout
        assert "470 members' recorded terms ended with the 119th Congress" in result.stdout


def test_the_window_follows_the_data_s_congress(nextdata: Dataset) -> None:
    info = nextdata.info
    assert transition_notice(info, date(2028, 12, 3)) is None
    before = transition_notice(info, date(2028, 12, 4))
    assert before is not None and "the 120th Congress ends on 2029-01-03, in 30 day(s)" in before.text
    assert "the 121st Congress's members" in before.text


@pytest.mark.parametrize(("congress", "ends", "name"), [
    (119, "2027-01-03", "119th"), (120, "2029-01-03", "120th"), (121, "2031-01-03", "121st"),
    (122, "2033-01-03", "122nd"), (123, "2035-01-03", "123rd"),
])
def test_each_congress_ends_on_its_own_day(congress: int, ends: str, name: str) -> None:
    info = DataInfo(as_of="2030-01-01", congress=congress, congress_ends=congress_end(congress))
    assert info.congress_ends == ends and info.congress_name == f"{name} Congress"
    assert congress_on(date.fromisoformat(ends)) == congress + 1
    assert congress_on(date.fromisoformat(ends).replace(day=2)) == congress


def test_ordinals_in_spanish() -> None:
    assert [ordinal_in(n, "es") for n in (119, 121, 122, 123)] == ["119.º", "121.º", "122.º", "123.º"]
    assert [ordinal_in(n, "en") for n in (119, 121, 122, 123)] == ["119th", "121st", "122nd", "123rd"]


@pytest.mark.parametrize(("congress", "lang", "label"), [
    (119, "en", "H.R. 1234 (119th Congress)"), (121, "en", "H.R. 1234 (121st Congress)"),
    (122, "es", "H.R. 1234 (122.º Congreso)"), (123, "en", "H.R. 1234 (123rd Congress)"),
])
def test_a_letter_names_its_bill_s_congress_in_the_letter_s_language(congress: int, lang: str,
                                                                     label: str) -> None:
    from actiontool.campaigns import Bill

    assert Bill(congress, "hr", 1234).label_in(lang) == label


def test_the_lookup_command_says_a_redrawn_state_s_zip_is_on_the_new_map(next_dir: Path) -> None:
    result = CliRunner().invoke(main, ["lookup", "--data-dir", str(next_dir), "53002"])
    assert result.exit_code == 0, result.output
    assert ("Match: approximate — WI's map was redrawn after the ZIP crosswalk was made; placed by the ZIP's "
            "centre point in the new districts") in result.stdout
    assert "Nia New" in result.stdout
    elsewhere = CliRunner().invoke(main, ["lookup", "--data-dir", str(next_dir), "99599"])  # AK: not redrawn
    assert "this ZIP has no tabulation area" in elsewhere.stdout and "redrawn" not in elsewhere.stdout


def test_a_census_file_without_district_ids_is_read_by_state_fips(tmp_path: Path) -> None:
    inputs = nxt.write_inputs(tmp_path / "in")
    path = Path(inputs.boundaries)
    collection = json.loads(path.read_text())
    for feature in collection["features"]:
        del feature["properties"]["DISTRICT_ID"]
    path.write_text(json.dumps(collection))
    nxt.build_next(inputs, tmp_path / "out")
    expected = {"WI-1", "WI-2", "WI-3", "MN-1", "AK-AL", "DC-AL", "PR-AL"}
    assert set(load(tmp_path / "out").boundaries()) == expected


def test_the_manifest_does_not_credit_a_new_boundaries_file_to_the_old_url(next_dir: Path) -> None:
    source = json.loads((next_dir / "MANIFEST.json").read_text())["sources"]["boundaries"]
    assert source["url"] == "local file cd120_20m.geojson"
    assert source["version"] == "unknown (identified by sha256)"
