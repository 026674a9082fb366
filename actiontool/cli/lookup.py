"""`actiontool lookup`: ZIP or point -> members of Congress, without the web app or the database.

Exit 0 when members are found, 1 for a well-formed ZIP or point that no district covers, 2 for invalid
input (always one line on stderr, never a traceback or click's multi-line usage text).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

EXIT_NOT_FOUND = 1
EXIT_INVALID = 2

_BASIS_TEXT = {
    "zcta": "by the ZIP's census tabulation area",
    "coordinates": "this ZIP has no tabulation area; placed by its centre point",
    "state": "this ZIP has no tabulation area; its state or territory has a single seat",
    "point": "by the point's place in the district boundaries",
}


class _OneLineCommand(click.Command):
    """A command whose usage errors are one line on stderr with exit 2, as the contract says."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            click.echo(f"error: {exc.format_message()}", err=True)
            ctx.exit(EXIT_INVALID)


def _fail(code: int, error: str, message: str, as_json: bool) -> NoReturn:
    if as_json:
        click.echo(json.dumps({"error": {"code": error, "message": message}}))
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _dataset(data_dir: Path | None) -> Any:
    """Return the dataset to answer from: --data-dir, else ACTIONTOOL_DATA_DIR, else the bundled one."""
    from actiontool import districts
    from actiontool.config import from_environment

    folder = data_dir or from_environment().get("DATA_DIR")
    return districts.load(Path(folder)) if folder else districts.bundled()


def format_table(result: Any) -> str:
    """Return a Lookup as a readable plain-text table."""
    from actiontool.districts.model import redrawn

    lines = []
    query = result.query
    if "zip" in query:
        place = ", ".join(p for p in (result.city, result.state) if p)
        lines.append(f"ZIP {query['zip']}" + (f" ({place})" if place else ""))
    else:
        lines.append(f"Point {query['lat']:g}, {query['lon']:g}")
    status = result.status + (", near a district boundary" if result.near_boundary else "")
    basis = _BASIS_TEXT.get(result.basis, result.basis)
    if "zip" not in query and result.basis == "state":
        basis = "no district polygon here; the nearby territory has a single seat"
    elif "zip" not in query and result.status == "approximate":
        basis = "just outside the generalised district boundaries; the nearest districts are listed"
    elif redrawn(result):
        basis = (f"{result.state}'s map was redrawn after the ZIP crosswalk was made; placed by the ZIP's "
                 "centre point in the new districts")
    lines.append(f"Match: {status} — {basis}")
    if len(result.districts) > 1:
        lines.append(f"{len(result.districts)} possible House districts: the address decides which one.")
    rows = [("Seat", "Title", "Name", "Party", "Phone")]
    for district in result.districts:
        m = district.member
        if m is None:
            rows.append((district.label, "Representative", "(vacant seat)", "", ""))
        else:
            rows.append((district.label, m.title, m.name, m.party, m.phone or ""))
    for m in result.senators:
        rows.append((m.state, m.title, m.name, m.party, m.phone or ""))
    if not result.senators:
        lines.append("No senators: " + ", ".join(result.states or (result.state,)) + " elects none.")
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines.append("")
    for row in rows:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    lines.append("")
    info = result.data
    lines.append(f"Data: {info.congress_name}, members as of {info.as_of}.")
    return "\n".join(lines)


@click.command("lookup", cls=_OneLineCommand)
@click.argument("zip_code", metavar="ZIP", required=False)
@click.option("--lat", help="Latitude (decimal degrees).")
@click.option("--lon", help="Longitude (decimal degrees).")
@click.option("--json", "as_json", is_flag=True, help="Print the lookup as JSON.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Use this data folder.")
def lookup(
    zip_code: str | None, lat: str | None, lon: str | None, as_json: bool, data_dir: Path | None
) -> None:
    """Show the members of Congress for a ZIP code, or for --lat/--lon."""
    from actiontool.districts import DataError, InvalidPoint, InvalidZip, NotFound

    point = lat is not None or lon is not None
    if zip_code is not None and point:
        _fail(EXIT_INVALID, "invalid_zip", "give a ZIP or --lat/--lon, not both", as_json)
    if zip_code is None and not point:
        _fail(EXIT_INVALID, "invalid_zip", "give a ZIP code, or --lat and --lon", as_json)
    if point and (lat is None or lon is None):
        _fail(EXIT_INVALID, "invalid_point", "give both --lat and --lon", as_json)
    try:
        dataset = _dataset(data_dir)
        result = dataset.lookup(zip_code) if zip_code is not None else dataset.lookup_point(lat, lon)
    except (InvalidZip, InvalidPoint) as exc:
        _fail(EXIT_INVALID, exc.code, str(exc), as_json)
    except NotFound as exc:
        _fail(EXIT_NOT_FOUND, exc.code, str(exc), as_json)
    except DataError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(3)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(format_table(result))


def register(group: click.Group) -> None:
    """Attach the lookup command to the actiontool group."""
    group.add_command(lookup)
