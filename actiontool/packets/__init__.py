"""Office packets: the letters of one member's constituents as a printable PDF and a CSV, and a one-page
office report for a lobby meeting.

Pure: no Flask, no database. The packet service builds the frozen values in `model` and calls the
renderers here; fonts ship in `fonts/` so names in any script print on any machine.
"""

from __future__ import annotations

from collections.abc import Sequence

from actiontool.packets.export import render_packet_csv
from actiontool.packets.model import (
    EmptyPacket,
    OfficeReport,
    PacketCover,
    PacketLetter,
    Tally,
    make_cover,
    redact_contact_details,
    tally_cities,
    tally_zips,
)


# The PDF renderers import fpdf, its font tools and their imaging libraries: tens of megabytes and a few
# hundred milliseconds that every web worker and command would otherwise pay at start for a page only
# organizers open now and then. They are imported on the first packet instead.
def render_packet_pdf(cover: PacketCover, letters: Sequence[PacketLetter]) -> bytes:
    """Return the packet as a PDF (see actiontool.packets.pdf.render_packet_pdf)."""
    from actiontool.packets import pdf

    return pdf.render_packet_pdf(cover, letters)


def render_office_report_pdf(report: OfficeReport) -> bytes:
    """Return the office report as a one-page PDF (see actiontool.packets.pdf.render_office_report_pdf)."""
    from actiontool.packets import pdf

    return pdf.render_office_report_pdf(report)


__all__ = [
    "EmptyPacket", "OfficeReport", "PacketCover", "PacketLetter", "Tally", "make_cover",
    "redact_contact_details", "render_office_report_pdf", "render_packet_csv", "render_packet_pdf",
    "tally_cities", "tally_zips",
]
