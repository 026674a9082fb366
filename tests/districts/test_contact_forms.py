"""Contact form URLs from contact-congress: reading the member files, and the data build's merge."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from actiontool.districts import Dataset, load
from actiontool.districts.build import BuildError, read_contact_forms
from actiontool.districts.contact_forms import files_in_archive, first_visit, folder_digest, http_url
from tests.districts.tiny import CONTACT_FORMS, build_tiny, legislators, write_contact_forms, write_inputs

# -- reading one member file ---------------------------------------------------------------------


def test_the_first_visit_step_is_the_form_url() -> None:
    document = b"bioguide: A000001\ncontact_form:\n  steps:\n    - visit: https://a.example.gov/form\n" \
               b"    - visit: https://a.example.gov/second\n"
    assert first_visit(document) == "https://a.example.gov/form"


def test_a_visit_outside_the_steps_is_not_the_form_url() -> None:
    document = b"visit: https://top.example.gov/\ncontact_form:\n  visit: https://nested.example.gov/\n" \
               b"  steps:\n    - fill_in:\n        - visit: https://field.example.gov/\n"
    assert first_visit(document) is None
    elsewhere = b"success:\n  steps:\n    - visit: https://other.example.gov/\n" \
                b"contact_form:\n  steps:\n    - visit: https://form.example.gov/\n"
    assert first_visit(elsewhere) == "https://form.example.gov/"


def test_a_file_broken_after_its_first_visit_step_still_gives_the_url() -> None:
    document = CONTACT_FORMS["S000005.yaml"].encode()
    with pytest.raises(yaml.YAMLError):
        yaml.safe_load(document)  # the whole file is not YAML: the case is real
    assert first_visit(document) == "https://tundra.example.gov/form"


def test_a_file_broken_before_its_first_visit_step_is_an_error() -> None:
    with pytest.raises(yaml.YAMLError):
        first_visit(CONTACT_FORMS["S000006.yaml"].encode())


@pytest.mark.parametrize(("value", "expected"), [
    ("https://a.example.gov/form", "https://a.example.gov/form"),
    ("  http://a.example.gov/  ", "http://a.example.gov/"),
    ("stubforcwc", None),
    ("stubforcwc ", None),
    ("a.example.gov/form", None),
    ("mailto:office@example.gov", None),
    ("https://", None),
    ("", None),
    (None, None),
])
def test_only_absolute_http_urls_are_taken(value: str | None, expected: str | None) -> None:
    assert http_url(value) == expected


def test_the_folder_digest_is_sha256sum_of_the_sorted_files() -> None:
    files = {"B.yaml": b"b\n", "A.yaml": b"a\n"}
    listing = "".join(f"{hashlib.sha256(files[n]).hexdigest()}  {n}\n" for n in ("A.yaml", "B.yaml"))
    assert folder_digest(files) == hashlib.sha256(listing.encode()).hexdigest()
    assert folder_digest({**files, "A.yaml": b"changed\n"}) != folder_digest(files)


def _archive(files: dict[str, str], top: str = "contact-congress-main") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in {**{f"members/{n}": t for n, t in files.items()}, "README.md": "# x\n"}.items():
            data = text.encode()
            entry = tarfile.TarInfo(f"{top}/{name}")
            entry.size = len(data)
            archive.addfile(entry, io.BytesIO(data))
    return buffer.getvalue()


def test_an_archive_gives_the_same_files_as_the_folder(tmp_path: Path) -> None:
    folder = write_contact_forms(tmp_path, CONTACT_FORMS)
    from_archive = files_in_archive(_archive(CONTACT_FORMS))
    assert from_archive == read_contact_forms(str(folder))
    assert folder_digest(from_archive) == folder_digest(read_contact_forms(str(folder)))


def test_an_input_without_member_files_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(BuildError, match="contact_forms: no \\*.yaml member files"):
        read_contact_forms(str(tmp_path / "empty"))
    (tmp_path / "not.tar.gz").write_bytes(b"not an archive")
    with pytest.raises(BuildError, match="contact_forms: not a readable .tar.gz archive"):
        read_contact_forms(str(tmp_path / "not.tar.gz"))


# -- the data build ------------------------------------------------------------------------------


def test_contact_congress_fills_a_form_only_where_congress_legislators_has_none(tiny: Dataset) -> None:
    forms = {m.bioguide: m.contact_form for m in tiny.members()}
    assert forms == {
        "S000001": "https://senior.example.gov/contact",  # from contact-congress
        "S000002": "https://x.example",  # congress-legislators' own, kept
        "S000003": "https://north.example.gov/form",  # spaces trimmed
        "S000004": None,  # no file
        "S000005": "https://tundra.example.gov/form",  # file broken after the first step
        "S000006": None,  # file broken before it
        "R000001": None,  # stubforcwc
        "R000002": "http://two.example.gov/email",  # the first visit step
        "R000003": None,  # not a URL
        "R000004": None,
        "D000001": None,
        "D000002": None,
        "H000001": None,
    }


def test_the_build_counts_the_forms_by_chamber_and_names_unreadable_files(tmp_path: Path) -> None:
    result = build_tiny(write_inputs(tmp_path / "in", contact_forms=CONTACT_FORMS), tmp_path / "out")
    assert result.summary["contact_forms"] == {
        "senate": 4, "house": 1, "senate_added": 3, "house_added": 1, "unreadable": ["S000006"],
    }


def test_the_manifest_records_contact_congress_with_a_digest_of_its_files(tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path / "in", contact_forms=CONTACT_FORMS)
    build_tiny(inputs, tmp_path / "out")
    entry = json.loads((tmp_path / "out" / "MANIFEST.json").read_text())["sources"]["contact_forms"]
    members = tmp_path / "in" / "contact-congress" / "members"
    listing = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n"
                      for p in sorted(members.iterdir()))
    assert entry == {
        "url": "https://github.com/unitedstates/contact-congress/archive/refs/heads/main.tar.gz",
        "version": "unknown (identified by sha256)",
        "date": None,
        "license": "CC0-1.0 (unitedstates/contact-congress)",
        "sha256": hashlib.sha256(listing.encode()).hexdigest(),
    }


def test_a_build_with_contact_forms_is_byte_reproducible(tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path / "in", contact_forms=CONTACT_FORMS)
    build_tiny(inputs, tmp_path / "a")
    build_tiny(inputs, tmp_path / "b")
    for path in sorted((tmp_path / "a").iterdir()):
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name


def test_a_build_without_contact_forms_keeps_only_congress_legislators_forms(tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path / "in", contact_forms=CONTACT_FORMS)
    result = build_tiny(replace(inputs, contact_forms=None), tmp_path / "out")
    dataset = load(tmp_path / "out")
    assert {m.bioguide for m in dataset.members() if m.contact_form} == {"S000002"}
    assert "contact_forms" not in json.loads((tmp_path / "out" / "MANIFEST.json").read_text())["sources"]
    assert result.summary["contact_forms"]["senate_added"] == 0


def test_contact_forms_can_come_from_the_repository_archive_by_url(tmp_path: Path) -> None:
    import functools
    import http.server
    import threading

    inputs = write_inputs(tmp_path / "in", contact_forms=CONTACT_FORMS)
    served = tmp_path / "served"
    served.mkdir()
    (served / "main.tar.gz").write_bytes(_archive(CONTACT_FORMS))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/main.tar.gz"
        build_tiny(replace(inputs, contact_forms=url), tmp_path / "by-url")
    finally:
        server.shutdown()
        server.server_close()
    build_tiny(inputs, tmp_path / "by-folder")
    members = [(tmp_path / d / "members.json").read_bytes() for d in ("by-url", "by-folder")]
    assert members[0] == members[1]
    manifests = [json.loads((tmp_path / d / "MANIFEST.json").read_text())["sources"]["contact_forms"]
                 for d in ("by-url", "by-folder")]
    assert manifests[0]["sha256"] == manifests[1]["sha256"]
    assert manifests[0]["url"] == url


def test_a_congress_legislators_link_that_is_not_a_url_is_left_out_with_a_warning(tmp_path: Path) -> None:
    people = legislators()
    term = next(p for p in people if p["id"]["bioguide"] == "R000004")["terms"][-1]
    term.update(contact_form="hhttps://large.example.gov/form", url=" https://large.example.gov ")
    result = build_tiny(write_inputs(tmp_path / "in", people=people), tmp_path / "out")
    member = load(tmp_path / "out").member("R000004")
    assert (member.contact_form, member.url) == (None, "https://large.example.gov")
    assert result.summary["warnings"] == [
        "legislators: R000004 contact_form 'hhttps://large.example.gov/form' is not an http(s) URL; left out"
    ]
