"""Every number a campaign states (page and letters, every language) appears in the sources it lists.

A number is compared by value: "74,702" and "74.702", "79 million" and "79,000,000" and "79 millones" are the
same number. A campaign that states numbers must list a source with a `text` copy to check them against.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from actiontool import letters
from actiontool.campaigns import Campaign, load_campaigns
from actiontool.resources import data_dir, templates_dir

# A run of digits, perhaps grouped by "," or "." (thousands) or with one decimal part, then a scale word.
_NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:[.,]\d{3})+|\d+(?:[.,]\d+)?)(?:\s+(million|millones|millón|"
                     r"billion|thousand|mil millones|mil))?(?!\w)", re.IGNORECASE)
_SCALES = {"thousand": 10**3, "mil": 10**3, "million": 10**6, "millones": 10**6, "millón": 10**6,
           "billion": 10**9, "mil millones": 10**9}


def numbers(text: str) -> set[float]:
    """Return the values of the numbers written with digits in `text`."""
    found: set[float] = set()
    for digits, scale in _NUMBER.findall(text):
        if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", digits):
            value = float(re.sub(r"[.,]", "", digits))
        else:
            value = float(digits.replace(",", "."))
        found.add(value * _SCALES.get(scale.lower(), 1) if scale else value)
    return found


def stated_texts(campaign: Campaign) -> dict[str, str]:
    """Return what the campaign says to the public and to Congress: its words and every letter it renders."""
    env = letters.make_environment(templates_dir() / "messages")
    said: dict[str, str] = {}
    for lang in campaign.languages:
        text = campaign.text(lang)
        said[f"{lang} page"] = "\n".join([text.title, text.ask, text.subject, *text.background])
        for member in letters.sample_members():
            if campaign.targets_chamber(member.chamber):
                said[f"{lang} letter to a {member.title}"] = letters.render_body(
                    env, campaign.letter_template(lang), member=member,
                    constituent=letters.SAMPLE_CONSTITUENT, campaign=campaign.template_vars(lang))
    return said


def unsourced(campaign: Campaign) -> list[str]:
    """Return "where: number" for each number the campaign states that none of its source texts has."""
    sourced: set[float] = set()
    for path in campaign.source_texts():
        sourced |= numbers(path.read_text(encoding="utf-8"))
    return [f"{where}: {value:g}" for where, text in stated_texts(campaign).items()
            for value in sorted(numbers(text) - sourced)]


def _bundled() -> list[Campaign]:
    return list(load_campaigns(data_dir() / "campaigns", templates_dir() / "messages").values())


@pytest.mark.parametrize("campaign", _bundled(), ids=lambda c: c.slug)
def test_every_number_a_campaign_states_is_in_its_sources(campaign: Campaign) -> None:
    said = stated_texts(campaign)
    assert any(numbers(text) for text in said.values()), "the check must have numbers to check"
    assert campaign.source_texts(), f"{campaign.slug} states numbers but lists no source text"
    assert all(path.is_file() for path in campaign.source_texts())
    assert unsourced(campaign) == []


def test_numbers_are_compared_by_value_in_both_languages() -> None:
    assert numbers("In 2023, 74,702 died; 79 million pills") == {2023, 74702, 79_000_000}
    assert numbers("En 2023, 74.702 murieron; 79 millones de pastillas; 4 millones") == {
        2023, 74702, 79_000_000, 4_000_000}
    assert numbers("79,000,000 and 13,176 kg, July 31, 2024") == {79_000_000, 13176, 31, 2024}
    assert numbers("1.5 million, 0,5") == {1_500_000, 0.5}


def test_a_number_not_in_the_source_is_reported(tmp_path: Path) -> None:
    campaign = _bundled()[0]
    folder = tmp_path / "campaigns"
    (folder / "sources").mkdir(parents=True)
    for path in campaign.source_texts():
        (folder / "sources" / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    text = Path(campaign.path).read_text(encoding="utf-8").replace("79 million pills", "97 million pills", 1)
    (folder / f"{campaign.slug}.yaml").write_text(text, encoding="utf-8")
    changed = load_campaigns(folder, templates_dir() / "messages")[campaign.slug]
    assert unsourced(changed) == ["en page: 9.7e+07"]


@pytest.mark.parametrize(("lang", "voting", "non_voting"), [("en", "vote for it", "co-sponsor"),
                                                             ("es", "vote a favor", "copatrocine")])
def test_non_voting_members_are_asked_to_co_sponsor_not_to_vote(lang: str, voting: str,
                                                                non_voting: str) -> None:
    said = stated_texts(next(c for c in _bundled() if c.slug == "detect-and-defeat"))
    for title in ("Delegate", "Resident Commissioner"):
        letter = said[f"{lang} letter to a {title}"]
        assert non_voting in letter and voting not in letter
    for title in ("Senator", "Representative"):
        assert voting in said[f"{lang} letter to a {title}"]


def test_the_letters_date_the_proposal_and_leave_out_what_the_source_does_not_say() -> None:
    said = stated_texts(next(c for c in _bundled() if c.slug == "detect-and-defeat"))
    assert all(("July 2024" if k.startswith("en") else "julio de 2024") in v for k, v in said.items()
               if "letter" in k)
    assert not any("mail" in v.lower() or "correo" in v.lower() for v in said.values())
