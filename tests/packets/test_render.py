"""Office packets and office reports: what a printed page says, read back from the PDF with pypdf."""

from __future__ import annotations

import ast
import csv
import dataclasses
import io
import math
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

import actiontool.packets
from actiontool.packets import (
    EmptyPacket,
    OfficeReport,
    PacketLetter,
    make_cover,
    redact_contact_details,
    render_office_report_pdf,
    render_packet_csv,
    render_packet_pdf,
    tally_cities,
    tally_zips,
)
from actiontool.packets.typeset import TEXT_WIDTH, _fonts_dir

UNICODE_NAMES = ["José Núñez", "Nguyễn Thị Minh", "李小龍", "Zoë O'Connor", "김민준", "さくら 山田"]
HEBREW = "שלום עולם"
ARABIC = "مرحبا بالعالم"


def letter(i: int = 0, **changes: Any) -> PacketLetter:
    """Return a letter whose every field carries its number, so each page can be told apart."""
    base = PacketLetter(
        name=f"Constituent{i:04d} Person", street=f"{100 + i} Main St", city="Madison", state="WI",
        zip="53703", sent_at=datetime(2026, 11, 2 + i % 20, 15, 30, tzinfo=UTC),
        text=f"Dear Senator Baldwin,\n\nPlease pass the act. Marker{i:04d}.\n\nSincerely,\nC{i:04d}",
        edited=bool(i % 2))
    return dataclasses.replace(base, **changes)


def cover_for(letters: list[PacketLetter]) -> Any:
    return make_cover(letters, campaign_title="Detect and Defeat", ask="Co-sponsor the Detect and Defeat Act",
                      bill="S. 1234", organization="Friends of Wisconsin",
                      member="Senator Tammy Baldwin (WI)", prepared_on=date(2026, 11, 30))


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def letter_pages(texts: list[str]) -> dict[int, str]:
    """Return the text of each letter (its pages joined) by letter number, from the page headers."""
    letters: dict[int, str] = {}
    for text in texts:
        header = re.search(r"Letter (\d+) of \d+", text)
        if header:
            number = int(header.group(1))
            letters[number] = letters.get(number, "") + text
    return letters


def squash(text: str) -> str:
    """Return the text without any whitespace, so words cut across lines can be found again."""
    return re.sub(r"\s+", "", text)


# Packet PDF -----------------------------------------------------------------------------------------


def test_packet_has_a_cover_then_each_letter_on_its_own_page() -> None:
    letters = [letter(i) for i in range(12)]
    texts = pages_text(render_packet_pdf(cover_for(letters), letters))
    assert len(texts) == 1 + len(letters)
    assert "Letter" not in texts[0].split("Letters from constituents")[0]
    for number, (item, text) in enumerate(zip(letters, texts[1:], strict=True), start=1):
        assert f"Letter {number} of {len(letters)}" in text
        place = f"{item.city}, {item.state} {item.zip}"
        for field in (item.name, item.street, place, f"Marker{number - 1:04d}"):
            assert field in text, (field, text)
        others = [f"Marker{j:04d}" for j in range(len(letters)) if j != number - 1]
        assert not any(other in text for other in others)


def test_a_letter_page_dates_the_letter_as_written_not_sent() -> None:
    letters = [letter(0)]
    page = pages_text(render_packet_pdf(cover_for(letters), letters))[1]
    assert "Written November 2, 2026" in page and "Sent " not in page  # it reaches the office with the packet


def test_cover_shows_the_campaign_the_organization_and_counts_by_city_and_zip() -> None:
    letters = [letter(0), letter(1, city="madison", zip="53703-1234"), letter(2),
               letter(3, city="Middleton", zip="53562"), letter(4, city="Middleton", zip="53562"),
               letter(5, city="Verona", zip="53593")]
    cover = cover_for(letters)
    cover_text = pages_text(render_packet_pdf(cover, letters))[0]
    for expected in ("Detect and Defeat", "Co-sponsor the Detect and Defeat Act", "S. 1234",
                     "Friends of Wisconsin", "Senator Tammy Baldwin (WI)"):
        assert expected in cover_text
    assert re.search(r"Letters\s+6, written November 2, 2026 – November 7, 2026", cover_text)
    for label, count in [("Madison, WI", 3), ("Middleton, WI", 2), ("Verona, WI", 1),
                         ("53703", 3), ("53562", 2), ("53593", 1)]:
        assert re.search(rf"{re.escape(label)}\s+{count}\b", cover_text), (label, cover_text)


def test_cover_counts_flow_onto_more_pages_when_there_are_many_places() -> None:
    letters = [letter(i, city=f"Town{i:03d}", zip=f"{53000 + i}") for i in range(200)]
    texts = pages_text(render_packet_pdf(cover_for(letters), letters))
    cover_pages = [t for t in texts if not re.search(r"Letter \d+ of", t)]
    assert len(cover_pages) > 1 and len(texts) == len(cover_pages) + 200
    cover_text = "".join(cover_pages)
    assert all(f"Town{i:03d}, WI" in cover_text and str(53000 + i) in cover_text for i in range(200))


@pytest.mark.parametrize("name", UNICODE_NAMES)
def test_names_in_any_script_are_printed_as_text(name: str) -> None:
    letters = [letter(0), letter(1, name=name, street=f"{name} Haus 1", text=f"Dear Senator,\n\n{name}")]
    texts = pages_text(render_packet_pdf(cover_for(letters), letters))
    assert texts[2].count(name) >= 3  # the name line, the street line, the letter


def test_every_font_in_a_packet_is_embedded() -> None:
    letters = [letter(i, name=name) for i, name in enumerate(UNICODE_NAMES)]
    reader = PdfReader(io.BytesIO(render_packet_pdf(cover_for(letters), letters)))
    seen = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                assert "/FontFile2" in descriptor, font["/BaseFont"]
                seen.add(str(font["/BaseFont"]).split("+")[-1])
    assert len(seen) == 3, seen


def test_right_to_left_letters_render_without_error() -> None:
    text = f"{ARABIC}\n{HEBREW}, 123.\nMixed: hello {HEBREW} world"
    letters = [letter(0, name=HEBREW, city=ARABIC, text=text)]
    texts = pages_text(render_packet_pdf(cover_for(letters), letters))
    assert len(texts) == 2
    assert set(HEBREW.replace(" ", "")) <= set(texts[1])
    assert "Mixed:" in texts[1] and "world" in texts[1]


def _max_chars_per_line(char: str, size: float = 11.0) -> int:
    """Return how many `char` fit on one line of the letter body, from the font file's own metrics."""
    font = TTFont(_fonts_dir() / "DejaVuSans.ttf")
    advance = font["hmtx"][font.getBestCmap()[ord(char)]][0] / font["head"].unitsPerEm * size
    return math.floor(TEXT_WIDTH / advance)


def test_a_word_longer_than_a_line_is_cut_to_the_page_width() -> None:
    body = "x" * 3000
    letters = [letter(0, text=body)]
    text = "\n".join(pages_text(render_packet_pdf(cover_for(letters), letters))[1:])
    runs = re.findall(r"^x+$", text, re.MULTILINE)
    assert sum(map(len, runs)) == 3000
    assert max(map(len, runs)) <= _max_chars_per_line("x")
    assert max(map(len, runs)) >= _max_chars_per_line("x") - 1  # lines are filled, not cut short


def test_words_after_a_cut_word_keep_their_space() -> None:
    url = "https://example.org/" + "a" * 200
    letters = [letter(0, text=f"See {url} please read it")]
    text = pages_text(render_packet_pdf(cover_for(letters), letters))[1]
    assert re.search(r"a please read it", text), text
    assert squash(text).count(squash(url)) == 1


def test_a_five_thousand_character_letter_continues_over_pages_with_every_word() -> None:
    words = [f"w{i:04d}" for i in range(833)]  # 833 * 6 characters = 4,998
    letters = [letter(0), letter(1, text=" ".join(words)), letter(2)]
    texts = pages_text(render_packet_pdf(cover_for(letters), letters))
    by_letter = letter_pages(texts)
    assert sorted(by_letter) == [1, 2, 3]
    long_pages = [t for t in texts if re.search(r"Letter 2 of 3", t)]
    assert len(long_pages) >= 2 and "(continued)" in long_pages[1]
    found = re.findall(r"w\d{4}", by_letter[2])
    assert found == words


def test_chinese_text_without_spaces_wraps_and_keeps_every_character() -> None:
    body = "请通过这项法案" * 150
    letters = [letter(0, name="李小龍", text=body)]
    text = "".join(pages_text(render_packet_pdf(cover_for(letters), letters))[1:])
    lines = [line for line in text.splitlines() if line and set(line) <= set(body)]
    assert len(lines) > 10
    assert squash("".join(lines)) == body


def test_control_characters_and_emoji_do_not_break_a_packet() -> None:
    letters = [letter(0, text="Tab\there\r\nCR only\rnull\x00byte and a thumbs up 👍 and a zero\u200bwidth")]
    text = pages_text(render_packet_pdf(cover_for(letters), letters))[1]
    assert "Tab    here" in text and "CR only" in text and "nullbyte" in text and "zerowidth" in text


def test_a_packet_without_letters_is_refused() -> None:
    with pytest.raises(EmptyPacket):
        cover_for([])
    cover = cover_for([letter(0)])
    with pytest.raises(EmptyPacket):
        render_packet_pdf(cover, [])


def test_a_cover_that_does_not_count_the_letters_is_refused() -> None:
    cover = cover_for([letter(0), letter(1)])
    with pytest.raises(ValueError, match="counts 2 letters but the packet holds 1"):
        render_packet_pdf(cover, [letter(0)])


# Tallies ----------------------------------------------------------------------------------------------


def test_tally_cities_merges_spellings_and_ranks_by_count() -> None:
    tally = tally_cities([("Madison", "WI"), ("madison ", "wi"), ("Madison", "WI"), ("Verona", "WI"),
                          ("Fitchburg", "WI"), ("", "WI")])
    assert tally == (("Madison, WI", 3), ("(no city), WI", 1), ("Fitchburg, WI", 1), ("Verona, WI", 1))


def test_tally_zips_counts_five_digit_zips() -> None:
    assert tally_zips(["53703", "53703-1234", "537031234", " 53562 ", "abc"]) == (
        ("53703", 3), ("53562", 1), ("abc", 1))


# CSV ------------------------------------------------------------------------------------------------


def test_packet_csv_round_trips_every_letter() -> None:
    letters = [letter(i, name=name, text=f"Line one, \"quoted\"\nLine two {name}")
               for i, name in enumerate(UNICODE_NAMES)]
    rows = list(csv.reader(io.StringIO(render_packet_csv(letters).decode("utf-8-sig"))))
    assert rows[0] == ["name", "street", "city", "state", "zip", "sent_at", "edited", "letter"]
    assert rows[1:] == [
        [item.name, item.street, item.city, item.state, item.zip, item.sent_at.isoformat(),
         "yes" if item.edited else "no", item.text] for item in letters]
    assert datetime.fromisoformat(rows[1][5]) == letters[0].sent_at


def test_packet_csv_neutralises_spreadsheet_formulas() -> None:
    letters = [letter(0, name="=HYPERLINK(\"http://evil\")", street="+1 Main", city="-Madison",
                      text="@SUM(A1)")]
    row = list(csv.reader(io.StringIO(render_packet_csv(letters).decode("utf-8-sig"))))[1]
    assert row[:3] == ["'=HYPERLINK(\"http://evil\")", "'+1 Main", "'-Madison"]
    assert row[7] == "'@SUM(A1)"


# Office report ----------------------------------------------------------------------------------------

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.\w+")
PHONE = re.compile(r"\d{3}\D{0,2}\d{3}\D?\d{4}")


def report(**changes: Any) -> OfficeReport:
    base = OfficeReport(
        member="Senator Tammy Baldwin (WI)", campaign_title="Detect and Defeat",
        by_status=(("Delivered", 120), ("Waiting for delivery", 8), ("Failed", 2)),
        first_date=date(2026, 10, 1), last_date=date(2026, 11, 28),
        by_city=(("Madison, WI", 90), ("Middleton, WI", 30), ("Verona, WI", 10)),
        by_zip=(("53703", 80), ("53562", 30), ("53593", 20)),
        own_words_count=3,
        own_words=("My daughter needs this law.", "Please act now — Quote02.", "Quote03 from Verona."),
        prepared_on=date(2026, 11, 30))
    return dataclasses.replace(base, **changes)


def test_office_report_shows_status_dates_places_and_own_words_on_one_page() -> None:
    texts = pages_text(render_office_report_pdf(report()))
    assert len(texts) == 1
    text = texts[0]
    for expected in ("Senator Tammy Baldwin (WI)", "Detect and Defeat", "130 letters", "Delivered: 120",
                     "Waiting for delivery: 8", "Failed: 2", "October 1, 2026", "November 28, 2026",
                     "My daughter needs this law.", "Quote02", "Quote03"):
        assert expected in text, expected
    for label, count in [("Madison, WI", 90), ("Verona, WI", 10), ("53703", 80), ("53593", 20)]:
        assert re.search(rf"{re.escape(label)}\s+{count}\b", text)
    assert "3 of 130 letters carry the constituent's own words; all shown here." in text


def test_office_report_cuts_words_and_places_to_one_page_and_says_how_many_are_shown() -> None:
    words = tuple(f"Quote{i:03d} " + "because this matters to my family " * (1 + i % 12) for i in range(300))
    cities = tuple((f"Town{i:03d}, WI", 500 - i) for i in range(200))
    zips = tuple((f"{53000 + i}", 300 - i) for i in range(150))
    texts = pages_text(render_office_report_pdf(report(own_words=words, own_words_count=300, by_city=cities,
                                                       by_zip=zips)))
    assert len(texts) == 1
    text = texts[0]
    shown = re.search(r"300 of 130 letters carry the constituent's own words; (\d+) shown here", text)
    assert shown, text
    quotes = set(re.findall(r"Quote(\d{3})", text))
    assert 3 <= len(quotes) == int(shown.group(1)) < 300
    assert "Town000, WI" in text and "Town199, WI" not in text
    hidden = cities[12:]
    assert f"and {len(hidden)} more cities: {sum(c for _, c in hidden):,} letters" in text


def test_office_report_has_no_street_email_or_phone() -> None:
    words = ("Call me at (608) 555-1234 or 608.555.9876, write jo.smith+x@example.org.",
             "I live at 12 Main Street and my cell is +1 608 555 4321.",
             "Reach me: jo@example.com",
             "word " * 82 + "call 608-555-1234 at the cut")  # straddles the point where quotes are cut
    text = pages_text(render_office_report_pdf(report(own_words=words)))[0]
    assert not EMAIL.search(text) and not PHONE.search(text) and "608" not in text
    assert "Main Street" not in text
    assert "[phone]" in text and "[e-mail]" in text and "[address]" in text
    fields = {field.name for field in dataclasses.fields(OfficeReport)}
    assert not fields & {"street", "email", "phone", "address"}


def test_office_report_for_a_member_without_letters() -> None:
    empty = report(by_status=(), first_date=None, last_date=None, by_city=(), by_zip=(), own_words_count=0,
                   own_words=())
    text = pages_text(render_office_report_pdf(empty))[0]
    assert "0 letters" in text and "No letter carries the constituent's own words yet." in text


@pytest.mark.parametrize(("raw", "expected"), [
    ("mail me at a.b+c@mail.example.com please", "mail me at [e-mail] please"),
    ("call 608-555-1234", "call [phone]"),
    ("call (608) 555 1234.", "call [phone]."),
    ("call +1 608 555 1234", "call [phone]"),
    ("I live at 1200 N. Park Street, Madison", "I live at [address], Madison"),
    ("We are 3 kids and 2 dogs", "We are 3 kids and 2 dogs"),
    ("Bill H.R. 1234 passed in 2025", "Bill H.R. 1234 passed in 2025"),
])
def test_redact_contact_details(raw: str, expected: str) -> None:
    assert redact_contact_details(raw) == expected


# Layering -------------------------------------------------------------------------------------------


def test_packets_modules_import_neither_flask_nor_the_database() -> None:
    # `import actiontool` itself loads Flask (the app factory), so the rule is checked on the source:
    # no module-level import of Flask, SQLAlchemy or the layers built on them.
    forbidden = ("flask", "sqlalchemy", "actiontool.web", "actiontool.models", "actiontool.db",
                 "actiontool.services", "actiontool.delivery")
    package = Path(actiontool.packets.__file__).parent
    for source in package.glob("*.py"):
        for node in ast.parse(source.read_text(encoding="utf-8")).body:
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            bad = [n for n in names if n == "flask" or n.startswith(forbidden)]
            assert not bad, (source.name, bad)
