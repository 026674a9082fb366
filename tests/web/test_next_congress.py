"""The whole path across a Congress transition: letters written under the 119th Congress's data, the 120th's
data built (WI redrawn with a late crosswalk, members retired, replaced and gone), letters written under it,
and every organizer count by member and by seat still names the members who left, by the names stored with
their letters."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from actiontool import create_app, db
from actiontool.cli import main
from actiontool.models import Action, Message
from tests.conftest import PASSWORD
from tests.districts.next_congress import build_next_data
from tests.web.flow_helpers import SLUG, compose, page, send, text_of


@pytest.fixture(scope="session")
def next_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_next_data(tmp_path_factory.mktemp("next-web"))


@pytest.fixture
def apps(app: Flask, app_config: dict[str, Any], next_data_dir: Path, tmp_path: Path) -> tuple[Flask, Flask]:
    """Return the app on the 119th's data and one on the 120th's, sharing one database (the day's deploy)."""
    new = create_app({**app_config, "DATA_DIR": str(next_data_dir)})
    new.instance_path = str(tmp_path / "instance-new")
    return app, new


def _write_before_and_after(old: FlaskClient, new: FlaskClient) -> None:
    assert send(old, "53002", query="&district=WI-2", email="before1@example.org").status_code == 303
    assert send(old, "56001", query="&district=MN-1", email="before2@example.org").status_code == 303
    assert send(new, "53002", email="after1@example.org").status_code == 303  # WI-2 only on the new map
    # MN-1 is vacant now: the letters go to MN's senators only.
    assert send(new, "56001", query="&district=MN-1", email="after2@example.org").status_code == 303


def _signed_in(app: Flask) -> FlaskClient:
    from actiontool.services import organizers

    with db.session_scope(app) as s:
        organizers.create(s, "org@example.org", PASSWORD)
    client = app.test_client()
    response = client.post("/organizer/login", data={"email": "org@example.org", "password": PASSWORD})
    assert response.status_code == 302
    return client


def _table(response: Any) -> dict[str, list[str]]:
    """Return the dashboard's table as {first cell: the row's cells}."""
    doc = page(response)
    table = doc.get_element_by_id("table") if doc.xpath('//*[@id="table"]') else doc.xpath("//table")[-1]
    found = {}
    for tr in table.xpath(".//tbody/tr"):
        cells = [" ".join(c.text_content().split()) for c in tr.xpath("./th|./td")]
        found[cells[0]] = cells
    return found


def test_the_new_congress_answers_the_lookup_with_its_members(apps: tuple[Flask, Flask]) -> None:
    old, new = (a.test_client() for a in apps)
    assert "Ron Two" in text_of(old.get(f"/c/{SLUG}/members?zip=53002&district=WI-2"))
    after = new.get("/api/v1/lookup?zip=53002").get_json()
    assert (after["status"], after["basis"], after["data"]["congress"]) == ("approximate", "coordinates", 120)
    assert [d["member"]["name"] for d in after["districts"]] == ["Nia New"]
    doc, fields = compose(new, "53002")
    assert "Nia New" in doc.text_content() and "Ron Two" not in doc.text_content()
    senators = new.get("/api/v1/lookup?zip=56001").get_json()["senators"]
    names = [s["name"] for s in senators]
    assert "Sam Successor" in names and "Max Appointed" not in names


def test_letters_follow_the_data_of_their_day(apps: tuple[Flask, Flask]) -> None:
    old, new = apps
    _write_before_and_after(old.test_client(), new.test_client())
    with new.app_context():
        found = db.get_session().execute(select(Message, Action.email).join(Action)).all()
        messages = [(m.member_name, m.member_title, m.state, m.district, email, m.suggested_text)
                    for m, email in found]
    written = {m[:4] for m in messages}
    # Before the switch: the 119th's members of WI-2 and MN-1, and the appointed senator.
    assert {("Ron Two", "Representative", "WI", 2), ("Mona Lake", "Representative", "MN", 1),
            ("Max Appointed", "Senator", "MN", None)} <= written
    # After it: the new member of WI-2 (no district to choose on the new map) and the new senator; no one
    # writes to the vacant MN-1 or to members who left.
    assert {("Nia New", "Representative", "WI", 2), ("Sam Successor", "Senator", "MN", None)} <= written
    after = [m for m in messages if m[4].startswith("after")]
    assert len(after) == 3 + 2  # WI-2 and WI's senators; MN's senators (MN-1 is vacant)
    assert {m[0] for m in after}.isdisjoint({"Ron Two", "Mona Lake", "Max Appointed"})
    assert all(m[5] for m in after)


def test_organizer_counts_by_member_name_the_members_who_left(apps: tuple[Flask, Flask]) -> None:
    old, new = apps
    _write_before_and_after(old.test_client(), new.test_client())
    organizer = _signed_in(new)

    by_member = _table(organizer.get(f"/organizer/c/{SLUG}?table=member"))
    for name, seat in [("Ron Two", "WI-2"), ("Mona Lake", "MN-1"), ("Max Appointed", "MN"),
                       ("Nia New", "WI-2"), ("Sam Successor", "MN")]:
        # Columns: member, seat, party, actions, messages; a member the data no longer has keeps its seat.
        assert by_member[name][1] == seat, (name, by_member.get(name))

    by_seat = _table(organizer.get(f"/organizer/c/{SLUG}?table=district"))
    # Columns: member, party, actions, messages.
    assert by_seat["WI-2"][1] == "Nia New, Ron Two" and by_seat["WI-2"][4] == "2"
    assert by_seat["MN-1"][1] == "Mona Lake"  # vacant now: still named by the letters' member

    # The seat squares (the shaped map takes its titles from them): a square says its seat's number
    # within its state's list, and its title names every member the seat's letters went to.
    dashboard = page(organizer.get(f"/organizer/c/{SLUG}"))
    titles = {(ul.get("data-state"), li.text_content()): li.get("title")
              for ul in dashboard.xpath('//*[@id="seat-tiles"]//ul') for li in ul.xpath("./li")}
    assert titles[("WI", "2")] == "Nia New, Ron Two — 2 messages"
    assert titles[("MN", "1")] == "Mona Lake — 1 messages"

    exported = organizer.get(f"/organizer/c/{SLUG}/export.csv?by=member")
    table = {r["bioguide"]: r for r in csv.DictReader(io.StringIO(exported.get_data(as_text=True)))}
    assert (table["R000002"]["member"], table["R000002"]["seat"]) == ("Ron Two", "WI-2")
    assert (table["S000004"]["member"], table["S000004"]["seat"]) == ("Max Appointed", "MN")
    seats = organizer.get(f"/organizer/c/{SLUG}/export.csv?by=district").get_data(as_text=True)
    by_seat_csv = {r["district"]: r for r in csv.DictReader(io.StringIO(seats))}
    assert (by_seat_csv["WI-2"]["member_name"], by_seat_csv["WI-2"]["messages"]) == ("Nia New, Ron Two", "2")

    report = organizer.get(f"/organizer/c/{SLUG}/offices/R000002/report.pdf")
    assert report.status_code == 200 and report.mimetype == "application/pdf"
    assert organizer.get(f"/organizer/c/{SLUG}/offices").status_code == 200


def test_the_stats_command_names_the_members_who_left(apps: tuple[Flask, Flask],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = apps
    _write_before_and_after(old.test_client(), new.test_client())
    monkeypatch.setenv("ACTIONTOOL_DATABASE_URL", new.config["DATABASE_URL"])
    monkeypatch.setenv("ACTIONTOOL_DATA_DIR", new.config["DATA_DIR"])
    result = CliRunner().invoke(main, ["stats", SLUG, "--by", "member", "--csv"])
    assert result.exit_code == 0, result.output
    table = {r["bioguide"]: r for r in csv.DictReader(io.StringIO(result.stdout))}
    assert (table["R000003"]["member"], table["R000003"]["seat"]) == ("Mona Lake", "MN-1")
    assert table["N000001"]["member"] == "Nia New"


def test_a_receipt_from_before_the_switch_still_names_its_members(apps: tuple[Flask, Flask]) -> None:
    old, new = apps
    receipt = send(old.test_client(), "53002", query="&district=WI-2", email="before1@example.org")
    text = text_of(new.test_client().get(receipt.headers["Location"]))
    assert "Ron Two" in text


@pytest.mark.parametrize(("lang", "sentence"), [
    ("en", "Members of the 120th Congress as of January 3, 2027."),
    ("es", "Miembros del 120.º Congreso a fecha de 3 de enero de 2027."),
])
def test_the_members_page_names_the_data_s_congress_in_the_page_s_language(
        apps: tuple[Flask, Flask], lang: str, sentence: str) -> None:
    _old, new = apps
    assert sentence in text_of(new.test_client().get(f"/c/{SLUG}/members?zip=53002&lang={lang}"))


@pytest.mark.parametrize(("lang", "sentence"), [
    ("en", "WI drew new congressional districts for the 120th Congress, and ZIP code 53002 is placed in"),
    ("es", "WI trazó nuevos distritos del Congreso para el 120.º Congreso, y el código postal 53002 se"),
])
def test_a_redrawn_state_s_zip_says_why_it_is_approximate(apps: tuple[Flask, Flask], lang: str,
                                                          sentence: str) -> None:
    _old, new = apps
    client = new.test_client()
    text = text_of(client.get(f"/c/{SLUG}/members?zip=53002&lang={lang}"))
    assert sentence in text and "PO" not in text.split(sentence)[0][-200:]
    # A PO-box ZIP of an at-large state elsewhere is certain: neither reason, no "approximate" at all.
    at_large = text_of(client.get(f"/c/{SLUG}/members?zip=99599&lang=en"))
    assert "drew new congressional districts" not in at_large and "approximate" not in at_large
