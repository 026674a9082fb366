"""Checks on a loaded dataset, run by the data build before it writes and by `actiontool data check`.

Errors are structural (the data would give wrong answers); warnings are facts a user should know
(vacant seats, members whose recorded term has ended, a Congress that is over).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from actiontool.districts.congress import TransitionNotice, transition_notice
from actiontool.districts.dataset import Dataset, parse_label, read_manifest
from actiontool.districts.states import NON_VOTING, SENATORS_PER_STATE, STATES, VOTING_SEATS


@dataclass(frozen=True)
class Expectations:
    """What a correct dataset holds; tests narrow it to build tiny datasets."""

    states: frozenset[str] = STATES
    voting_seats: int = VOTING_SEATS
    non_voting: frozenset[str] = NON_VOTING


@dataclass
class Report:
    """The outcome of the checks."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    congress_ended: bool = False
    transition: TransitionNotice | None = None  # within 30 days of the Congress's end: what to do

    @property
    def ok(self) -> bool:
        """Return True when there is no structural error."""
        return not self.errors


def check_dataset(dataset: Dataset, expect: Expectations | None = None, today: date | None = None) -> Report:
    """Return every error and warning about `dataset` as of `today` (default: the real today)."""
    expect = expect or Expectations()
    today = today or date.today()
    report = Report()
    _check_senate(dataset, expect, report)
    _check_house(dataset, expect, report)
    _check_zips(dataset, report)
    _check_currency(dataset, today, report)
    return report


def check_files(data_dir: Path) -> list[str]:
    """Return an error for every data file whose bytes differ from what MANIFEST.json records."""
    errors = []
    files = read_manifest(data_dir)["dataset"].get("files", {})
    for name, recorded in sorted(files.items()):
        path = Path(data_dir) / name
        if not path.is_file():
            errors.append(f"{name} is listed in MANIFEST.json but missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != recorded.get("sha256"):
            errors.append(f"{name} differs from the sha256 in MANIFEST.json (edited by hand?)")
    return errors


def _check_senate(dataset: Dataset, expect: Expectations, report: Report) -> None:
    senate = dataset.senate()
    for state in sorted(expect.states):
        count = len(senate.get(state, ()))
        if count != SENATORS_PER_STATE:
            report.errors.append(f"{state} has {count} senator(s); every state has {SENATORS_PER_STATE}")
    for state in sorted(set(senate) - expect.states):
        report.errors.append(f"{state} is not a state but has senators")


def _check_house(dataset: Dataset, expect: Expectations, report: Report) -> None:
    seats = dataset.districts()
    voting = [d for d in seats if d.state in expect.states]
    non_voting = [d for d in seats if d.state in expect.non_voting]
    if len(voting) != expect.voting_seats:
        report.errors.append(f"{len(voting)} voting House seats; there are {expect.voting_seats}")
    held = Counter(d.state for d in non_voting)
    for state in sorted(expect.non_voting):
        if held[state] != 1 or dataset.district(f"{state}-AL") is None:
            report.errors.append(f"{state} must have exactly one non-voting seat, district 0 ({state}-AL)")
    for d in seats:
        if d.state not in expect.states | expect.non_voting:
            report.errors.append(f"{d.label} is a seat of {d.state}, which sends no one to the House")
        if d.member is not None and (d.member.state, d.member.district) != (d.state, d.district):
            report.errors.append(f"{d.label} is held by {d.member.name}, recorded for {d.member.label}")
    states_with_seats = Counter(d.state for d in voting)
    for state in sorted(expect.states - set(states_with_seats)):
        report.errors.append(f"{state} has no House seat")
    for d in seats:
        if d.member is None:
            report.warnings.append(f"{d.label} is vacant (no member in the source data)")


def _check_zips(dataset: Dataset, report: Report) -> None:
    unknown: Counter[str] = Counter()
    for zip_code in dataset.zip_codes():
        record = dataset.zip_record(zip_code)
        for label in record["labels"] if record else ():
            if dataset.district(label) is None:
                unknown[label] += 1
    for label, count in sorted(unknown.items()):
        state, _ = parse_label(label)
        report.errors.append(f"{count} ZIP(s) map to {label}, which does not exist in {state}")


def _check_currency(dataset: Dataset, today: date, report: Report) -> None:
    info = dataset.info
    with_the_congress = 0
    for member in dataset.members():
        if not member.term_end or member.term_end >= today.isoformat():
            continue
        if member.term_end == info.congress_ends and member.term_end_type is None:
            with_the_congress += 1  # the regular end of the Congress: said once below, not 500 times
        elif member.term_end_type is not None:
            report.warnings.append(
                f"{member.name} ({member.title}, {member.label}): recorded term ended {member.term_end}; "
                "kept (an appointee sits until a successor is sworn in) — check for a newer dataset"
            )
        else:
            report.warnings.append(
                f"{member.name} ({member.title}, {member.label}): recorded term ended {member.term_end}; "
                "letters to them are no longer delivered — check for a newer dataset"
            )
    if with_the_congress:
        report.warnings.append(
            f"{with_the_congress} members' recorded terms ended with the {info.congress_name} on "
            f"{info.congress_ends}: letters to them are no longer delivered until the data is rebuilt")
    if dataset.info.redrawn_states:
        report.warnings.append(
            f"ZIPs of {', '.join(dataset.info.redrawn_states)} were placed by their centre point in the new "
            "boundaries (approximate: the ZIP crosswalk predates the new map); rebuild without "
            "--redrawn-states once an updated crosswalk is out")
    report.congress_ended = dataset.info.has_ended(today)
    report.transition = transition_notice(dataset.info, today)
    if report.transition is not None:
        report.warnings.append(report.transition.text)
    elif report.congress_ended:
        report.warnings.append(
            f"the {dataset.info.congress_name} ended on {dataset.info.congress_ends}: this data "
            "describes a past Congress; rebuild it with `actiontool data build`"
        )
