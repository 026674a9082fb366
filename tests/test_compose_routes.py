"""How each letter travels, decided without an app: the promise the members step makes before sending."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

import pytest

from actiontool.campaigns import Campaign, parse_campaign
from actiontool.compose import (
    CONSTITUENT,
    ORGANIZATION,
    SERVER,
    all_delivered_for_them,
    carrier,
    choose,
    routes,
)
from actiontool.districts import Dataset, load
from actiontool.districts.model import Member
from actiontool.resources import data_dir
from tests.districts.tiny import build_tiny_data

SLUG = "detect-and-defeat"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """Return the tiny dataset, built by the real build code."""
    return load(build_tiny_data(tmp_path_factory.mktemp("tiny-routes")))


def campaign_with(house: str, senate: str) -> Campaign:
    """Return the bundled campaign delivering House letters by `house` and Senate letters by `senate`.

    The channels are set on the parsed value, so a channel this branch's file checks may not know yet
    (packet) can be tried too.
    """
    text = (data_dir() / "campaigns" / f"{SLUG}.yaml").read_text(encoding="utf-8")
    parsed = parse_campaign(text, f"{SLUG}.yaml")
    return replace(parsed, delivery=MappingProxyType({"house": MappingProxyType({"channel": house}),
                                                      "senate": MappingProxyType({"channel": senate})}))


@pytest.mark.parametrize(("channel", "server_can", "expected"), [
    ("handoff", True, CONSTITUENT),  # the server never sends a hand-off, whatever it could do
    ("handoff", False, CONSTITUENT),
    ("smtp", True, SERVER),
    ("smtp", False, CONSTITUENT),  # no SMTP here: the worker hands the letter back (needs_constituent)
    ("cwc", True, SERVER),
    ("cwc", False, CONSTITUENT),  # no CWC key here: the same
    ("packet", False, ORGANIZATION),  # the organization carries it; nothing to configure on the server
    ("packet", True, ORGANIZATION),
    ("carrier-pigeon", True, CONSTITUENT),  # unknown: promise nothing we cannot keep
])
def test_carrier_follows_the_channel_and_what_the_server_can_do(channel: str, server_can: bool,
                                                                expected: str) -> None:
    assert carrier(channel, server_can) == expected


def test_routes_give_each_member_the_channel_of_their_chamber(tiny: Dataset) -> None:
    target = campaign_with(house="packet", senate="smtp")
    choice = choose(target, tiny.lookup("53001"), None)
    asked: list[tuple[str, str]] = []

    def only_senior(channel: str, member: Member) -> bool:
        asked.append((channel, member.bioguide))
        return member.bioguide == "S000001"

    found = routes(target, choice.members, only_senior)
    assert [(r.member.bioguide, r.channel, r.carrier) for r in found] == [
        ("R000001", "packet", ORGANIZATION), ("S000001", "smtp", SERVER), ("S000002", "smtp", CONSTITUENT)]
    assert ("smtp", "S000002") in asked
    assert not all_delivered_for_them(found)


def test_every_letter_delivered_only_when_no_one_is_left_to_the_constituent(tiny: Dataset) -> None:
    members = choose(campaign_with("cwc", "packet"), tiny.lookup("53001"), None).members
    assert all_delivered_for_them(routes(campaign_with("cwc", "packet"), members, lambda c, m: True))
    assert not all_delivered_for_them(routes(campaign_with("cwc", "packet"), members, lambda c, m: False))
    assert not all_delivered_for_them(routes(campaign_with("handoff", "handoff"), members, lambda c, m: True))
    assert not all_delivered_for_them(())  # no letters: nothing is delivered
