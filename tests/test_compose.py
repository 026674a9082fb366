"""Compose without an app: members of the chosen district, letters as sent, the edited flag, the Submission.

Lookups come from the tiny dataset that the real data build makes (tests/districts/tiny.py).
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import replace
from pathlib import Path

import pytest
from jinja2.sandbox import SandboxedEnvironment

from actiontool import compose as compose_module
from actiontool.campaigns import Campaign, parse_campaign
from actiontool.compose import (
    Choice,
    FormValues,
    NoDistrict,
    ZipNotFound,
    ZipOutsideDistrict,
    ZipOutsideState,
    choose,
    compose,
    fill_placeholders,
    placeholder,
    shown_body,
    zip_problem,
)
from actiontool.districts import Dataset, load
from actiontool.letters import Constituent, make_environment
from actiontool.resources import data_dir, templates_dir
from tests.districts.tiny import build_tiny_data

SLUG = "detect-and-defeat"
DETAILS = FormValues(first_name="Ana", last_name="Díaz", email="ana@example.com", address1="1 Main St",
                     city="Madison", zip="53001")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """Return the tiny dataset, built by the real build code."""
    return load(build_tiny_data(tmp_path_factory.mktemp("tiny-compose")))


@pytest.fixture(scope="module")
def env() -> SandboxedEnvironment:
    """Return the sandboxed environment of the bundled letter templates."""
    return make_environment(templates_dir() / "messages")


def campaign(**replace: str) -> Campaign:
    """Return the bundled campaign, with some lines of its file replaced."""
    text = (data_dir() / "campaigns" / f"{SLUG}.yaml").read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return parse_campaign(text, f"{SLUG}.yaml")


BOTH = campaign()
HOUSE = campaign(**{"targets: both": "targets: house"})
SENATE = campaign(**{"targets: both": "targets: senate"})
FIXED = campaign(**{"editable: true": "editable: false"})
MAILED = campaign(**{"house: {channel: handoff}": "house: {channel: smtp}"})


def bioguides(choice: Choice) -> list[str]:
    return [m.bioguide for m in choice.members]


def draft_of(env: SandboxedEnvironment, tiny: Dataset, values: FormValues = DETAILS, *,
             zip_code: str = "53001", label: str | None = None, target: Campaign = BOTH, lang: str = "en",
             interface_lang: str = "en") -> compose_module.Draft:
    lookup = tiny.lookup(zip_code)
    return compose(env, target, lookup, label, values, lang=lang, interface_lang=interface_lang)


def shown(env: SandboxedEnvironment, tiny: Dataset, *, zip_code: str = "53001", lang: str = "en",
          interface_lang: str = "en") -> str:
    """Return the letter box as the members step shows it, placeholders and all."""
    choice = choose(BOTH, tiny.lookup(zip_code), None)
    return shown_body(env, BOTH, choice, lang, placeholder("WI", interface_lang))


# -- the members ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("target", "expected"), [
    (BOTH, ["R000001", "S000001", "S000002"]),
    (HOUSE, ["R000001"]),
    (SENATE, ["S000001", "S000002"]),
])
def test_a_zip_with_one_district_writes_to_the_members_the_campaign_targets(
        tiny: Dataset, target: Campaign, expected: list[str]) -> None:
    choice = choose(target, tiny.lookup("53001"), None)
    assert choice.district is not None and choice.district.label == "WI-1"
    assert bioguides(choice) == expected and choice.vacant == ()


@pytest.mark.parametrize("label", [None, "", "WI-3", "MN-1", "WI-01", "garbage"])
def test_an_ambiguous_zip_chooses_nothing_without_one_of_its_districts(tiny: Dataset,
                                                                       label: str | None) -> None:
    choice = choose(BOTH, tiny.lookup("53002"), label)
    assert choice.district is None and choice.members == () and choice.vacant == ()


def test_an_ambiguous_zip_writes_to_the_chosen_districts_member(tiny: Dataset) -> None:
    choice = choose(BOTH, tiny.lookup("53002"), "WI-2")
    assert bioguides(choice) == ["R000002", "S000001", "S000002"]


@pytest.mark.parametrize(("label", "expected"), [
    ("MN-1", ["R000003", "S000003", "S000004"]),
    ("WI-1", ["R000001", "S000001", "S000002"]),
])
def test_a_zip_in_two_states_writes_only_to_the_senators_of_the_chosen_districts_state(
        tiny: Dataset, label: str, expected: list[str]) -> None:
    lookup = tiny.lookup("56001")
    assert {s.state for s in lookup.senators} == {"MN", "WI"}  # the lookup lists both states' senators
    assert bioguides(choose(BOTH, lookup, label)) == expected
    assert bioguides(choose(SENATE, lookup, label)) == expected[1:]


@pytest.mark.parametrize(("target", "expected"), [(BOTH, ["S000001", "S000002"]), (HOUSE, [])])
def test_a_vacant_seat_gets_no_letter_and_is_listed_as_vacant(tiny: Dataset, target: Campaign,
                                                              expected: list[str]) -> None:
    choice = choose(target, tiny.lookup("53003"), None)
    assert bioguides(choice) == expected
    assert [d.label for d in choice.vacant] == ["WI-3"]


def test_a_senate_campaign_does_not_list_a_vacant_house_seat(tiny: Dataset) -> None:
    assert choose(SENATE, tiny.lookup("53003"), None).vacant == ()


@pytest.mark.parametrize(("zip_code", "title"), [("20001", "Delegate"), ("00901", "Resident Commissioner")])
def test_a_non_voting_seat_has_its_member_and_no_senators(tiny: Dataset, zip_code: str, title: str) -> None:
    choice = choose(BOTH, tiny.lookup(zip_code), None)
    assert [m.title for m in choice.members] == [title]


# -- the constituent's ZIP ----------------------------------------------------------------------------

@pytest.mark.parametrize(("zip_code", "district_zip", "label", "problem"), [
    ("53001", "53001", "WI-1", None),
    ("53003", "53001", "WI-1", None),  # another ZIP of the same state
    ("56001", "53001", "WI-1", None),  # a ZIP in two states fits either
    ("56001", "56001", "MN-1", None),
    ("54999", "53001", "WI-1", None),  # its tabulation area is in MN, its postal state WI
    ("20001", "53001", "WI-1", ZipOutsideState("20001", "WI", "WI-1")),
    ("99501", "56001", "MN-1", ZipOutsideState("99501", "MN", "MN-1")),
    ("99999", "53001", "WI-1", ZipNotFound("99999")),
    ("09001", "53001", "WI-1", ZipNotFound("09001")),  # military mail: no district
])
def test_the_constituents_zip_must_lie_in_the_chosen_districts_state(
        tiny: Dataset, zip_code: str, district_zip: str, label: str, problem: object) -> None:
    district = tiny.lookup(district_zip).district(label)
    assert district is not None
    # The state alone: what a Senate-only campaign needs (no district is written).
    assert zip_problem(zip_code, district, tiny.lookup, check_district=False) == problem


@pytest.mark.parametrize(("zip_code", "lookup_zip", "label", "problem"), [
    ("53001", "53001", "WI-1", None),
    ("53002", "53001", "WI-1", None),  # split between WI-1 and WI-2: it reaches WI-1
    ("53002", "53002", "WI-2", None),
    ("53001", "53002", "WI-2", ZipOutsideDistrict("53001", "WI-2")),  # WI-1 only
    ("53003", "53001", "WI-1", ZipOutsideDistrict("53003", "WI-1")),  # WI-3 only
    ("54999", "53001", "WI-1", None),  # its area is in MN, its postal state WI: both are candidates
    ("53003", "53002", "WI-2", ZipOutsideDistrict("53003", "WI-2")),
    ("56001", "56001", "WI-1", None),  # the looked-up ZIP itself
    ("20001", "53001", "WI-1", ZipOutsideState("20001", "WI", "WI-1")),  # the state is said first
])
def test_the_constituents_zip_must_reach_the_chosen_district(
        tiny: Dataset, zip_code: str, lookup_zip: str, label: str, problem: object) -> None:
    district = tiny.lookup(lookup_zip).district(label)
    assert district is not None
    assert zip_problem(zip_code, district, tiny.lookup, lookup_zip=lookup_zip) == problem


def test_the_looked_up_zip_always_fits_its_own_district(tiny: Dataset) -> None:
    district = tiny.lookup("53002").district("WI-2")
    assert district is not None
    # Same ZIP: fits even when the ZIP's own answer would be read differently later (the lookup decides).
    assert zip_problem("53002", district, lambda _z: tiny.lookup("53001"), lookup_zip="53002") is None


# -- placeholders ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("lang", "names"), [
    ("en", ("[first name]", "[last name]", "[city]")),
    ("es", ("[nombre]", "[apellido]", "[ciudad]")),
    ("xx", ("[first name]", "[last name]", "[city]")),  # no catalog: the source text
])
def test_placeholders_are_in_the_interface_language(lang: str, names: tuple[str, str, str]) -> None:
    blank = placeholder("WI", lang)
    assert (blank.first_name, blank.last_name, blank.city, blank.state) == (*names, "WI")


def test_every_interface_language_has_its_placeholders() -> None:
    from actiontool.web.i18n import LANGUAGES as INTERFACE

    assert set(INTERFACE) <= set(compose_module.LANGUAGES)


def test_placeholders_left_in_an_edit_are_filled_in_every_language() -> None:
    ana = Constituent(first_name="Ana", last_name="Díaz", city="Verona", state="WI")
    text = "[first name] [last name] of [city]; [nombre] [apellido] de [ciudad]; [state] stays."
    assert fill_placeholders(text, ana, "WI") == "Ana Díaz of Verona; Ana Díaz de Verona; [state] stays."


# -- the letters and the edited flag --------------------------------------------------------------------

def test_the_letters_are_the_suggested_text_for_each_member_signed_by_the_constituent(
        env: SandboxedEnvironment, tiny: Dataset) -> None:
    draft = draft_of(env, tiny, replace(DETAILS, letter=shown(env, tiny)))
    assert draft.edited is False
    assert [letter.salutation for letter in draft.letters] == [
        "Dear Representative One,", "Dear Senator Senior,", "Dear Senator Junior,"]
    for letter in draft.letters:
        assert "As your constituent in Madison, WI" in letter.body
        assert letter.signature == "Ana Díaz\nMadison, WI" and not letter.edited


@pytest.mark.parametrize(("interface_lang", "shown_in"),
                         [("en", "en"), ("en", "es"), ("es", "en"), ("es", "es")])
def test_a_letter_sent_back_as_shown_in_any_language_is_not_an_edit(
        env: SandboxedEnvironment, tiny: Dataset, interface_lang: str, shown_in: str) -> None:
    values = replace(DETAILS, letter=shown(env, tiny, interface_lang=shown_in))
    draft = draft_of(env, tiny, values, interface_lang=interface_lang)
    assert draft.edited is False and not any(letter.edited for letter in draft.letters)


def test_line_endings_and_trailing_spaces_are_not_an_edit(env: SandboxedEnvironment, tiny: Dataset) -> None:
    sent = shown(env, tiny).replace("\n", "  \r\n") + "\r\n"
    assert draft_of(env, tiny, replace(DETAILS, letter=sent)).edited is False


def test_an_edit_goes_to_every_member_with_its_placeholders_filled(env: SandboxedEnvironment,
                                                                   tiny: Dataset) -> None:
    sent = shown(env, tiny) + "\n\nI have seen this in [city] myself."
    draft = draft_of(env, tiny, replace(DETAILS, letter=sent))
    assert draft.edited is True and all(letter.edited for letter in draft.letters)
    assert {letter.body for letter in draft.letters} == {
        fill_placeholders(sent, draft.constituent, "WI")}
    assert all(letter.body.endswith("I have seen this in Madison myself.") for letter in draft.letters)
    assert draft.letters[1].salutation == "Dear Senator Senior,"  # the salutation still names each member


@pytest.mark.parametrize(("target", "letter"), [(FIXED, "Sneaky text"), (BOTH, None)])
def test_no_letter_box_means_the_suggested_text(env: SandboxedEnvironment, tiny: Dataset, target: Campaign,
                                                letter: str | None) -> None:
    draft = draft_of(env, tiny, replace(DETAILS, letter=letter), target=target)
    assert draft.edited is False
    assert all("Sneaky" not in x.body and "As your constituent" in x.body for x in draft.letters)


def test_an_emptied_letter_box_is_an_edit(env: SandboxedEnvironment, tiny: Dataset) -> None:
    draft = draft_of(env, tiny, replace(DETAILS, letter=""))
    assert draft.edited is True and {x.body for x in draft.letters} == {""}


def test_a_district_without_members_writes_no_letter_and_sees_no_edit(env: SandboxedEnvironment,
                                                                      tiny: Dataset) -> None:
    draft = draft_of(env, tiny, replace(DETAILS, letter="Changed"), zip_code="53003",
                     target=HOUSE)
    assert draft.letters == () and draft.edited is False and draft.submission().messages == []


@pytest.mark.parametrize(("interface_lang", "city"), [("en", "[city]"), ("es", "[ciudad]")])
def test_blank_details_show_as_placeholders_of_the_interface_language(
        env: SandboxedEnvironment, tiny: Dataset, interface_lang: str, city: str) -> None:
    draft = draft_of(env, tiny, FormValues(first_name="Ana"), interface_lang=interface_lang)
    assert (draft.constituent.first_name, draft.constituent.city) == ("Ana", city)
    assert draft.letters[0].signature.endswith(f"\n{city}, WI")


def test_the_letters_are_written_in_the_letter_language_not_the_interface_one(
        env: SandboxedEnvironment, tiny: Dataset) -> None:
    draft = draft_of(env, tiny, lang="es", interface_lang="en")
    assert draft.letters[0].salutation == "Estimada representante One:"  # recorded as F
    assert draft.letters[0].lang == "es" and draft.submission().lang == "en"


@pytest.mark.parametrize(("zip_code", "label"), [("53002", None), ("53002", "WI-3"), ("56001", None)])
def test_no_chosen_district_is_a_domain_error(env: SandboxedEnvironment, tiny: Dataset, zip_code: str,
                                              label: str | None) -> None:
    with pytest.raises(NoDistrict):
        draft_of(env, tiny, zip_code=zip_code, label=label)


# -- the Submission -----------------------------------------------------------------------------------

def test_the_submission_holds_the_details_and_one_message_per_member(env: SandboxedEnvironment,
                                                                     tiny: Dataset) -> None:
    values = replace(DETAILS, personal_message="My cousin died.", wants_receipt=True,
                           ref="partner-7", prefix="Dr.", phone="608-555-0123")
    draft = draft_of(env, tiny, values, target=MAILED, interface_lang="es")
    submission = draft.submission(receipt_base_url="https://act.example.org")
    assert (submission.campaign, submission.lang, submission.ref, submission.state,
            submission.district_label) == (SLUG, "es", "partner-7", "WI", "WI-1")
    details = submission.constituent
    assert (details.email, details.first_name, details.last_name, details.address1, details.city,
            details.zip, details.prefix, details.phone) == (
        "ana@example.com", "Ana", "Díaz", "1 Main St", "Madison", "53001", "Dr.", "608-555-0123")
    assert submission.constituent_text == "My cousin died." and submission.wants_receipt_email is True
    assert submission.receipt_base_url == "https://act.example.org"
    assert [(m.bioguide, m.member_title, m.chamber, m.state, m.district, m.channel)
            for m in submission.messages] == [
        ("R000001", "Representative", "house", "WI", 1, "smtp"),
        ("S000001", "Senator", "senate", "WI", None, "handoff"),
        ("S000002", "Senator", "senate", "WI", None, "handoff")]
    assert [m.suggested_text for m in submission.messages] == [x.suggested_text for x in draft.letters]
    assert all("My cousin died." not in m.suggested_text for m in submission.messages)
    assert {m.subject for m in submission.messages} == {BOTH.text("en").subject}


def test_blank_optional_details_are_left_out_of_the_submission(env: SandboxedEnvironment,
                                                               tiny: Dataset) -> None:
    submission = draft_of(env, tiny).submission()
    assert submission.constituent.prefix is None and submission.constituent.phone is None
    assert submission.constituent_text is None and submission.ref is None
    assert submission.wants_receipt_email is False and submission.receipt_base_url is None


@pytest.mark.parametrize(("target", "label"), [(BOTH, "WI-1"), (HOUSE, "WI-1"), (SENATE, None)])
def test_the_submission_has_a_district_only_when_the_campaign_writes_to_the_house(
        env: SandboxedEnvironment, tiny: Dataset, target: Campaign, label: str | None) -> None:
    assert draft_of(env, tiny, target=target).submission().district_label == label


def test_an_edited_letter_is_marked_edited_in_every_message(env: SandboxedEnvironment, tiny: Dataset) -> None:
    values = replace(DETAILS, letter="My own letter.")
    messages = draft_of(env, tiny, values).submission().messages
    assert [m.edited for m in messages] == [True, True, True]
    assert all("\n\nMy own letter.\n\n" in m.suggested_text for m in messages)


# -- purity ---------------------------------------------------------------------------------------------

FORBIDDEN = ("flask", "flask_babel", "flask_wtf", "werkzeug", "sqlalchemy")


def _imports(module: str) -> set[str]:
    """Return the modules `module` imports, following actiontool's own modules (but not the app factory)."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None, name
        tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            found = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                found.append(node.module)
                if node.module == "actiontool":  # from actiontool import letters
                    found.extend(f"actiontool.{a.name}" for a in node.names)
            for imported in found:
                if imported in seen:
                    continue
                seen.add(imported)
                if imported.startswith("actiontool."):
                    todo.append(imported)
    return seen


def test_compose_imports_neither_flask_nor_the_database() -> None:
    imported = _imports("actiontool.compose")
    assert "actiontool.letters" in imported and "actiontool.campaigns" in imported  # the walk follows them
    assert sorted(m for m in imported if m.split(".")[0] in FORBIDDEN) == []
