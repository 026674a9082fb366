"""Campaign files: loading, validation with line numbers, and the render check at load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from actiontool.campaigns import (
    LOC_POLICY_AREAS,
    CampaignError,
    check_renders,
    load_campaign,
    load_campaigns,
    parse_campaign,
)
from actiontool.resources import data_dir, templates_dir

VALID = """\
slug: demo
status: live
title: Demo campaign
ask: Ask Congress to act.
background:
  - Fact one.
  - Fact two.
targets: both
subject: Please act
letter: demo.en.txt.j2
editable: true
goal: 100
loc_topics: [Health]
languages: [en]
"""


def write(tmp_path: Path, text: str, name: str = "demo.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def messages(tmp_path: Path) -> Path:
    folder = tmp_path / "messages"
    folder.mkdir()
    (folder / "demo.en.txt.j2").write_text("I live in {{ constituent.city }}. {{ campaign.ask }}\n")
    return folder


def problems_of(text: str) -> list[tuple[int, str]]:
    with pytest.raises(CampaignError) as info:
        parse_campaign(text, "demo.yaml", expected_slug="demo")
    return [(p.line, p.message) for p in info.value.problems]


def test_valid_file_parses_into_a_campaign() -> None:
    campaign = parse_campaign(VALID, "demo.yaml", expected_slug="demo")
    assert campaign.slug == "demo"
    assert campaign.text("en").background == ("Fact one.", "Fact two.")
    assert campaign.targets_chamber("house") and campaign.targets_chamber("senate")
    assert campaign.is_open and campaign.is_public
    assert campaign.channel_for("house") == "handoff"
    assert campaign.requires_prefix is False


def test_bad_status_is_reported_on_its_line() -> None:
    assert problems_of(VALID.replace("status: live", "status: running")) == [
        (2, "status must be one of draft, live, closed (got 'running')")]


def test_unknown_topic_is_reported_on_the_item_line() -> None:
    text = VALID.replace("loc_topics: [Health]", "loc_topics:\n  - Health\n  - Fentanyl")
    assert problems_of(text) == [(15, "'Fentanyl' is not a Library of Congress policy area")]


def test_every_problem_is_listed_not_only_the_first() -> None:
    text = VALID.replace("goal: 100", "goal: -5").replace("targets: both", "targets: everyone")
    lines = [line for line, _ in problems_of(text)]
    assert lines == [8, 12]


def test_missing_field_and_unknown_field_are_errors() -> None:
    text = VALID.replace("subject: Please act\n", "").replace("goal: 100", "goal: 100\ncolour: red")
    found = problems_of(text)
    assert (12, "unknown field 'colour'") in found
    assert any("missing required field 'subject'" in m for _, m in found)


def test_slug_must_match_file_name() -> None:
    with pytest.raises(CampaignError, match="does not match the file name"):
        parse_campaign(VALID, "other.yaml", expected_slug="other")


def test_yaml_syntax_error_names_its_line() -> None:
    found = problems_of(VALID.replace("goal: 100", "goal: [100"))
    assert found[0][0] >= 12 and "not valid YAML" in found[0][1]


def test_error_message_has_file_and_line() -> None:
    with pytest.raises(CampaignError) as info:
        parse_campaign(VALID.replace("editable: true", "editable: maybe"), "demo.yaml", expected_slug="demo")
    assert str(info.value) == "demo.yaml:11: editable must be true or false"


def test_localised_fields_need_the_default_language() -> None:
    text = VALID.replace("title: Demo campaign", "title:\n  es: Campaña").replace("languages: [en]",
                                                                               "languages: [en, es]")
    found = problems_of(text)
    assert any("title needs a value for the default language 'en'" in m for _, m in found)


def test_bill_and_delivery_are_validated() -> None:
    text = VALID + "bill: {congress: 119, type: xx, number: 12}\ndelivery:\n  house: {channel: fax}\n"
    found = problems_of(text)
    assert (15, "bill.type must be one of hconres, hjres, hr, hres, s, sconres, sjres, sres") in found
    assert (17, "delivery.house.channel must be one of handoff, smtp, cwc, packet (got 'fax')") in found


def test_delivery_keeps_raw_options_and_cwc_needs_a_prefix() -> None:
    text = VALID + "bill: {congress: 119, type: hr, number: 12}\n" \
                   "delivery:\n  house: {channel: cwc, campaign_id: abc}\n  senate: {channel: smtp, to: x}\n"
    campaign = parse_campaign(text, "demo.yaml", expected_slug="demo")
    assert campaign.channel_for("house") == "cwc"
    assert campaign.delivery_options("house")["campaign_id"] == "abc"
    assert campaign.delivery_options("senate")["to"] == "x"
    assert campaign.requires_prefix is True
    assert campaign.bill is not None and campaign.bill.label == "H.R. 12 (119th Congress)"


def test_counter_defaults_to_the_written_count_always_shown() -> None:
    counter = parse_campaign(VALID, "demo.yaml", expected_slug="demo").counter
    assert (counter.show, counter.minimum) == ("written", 0)
    assert counter.visible(0)


def test_counter_may_show_the_sent_count_above_a_minimum() -> None:
    text = VALID + "counter:\n  show: sent\n  minimum: 25\n"
    counter = parse_campaign(text, "demo.yaml", expected_slug="demo").counter
    assert (counter.show, counter.minimum) == ("sent", 25)
    assert not counter.visible(24) and counter.visible(25)


@pytest.mark.parametrize("counter,expected", [
    ("counter: 25", [(15, "counter must be a mapping such as {show: written, minimum: 25}")]),
    ("counter:\n  show: delivered", [(16, "counter.show must be one of written, sent (got 'delivered')")]),
    ("counter:\n  minimum: -1", [(16, "counter.minimum must be a whole number of at least 0")]),
    ("counter:\n  minimum: true", [(16, "counter.minimum must be a whole number of at least 0")]),
    ("counter:\n  show: sent\n  hide: yes", [(17, "unknown counter field 'hide' (show, minimum)")]),
])
def test_counter_errors_are_reported_on_their_line(counter: str, expected: list[tuple[int, str]]) -> None:
    assert problems_of(VALID + counter + "\n") == expected


def test_template_that_does_not_render_fails_at_load(tmp_path: Path, messages: Path) -> None:
    (messages / "demo.en.txt.j2").write_text("Hello {{ constituent.middle_name }}")
    with pytest.raises(CampaignError, match="does not render.*middle_name"):
        load_campaign(write(tmp_path, VALID), messages)


def test_missing_template_fails_at_load(tmp_path: Path, messages: Path) -> None:
    with pytest.raises(CampaignError, match="TemplateNotFound"):
        load_campaign(write(tmp_path, VALID.replace("demo.en.txt.j2", "nope.txt.j2")), messages)


def test_editable_letter_must_not_differ_per_member(tmp_path: Path, messages: Path) -> None:
    (messages / "demo.en.txt.j2").write_text("As my {{ member.title }}, act.")
    with pytest.raises(CampaignError, match="reads differently per member"):
        load_campaign(write(tmp_path, VALID), messages)
    campaign = load_campaign(write(tmp_path, VALID.replace("editable: true", "editable: false")), messages)
    assert campaign.editable is False


def test_load_campaigns_reads_every_file(tmp_path: Path, messages: Path) -> None:
    folder = tmp_path / "campaigns"
    folder.mkdir()
    write(folder, VALID)
    write(folder, VALID.replace("slug: demo", "slug: second").replace("status: live", "status: draft"),
          "second.yaml")
    loaded = load_campaigns(folder, messages)
    assert sorted(loaded) == ["demo", "second"]
    assert loaded["second"].is_public is False


def test_default_campaign_is_live_bilingual_and_renders() -> None:
    campaign = load_campaign(data_dir() / "campaigns" / "detect-and-defeat.yaml",
                             templates_dir() / "messages")
    assert campaign.status == "live"
    assert campaign.languages == ("en", "es")
    assert campaign.bill is None  # a proposal, not a numbered bill
    assert set(campaign.loc_topics) <= LOC_POLICY_AREAS
    assert "74,702" in " ".join(campaign.text("en").background)
    assert "74.702" in " ".join(campaign.text("es").background)
    check_renders(campaign, templates_dir() / "messages")


def test_sandbox_escape_in_a_template_fails_at_load(tmp_path: Path, messages: Path) -> None:
    (messages / "demo.en.txt.j2").write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(CampaignError, match="does not render"):
        load_campaign(write(tmp_path, VALID), messages)


# -- the `actiontool campaign` commands ---------------------------------------------------------------

def run_cli(*args: str, env: dict[str, str] | None = None) -> Any:
    from click.testing import CliRunner

    from actiontool.cli import main

    return CliRunner().invoke(main, list(args), env=env)


def test_cli_check_accepts_the_default_campaign() -> None:
    result = run_cli("campaign", "check", str(data_dir() / "campaigns" / "detect-and-defeat.yaml"))
    assert result.exit_code == 0, result.output
    assert "OK: detect-and-defeat" in result.output
    assert "Senator, Representative, Delegate, Resident Commissioner" in result.output


def test_cli_check_reports_line_numbered_errors_and_exits_1(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("goal: 100", "goal: lots"))
    result = run_cli("campaign", "check", str(path))
    assert result.exit_code == 1
    assert f"{path}:12: goal must be a whole number of at least 1" in result.output


def test_cli_check_reports_a_letter_that_does_not_render(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("demo.en.txt.j2", "missing.txt.j2"))
    result = run_cli("campaign", "check", str(path))
    assert result.exit_code == 1 and "does not render" in result.output


def test_cli_list_shows_campaigns_and_flags_invalid_ones(tmp_path: Path) -> None:
    folder = tmp_path / "campaigns"
    folder.mkdir()
    (folder / "detect-and-defeat.yaml").write_text(
        (data_dir() / "campaigns" / "detect-and-defeat.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    ok = run_cli("campaign", "list", env={"ACTIONTOOL_CAMPAIGNS_DIR": str(folder)})
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("detect-and-defeat\tlive\ttargets both")
    write(folder, VALID.replace("status: live", "status: maybe"), "demo.yaml")
    bad = run_cli("campaign", "list", env={"ACTIONTOOL_CAMPAIGNS_DIR": str(folder)})
    assert bad.exit_code == 1
    assert "demo\tINVALID" in bad.output and "demo.yaml:2: status must be one of" in bad.output


def test_app_does_not_start_with_a_broken_campaign(tmp_path: Path) -> None:
    from actiontool import create_app

    folder = tmp_path / "campaigns"
    folder.mkdir()
    write(folder, VALID.replace("demo.en.txt.j2", "no-such-letter.txt.j2"))
    with pytest.raises(CampaignError, match="does not render"):
        create_app({"TESTING": True, "SECRET_KEY": "test-secret-key", "CAMPAIGNS_DIR": str(folder),
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"})


def test_a_field_given_twice_is_an_error_not_a_silent_override() -> None:
    assert (15, "goal is given twice") in problems_of(VALID + "goal: 5\n")


def test_cli_check_refuses_smtp_delivery_without_addresses(tmp_path: Path) -> None:
    folder = tmp_path / "campaigns"
    folder.mkdir()
    text = (data_dir() / "campaigns" / "detect-and-defeat.yaml").read_text(encoding="utf-8")
    text = text.replace("senate: {channel: handoff}", "senate: {channel: smtp}")
    path = write(folder, text, "detect-and-defeat.yaml")
    result = run_cli("campaign", "check", str(path))
    assert result.exit_code == 1, result.output
    assert "the smtp channel needs the addresses to send to" in result.output


def test_cli_check_warns_when_a_channel_is_not_configured_here(tmp_path: Path) -> None:
    folder = tmp_path / "campaigns"
    folder.mkdir()
    text = (data_dir() / "campaigns" / "detect-and-defeat.yaml").read_text(encoding="utf-8")
    path = write(folder, text.replace("house: {channel: handoff}", "house: {channel: cwc}"),
                 "detect-and-defeat.yaml")
    result = run_cli("campaign", "check", str(path), env={"ACTIONTOOL_CWC_BASE_URL": ""})
    assert result.exit_code == 0, result.output
    assert "warning: delivery.house.channel is cwc" in result.output


def test_time_zone_defaults_to_the_site_setting_and_may_be_named() -> None:
    assert parse_campaign(VALID, "demo.yaml", expected_slug="demo").time_zone is None  # the site's zone
    text = VALID + "time_zone: America/Chicago\n"
    assert parse_campaign(text, "demo.yaml", expected_slug="demo").time_zone == "America/Chicago"


@pytest.mark.parametrize("value", ["Mars/Olympus", "'EST5EDT\\0'", "42", "''"])
def test_an_unknown_time_zone_is_reported_on_its_line(value: str) -> None:
    problems = problems_of(VALID + f"time_zone: {value}\n")
    assert len(problems) == 1 and problems[0][0] == 15
    assert problems[0][1].startswith("time_zone must be a time zone name such as America/Chicago")


# Issue 13 finding 6: a campaign that `campaign check` rejects stops the start, with the same lines. ------

def _bad_delivery(folder: Path) -> Path:
    text = (data_dir() / "campaigns" / "detect-and-defeat.yaml").read_text(encoding="utf-8")
    text = text.replace("senate: {channel: handoff}",
                        'senate: {channel: smtp, to: "desk@example.org\\r\\nBcc: x@evil.example"}')
    return write(folder, text, "detect-and-defeat.yaml")


def test_the_app_does_not_start_with_a_campaign_the_check_rejects(tmp_path: Path) -> None:
    folder = tmp_path / "campaigns"
    folder.mkdir()
    path = _bad_delivery(folder)
    check = run_cli("campaign", "check", str(path))
    assert check.exit_code == 1
    check_lines = [line for line in check.output.splitlines() if "warning" not in line]
    assert check_lines and all(line.startswith(f"{path}: delivery.senate.to") for line in check_lines)
    env = {"ACTIONTOOL_CAMPAIGNS_DIR": str(folder),
           "ACTIONTOOL_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    start = run_cli("stats", env=env)
    assert start.exit_code == 1 and "Traceback" not in start.output
    assert start.output.splitlines() == ["Error: the app cannot start:", *check_lines]


@pytest.mark.parametrize("content", [
    b"slug: demo\nx: " + b"[" * 20000 + b"]" * 20000 + b"\n",  # RecursionError in PyYAML before the fix
    b"slug: demo\nx:\n" + b"".join(b"  " * i + b"- \n" for i in range(3000)),
    b"slug: demo\nx: " + b"{a: " * 5000 + b"1" + b"}" * 5000 + b"\n",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",  # binary
    b"slug: demo\x00\n",  # a NUL in otherwise valid UTF-8
    b"slug: demo\nnotes: '" + b"x" * 2_000_000 + b"'\n",  # huge
    b"\xff\xfe not utf-8",
])
def test_campaign_check_never_shows_a_traceback(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "demo.yaml"
    path.write_bytes(content)
    result = run_cli("campaign", "check", str(path))
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output and result.output.startswith(f"{path}")
