"""The boundaries of the campaign file checks that campaigns._build splits into one function per field."""

from __future__ import annotations

import pytest

from actiontool.campaigns import CampaignError, parse_campaign

VALID = """\
slug: demo
status: live
title: Demo campaign
ask: Ask Congress to act.
background: Fact one.
targets: both
subject: Please act
letter: demo.en.txt.j2
goal: 100
loc_topics: [Health]
editable: true
languages: [en]
"""


def problems_of(text: str) -> list[tuple[int, str]]:
    with pytest.raises(CampaignError) as info:
        parse_campaign(text, "demo.yaml", expected_slug="demo")
    return [(p.line, p.message) for p in info.value.problems]


def test_a_goal_of_one_is_the_smallest_accepted() -> None:
    assert parse_campaign(VALID.replace("goal: 100", "goal: 1"), "demo.yaml").goal == 1
    assert problems_of(VALID.replace("goal: 100", "goal: 0")) == [
        (9, "goal must be a whole number of at least 1")]


def test_a_subject_of_300_characters_is_the_longest_accepted() -> None:
    longest = "s" * 300
    assert parse_campaign(VALID.replace("Please act", longest), "demo.yaml").text("en").subject == longest
    assert problems_of(VALID.replace("Please act", longest + "s")) == [
        (7, "subject must be at most 300 characters")]
