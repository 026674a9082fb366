"""CSV for organizers: cells a spreadsheet will not run as formulas, streamed in chunks, and the layout of
the aggregate tables that both the dashboard's exports and `actiontool stats --csv` write."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from typing import Any

from actiontool.models import STATUSES

_DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
# A formula start after a separator a spreadsheet may split a pasted or re-imported cell on (`,` `;` tab):
# `Ann;=1+1` is one cell to us and `Ann` plus a formula to a spreadsheet set to split on semicolons.
_DANGEROUS_AFTER_SEPARATOR = re.compile(r"[,;\t][\s\"']*[=+\-@]")
_CHUNK = 64 * 1024  # characters buffered before a streamed export yields


def neutralise(value: Any) -> Any:
    """Return a CSV cell that a spreadsheet will not run as a formula, wherever it splits the cell.

    Text starting with = + - @ tab or CR, or holding one of = + - @ after a `,` `;` or tab, gets a
    leading apostrophe, which spreadsheets show as text.
    """
    if isinstance(value, str) and (value.startswith(_DANGEROUS_START)
                                   or _DANGEROUS_AFTER_SEPARATOR.search(value)):
        return "'" + value
    return value


def csv_stream(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """Yield CSV text line by line, every cell neutralised and every text cell quoted."""
    buffer = io.StringIO()
    # Quoted text keeps a cell whole for readers that split on a separator the writer did not expect.
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow(["" if v is None else neutralise(v) for v in row])
        if buffer.tell() > _CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def aggregate_table(rows: list[dict[str, Any]], dim: str) -> tuple[list[str], list[list[Any]]]:
    """Return the header and rows of an aggregate export (or `actiontool stats --csv`)."""
    extra = {"district": ["member_name"], "member": ["chamber", "seat"]}.get(dim, [])
    header = [dim, *extra, "messages", "written", "sent", *STATUSES]  # written, sent: see services.counts
    body = [[r["label"], *(r.get(e) for e in extra), r["messages"], r["written"], r["sent"],
             *(r[s] for s in STATUSES)] for r in rows]
    if dim == "member":
        header.insert(0, "bioguide")
        body = [[r["key"], *line] for r, line in zip(rows, body, strict=True)]
    return header, body
