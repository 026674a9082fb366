"""Who stands behind the site (issue 14): the organization's settings in the header, footer and /privacy;
"this site" with nothing set; the campaign's sponsor; dates in the reader's language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from actiontool import create_app
from actiontool.campaigns import CampaignError, parse_campaign
from actiontool.config import ConfigError
from actiontool.resources import data_dir
from tests.web.flow_helpers import SLUG, campaign_variant, page, text_of

ORG = {"ORGANIZATION": "Parents Against Fentanyl", "ORGANIZATION_URL": "https://parents.example.org",
       "CONTACT": "hello@parents.example.org"}


def test_with_nothing_set_the_pages_say_this_site_and_link_the_privacy_page(client: FlaskClient) -> None:
    doc = page(client.get(f"/c/{SLUG}"))
    footer = " ".join(doc.xpath("//footer")[0].text_content().split())
    assert "This site does not sell or share your details." in footer and "We " not in footer
    assert doc.xpath("//footer//a[@href='/privacy']")
    privacy = client.get("/privacy")
    assert privacy.status_code == 200
    text = text_of(privacy)
    assert "deleted 30 days after you write" in text and "Only your own members of Congress" in text


def test_organization_settings_are_shown(app_config: dict[str, Any], tmp_path: Path) -> None:
    app = create_app({**app_config, **ORG, "RETENTION_DAYS": 7,
                      "PRIVACY_POLICY": "We keep little.\n\nWe delete it soon."})
    client = app.test_client()
    doc = page(client.get(f"/c/{SLUG}"))
    assert doc.xpath("//header//a[@class='brand']")[0].text_content() == "Parents Against Fentanyl"
    assert doc.xpath("//footer//a[@href='https://parents.example.org']")
    assert doc.xpath("//footer//a[@href='mailto:hello@parents.example.org']")
    assert "Parents Against Fentanyl does not sell or share your details." in text_of(
        client.get(f"/c/{SLUG}"))
    text = text_of(client.get("/privacy"))
    assert "We keep little." in text and "We delete it soon." in text
    assert "deleted 7 days after you write" in text
    assert "Parents Against Fentanyl runs this site" in text


def test_a_privacy_policy_url_is_linked_from_the_privacy_page(app_config: dict[str, Any]) -> None:
    app = create_app({**app_config, "PRIVACY_POLICY": "https://parents.example.org/privacy"})
    doc = page(app.test_client().get("/privacy"))
    assert doc.xpath("//main//a[@href='https://parents.example.org/privacy']")


@pytest.mark.parametrize(("name", "value"), [("ORGANIZATION_URL", "parents.example.org"),
                                             ("CONTACT", "call us"), ("ORGANIZATION_URL", "javascript:x")])
def test_a_site_setting_that_is_no_link_stops_the_start(app_config: dict[str, Any], name: str,
                                                        value: str) -> None:
    with pytest.raises(ConfigError, match=f"ACTIONTOOL_{name}"):
        create_app({**app_config, name: value})


def test_the_campaign_names_its_sponsor(app_config: dict[str, Any], tmp_path: Path) -> None:
    folder = tmp_path / "campaigns"
    folder.mkdir()
    campaign_variant(folder, "sponsored", **{"languages: [en, es]\n": "languages: [en, es]\nsponsor: {name: "
                                             "Parents Against Fentanyl, url: 'https://parents.example.org'}\n"})
    app = create_app({**app_config, "CAMPAIGNS_DIR": str(folder)})
    doc = page(app.test_client().get("/c/sponsored"))
    sponsor = doc.xpath("//p[@class='sponsor']")[0]
    assert " ".join(sponsor.text_content().split()) == "A campaign by Parents Against Fentanyl"
    assert sponsor.xpath(".//a/@href") == ["https://parents.example.org"]


@pytest.mark.parametrize(("line", "message"), [
    ("sponsor: {name: X, url: 'ftp://x'}", "the sponsor's url must start with https://"),
    ("sponsor: [X]", "sponsor is a name, or a mapping with name and url"),
])
def test_a_bad_sponsor_is_refused_with_its_line(line: str, message: str) -> None:
    text = (data_dir() / "campaigns" / f"{SLUG}.yaml").read_text(encoding="utf-8")
    with pytest.raises(CampaignError, match=message):
        parse_campaign(text.replace("languages: [en, es]\n", f"languages: [en, es]\n{line}\n"), "f.yaml")


def test_a_source_text_must_stay_in_the_campaign_folder() -> None:
    text = (data_dir() / "campaigns" / f"{SLUG}.yaml").read_text(encoding="utf-8")
    with pytest.raises(CampaignError, match="relative to the campaign file's folder"):
        parse_campaign(text.replace("text: sources/", "text: ../../"), "f.yaml")


@pytest.mark.parametrize(("lang", "date"), [("en", "June 15, 2026"), ("es", "15 de junio de 2026")])
def test_the_data_date_is_written_in_the_readers_language(client: FlaskClient, lang: str, date: str) -> None:
    text = text_of(client.get(f"/c/{SLUG}/members?zip=53001&lang={lang}"))
    assert date in text and "2026-06-15" not in text


def test_the_title_list_is_translated_and_sends_the_values_cwc_knows(app_config: dict[str, Any],
                                                                     tmp_path: Path) -> None:
    folder = tmp_path / "campaigns"
    folder.mkdir()
    campaign_variant(folder, "official", **{"house: {channel: handoff}": "house: {channel: cwc}"})
    client = create_app({**app_config, "CAMPAIGNS_DIR": str(folder)}).test_client()
    doc = page(client.get("/c/official/members?zip=53001&lang=es"))
    options = [(o.get("value"), o.text_content()) for o in doc.xpath("//select[@id='prefix']/option")][1:]
    assert options == [("Mr.", "Sr."), ("Mrs.", "Sra. (Mrs.)"), ("Miss", "Srta."), ("Ms.", "Sra. (Ms.)"),
                       ("Dr.", "Dr./Dra.")]


@pytest.mark.parametrize("geocoder", ["off", "census"])
def test_the_privacy_page_says_when_the_address_goes_to_the_census_geocoder(app_config: dict[str, Any],
                                                                            geocoder: str) -> None:
    client = create_app({**app_config, "GEOCODER": geocoder}).test_client()
    for lang, said in (("en", "sent with your ZIP code to the US Census Bureau’s geocoder"),
                       ("es", "se envía con su código postal al geocodificador de la Oficina del Censo")):
        text = text_of(client.get(f"/privacy?lang={lang}"))
        assert (said in text) == (geocoder == "census")
