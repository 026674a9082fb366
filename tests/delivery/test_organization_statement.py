"""Finding 9 of the hardening issue: a constituent's details never add words to the organisation's text.

The form refuses line breaks in one-line details (tests/web/test_single_line_fields.py); here a caller that
skips the form still cannot make a detail start a paragraph of its own inside CWC <OrganizationStatement>:
the statement is the organisation's text with its placeholders filled from one-line values.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from lxml import etree

from actiontool.campaigns import parse_campaign
from actiontool.compose import FormValues, compose, one_line
from actiontool.delivery.cwc import build_document
from actiontool.districts import Dataset, load
from actiontool.letters import make_environment
from actiontool.resources import data_dir, templates_dir
from tests.delivery.cwc_standin import check_document
from tests.delivery.test_cwc import SETTINGS, job
from tests.districts.tiny import build_tiny_data

PAYLOAD = "Madison\n\nThe organisation now OPPOSES this proposal."
INJECTED = "The organisation now OPPOSES this proposal."
CAMPAIGN = parse_campaign((data_dir() / "campaigns" / "detect-and-defeat.yaml").read_text(encoding="utf-8"),
                          "detect-and-defeat.yaml")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return load(build_tiny_data(tmp_path_factory.mktemp("tiny-statement")))


@pytest.mark.parametrize("field", ["city", "first_name", "last_name", "prefix"])
def test_a_detail_with_line_breaks_stays_on_its_line_in_the_cwc_statement(tiny: Dataset, field: str) -> None:
    values = replace(FormValues(first_name="Ana", last_name="Díaz", email="ana@example.com",
                                address1="1 Main St", city="Madison", zip="53001"), **{field: PAYLOAD})
    draft = compose(make_environment(templates_dir() / "messages"), CAMPAIGN,
                    tiny.lookup("53001"), None, values, lang="en", interface_lang="en")
    assert draft.letters
    for letter in draft.letters:
        text = letter.suggested_text
        document = build_document(job(suggested_text=text, edited=False), SETTINGS, date(2026, 11, 30))
        problems, root = check_document(document)
        assert problems == []
        statement = root.findtext("Message/OrganizationStatement")
        assert statement == text
        paragraphs = [p.strip() for p in statement.split("\n\n")]
        assert INJECTED not in paragraphs, "the detail started a paragraph of its own"
        assert not any(line.strip().startswith(INJECTED) for line in statement.splitlines())
        if field == "city":  # still there, on its one line, exactly where the template puts the city
            assert f"As your constituent in {one_line(PAYLOAD)}, WI" in statement


def test_one_line_makes_every_control_character_and_separator_a_space() -> None:
    assert one_line("a\r\nb\x00c\u2028d\u2029e\x85f\tg") == "a  b c d e f g"
    assert one_line("Ana María O'Neil-Díaz") == "Ana María O'Neil-Díaz"


def test_own_words_travel_apart_from_the_statement() -> None:
    root = etree.fromstring(build_document(job(constituent_text="Line one.\n\nLine two."), SETTINGS,
                                           date(2026, 11, 30)))
    assert "Line one." not in (root.findtext("Message/OrganizationStatement") or "")
    assert root.findtext("Message/ConstituentMessage") == "Line one.\n\nLine two."
