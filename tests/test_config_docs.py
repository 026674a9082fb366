"""The README's configuration table lists every setting the app reads, and nothing it does not."""

from __future__ import annotations

import re

import pytest

from actiontool.config import DEFAULTS, ConfigError, from_environment
from actiontool.resources import project_root


def _configuration_section() -> str:
    root = project_root()
    assert root is not None, "run from a checkout"
    text = (root / "README.md").read_text(encoding="utf-8")
    return text.split("## Configuration", 1)[1].split("\n## ", 1)[0]


def test_every_setting_has_a_row_in_the_readme_table() -> None:
    section = _configuration_section()
    missing = [name for name in DEFAULTS if f"`ACTIONTOOL_{name}`" not in section]
    assert missing == []


def test_the_readme_table_names_no_setting_the_app_does_not_read() -> None:
    named = set(re.findall(r"`ACTIONTOOL_([A-Z0-9_]+)`", _configuration_section()))
    assert named - set(DEFAULTS) == set()


def test_boolean_settings_read_the_usual_spellings_and_refuse_others() -> None:
    assert from_environment({"ACTIONTOOL_AUTO_MIGRATE": "off"})["AUTO_MIGRATE"] is False
    assert from_environment({"ACTIONTOOL_RATELIMIT_ENABLED": "Yes"})["RATELIMIT_ENABLED"] is True
    with pytest.raises(ConfigError, match="ACTIONTOOL_AUTO_MIGRATE"):
        from_environment({"ACTIONTOOL_AUTO_MIGRATE": "maybe"})
