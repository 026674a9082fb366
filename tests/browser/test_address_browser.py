"""A split ZIP in a real browser, with JavaScript on and off, in English and Spanish: the street address
finds the district through the Census geocoder's stand-in; with the geocoder off the choice is the step;
a geocoder that does not answer gives the choice within its timeout plus one second. axe-core on every
page that runs scripts."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.browser.test_flow_browser import actions, assert_accessible
from tests.geocoder.census_standin import CensusStandIn

SLUG = "detect-and-defeat"
TIMEOUT = 1.0

WORDS = {
    "en": {"find": "Find my district", "found": "We found your district from your street address: WI-2, "
           "Wisconsin’s 2nd congressional district.", "failed": "We could not look up your address just now.",
           "send": "Write my letters", "continue": "Continue", "chose": "You chose district WI-2"},
    "es": {"find": "Buscar mi distrito", "found": "Encontramos su distrito por su dirección: WI-2, "
           "2.º distrito congresional de Wisconsin.",
           "failed": "No pudimos buscar su dirección en este momento.",
           "send": "Escribir mis cartas", "continue": "Continuar", "chose": "Eligió el distrito WI-2"},
}
VARIANTS = [pytest.param(js, lang, id=f"{'js' if js else 'nojs'}-{lang}")
            for js in (True, False) for lang in ("en", "es")]


@pytest.fixture
def standin() -> Iterator[CensusStandIn]:
    server = CensusStandIn().start()
    yield server
    server.stop()


@pytest.fixture
def live_config(standin: CensusStandIn) -> dict[str, Any]:
    return {"GEOCODER": "census", "GEOCODER_URL": standin.url, "GEOCODER_TIMEOUT": TIMEOUT}


def _axe(page: Any, js: bool) -> None:
    """Run axe-core when the page runs scripts (axe is a script; the HTML is the same without)."""
    if js:
        assert_accessible(page)


def _open_split_zip(new_page: Any, server: Any, js: bool, lang: str) -> Any:
    page = new_page(java_script_enabled=js, locale="es-US" if lang == "es" else "en-US")
    page.goto(f"{server.url}/c/{SLUG}/members?zip=53002&lang={lang}")
    return page


def _fill_rest_and_send(page: Any, lang: str) -> None:
    page.fill("#first_name", "Ana")
    page.fill("#last_name", "Díaz")
    page.fill("#email", "ana@example.com")
    page.get_by_role("button", name=WORDS[lang]["send"]).click()
    page.wait_for_url(re.compile(r"/r/[A-Za-z0-9_-]{40,}"))


@pytest.mark.parametrize(("js", "lang"), VARIANTS)
def test_the_street_address_finds_the_district(server: Any, live_app: Flask, new_page: Any,
                                               standin: CensusStandIn, js: bool, lang: str) -> None:
    page = _open_split_zip(new_page, server, js, lang)
    _axe(page, js)
    page.fill("#address1", "12 Lake St")
    page.get_by_role("button", name=WORDS[lang]["find"]).click()
    page.wait_for_selector("#district-notice")
    assert WORDS[lang]["found"] in " ".join(page.inner_text("#district-notice").split())
    # The default campaign hands its letters off: its form asks no street address, so the one typed here
    # only found the district and is not kept (a CWC or packet campaign's form would be filled with it).
    assert page.locator("#address1").count() == 0
    assert page.input_value("#zip") == "53002"
    _axe(page, js)
    _fill_rest_and_send(page, lang)
    assert [(a.district_label, a.district_basis, a.address1 or None) for a in actions(live_app)] == [
        ("WI-2", "address", None)]
    assert [r.query["street"] for r in standin.received] == ["12 Lake St"] and standin.problems() == []


@pytest.mark.parametrize("live_config", [{}])
@pytest.mark.parametrize(("js", "lang"), VARIANTS)
def test_with_the_geocoder_off_the_choice_is_the_step(server: Any, live_app: Flask, new_page: Any,
                                                      standin: CensusStandIn, js: bool, lang: str) -> None:
    page = _open_split_zip(new_page, server, js, lang)
    assert page.locator("#address-form").count() == 0
    _axe(page, js)
    page.check("#district-WI-2")
    page.get_by_role("button", name=WORDS[lang]["continue"]).click()
    page.wait_for_selector("#district-notice")
    assert WORDS[lang]["chose"] in page.inner_text("#district-notice")
    page.fill("#city", "Twotown")  # a hand-off campaign's form asks no street address
    _fill_rest_and_send(page, lang)
    assert [(a.district_label, a.district_basis) for a in actions(live_app)] == [("WI-2", "choice")]
    assert standin.received == []


@pytest.mark.parametrize(("js", "lang"), VARIANTS)
def test_a_geocoder_that_does_not_answer_gives_the_choice_in_time(server: Any, live_app: Flask, new_page: Any,
                                                                  standin: CensusStandIn, js: bool,
                                                                  lang: str) -> None:
    standin.mode = "hold"  # answers only when released, long after the timeout
    page = _open_split_zip(new_page, server, js, lang)
    page.fill("#address1", "12 Lake St")
    started = time.monotonic()
    page.get_by_role("button", name=WORDS[lang]["find"]).click()
    page.wait_for_selector("#address-note")
    waited = time.monotonic() - started
    standin.release.set()
    assert waited < TIMEOUT + 1.0, f"the choice came after {waited:.2f} s"
    assert WORDS[lang]["failed"] in page.inner_text("#address-note")
    _axe(page, js)
    page.check("#district-WI-1")
    page.get_by_role("button", name=WORDS[lang]["continue"]).click()
    page.wait_for_selector("#district-notice")
    assert actions(live_app) == []
