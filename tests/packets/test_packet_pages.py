"""The "Deliver to offices" pages: make, download and mark packets delivered, office reports, bad input."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import func, select

from actiontool import db
from actiontool.models import DELIVERED, QUEUED, AuditEvent, Message, Packet, utcnow
from actiontool.services import purge
from actiontool.timezones import DEFAULT_TIME_ZONE, local_day
from tests.packets.support import CAMPAIGN, MAX, RITA, WANDA, write_letter

BASE = f"/organizer/c/{CAMPAIGN}"
NAMES = [("José", "Núñez"), ("Nguyễn", "Thị Minh"), ("李", "小龍"), ("Zoë", "O'Connor")]


def local_today() -> date:
    """Return today in the campaign's time zone (the site's default): the day the delivery form takes."""
    return local_day(utcnow(), DEFAULT_TIME_ZONE)


def _write(app: Flask) -> None:
    with db.session_scope(app) as session:
        for i, (first, last) in enumerate(NAMES):
            write_letter(session, f"p{i}@example.org", (RITA, WANDA), first=first, last=last,
                         words=f"Words number {i}.")
        write_letter(session, "m@example.org", (MAX,))


def _state(app: Flask) -> tuple[Any, ...]:
    """Return everything a refused request must leave as it was."""
    with db.session_scope(app) as session:
        return (sorted(session.execute(select(Message.id, Message.status, Message.packet_id)).all()),
                sorted(session.execute(select(Packet.id, Packet.delivered_on, Packet.delivered_how)).all()))


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _packet_id(app: Flask, bioguide: str) -> int:
    with db.session_scope(app) as session:
        return int(session.execute(select(Packet.id).where(Packet.bioguide == bioguide)).scalar_one())


def test_pages_need_a_signed_in_organizer(app: Flask, client: Any) -> None:
    assert client.get(f"{BASE}/offices").status_code == 302
    assert client.post(f"{BASE}/offices/R000001/packet").status_code == 401
    assert client.get(f"{BASE}/packets/1.pdf").status_code == 302


def test_the_page_lists_waiting_letters_per_member_and_flags_a_member_who_left(app: Flask,
                                                                            signed_in: Any) -> None:
    _write(app)
    page = signed_in.get(f"{BASE}/offices").get_data(as_text=True)
    assert "Rita One" in page and "Wanda Senior" in page and "Oneville (4)" in page and "53001 (4)" in page
    assert "Left office" in page  # Max Appointed's term ended
    assert "Deliver to offices" in signed_in.get(f"{BASE}").get_data(as_text=True)


def test_make_download_and_mark_delivered(app: Flask, signed_in: Any) -> None:
    _write(app)
    response = signed_in.post(f"{BASE}/offices/R000001/packet")
    assert response.status_code == 302
    page = signed_in.get(f"{BASE}/offices").get_data(as_text=True)
    assert "4 letters to Rita One" in page
    packet_id = _packet_id(app, "R000001")
    pdf = signed_in.get(f"{BASE}/packets/{packet_id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = _text(pdf.data)
    for first, last in NAMES:
        assert f"{first} {last}" in text
    assert all(f"Words number {i}." in text for i in range(4))
    first_csv = signed_in.get(f"{BASE}/packets/{packet_id}.csv").data
    rows = list(csv.DictReader(io.StringIO(first_csv.decode("utf-8-sig"))))
    assert sorted(r["name"] for r in rows) == sorted(f"{f} {last}" for f, last in NAMES)
    today = local_today().isoformat()
    response = signed_in.post(f"{BASE}/packets/{packet_id}/delivered",
                              data={"on": today, "how": "hand_delivered", "note": "Met the staffer"})
    assert response.status_code == 302
    page = signed_in.get(f"{BASE}/offices").get_data(as_text=True)
    assert "marked delivered: 4 letters" in page and "Hand-delivered on" in page
    with db.session_scope(app) as session:
        statuses = dict(session.execute(select(Message.bioguide, Message.status)
                                        .where(Message.status == DELIVERED)).all())
        assert set(statuses) == {"R000001"}
        assert session.execute(select(func.count()).select_from(Message)
                               .where(Message.status == DELIVERED)).scalar_one() == 4
        kinds = set(session.execute(select(AuditEvent.kind)).scalars())
        assert {"packet_made", "packet_delivered", "export"} <= kinds
    signed_in.post(f"{BASE}/offices/S000001/packet")  # so that every letter of the four is final
    signed_in.post(f"{BASE}/packets/{_packet_id(app, 'S000001')}/delivered",
                   data={"on": today, "how": "mailed"})
    with db.session_scope(app) as session:
        later = utcnow() + timedelta(minutes=1)
        # Purge clears every action older than the limit, whatever its letters' statuses (issue 12).
        assert purge.purge_personal_data(session, timedelta(0), now=later).messages == 9
    # The letters' personal data is gone from the messages; the packet downloads exactly as before.
    assert signed_in.get(f"{BASE}/packets/{packet_id}.csv").data == first_csv
    assert "Zoë O'Connor" in _text(signed_in.get(f"{BASE}/packets/{packet_id}.pdf").data)


def test_bad_input_gives_a_clear_message_and_changes_nothing(app: Flask, signed_in: Any) -> None:
    _write(app)
    signed_in.post(f"{BASE}/offices/R000001/packet")
    packet_id = _packet_id(app, "R000001")
    before = _state(app)
    cases = [
        ("post", f"{BASE}/offices/R000002/packet", {}, "is waiting for a packet"),  # nothing waiting
        ("post", f"{BASE}/offices/R000001/packet", {}, "is waiting for a packet"),  # taken already
        ("post", f"{BASE}/packets/{packet_id}/delivered", {"on": "2026-13-01", "how": "mailed"},
         "not marked"),
        ("post", f"{BASE}/packets/{packet_id}/delivered", {"on": local_today().isoformat(), "how": "fax"},
         "not marked"),
        ("post", f"{BASE}/packets/{packet_id}/delivered",
         {"on": (local_today() + timedelta(days=2)).isoformat(), "how": "mailed"}, "future"),
        ("post", f"{BASE}/packets/999/delivered", {"on": local_today().isoformat(), "how": "mailed"},
         "There is no packet 999"),
    ]
    for method, url, data, message in cases:
        response = getattr(signed_in, method)(url, data=data)
        assert response.status_code == 302, url
        assert message in signed_in.get(f"{BASE}/offices").get_data(as_text=True), (url, data)
        assert _state(app) == before, (url, data)
    for url in (f"{BASE}/packets/999.pdf", f"{BASE}/packets/x1.pdf", f"{BASE}/packets/{packet_id}.doc",
                "/organizer/c/no-such-campaign/offices",
                f"{BASE}/offices/X999999/report.pdf", f"{BASE}/offices/not-an-id/report.pdf"):
        assert signed_in.get(url).status_code == 404, url
    assert signed_in.post("/organizer/c/no-such-campaign/offices/R000001/packet").status_code == 404
    assert _state(app) == before


def test_a_second_mark_delivered_from_a_stale_page_changes_nothing(app: Flask, signed_in: Any) -> None:
    _write(app)
    signed_in.post(f"{BASE}/offices/R000001/packet")
    packet_id = _packet_id(app, "R000001")
    today = local_today().isoformat()
    signed_in.post(f"{BASE}/packets/{packet_id}/delivered", data={"on": today, "how": "emailed"})
    before = _state(app)
    signed_in.post(f"{BASE}/packets/{packet_id}/delivered", data={"on": today, "how": "mailed"})
    assert "was marked delivered on" in signed_in.get(f"{BASE}/offices").get_data(as_text=True)
    assert _state(app) == before


def test_making_a_packet_for_a_member_who_left_ends_their_letters(app: Flask, signed_in: Any) -> None:
    _write(app)
    signed_in.post(f"{BASE}/offices/S000004/packet")
    assert "no longer in office" in signed_in.get(f"{BASE}/offices").get_data(as_text=True)
    with db.session_scope(app) as session:
        assert session.execute(select(Message.status, Message.last_error).where(
            Message.bioguide == "S000004")).one() == ("failed", "member left office")
        assert session.execute(select(func.count()).select_from(Packet)).scalar_one() == 0
        assert session.execute(select(func.count()).select_from(Message)
                               .where(Message.status == QUEUED)).scalar_one() == 8


@pytest.mark.parametrize("bioguide", ["R000001", "R000002"])  # with letters, and a member with none
def test_office_report_is_a_pdf_without_contact_details(app: Flask, signed_in: Any, bioguide: str) -> None:
    _write(app)
    response = signed_in.get(f"{BASE}/offices/report?bioguide={bioguide.lower()}")
    assert response.status_code == 302 and response.location.endswith(f"/offices/{bioguide}/report.pdf")
    pdf = signed_in.get(response.location)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.data))
    assert len(reader.pages) == 1
    text = _text(pdf.data)
    if bioguide == "R000001":
        assert "Words number 3." in text and "Oneville" in text and "53001" in text
    assert "1 Main St" not in text and "@example.org" not in text and "608-555-0100" not in text
    assert "Núñez" not in text  # no names either


@pytest.fixture
def csrf_app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """Return the test configuration with CSRF protection on, as in production."""
    return {**app_config, "WTF_CSRF_ENABLED": True}


def test_posts_without_the_csrf_token_are_refused(csrf_app_config: dict[str, Any], tmp_path: Any) -> None:
    from actiontool import create_app
    from actiontool.services import organizers

    app = create_app(csrf_app_config)
    app.instance_path = str(tmp_path / "instance")
    _write(app)
    with db.session_scope(app) as session:
        organizers.create(session, "csrf@example.org", "correct horse battery staple")
    client = app.test_client()
    login = client.get("/organizer/login").get_data(as_text=True)
    token = login.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/organizer/login", data={"email": "csrf@example.org", "csrf_token": token,
                                          "password": "correct horse battery staple"})
    before = _state(app)
    assert client.post(f"{BASE}/offices/R000001/packet").status_code == 400
    assert _state(app) == before
    page = client.get(f"{BASE}/offices").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert client.post(f"{BASE}/offices/R000001/packet", data={"csrf_token": token}).status_code == 302
    assert _state(app) != before
    with app.app_context():
        db.engine().dispose()


@pytest.mark.parametrize(("data", "message"), [
    ({"on": "yesterday", "how": "mailed"}, "Delivered on: Not a valid date value"),
    ({"on": "", "how": "mailed"}, "Delivered on: This field is required"),
    ({"how": "mailed"}, "Delivered on: This field is required"),
    ({"on": "TODAY"}, "How: This field is required"),
    ({"on": "YESTERDAY", "how": "mailed"}, "it cannot have been delivered before"),
    ({"on": "TODAY", "how": "mailed", "note": "a\x00b"}, "control character"),
    ({"on": "TODAY", "how": "mailed", "note": "bell\x07"}, "control character"),
    ({"on": "TODAY", "how": "mailed", "note": "x" * 5000}, "at most 2,000 characters"),
])
def test_a_bad_delivery_form_says_what_is_wrong_and_changes_nothing(
        app: Flask, signed_in: Any, data: dict[str, str], message: str) -> None:
    _write(app)
    signed_in.post(f"{BASE}/offices/R000001/packet")
    packet_id = _packet_id(app, "R000001")
    days = {"TODAY": local_today(), "YESTERDAY": local_today() - timedelta(days=1)}
    data = {k: days[v].isoformat() if v in days else v for k, v in data.items()}
    before = _state(app)
    response = signed_in.post(f"{BASE}/packets/{packet_id}/delivered", data=data)
    assert response.status_code == 302
    page = signed_in.get(f"{BASE}/offices").get_data(as_text=True)
    assert f"Packet {packet_id} was not marked delivered." in page and message in page
    assert _state(app) == before


def test_a_note_with_windows_line_ends_is_kept_with_plain_ones(app: Flask, signed_in: Any) -> None:
    _write(app)
    signed_in.post(f"{BASE}/offices/R000001/packet")
    packet_id = _packet_id(app, "R000001")
    signed_in.post(f"{BASE}/packets/{packet_id}/delivered",
                   data={"on": local_today().isoformat(), "how": "emailed",
                         "note": " To: aide\r\nRe: HR 1 "})
    with db.session_scope(app) as session:
        assert session.execute(select(Packet.delivered_note)).scalar_one() == "To: aide\nRe: HR 1"


@pytest.mark.parametrize("number", ["0", "2147483648", "999999999999", "-1"])
def test_a_packet_number_beyond_any_id_is_not_found(app: Flask, signed_in: Any, number: str) -> None:
    _write(app)
    before = _state(app)
    assert signed_in.get(f"{BASE}/packets/{number}.pdf").status_code == 404
    response = signed_in.post(f"{BASE}/packets/{number}/delivered",
                              data={"on": local_today().isoformat(), "how": "mailed"})
    assert response.status_code == 404
    assert _state(app) == before


def test_the_office_report_links_members_whose_letters_are_all_in_packets(app: Flask, signed_in: Any) -> None:
    _write(app)
    signed_in.post(f"{BASE}/offices/R000001/packet")  # Rita's letters all leave waiting
    page = signed_in.get(f"{BASE}/offices").get_data(as_text=True)
    assert f'href="{BASE}/offices/R000001/report.pdf">Rita One</a>' in page
    assert f'href="{BASE}/offices/S000001/report.pdf">Wanda Senior</a>' in page


@pytest.mark.parametrize("organization", [None, "Parents Against Fentanyl"])
def test_the_page_warns_when_packet_covers_would_name_only_the_site(app: Flask, signed_in: Any,
                                                                      organization: str | None) -> None:
    app.config["ORGANIZATION"] = organization
    page = signed_in.get(f"{BASE}/offices").get_data(as_text=True)
    assert ('id="organization-unset"' in page) is (organization is None)


@pytest.mark.parametrize("fmt", ["pdf", "csv"])
def test_a_packet_or_report_download_another_site_starts_is_refused_and_not_audited(
        app: Flask, signed_in: Any, fmt: str) -> None:
    _write(app)
    assert signed_in.post(f"{BASE}/offices/R000001/packet").status_code == 302
    packet_id = _packet_id(app, "R000001")

    def exports() -> int:
        with db.session_scope(app) as session:
            return int(session.execute(select(func.count()).select_from(AuditEvent)
                                       .where(AuditEvent.kind == "export")).scalar_one())

    for url in (f"{BASE}/packets/{packet_id}.{fmt}", f"{BASE}/offices/R000001/report.pdf"):
        response = signed_in.get(url, headers={"Sec-Fetch-Site": "cross-site"})
        assert response.status_code == 403 and "opened from another site" in response.get_data(as_text=True)
        assert exports() == 0
    response = signed_in.get(f"{BASE}/packets/{packet_id}.{fmt}", headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 200 and exports() == 1
