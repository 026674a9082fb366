"""Write a packet's letters as CSV, the same content as its PDF, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from actiontool.csvexport import neutralise
from actiontool.packets.model import PacketLetter

HEADER = ("name", "street", "city", "state", "zip", "sent_at", "edited", "letter")


def render_packet_csv(letters: Sequence[PacketLetter]) -> bytes:
    """Return the letters as UTF-8 CSV with a byte-order mark, every cell neutralised against formulas.

    The mark makes Excel read the file as UTF-8, so "José Núñez" and "李小龍" do not turn into
    mojibake; other spreadsheets and csv readers (with encoding "utf-8-sig") ignore it.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for letter in letters:
        writer.writerow([neutralise(cell) for cell in (
            letter.name, letter.street, letter.city, letter.state, letter.zip,
            letter.sent_at.isoformat(), "yes" if letter.edited else "no", letter.text)])
    return buffer.getvalue().encode("utf-8-sig")
