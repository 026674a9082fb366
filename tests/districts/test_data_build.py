"""The data build: checks refuse broken inputs and write nothing; same inputs give the same bytes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actiontool.districts.build import BuildError, read_input
from tests.districts.tiny import ZCCD, build_tiny, legislators, write_inputs


def test_the_same_inputs_give_byte_identical_files(tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path / "in")
    build_tiny(inputs, tmp_path / "a")
    build_tiny(inputs, tmp_path / "b")
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == ["MANIFEST.json", "boundaries.json", "members.json", "offices.json", "zips.json"]
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_the_manifest_records_every_source_and_the_dataset(tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path / "in")
    build_tiny(inputs, tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / "MANIFEST.json").read_text())
    assert manifest["dataset"]["as_of"] == "2026-06-15"
    assert (manifest["dataset"]["congress"], manifest["dataset"]["congress_ends"]) == (119, "2027-01-03")
    assert set(manifest["sources"]) == {"legislators", "offices", "zccd", "boundaries", "zipcodes"}
    for source in manifest["sources"].values():
        assert len(source["sha256"]) == 64 and source["license"] and source["url"]
    raw = (tmp_path / "in" / "us-zipcodes-congress" / "zccd.csv").read_bytes()
    import hashlib

    assert manifest["sources"]["zccd"]["sha256"] == hashlib.sha256(raw).hexdigest()
    files = manifest["dataset"]["files"]
    data = (tmp_path / "out" / "zips.json").read_bytes()
    assert files["zips.json"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert str(tmp_path) not in (tmp_path / "out" / "MANIFEST.json").read_text()  # no machine paths


def _refused(tmp_path: Path, **changes: object) -> BuildError:
    inputs = write_inputs(tmp_path / "in", **changes)  # type: ignore[arg-type]
    out = tmp_path / "out"
    with pytest.raises(BuildError) as caught:
        build_tiny(inputs, out)
    assert not out.exists() or list(out.iterdir()) == [], "a refused build must write nothing"
    return caught.value


def test_a_state_with_one_senator_is_refused(tmp_path: Path) -> None:
    people = [p for p in legislators() if p["id"]["bioguide"] != "S000003"]
    error = _refused(tmp_path, people=people)
    assert "MN has 1 senator(s); every state has 2" in error.problems


def test_a_zccd_district_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    error = _refused(tmp_path, zccd=[*ZCCD, ("55", "WI", "53004", "9")])
    assert any("district WI-9 does not exist in its state" in p and "53004" in p for p in error.problems)


def test_a_member_for_a_seat_without_a_boundary_is_refused(tmp_path: Path) -> None:
    people = legislators()
    people[6]["terms"][-1]["district"] = 7
    error = _refused(tmp_path, people=people)
    assert any("WI-7, which has no boundary" in p for p in error.problems)


def test_a_refused_build_leaves_the_previous_files_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out"
    build_tiny(write_inputs(tmp_path / "good"), out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    people = [p for p in legislators() if p["id"]["bioguide"] != "S000005"]
    bad = write_inputs(tmp_path / "bad", people=people)
    with pytest.raises(BuildError):
        build_tiny(bad, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_vacancy_is_a_warning_not_an_error(tmp_path: Path) -> None:
    result = build_tiny(write_inputs(tmp_path / "in"), tmp_path / "out")
    assert result.report.errors == []
    assert "WI-3 is vacant (no member in the source data)" in result.report.warnings


def test_a_missing_input_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="cannot read zccd from"):
        read_input("zccd", str(tmp_path / "absent.csv"))


def test_an_unreachable_url_is_a_clear_error() -> None:
    # Port 9 on loopback refuses at once: no network is needed to see the error path.
    with pytest.raises(BuildError, match="cannot fetch legislators from http://127.0.0.1:9/"):
        read_input("legislators", "http://127.0.0.1:9/legislators-current.json")


def test_malformed_json_is_refused(tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path / "in")
    Path(inputs.legislators).write_text("{not json", encoding="utf-8")
    with pytest.raises(BuildError, match="legislators: not JSON"):
        build_tiny(inputs, tmp_path / "out")


def test_a_build_without_offices_removes_an_older_offices_file(tmp_path: Path) -> None:
    from dataclasses import replace

    inputs = write_inputs(tmp_path / "in")
    build_tiny(inputs, tmp_path / "out")
    assert (tmp_path / "out" / "offices.json").exists()
    build_tiny(replace(inputs, offices=None), tmp_path / "out")
    assert not (tmp_path / "out" / "offices.json").exists()


def test_zip_records_without_a_zip_code_are_refused(tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path / "in")
    Path(inputs.zipcodes or "").write_text('[{"zip_code": "123", "state": "WI"}]', encoding="utf-8")
    with pytest.raises(BuildError, match="1 record\\(s\\) without a five-digit zip_code"):
        build_tiny(inputs, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_inputs_can_be_urls(tmp_path: Path) -> None:
    import functools
    import http.server
    import threading
    from dataclasses import replace

    inputs = write_inputs(tmp_path / "in")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "in"))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        by_url = replace(inputs, legislators=f"{base}/congress-legislators/legislators-current.json",
                         zccd=f"{base}/us-zipcodes-congress/zccd.csv",
                         boundaries=f"{base}/boundaries/cd119_20m.geojson")
        build_tiny(by_url, tmp_path / "from-urls")
        with pytest.raises(BuildError, match="cannot fetch zccd from .*404"):
            build_tiny(replace(by_url, zccd=f"{base}/missing.csv"), tmp_path / "refused")
    finally:
        server.shutdown()
        server.server_close()
    build_tiny(inputs, tmp_path / "from-files")
    manifest = json.loads((tmp_path / "from-urls" / "MANIFEST.json").read_text())
    assert manifest["sources"]["zccd"]["url"] == f"{base}/us-zipcodes-congress/zccd.csv"
    zips = [(tmp_path / folder / "zips.json").read_bytes() for folder in ("from-urls", "from-files")]
    assert zips[0] == zips[1]
