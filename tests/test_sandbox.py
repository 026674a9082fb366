"""Campaign letters and campaign files cannot reach Python internals (sandbox escape payloads)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from actiontool import create_app, letters
from actiontool.resources import data_dir

PAYLOADS = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ().__class__.__base__.__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ self.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ member.__class__ }}",
    "{{ member.items.__self__.__class__ }}",
    "{{ campaign.__class__.__init__.__globals__ }}",
    "{{ '{0.__class__.__mro__}'.format(member) }}",
    "{{ '%s'|format(member.__class__) }}",
    "{{ member|attr('__class__') }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ range.__self__ }}",
    "{{ config }}",
    "{{ request }}",
    "{% import 'os' as os %}{{ os }}",
    "{% include '/etc/passwd' %}",
    "{% include '../../pyproject.toml' %}",
    # Jinja before 3.1.6 (CVE-2025-27516): |attr('format') reached str.format outside the sandbox.
    "{{ '{0.__class__.__mro__}'|attr('format')(member) }}",
    "{{ ('{0.__class__}'|attr('format'))(member) }}",
    "{% set f = '{0.__init__.__globals__}'|attr('format') %}{{ f(cycler) }}",
    # str.format_map, the other door to attribute lookups from a format string.
    "{{ '{0.__class__.__mro__}'.format_map([member]) }}",
    "{{ '{x.__class__}'.format_map({'x': member}) }}",
    "{{ ('{x.__init__.__globals__}'|attr('format_map'))({'x': cycler}) }}",
]
# What a leak would look like in the rendered text.
LEAK = re.compile(r"<class |<module |<function |<built-in|__globals__|uid=|root:|\[build-system\]|SECRET")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_letter_templates_cannot_reach_python_internals(tmp_path: Path, payload: str) -> None:
    (tmp_path / "evil.txt.j2").write_text(f"Dear {{{{ member.last_name }}}},\n{payload}\n", encoding="utf-8")
    env = letters.make_environment(tmp_path)
    member = letters.sample_members()[0]
    constituent = letters.Constituent(first_name="Ada", last_name="Lovelace", city="Madison", state="WI")
    try:
        text = letters.render_body(env, "evil.txt.j2", member=member, constituent=constituent,
                                   campaign={"title": "T"})
    except letters.LetterError:
        return  # refused: the campaign check reports it before anyone can submit
    assert not LEAK.search(text), text


def test_template_syntax_in_a_campaign_file_is_shown_as_text_not_run(tmp_path: Path,
                                                                     app_config: dict[str, Any]) -> None:
    source = (data_dir() / "campaigns" / "detect-and-defeat.yaml").read_text(encoding="utf-8")
    evil = "{{ config.SECRET_KEY }}{{ ''.__class__.__mro__ }}"
    changed = source.replace('en: Pass the "Detect and Defeat" proposal to stop fentanyl', f"en: '{evil}'", 1)
    assert changed != source
    campaigns = tmp_path / "campaigns"
    campaigns.mkdir()
    (campaigns / "detect-and-defeat.yaml").write_text(changed, encoding="utf-8")
    app = create_app({**app_config, "CAMPAIGNS_DIR": str(campaigns), "SECRET_KEY": "sandbox-secret"})
    page = app.test_client().get("/c/detect-and-defeat", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "{{ config.SECRET_KEY }}" in text.replace("&#39;", "'")
    assert "sandbox-secret" not in text and "<class" not in text
    app.extensions["actiontool.db"]["engine"].dispose()


@pytest.mark.parametrize("payload", [
    "{{ 'a' * 10**7 }}", "{{ 10**7 * 'a' }}", "{{ ['a'] * 10**6 }}", "{{ 2 ** 100000 }}",
    "{% for i in range(100000) %}aaaaaaaa{% endfor %}", "{{ 'a' * 20001 }}",
])
def test_a_letter_longer_than_the_cap_is_refused(tmp_path: Path, payload: str) -> None:
    # Finding 15 of the hardening issue: a campaign letter could render 'a'*10**7.
    (tmp_path / "big.txt.j2").write_text(payload, encoding="utf-8")
    env = letters.make_environment(tmp_path)
    with pytest.raises(letters.LetterError, match="too large|longer than|more than 20000|range too big"):
        letters.render_body(env, "big.txt.j2", member=letters.sample_members()[0],
                            constituent=letters.SAMPLE_CONSTITUENT, campaign={})


def test_a_letter_just_under_the_cap_renders(tmp_path: Path) -> None:
    (tmp_path / "long.txt.j2").write_text("{{ 'a' * 19999 }}", encoding="utf-8")
    env = letters.make_environment(tmp_path)
    text = letters.render_body(env, "long.txt.j2", member=letters.sample_members()[0],
                               constituent=letters.SAMPLE_CONSTITUENT, campaign={})
    assert len(text) == 19999


def test_campaign_check_names_a_letter_over_the_cap(tmp_path: Path) -> None:
    from actiontool import campaigns

    source = data_dir() / "campaigns" / "detect-and-defeat.yaml"
    campaign = campaigns.parse_campaign(source.read_text(encoding="utf-8"), str(source))
    for lang in campaign.languages:
        name = campaign.letter_template(lang)
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{% for i in range(3000) %}too long {% endfor %}", encoding="utf-8")
    with pytest.raises(campaigns.CampaignError, match="more than 20000 characters"):
        campaigns.check_renders(campaign, tmp_path)
