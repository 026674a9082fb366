"""Issue 14 in a real browser at 390×844: who runs the site (privacy page on every page), a letter form that
fits a phone, a language switch that keeps what was typed, live placeholders, and axe with no finding at all
(moderate and minor included) on every constituent page and the embed."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_flow_browser import SLUG

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# ACTIONTOOL_SCREENSHOTS=folder keeps a full-page screenshot of each page, to look at.
SHOTS = Path(os.environ["ACTIONTOOL_SCREENSHOTS"]) if os.environ.get("ACTIONTOOL_SCREENSHOTS") else None
SEND = {"en": "Write my letters", "es": "Escribir mis cartas"}
SPANISH = {"en": "Español", "es": "English"}


def assert_no_axe_findings(page: Any) -> None:
    """Run axe-core; fail on any violation whatever its impact."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    assert not found, f"{page.url}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}" for v in found)


def shot(page: Any, name: str) -> None:
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def open_members(new_page: Any, server: Any, lang: str, js: bool, viewport: dict[str, int] = PHONE) -> Any:
    page = new_page(viewport=viewport, java_script_enabled=js)
    page.goto(f"{server.url}/c/{SLUG}/members?zip=53001&lang={lang}")
    return page


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
@pytest.mark.parametrize("lang", ["en", "es"])
def test_send_is_within_two_screens_of_the_first_field(server: Any, new_page: Any, lang: str,
                                                       js: bool) -> None:
    page = open_members(new_page, server, lang, js)
    assert page.locator("details.preview").count() == 3  # a three-member letter
    assert page.locator("details.preview[open]").count() == 0  # previews folded, on demand
    assert page.locator("textarea#suggested_text").count() == 1  # the letter shown once
    first = page.locator("#first_name").bounding_box()
    send = page.get_by_role("button", name=SEND[lang]).bounding_box()
    scroll = page.evaluate("window.scrollY")
    distance = (send["y"] + send["height"]) - first["y"]
    assert 0 < distance <= 2 * PHONE["height"], f"Send is {distance + scroll:.0f} px below the first field"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, f"members-{lang}-{'js' if js else 'nojs'}-phone")


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
@pytest.mark.parametrize("lang", ["en", "es"])
def test_switching_language_keeps_every_field(server: Any, new_page: Any, lang: str, js: bool) -> None:
    page = open_members(new_page, server, lang, js)
    typed = {"#first_name": "Ana", "#last_name": "Díaz", "#email": "ana@example.com", "#city": "Verona",
             "#personal_message": "Mi primo murió. My cousin died."}
    for selector, value in typed.items():
        page.fill(selector, value)
    other = "es" if lang == "en" else "en"
    page.locator("nav.lang-switch").get_by_role("button", name=SPANISH[lang]).click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == other
    assert {s: page.locator(s).input_value().strip() for s in typed} == typed
    assert page.locator("#zip").input_value() == "53001"
    box = page.locator("#suggested_text").input_value()
    assert ("Le escribo desde Verona, WI" if other == "es" else "As your constituent in Verona, WI") in box
    # and the letter's own language switch too, back again
    page.locator("p.letter-languages").get_by_role("button").click()
    page.wait_for_load_state()
    assert {s: page.locator(s).input_value().strip() for s in typed} == typed
    assert page.locator("#letter_lang").input_value() == lang


def test_placeholders_fill_as_the_person_types(server: Any, new_page: Any) -> None:
    page = open_members(new_page, server, "en", True)
    assert "As your constituent in [city], WI" in page.locator("#suggested_text").input_value()
    page.fill("#first_name", "Ana")
    page.fill("#last_name", "Díaz")
    page.locator("#city").press_sequentially("Verona")
    assert "As your constituent in Verona, WI" in page.locator("#suggested_text").input_value()
    preview = page.locator("pre.letter").first.text_content()
    assert "As your constituent in Verona, WI" in preview and preview.endswith("Ana Díaz\nVerona, WI")
    assert "Ana Díaz" in page.locator(".signature-line").inner_text()
    page.fill("#personal_message", "My cousin died.")
    assert page.locator("pre.letter").first.text_content().startswith(
        "Dear Representative One,\n\nMy cousin died.\n\nAs your constituent")
    # An edit of the letter is the person's: typing the city again no longer rewrites it.
    page.fill("#suggested_text", "My own letter from [city].")
    page.fill("#city", "Madison")
    assert page.locator("#suggested_text").input_value() == "My own letter from [city]."
    assert "My own letter from Madison." in page.locator("pre.letter").first.text_content()


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_update_preview_returns_to_the_preview(server: Any, new_page: Any, js: bool) -> None:
    page = open_members(new_page, server, "en", js)
    page.fill("#first_name", "Ana")
    page.fill("#city", "Verona")
    page.get_by_role("button", name="Update preview").click()
    page.wait_for_url(re.compile(r"#update-preview$"))
    assert page.locator("details.preview").first.get_attribute("open") is not None
    assert "As your constituent in Verona, WI" in page.locator("pre.letter").first.inner_text()
    assert page.locator("#first_name").input_value() == "Ana"
    if js:
        assert page.evaluate("document.activeElement.id") == "update-preview"  # focus stays where it was
    top = page.locator("#preview").bounding_box()["y"]
    assert 0 <= top < PHONE["height"]  # scrolled to the preview


def _constituent_pages(server: Any, new_page: Any, js: bool) -> list[tuple[str, Any]]:
    """Visit every kind of constituent page once; return (name, page) for each, left open."""
    pages = []
    for name, path in [("campaign", f"/c/{SLUG}"), ("choose", f"/c/{SLUG}/members?zip=53002"),
                       ("members", f"/c/{SLUG}/members?zip=53001"), ("privacy", "/privacy"),
                       ("not-found", "/c/nope")]:
        page = new_page(viewport=PHONE, java_script_enabled=js)
        page.goto(server.url + path)
        pages.append((name, page))
    pages.append(("receipt", _receipt_page(server, new_page, js)))
    return pages


def _receipt_page(server: Any, new_page: Any, js: bool) -> Any:
    """Write a three-member hand-off letter and return the page showing its receipt."""
    page = new_page(viewport=PHONE, java_script_enabled=js)
    page.goto(f"{server.url}/c/{SLUG}/members?zip=53001")
    for selector, value in {"#first_name": "Ana", "#last_name": "Díaz", "#email": "ana@example.com",
                            "#city": "Madison"}.items():
        page.fill(selector, value)
    page.get_by_role("button", name=SEND["en"]).click()
    page.wait_for_url(re.compile(r"/r/"))
    return page


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_every_page_links_the_privacy_page_has_no_axe_finding_and_no_404(server: Any, new_page: Any,
                                                                          js: bool) -> None:
    failed: list[str] = []

    def watch(page: Any) -> Any:
        page.on("response", lambda r: failed.append(r.url) if r.status >= 400 and "/c/nope" not in r.url
                else None)
        return page

    for name, page in _constituent_pages(server, lambda **o: watch(new_page(**o)), js):
        link = page.locator("footer").get_by_role("link", name="Privacy")
        assert link.get_attribute("href") == "/privacy", name
        if js:  # axe runs as a script in the page
            assert_no_axe_findings(page)
        shot(page, f"{name}-{'js' if js else 'nojs'}-phone")
    assert failed == []  # no favicon 404 (or any other) on page load


def test_privacy_page_says_what_is_stored_for_how_long_and_who_receives_it(server: Any,
                                                                           new_page: Any) -> None:
    page = new_page(viewport=DESKTOP)
    page.goto(f"{server.url}/privacy")
    text = page.locator("main").inner_text()
    assert "deleted 30 days after you write" in text
    assert "Only your own members of Congress" in text
    assert "This site does not sell or share your details" in page.locator("footer").inner_text()
    shot(page, "privacy-desktop")


@pytest.mark.parametrize("query", ["", "?lang=es"])
def test_embed_has_no_axe_finding(server: Any, new_page: Any, query: str) -> None:
    page = new_page(viewport={"width": 320, "height": 200})
    page.goto(f"{server.url}/embed/{SLUG}{query}")
    assert_no_axe_findings(page)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_desktop_members_step(server: Any, new_page: Any, lang: str) -> None:
    page = open_members(new_page, server, lang, True, viewport=DESKTOP)
    assert_no_axe_findings(page)
    shot(page, f"members-{lang}-desktop")


def test_i_sent_it_keeps_focus_on_that_letter(server: Any, new_page: Any) -> None:
    receipt = _receipt_page(server, new_page, True)
    card = receipt.locator("li.message").nth(1)
    card_id = card.get_attribute("id")
    card.get_by_role("button", name="I sent it").click()
    receipt.wait_for_url(re.compile(rf"#{card_id}$"))
    assert receipt.evaluate("document.activeElement.id") == card_id  # not the top of the page
