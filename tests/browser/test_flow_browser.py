"""The whole constituent flow in a real browser: phone and desktop, JavaScript off, Spanish, an ambiguous
ZIP with "Use my location", and axe-core on every page (no serious or critical violation)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from actiontool import db
from actiontool.models import HANDED_OFF, Action, Message

SLUG = "detect-and-defeat"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}


def assert_accessible(page: Any) -> None:
    """Run axe-core on the page; fail on any serious or critical violation."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not bad, f"{page.url}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}" for v in bad)


def assert_fits(page: Any, width: int) -> None:
    """Fail when the page scrolls sideways at this width."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def fill_details(page: Any, *, email: str = "ana@example.com") -> None:
    page.fill("#first_name", "Ana")
    page.fill("#last_name", "Díaz")
    page.fill("#email", email)
    if page.locator("#address1").count():  # asked only where a channel carries it
        page.fill("#address1", "1 Main St")
    page.fill("#city", "Madison")


def messages(app: Flask) -> list[Message]:
    with app.app_context():
        return list(db.get_session().execute(select(Message).order_by(Message.bioguide)).scalars())


def actions(app: Flask) -> list[Action]:
    with app.app_context():
        return list(db.get_session().execute(select(Action)).scalars())


# The receipt e-mail is offered only when this server can send e-mail; no worker runs here: nothing is sent.
EMAIL_ON = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": 2525, "SMTP_TLS": "none",
            "MAIL_FROM": "letters@example.org"}


@pytest.mark.parametrize("live_config", [EMAIL_ON])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_zip_to_receipt(server: Any, live_app: Flask, new_page: Any, viewport: dict[str, int]) -> None:
    page = new_page(viewport=viewport)
    page.goto(f"{server.url}/?ref=browser_1")
    assert page.url.endswith(f"/c/{SLUG}?ref=browser_1")
    assert_accessible(page)
    assert_fits(page, viewport["width"])

    page.get_by_label("Your ZIP code").fill("53001")
    page.get_by_role("button", name="Find my members").click()
    page.wait_for_url(re.compile(r"/members\?"))
    assert page.get_by_role("heading", name="Representative Rita One").is_visible()
    assert_accessible(page)
    assert_fits(page, viewport["width"])

    fill_details(page)
    page.get_by_label("E-mail me my receipt").check()
    page.get_by_role("button", name="Write my letters").click()
    page.wait_for_url(re.compile(r"/r/[A-Za-z0-9_-]{40,}"))
    assert page.get_by_role("heading", name="Thank you, Ana").is_visible()
    assert page.get_by_text("Waiting for you to send it").count() == 3
    assert page.get_by_role("button", name="Copy the letter").first.is_visible()  # JavaScript shows it
    assert_accessible(page)
    assert_fits(page, viewport["width"])

    page.get_by_role("button", name="I sent it").first.click()
    page.wait_for_load_state()
    assert page.get_by_text("We recorded that you sent it.").is_visible()
    saved = actions(live_app)
    assert len(saved) == 1 and saved[0].ref == "browser_1" and saved[0].wants_receipt_email
    assert [m.status for m in messages(live_app)].count(HANDED_OFF) == 1


def test_errors_are_summarised_linked_and_focused(server: Any, live_app: Flask, new_page: Any) -> None:
    page = new_page(viewport=PHONE)
    page.goto(f"{server.url}/c/{SLUG}/members?zip=53001")
    page.fill("#email", "not-an-address")
    page.get_by_role("button", name="Write my letters").click()
    page.wait_for_load_state()
    summary = page.locator("#error-summary")
    assert summary.get_attribute("role") == "alert"
    assert page.evaluate("document.activeElement.id") == "error-summary"  # focus moved there
    assert page.locator("#email").input_value() == "not-an-address"  # the input is kept
    summary.get_by_role("link", name="Enter your first name.").click()
    assert page.evaluate("document.activeElement.id") == "first_name"
    assert_accessible(page)
    assert actions(live_app) == []


def test_bad_zip_message_and_404_page(server: Any, new_page: Any) -> None:
    page = new_page(viewport=PHONE)
    page.goto(f"{server.url}/c/{SLUG}")
    page.get_by_label("Your ZIP code").fill("123")
    page.get_by_role("button", name="Find my members").click()
    page.wait_for_load_state()
    assert page.get_by_text("Enter a five-digit ZIP code, such as 53703.").is_visible()
    assert page.get_by_label("Your ZIP code").input_value() == "123"
    assert_accessible(page)
    page.goto(f"{server.url}/c/no-such-campaign")
    assert page.get_by_role("heading", name="Page not found").is_visible()
    assert_accessible(page)


def test_ambiguous_zip_with_use_my_location(server: Any, live_app: Flask, new_page: Any) -> None:
    page = new_page(viewport=PHONE, geolocation={"latitude": 43.5, "longitude": -88.5},
                    permissions=["geolocation"])
    answer = {"status": "exact", "senators": [],
              "districts": [{"state": "WI", "district": 2, "label": "WI-2", "member": None}]}
    body = json.dumps(answer)
    page.route(re.compile(r".*/api/v1/lookup\?lat=.*"),
               lambda route: route.fulfill(status=200, content_type="application/json", body=body))
    page.goto(f"{server.url}/c/{SLUG}/members?zip=53002")
    assert page.get_by_text("ZIP code 53002 is split between more than one").is_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Use my location").click()
    from playwright.sync_api import expect

    expect(page.locator("#district-WI-2")).to_be_checked()
    assert "We selected district WI-2" in page.locator("#geo-status").inner_text()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"district=WI-2"))
    assert page.get_by_role("heading", name="Representative Ron Two").is_visible()
    fill_details(page)
    page.get_by_role("button", name="Write my letters").click()
    page.wait_for_url(re.compile(r"/r/"))
    assert {m.bioguide for m in messages(live_app)} == {"R000002", "S000001", "S000002"}
    assert [(a.district_label, a.district_basis) for a in actions(live_app)] == [("WI-2", "location")]


def test_whole_flow_with_javascript_off(server: Any, live_app: Flask, new_page: Any) -> None:
    page = new_page(viewport=PHONE, java_script_enabled=False)
    page.goto(f"{server.url}/c/{SLUG}/members?zip=53002")
    assert not page.get_by_role("button", name="Use my location").is_visible()  # needs JavaScript
    page.get_by_label(re.compile("WI-1")).check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"district=WI-1"))
    assert "basis=choice" in page.url  # without JavaScript the district is the person's choice
    fill_details(page)
    page.fill("#personal_message", "My neighbour's son died.")
    page.get_by_role("button", name="Update preview").click()
    page.wait_for_load_state()
    assert "My neighbour's son died." in page.locator("pre.letter").first.text_content()
    page.get_by_role("button", name="Write my letters").click()
    page.wait_for_url(re.compile(r"/r/"))
    assert not page.get_by_role("button", name="Copy the letter").first.is_visible()
    letter = page.locator("textarea[id^=letter-]").first.input_value()  # the copy fallback
    assert letter.startswith("Dear Representative One,\n\nMy neighbour's son died.")
    page.get_by_role("button", name="I sent it").first.click()
    page.wait_for_load_state()
    assert page.get_by_text("We recorded that you sent it.").is_visible()
    assert [m.status for m in messages(live_app)].count(HANDED_OFF) == 1


def test_spanish_flow(server: Any, live_app: Flask, new_page: Any) -> None:
    page = new_page(viewport=PHONE)
    page.goto(f"{server.url}/c/{SLUG}")
    page.get_by_role("link", name="Español").click()
    page.wait_for_url(re.compile(r"lang=es"))
    assert page.locator("html").get_attribute("lang") == "es"
    assert_accessible(page)
    page.get_by_label("Su código postal (ZIP)").fill("53001")
    page.get_by_role("button", name="Buscar a mis representantes").click()
    page.wait_for_url(re.compile(r"/members\?"))
    assert page.locator("html").get_attribute("lang") == "es"
    assert "Estimada representante One:" in page.locator("pre.letter").first.text_content()
    assert_accessible(page)
    fill_details(page)
    page.get_by_role("button", name="Escribir mis cartas").click()
    page.wait_for_url(re.compile(r"/r/"))
    assert page.get_by_role("heading", name="Gracias, Ana").is_visible()
    assert_accessible(page)
    assert actions(live_app)[0].lang == "es"


def test_browser_language_preference_picks_spanish(server: Any, new_page: Any) -> None:
    page = new_page(locale="es-ES")
    page.goto(f"{server.url}/c/{SLUG}")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("heading", name="Encuentre a sus miembros del Congreso").is_visible()


def test_keyboard_focus_is_visible(server: Any, new_page: Any) -> None:
    page = new_page(viewport=PHONE)
    page.goto(f"{server.url}/c/{SLUG}")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.locator(".skip-link").bounding_box()["x"] >= 0  # moved on screen when focused
    page.locator("#zip").focus()
    width = page.evaluate("getComputedStyle(document.activeElement).outlineWidth")
    assert float(width.removesuffix("px")) >= 2


def test_counter_refreshes_from_the_count_api(server: Any, new_page: Any) -> None:
    page = new_page(viewport=PHONE)
    page.clock.install()
    page.route(re.compile(r".*/api/v1/campaigns/[^/]+/count$"),
               lambda route: route.fulfill(status=200, content_type="application/json",
                                           body=json.dumps({"messages": 1234, "goal": 10000})))
    page.goto(f"{server.url}/c/{SLUG}")
    assert page.locator(".counter .count").inner_text() == "0"
    page.clock.run_for(31_000)
    from playwright.sync_api import expect

    expect(page.locator(".counter .count")).to_have_text("1,234")
    assert page.locator(".counter progress").evaluate("bar => bar.value") == 1234
