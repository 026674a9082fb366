"""Every language of the tool has what a letter and a page need in it."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import get_args

import pytest

from actiontool import letters
from actiontool.districts.model import Title


@pytest.mark.parametrize("lang", letters.LANGUAGES)
def test_each_language_has_a_salutation_for_every_seat_and_a_closing(lang: str) -> None:
    # The letter functions fall back to English, so a missing language would pass unnoticed through them.
    assert None in letters._SALUTATIONS[lang]  # the form for a member whose gender is not recorded
    for forms in letters._SALUTATIONS[lang].values():
        assert set(forms) == set(get_args(Title))
    assert letters._CLOSINGS[lang]


@pytest.mark.parametrize("lang", [code for code in letters.LANGUAGES if code != "en"])
def test_each_language_but_english_has_a_translation_catalogue(lang: str) -> None:
    catalogue = Path(str(resources.files("actiontool"))) / "translations" / lang / "LC_MESSAGES"
    assert (catalogue / "messages.po").is_file() and (catalogue / "messages.mo").is_file()
