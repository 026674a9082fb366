"""Letters: salutations by seat, sandboxed rendering, and edit tracking."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actiontool import letters
from actiontool.campaigns import CampaignError, load_campaign
from actiontool.districts.model import Member
from actiontool.resources import data_dir, templates_dir

CONSTITUENT = letters.Constituent(first_name="Ana", last_name="Díaz", city="Madison", state="WI")


def seat(title: str) -> Member:
    return next(m for m in letters.sample_members() if m.title == title)


@pytest.fixture
def env(tmp_path: Path) -> letters.SandboxedEnvironment:
    (tmp_path / "ok.txt.j2").write_text("Please act, {{ member.title }} {{ member.last_name }}. "
                                        "From {{ constituent.name }} of {{ constituent.city }}.\n")
    return letters.make_environment(tmp_path)


@pytest.mark.parametrize(("title", "lang", "expected"), [
    ("Senator", "en", "Dear Senator Ashby,"),
    ("Representative", "en", "Dear Representative Brandt,"),
    ("Delegate", "en", "Dear Delegate Dunmore,"),
    ("Resident Commissioner", "en", "Dear Resident Commissioner Ellery,"),
    ("Senator", "es", "Estimada senadora Ashby:"),  # recorded as F
    ("Representative", "es", "Estimado representante Brandt:"),  # recorded as M
    ("Delegate", "es", "Estimada delegada Dunmore:"),
    ("Resident Commissioner", "es", "Estimado/a comisionado/a residente Ellery:"),  # gender unknown
])
def test_salutation_follows_the_seat(title: str, lang: str, expected: str) -> None:
    assert letters.salutation(seat(title), lang) == expected


SEAT_WORDS = {word.lower() for m in letters.sample_members() for word in m.title.split()}


@pytest.mark.parametrize("member", letters.sample_members(), ids=lambda m: m.title)
def test_sample_members_have_surnames_that_are_no_seat_word(member: Member) -> None:
    assert member.last_name.lower() not in SEAT_WORDS
    assert letters.salutation(member, "en").count(member.last_name) == 1


@pytest.mark.parametrize(("lang", "gender", "title", "broken"), [
    ("en", None, "Senator", "Dear Senator Senator,"),
    ("en", None, "Resident Commissioner", "Dear Resident Commissioner Commissioner,"),
    ("es", "F", "Delegate", "Estimada delegada Delegate:"),
    ("es", None, "Resident Commissioner", "Estimado/a comisionado/a residente Commissioner:"),
])
def test_a_greeting_that_puts_the_seat_where_the_name_goes_fails_the_campaign_check(
        monkeypatch: pytest.MonkeyPatch, lang: str, gender: str | None, title: str, broken: str) -> None:
    monkeypatch.setitem(letters._SALUTATIONS[lang][gender], title, broken)
    with pytest.raises(CampaignError, match=f"the {lang} greeting of a {title} does not name them"):
        load_campaign(data_dir() / "campaigns" / "detect-and-defeat.yaml", templates_dir() / "messages")


def test_letter_has_salutation_body_and_signature(env: letters.SandboxedEnvironment) -> None:
    letter = letters.build_letter(env, "ok.txt.j2", lang="en", subject="S", member=seat("Delegate"),
                                  constituent=CONSTITUENT, campaign={})
    assert letter.suggested_text == ("Dear Delegate Dunmore,\n\nPlease act, Delegate Dunmore. "
                                     "From Ana Díaz of Madison.\n\nSincerely,\nAna Díaz\nMadison, WI")
    assert letter.edited is False


def test_constituent_words_stay_apart_and_follow_the_salutation(env: letters.SandboxedEnvironment) -> None:
    letter = letters.build_letter(env, "ok.txt.j2", lang="en", subject="S", member=seat("Senator"),
                                  constituent=CONSTITUENT, campaign={})
    assert "My son" not in letter.suggested_text
    assert letter.text("My son died.").startswith("Dear Senator Ashby,\n\nMy son died.\n\nPlease act")


def test_an_edit_replaces_the_body_and_is_recorded(env: letters.SandboxedEnvironment) -> None:
    letter = letters.build_letter(env, "ok.txt.j2", lang="en", subject="S", member=seat("Senator"),
                                  constituent=CONSTITUENT, campaign={}, edited_body="My own text.\r\n")
    assert letter.edited is True
    assert letter.body == "My own text."
    assert letter.salutation == "Dear Senator Ashby,"


def test_whitespace_differences_are_not_edits() -> None:
    assert letters.is_edited("Line one.  \r\nLine two.\n", "Line one.\nLine two.") is False
    assert letters.is_edited("Line one.\nLine 2.", "Line one.\nLine two.") is True


@pytest.mark.parametrize("source", [
    "{{ ''.__class__.__mro__ }}",
    "{{ member.__class__.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os.system('true') }}",
    "{% include '../../etc/passwd' %}",
    "{{ constituent.email }}",
])
def test_sandbox_escapes_and_unknown_names_fail_safely(tmp_path: Path, source: str) -> None:
    (tmp_path / "bad.txt.j2").write_text(source)
    env = letters.make_environment(tmp_path)
    with pytest.raises(letters.LetterError):
        letters.render_body(env, "bad.txt.j2", member=seat("Senator"), constituent=CONSTITUENT, campaign={})


def test_template_sees_plain_values_not_objects(tmp_path: Path) -> None:
    (tmp_path / "probe.txt.j2").write_text("{{ member.to_json is defined }}")
    env = letters.make_environment(tmp_path)
    assert letters.render_body(env, "probe.txt.j2", member=seat("Senator"), constituent=CONSTITUENT,
                               campaign={}) == "False"


@given(words=st.text(min_size=1).filter(lambda t: t.strip()), body=st.text(min_size=1).filter(str.strip))
def test_full_text_keeps_salutation_first_and_both_texts_whole(words: str, body: str) -> None:
    suggested = f"Dear Senator Baldwin,\n\n{body.strip()}\n\nSincerely,\nAna"
    letter = letters.full_text(suggested, words)
    assert letter.startswith("Dear Senator Baldwin,\n\n" + words.strip())
    assert letter.endswith(f"{body.strip()}\n\nSincerely,\nAna")
    assert letters.full_text(suggested, "  ") == suggested
