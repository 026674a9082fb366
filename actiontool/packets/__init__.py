"""Office packets: the letters of one member's constituents as a printable PDF and a CSV, and a one-page
office report for a lobby meeting.

Pure: no Flask, no database. The packet service builds the frozen values in `model` and calls the
renderers here; fonts ship in `fonts/` so names in any script print on any machine.
"""

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
from actiontool.packets.pdf import render_office_report_pdf, render_packet_pdf

__all__ = [
    "EmptyPacket", "OfficeReport", "PacketCover", "PacketLetter", "Tally", "make_cover",
    "redact_contact_details", "render_office_report_pdf", "render_packet_csv", "render_packet_pdf",
    "tally_cities", "tally_zips",
]
