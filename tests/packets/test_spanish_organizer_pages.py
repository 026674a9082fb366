"""Every organizer page in Spanish, with data on it (failed letters, hand-off letters waiting, packets made
and delivered, audit rows, flash messages): no English interface text is left, and numbers are written
the Spanish way.

Two checks, so that neither a string wrapped for translation but left untranslated nor one never wrapped
at all slips through:
- the English msgids of the organizer templates and views (extracted from the sources as pybabel does) do
  not appear in the Spanish page's visible text or its labels;
- no text the English page shows appears unchanged on the Spanish page, except the data itself (names,
  the campaign's title, codes, numbers, dates) and what a channel or the audit log wrote in English, which
  the page marks lang="en".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from babel.messages.extract import extract_from_file
from babel.numbers import format_decimal
from flask import Flask
from flask.testing import FlaskClient

from actiontool import db
from actiontool.models import FAILED, LEFT_OFFICE, Message
from actiontool.services.outbox import set_status
from tests.packets.support import CAMPAIGN, MAX, RITA, RON, WANDA, write_letter

ROOT = Path(__file__).resolve().parents[2]
BASE = f"/organizer/c/{CAMPAIGN}"
TABLES = ("state", "district", "member", "source", "day", "channel", "status")
# What a page may show in both languages: the data and the codes the pages name things by.
DATA = {"Packet campaign", CAMPAIGN, "org@example.org", "Rita One", "Ron Two", "Wanda Senior",
        "Max Appointed",
        "Oneville", "Twoville", "actiontool", "PDF", "CSV", "CWC", "UTC", "Met the staffer",
        "cli", "system"}  # the last two: the audit log's actors besides organizers
_PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%%")
_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")


def organizer_plurals() -> dict[str, tuple[str, str]]:
    """Return each plural msgid's (singular, plural), under both."""
    pairs = [m for m in _extracted() if not isinstance(m, str)]
    return {text: (m[0], m[1]) for m in pairs for text in m[:2]}


def organizer_msgids() -> set[str]:
    """Return the English msgids of the organizer templates and views (singular and plural)."""
    found: set[str] = set()
    for message in _extracted():
        found.update([message] if isinstance(message, str) else [m for m in message[:2] if m])
    return found


def _extracted() -> list[Any]:
    """Return the messages pybabel extracts from the organizer templates and views."""
    web = ROOT / "actiontool" / "web"
    sources = [*(ROOT / "templates" / "organizer").glob("*.html"), *(web / "organizer").glob("*.py"),
               web / "packets.py"]
    found: list[Any] = []
    for path in sources:
        method = "jinja2" if path.suffix == ".html" else "python"
        options = {"extensions": "jinja2.ext.i18n"} if method == "jinja2" else {}
        for _line, message, _comments, _context in extract_from_file(
                method, str(path), keywords={"_": None, "gettext": None, "ngettext": (1, 2), "_l": None,
                                             "lazy_gettext": None}, options=options):
            found.append(message)
    return found


def english_fragments(msgids: set[str], translate: Any) -> tuple[set[str], set[str]]:
    """Return (whole short msgids, long fragments) whose Spanish differs: a one- or two-word msgid is looked
    for as a whole text, a longer piece (between placeholders) anywhere in the text."""
    short, long = set(), set()
    for msgid in msgids:
        if translate(msgid) == msgid:
            continue  # the same in both languages (CWC, "%(when)s UTC")
        for piece in _PLACEHOLDER.split(msgid):
            piece = piece.strip(" .,:;()“”")
            words = re.findall(r"[A-Za-z][A-Za-z'’-]+", piece)
            if len(words) >= 3:
                long.add(" ".join(piece.split()))
            elif words and piece == msgid.strip(" .,:;()“”"):
                short.add(piece)
    return short, long


def _marked_english(element: Any) -> bool:
    """Return True when the element or one inside the page's <html> around it says lang="en"."""
    return any(e.get("lang") == "en" for e in (element, *element.iterancestors()) if e.tag != "html")


def _visible(doc: Any) -> Iterator[tuple[str, str]]:
    """Yield ("text" | attribute name, value) for what a reader sees or hears, leaving out what is marked
    English (a channel's reply, an audit record), code, scripts and form values."""
    hidden = ("script", "style", "code", "textarea")
    for element in doc.iter():
        if not isinstance(element.tag, str):
            continue
        parent = element.getparent()
        if element.tail and element.tail.strip() and parent is not None and parent.tag not in hidden \
                and not _marked_english(parent):
            yield "text", " ".join(element.tail.split())
        if element.tag in hidden or _marked_english(element):
            continue
        for attribute in _ATTRIBUTES:
            if element.get(attribute):
                yield attribute, " ".join(element.get(attribute).split())
        if element.text and element.text.strip():
            yield "text", " ".join(element.text.split())


def texts(html: str) -> list[str]:
    """Return the page's visible texts and labels, whitespace collapsed."""
    return [value for _kind, value in _visible(lxml.html.fromstring(html))]


def _is_data(text: str) -> bool:
    """Return True for a text that is data, not interface: a name, a code, a number, a date, a slug."""
    rest = text
    for item in sorted(DATA, key=len, reverse=True):
        rest = rest.replace(item, " ")
    rest = re.sub(r"\b[A-Z]{2}-(\d+|AL)\b|\b[A-Z]\d{6}\b|\b\d[\d.,:\- %]*\b", " ", rest)
    return not re.search(r"[A-Za-z]{3,}", rest) or bool(re.fullmatch(r"[\s\w.@+-]*@[\w.-]+\s*", rest))


@pytest.fixture
def filled(app: Flask, signed_in: FlaskClient) -> FlaskClient:
    """Write packet letters (a packet made and delivered, one waiting), failed e-mail letters (left
    office, a server's refusal), hand-off letters waiting, and audit rows of several kinds."""
    with db.session_scope(app) as session:
        for i in range(3):
            write_letter(session, f"p{i}@example.org", (RITA, WANDA))
        write_letter(session, "r@example.org", (RON,), city="Twoville", zip_code="53002")
        write_letter(session, "m@example.org", (MAX,))
        for i in range(2):
            write_letter(session, f"h{i}@example.org", (RITA,), channel="handoff")
        for i, reason in enumerate([LEFT_OFFICE, "gave up after 3 attempts: 550 mailbox unavailable"]):
            write_letter(session, f"f{i}@example.org", (RON,), channel="smtp")
            message = session.query(Message).filter(Message.channel == "smtp",
                                                    Message.status != FAILED).one()
            set_status(session, message, FAILED, last_error=reason, next_attempt_at=None)
            session.commit()
    client = signed_in
    client.get(f"{BASE}?lang=es")  # the cookie: flash messages are written in Spanish from here on
    assert client.post(f"{BASE}/offices/R000001/packet").status_code == 302
    assert client.post(f"{BASE}/offices/S000001/packet").status_code == 302
    today = client.get(f"{BASE}/offices").get_data(as_text=True)
    day = re.search(r'name="on" type="date" value="([0-9-]+)"', today)
    assert day is not None
    with db.session_scope(app) as session:
        first = min(session.query(Message.packet_id).filter(Message.packet_id.is_not(None)).all())[0]
    assert client.post(f"{BASE}/packets/{first}/delivered",
                       data={"on": day.group(1), "how": "hand_delivered", "note": "Met the staffer"}
                       ).status_code == 302
    client.get(f"{BASE}/actions.csv")
    return client


PAGES = ["/organizer/", f"{BASE}", *(f"{BASE}?table={t}" for t in TABLES), f"{BASE}?state=WI",
         f"{BASE}?district=OH3", f"{BASE}/delivery", f"{BASE}/delivery?reason=office", f"{BASE}/offices",
         "/organizer/audit"]


def test_every_organizer_page_is_spanish(app: Flask, filled: FlaskClient) -> None:
    translate = _translator(app)
    msgids = organizer_msgids()
    short, long = english_fragments(msgids, translate)
    same = {m for m in msgids if translate(m) == m}  # "Total", "CWC": one word in both languages
    assert len(long) > 50 and len(short) > 30  # the extraction found the pages' strings
    leftovers: dict[str, list[str]] = {}
    for path in PAGES:
        sep = "&" if "?" in path else "?"
        spanish = filled.get(f"{path}{sep}lang=es")
        assert spanish.status_code in (200, 400), path
        html = spanish.get_data(as_text=True)
        assert '<html lang="es">' in html, path
        shown = texts(html)
        english = texts(filled.get(f"{path}{sep}lang=en").get_data(as_text=True))
        assert len(shown) > 20 and len(english) > 20, path  # the pages were read, not skipped
        whole = " ".join(shown)
        found = [s for s in shown if s.strip(" .,:;()") in short]
        found += [piece for piece in long if piece in whole]
        found += sorted({t for t in set(english) & set(shown) if not _is_data(t) and t not in same})
        if found:
            leftovers[path] = found
    assert not leftovers, "\n".join(f"{path}: {found}" for path, found in leftovers.items())


def test_flash_messages_and_the_sign_in_page_are_spanish(app: Flask, filled: FlaskClient) -> None:
    with db.session_scope(app) as session:
        failed = session.query(Message.id).filter(Message.status == FAILED).first()[0]
    filled.post(f"{BASE}/messages/{failed}/retry")
    page = filled.get(f"{BASE}/delivery").get_data(as_text=True)
    assert "El mensaje vuelve a estar en cola" in page or "vuelve a estar en cola" in page
    filled.post(f"{BASE}/packets/999/delivered", data={"on": "2020-01-01", "how": "mailed"})
    offices = filled.get(f"{BASE}/offices").get_data(as_text=True)
    assert "No hay ningún paquete 999 en esta campaña." in offices
    filled.post("/organizer/logout")
    signin = filled.get("/organizer/login?lang=es").get_data(as_text=True)
    assert "Iniciar sesión" in signin and not [t for t in texts(signin) if t in ("Sign in", "Password")]
    wrong = filled.post("/organizer/login", data={"email": "org@example.org", "password": "wrong password!!"})
    assert "correo electrónico o contraseña incorrectos" in wrong.get_data(as_text=True)


def test_numbers_and_percentages_follow_the_language(app: Flask, filled: FlaskClient) -> None:
    spanish = " ".join(texts(filled.get(f"{BASE}?table=member&lang=es").get_data(as_text=True)))
    english = " ".join(texts(filled.get(f"{BASE}?table=member&lang=en").get_data(as_text=True)))
    # Shares with one decimal: "37.5%" in English, "37,5 %" in Spanish (Babel's CLDR patterns).
    shares = re.findall(r"\b\d+\.\d%", english)
    assert shares, english
    for share in shares:
        assert share.replace(".", ",").replace("%", " %") in spanish  # a no-break space, collapsed
    # Grouping as Babel writes it for each language, never the other's.
    assert format_decimal(12345, locale="es") == "12.345"
    assert "100 %" in spanish, re.findall(r"Total.{20}", spanish)
    assert "100%" in english, re.findall(r"Total.{20}", english)


def _translator(app: Flask) -> Any:
    """Return msgid -> its Spanish text (plural msgids through ngettext, as the pages use them)."""
    from flask_babel import get_translations

    plurals = organizer_plurals()

    def translate(msgid: str) -> str:
        with app.test_request_context("/?lang=es"):
            catalog = get_translations()
            if msgid in plurals:  # singular: n = 1; plural: n = 2
                singular, plural = plurals[msgid]
                return str(catalog.ungettext(singular, plural, 1 if msgid == singular else 2))
            return str(catalog.ugettext(msgid))

    return translate
