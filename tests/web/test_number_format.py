"""Organizer numbers: the fast path writes every count exactly as Babel does, in each language."""

from __future__ import annotations

import random

import pytest
from babel.numbers import format_decimal
from flask import Flask

from actiontool.web import i18n


@pytest.mark.parametrize("lang", ["en", "es"])
def test_counts_are_written_as_babel_writes_them(app: Flask, lang: str) -> None:
    rng = random.Random(7)
    numbers = [0, 1, 999, 1000, 1001, 9999, 10000, 99999, 100000, 999999, 1000000, 10**9, 10**12,
               *(rng.randrange(10 ** rng.randrange(1, 13)) for _ in range(2000))]
    with app.test_request_context(f"/?lang={lang}"):
        assert i18n._group_separator(lang) is not None  # the fast path is taken for both languages
        for n in numbers:
            assert i18n.format_number(n) == format_decimal(n, locale=lang), n
        assert i18n.format_number(None) == "0"
        assert i18n.format_number(-1234) == format_decimal(-1234, locale=lang)  # Babel's own path


def test_spanish_groups_with_dots_and_english_with_commas(app: Flask) -> None:
    with app.test_request_context("/?lang=es"):
        assert i18n.format_number(1234567) == "1.234.567"
    with app.test_request_context("/?lang=en"):
        assert i18n.format_number(1234567) == "1,234,567"


def test_a_locale_whose_counts_differ_from_python_s_grouping_is_left_to_babel() -> None:
    # Indian English groups lakhs and crores (12,34,567): no fast path there.
    assert i18n._group_separator("en_IN") is None
