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
