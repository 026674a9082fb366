"""`actiontool data build|check`: rebuild the bundled district dataset from upstream, and check it.

Neither command needs the web app or the database.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import click


def _parse_day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _parse_states(_ctx: click.Context, _param: click.Parameter, value: str | None) -> frozenset[str]:
    """Return the two-letter state codes of a comma-separated list (`AL,la, NY`)."""
    states = [part.strip().upper() for part in (value or "").split(",") if part.strip()]
    bad = [s for s in states if len(s) != 2 or not s.isascii() or not s.isalpha()]
    if bad:
        raise click.BadParameter(f"{bad[0][:20]!r} is not a two-letter state code (e.g. AL,LA)")
    return frozenset(states)


def _progress(label: str, length: int) -> Callable[[Iterable[Any]], Iterable[Any]]:
    """Return a wrapper that shows a progress bar on stderr while iterating."""

    def wrap(items: Iterable[Any]) -> Iterable[Any]:
        with click.progressbar(items, length=length, label=label, file=sys.stderr) as bar:
            yield from bar

    return wrap


def _default_out() -> Path:
    from actiontool.resources import data_dir

    return data_dir()


@click.group("data")
def data() -> None:
    """Build or check the bundled district dataset."""


@data.command("build")
@click.option("--from-dir", "from_dir", type=click.Path(file_okay=False, path_type=Path),
              help="A local copy of the upstream files, laid out as congress-legislators/, "
                   "us-zipcodes-congress/, boundaries/ and (optional) contact-congress/members/.")
@click.option("--legislators", help="legislators-current.json: a path or URL.")
@click.option("--zccd", help="zccd.csv (ZCTA -> district): a path or URL.")
@click.option("--boundaries", help="The Census district boundaries of the Congress to serve, as GeoJSON: a "
              "path or URL (with --from-dir: the latest boundaries/cdNNN_*.geojson).")
@click.option("--offices", help="legislators-district-offices.csv: a path or URL (optional input).")
@click.option("--no-offices", is_flag=True, help="Build without members' local offices.")
@click.option("--contact-forms", "contact_forms",
              help="contact-congress's members/ folder, or the repository "
              "as .tar.gz (path or URL): fills in contact form URLs (optional input).")
@click.option("--no-contact-forms", is_flag=True, help="Build without contact-congress's form URLs.")
@click.option("--zipcodes", "zipcodes_file", help="ZIP places as JSON in the zipcodes package's format "
              "(default: the installed zipcodes package).")
@click.option("--as-of", "as_of", help="The date the member data describes (default: known snapshot's date, "
              "else today).")
@click.option("--congress", type=click.IntRange(1, 999),
              help="The Congress the data describes (default: the boundaries' CDnnnFP property, which must "
              "agree with the House members' term starts; given, a disagreement is only a warning).")
@click.option("--redrawn-states", "redrawn", callback=_parse_states, metavar="ST,ST",
              help="States whose new map the ZIP crosswalk does not reflect yet: their ZIPs are placed by "
              "centre point in the boundaries (approximate), the crosswalk is kept for the other states.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where to write (default: the bundled data folder).")
@click.option("--today", callback=_parse_day, hidden=True)
def build_command(
    from_dir: Path | None, legislators: str | None, zccd: str | None, boundaries: str | None,
    offices: str | None, no_offices: bool, contact_forms: str | None, no_contact_forms: bool,
    zipcodes_file: str | None, as_of: str | None, congress: int | None, redrawn: frozenset[str],
    out_dir: Path | None, today: date | None,
) -> None:
    """Build the dataset from upstream (URLs by default), check it, and write it only if it is sound."""
    from actiontool.districts.build import BuildError, Inputs, build
    from actiontool.districts.model import ordinal

    overrides = {"legislators": legislators, "zccd": zccd, "boundaries": boundaries,
                 "zipcodes": zipcodes_file, "offices": offices, "contact_forms": contact_forms}
    if from_dir is not None:
        inputs = Inputs.from_dir(from_dir, **overrides)
    else:
        inputs = Inputs(**{k: v for k, v in overrides.items() if v is not None})
    if no_offices:
        inputs = replace(inputs, offices=None)
    if no_contact_forms:
        inputs = replace(inputs, contact_forms=None)
    out = out_dir or _default_out()
    try:
        result = build(inputs, out, as_of=as_of, congress=congress, redrawn=redrawn, today=today,
                       progress=_progress)
    except BuildError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        click.echo(f"nothing written ({len(exc.problems)} problem(s))", err=True)
        sys.exit(1)
    s = result.summary
    for warning in [*s["warnings"], *result.report.warnings]:
        click.echo(f"warning: {warning}", err=True)
    click.echo(
        f"wrote {len(result.files)} files to {out}: the {ordinal(s['congress'])} Congress, "
        f"{s['members']} members ({s['offices']} local offices), "
        f"{s['seats']} House seats, "
        f"{s['zips']} ZIPs ({s['zcta']} by ZCTA, {s['coordinates']} by coordinates, {s['state']} by state)"
    )
    if inputs.contact_forms:
        _echo_contact_forms(s["contact_forms"])
    if s["postal_state_added"]:
        shown = ", ".join(s["postal_state_added"][:10])
        click.echo(f"{len(s['postal_state_added'])} ZIP(s) whose tabulation area lies outside their postal "
                   f"state also list that state's district: {shown}", err=True)
    if redrawn:
        click.echo(f"{len(s['redrawn'])} ZIP(s) of the redrawn state(s) {', '.join(sorted(redrawn))} were "
                   "placed by their centre point in the new boundaries (approximate), not by the crosswalk",
                   err=True)
    if s["unresolved"]:
        shown = ", ".join(s["unresolved"][:10])
        click.echo(f"{len(s['unresolved'])} ZIP(s) could not be placed and are left out: {shown}", err=True)


def _echo_contact_forms(counts: dict[str, Any]) -> None:
    """Say how many members have a form URL, and how many got it from contact-congress."""
    click.echo(
        f"contact forms: {counts['senate']} senators and {counts['house']} House members have one "
        f"({counts['senate_added']} and {counts['house_added']} from contact-congress)"
    )
    for bioguide in counts["unreadable"]:
        click.echo(f"warning: contact-congress {bioguide}.yaml is not YAML up to its first visit step: "
                   "no form taken from it", err=True)


@data.command("check")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              help="The data folder to check (default: the bundled data).")
@click.option("--today", callback=_parse_day, help="Check as of this date (YYYY-MM-DD) instead of today.")
def check_command(data_dir: Path | None, today: date | None) -> None:
    """Check the bundled data and say how old it is; exit 1 on a structural error."""
    from actiontool.districts import DataError, load
    from actiontool.districts.checks import check_dataset, check_files

    folder = data_dir or _default_out()
    try:
        dataset = load(folder)
        report = check_dataset(dataset, today=today)
        report.errors += check_files(folder)
    except DataError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    info = dataset.info
    today = today or date.today()
    click.echo(f"data: {info.congress_name}, members as of {info.as_of}")
    seats = dataset.house_seats()
    senators = sum(len(s) for s in dataset.senate().values())
    click.echo(f"{len(seats)} House seats ({len(dataset.vacancies())} vacant), {senators} senators, "
               f"{len(list(dataset.zip_codes()))} ZIPs")
    if not report.congress_ended:
        click.echo(f"the {info.congress_name} ends on {info.congress_ends} "
                   f"({info.days_left(today)} days from {today})")
    if report.transition is not None:
        click.echo(f"{'WARNING' if report.congress_ended else 'warning'}: {report.transition.text}")
    elif report.congress_ended:
        click.echo(f"WARNING: the {info.congress_name} ended on {info.congress_ends}. "
                   "The members shown are out of date: rebuild with `actiontool data build`.")
    for warning in report.warnings:
        if warning != (report.transition.text if report.transition else None) and not warning.startswith(
                f"the {info.congress_name} ended"):
            click.echo(f"warning: {warning}")
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
    if report.errors:
        click.echo(f"{len(report.errors)} error(s)", err=True)
        sys.exit(1)
    click.echo("ok")


def register(group: click.Group) -> None:
    """Attach the data commands to the actiontool group."""
    group.add_command(data)
