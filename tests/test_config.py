"""Environment variables are read as the type of their setting's default."""

from __future__ import annotations

import pytest

from actiontool.config import DEFAULTS, ConfigError, from_environment

NUMBERS = sorted(n for n, v in DEFAULTS.items() if isinstance(v, int | float) and not isinstance(v, bool))


@pytest.mark.parametrize("name", NUMBERS)
def test_a_numeric_setting_is_read_as_the_type_of_its_default(name: str) -> None:
    value = from_environment({f"ACTIONTOOL_{name}": "7"})[name]
    assert value == 7 and type(value) is type(DEFAULTS[name])


@pytest.mark.parametrize("name", NUMBERS)
def test_a_numeric_setting_refuses_text_naming_the_variable(name: str) -> None:
    with pytest.raises(ConfigError, match=f"ACTIONTOOL_{name}='seven' is not a number"):
        from_environment({f"ACTIONTOOL_{name}": "seven"})


def test_the_numeric_settings_include_ports_timeouts_and_counts() -> None:
    assert {"SMTP_PORT", "SMTP_TIMEOUT", "TRUSTED_PROXIES", "BOT_MIN_FILL_SECONDS"} <= set(NUMBERS)


def test_a_setting_without_a_default_is_read_as_text() -> None:
    assert from_environment({"ACTIONTOOL_SMTP_HOST": "25"})["SMTP_HOST"] == "25"
