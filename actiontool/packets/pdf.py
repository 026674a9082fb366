"""Render an office packet (cover, then one letter per page) and an office report (one page) as PDF."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from actiontool.packets.model import EmptyPacket, OfficeReport, PacketCover, PacketLetter, Tally
from actiontool.packets.model import redact_contact_details as redact
from actiontool.packets.typeset import BOTTOM, MARGIN, TEXT_WIDTH, Document, ellipsize

BODY, BODY_LEADING = 11.0, 15.0
SMALL, SMALL_LEADING = 9.0, 12.0
QUOTE_CHARS = 420  # a quote in the office report is cut here, so that several fit on the page
QUOTE_TRIES = 60  # quotes measured in a row that do not fit before the report stops looking


def long_date(day: date) -> str:
    """Return "November 2, 2026"."""
    return f"{day:%B} {day.day}, {day.year}"


def date_range(first: date | None, last: date | None) -> str:
    """Return "November 2, 2026" for one day, "November 2 – 28, 2026"-style spans otherwise."""
    if first is None or last is None:
        return "no letters yet"
    if first == last:
        return long_date(first)
    return f"{long_date(first)} – {long_date(last)}"


def _tally_grid(doc: Document, heading: str, tally: Tally, columns: int, *, max_rows: int | None = None,
                noun: str = "") -> None:
    """Draw a heading and the tally in rows of `columns` cells ("Madison, WI   120"), largest first.

    With `max_rows`, what does not fit is summed up in one line ("and 23 more cities: 145 letters").
    """
    gap = 14.0
    cell = (TEXT_WIDTH - gap * (columns - 1)) / columns
    shown = tally if max_rows is None else tally[: max_rows * columns]
    doc.ensure(BODY_LEADING + SMALL_LEADING)
    doc.set_style(BODY, bold=True)
    doc.line(heading, BODY_LEADING)
    doc.set_style(SMALL)
    for start in range(0, len(shown), columns):
        if doc.y + SMALL_LEADING > BOTTOM:
            doc.new_page()
            doc.set_style(BODY, bold=True)
            doc.line(f"{heading} (continued)", BODY_LEADING)
            doc.set_style(SMALL)
        for i, (label, count) in enumerate(shown[start:start + columns]):
            x = MARGIN + i * (cell + gap)
            number = f"{count:,}"
            doc.draw(x, doc.fit(label, cell - doc.width(number) - 6), SMALL_LEADING)
            doc.draw(x, number, SMALL_LEADING, width=cell, align="R")
        doc.y += SMALL_LEADING
    rest = tally[len(shown):]
    if rest:
        doc.line(f"and {len(rest):,} more {noun}: {sum(c for _, c in rest):,} letters", SMALL_LEADING)
    doc.y += SMALL_LEADING / 2


# Packet ---------------------------------------------------------------------------------------------


def _cover(doc: Document, cover: PacketCover) -> None:
    doc.set_style(20, bold=True)
    doc.line("Letters from constituents", 28)
    doc.set_style(14, bold=True)
    doc.paragraphs(f"To {cover.member}", 19)
    doc.y += 6
    rows = [
        ("Letters", f"{cover.total:,}, written {date_range(cover.first_date, cover.last_date)}"),
        ("Campaign", cover.campaign_title),
        ("The ask", cover.ask),
        ("Bill", cover.bill),
        ("Delivered by", cover.organization),
    ]
    if cover.prepared_on is not None:
        rows.append(("Prepared", long_date(cover.prepared_on)))
    label_width = 90.0
    for label, value in rows:
        if not value:
            continue
        doc.set_style(BODY, bold=True)
        doc.ensure(BODY_LEADING)
        doc.draw(MARGIN, label, BODY_LEADING)
        doc.set_style(BODY)
        doc.paragraphs(value, BODY_LEADING, width=TEXT_WIDTH - label_width, x=MARGIN + label_width)
        doc.y += 3
    doc.set_style(SMALL, grey=True)
    doc.paragraphs("Each of the following pages holds one constituent's letter, with the name and address "
                   "they gave. The counts below are of these letters.", SMALL_LEADING)
    doc.rule(12)
    _tally_grid(doc, "Letters by city", cover.by_city, 3)
    _tally_grid(doc, "Letters by ZIP code", cover.by_zip, 5)


def _letter(doc: Document, letter: PacketLetter) -> None:
    doc.set_style(13, bold=True)
    doc.paragraphs(letter.name, 17)
    doc.set_style(BODY)
    for line in (letter.street, f"{letter.city}, {letter.state} {letter.zip}".strip(" ,")):
        if line.strip():
            doc.paragraphs(line, BODY_LEADING)
    doc.set_style(SMALL, grey=True)
    # "Written", not "Sent": the letter reaches the office with this packet, not on the day it was written.
    note = f"Written {long_date(letter.sent_at.date())}"
    if letter.edited:
        note += " · the constituent edited the suggested letter"
    doc.line(note, SMALL_LEADING)
    doc.rule(14)
    doc.set_style(BODY)
    doc.paragraphs(letter.text, BODY_LEADING)


def render_packet_pdf(cover: PacketCover, letters: Sequence[PacketLetter]) -> bytes:
    """Return the packet as a PDF: the cover, then each letter on a page of its own, ready to print."""
    if not letters:
        raise EmptyPacket("a packet needs at least one letter")
    if cover.total != len(letters):
        raise ValueError(f"the cover counts {cover.total} letters but the packet holds {len(letters)}")
    state = {"header": ""}

    def header(doc: Document) -> None:
        if state["header"]:
            doc.set_style(SMALL - 1, grey=True)
            doc.draw(MARGIN, doc.fit(state["header"], TEXT_WIDTH), SMALL_LEADING)
            doc.y += SMALL_LEADING + 8
            doc.set_style(BODY)

    doc = Document(f"Letters to {cover.member}: {cover.campaign_title}", on_new_page=header)
    state["header"] = f"{cover.campaign_title} · letters to {cover.member} (cover, continued)"
    doc.pdf.add_page()
    _cover(doc, cover)
    total = len(letters)
    for number, letter in enumerate(letters, start=1):
        state["header"] = f"Letter {number:,} of {total:,} · {cover.campaign_title} · to {cover.member}"
        doc.new_page()
        state["header"] = f"Letter {number:,} of {total:,} (continued) · {letter.name}"
        _letter(doc, letter)
    return doc.output()


# Office report --------------------------------------------------------------------------------------

_FOOTER = ("Counts of letters written through this campaign. Names, street addresses, e-mail addresses "
           "and phone numbers are left out; contact details typed into a letter are replaced.")


def _quote_lines(doc: Document, words: str, width: float) -> list[str]:
    """Return the wrapped lines of one quote: contact details replaced, then cut to QUOTE_CHARS.

    Only the start of the words is redacted (enough that no e-mail, phone or street can straddle the
    cut), so a report over thousands of long letters stays quick.
    """
    return doc.wrap(f"“{ellipsize(redact(words[:QUOTE_CHARS + 200]), QUOTE_CHARS)}”", width)


def render_office_report_pdf(report: OfficeReport) -> bytes:
    """Return the office report as a one-page PDF; the words shown are cut to what fits the page."""
    doc = Document(f"Office report: {report.member}: {report.campaign_title}")
    doc.pdf.add_page()
    doc.set_style(18, bold=True)
    doc.line("Office report", 24)
    doc.set_style(14, bold=True)
    doc.line(doc.fit(report.member, TEXT_WIDTH), 19)
    doc.set_style(BODY)
    doc.line(doc.fit(report.campaign_title, TEXT_WIDTH), BODY_LEADING)
    if report.prepared_on is not None:
        doc.set_style(SMALL, grey=True)
        doc.line(f"Prepared {long_date(report.prepared_on)}", SMALL_LEADING)
    doc.rule(12)

    doc.set_style(BODY, bold=True)
    doc.line(f"{report.total:,} letters", BODY_LEADING)
    doc.set_style(BODY)
    statuses = " · ".join(f"{label}: {count:,}" for label, count in report.by_status)
    doc.paragraphs(statuses or "No letters yet.", BODY_LEADING, max_lines=3)
    if report.first_date is not None and report.last_date is not None:
        doc.line(f"First letter {long_date(report.first_date)}; last letter {long_date(report.last_date)}",
                 BODY_LEADING)
    doc.y += 6
    _tally_grid(doc, "Cities", report.by_city, 3, max_rows=4, noun="cities")
    _tally_grid(doc, "ZIP codes", report.by_zip, 5, max_rows=3, noun="ZIP codes")

    doc.set_style(BODY, bold=True)
    doc.line("In their own words", BODY_LEADING)
    doc.set_style(BODY)
    footer_height = 3 * SMALL_LEADING
    indent = 12.0
    available = BOTTOM - footer_height - doc.y - BODY_LEADING - 4  # the "showing" line and its gap
    chosen: list[list[str]] = []
    misses = 0
    doc.set_style(SMALL + 1)
    for words in report.own_words:
        if available < 2 * SMALL_LEADING + 5 or misses >= QUOTE_TRIES:  # stop measuring the rest
            break
        lines = _quote_lines(doc, words, TEXT_WIDTH - indent)
        height = len(lines) * SMALL_LEADING + 5
        if height > available:
            misses += 1  # a shorter quote further down may still fit
            continue
        chosen.append(lines)
        available -= height
        misses = 0
    doc.set_style(BODY)
    summary = (f"{report.own_words_count:,} of {report.total:,} letters carry the constituent's own words"
               if report.own_words_count else "No letter carries the constituent's own words yet.")
    if report.own_words_count:
        summary += f"; {len(chosen):,} shown here." if len(chosen) < report.own_words_count else (
            "; all shown here.")
    doc.paragraphs(summary, BODY_LEADING, max_lines=1)
    doc.y += 4
    doc.set_style(SMALL + 1)
    for lines in chosen:
        for line in lines:
            doc.draw(MARGIN + indent, line, SMALL_LEADING, TEXT_WIDTH - indent)
            doc.y += SMALL_LEADING
        doc.y += 5
    doc.y = BOTTOM - footer_height
    doc.rule(6)
    doc.set_style(SMALL - 1, grey=True)
    doc.paragraphs(_FOOTER, SMALL_LEADING - 1, max_lines=2)
    if doc.pdf.page != 1:  # every part above is capped in lines; this guards the caps
        raise RuntimeError("the office report ran past one page")
    return doc.output()
