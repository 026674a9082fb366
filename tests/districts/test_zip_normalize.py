"""normalize_zip: five digits, optionally ZIP+4; anything else is InvalidZip and nothing else escapes."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actiontool.districts import InvalidZip, normalize_zip


@pytest.mark.parametrize(
    ("text", "expected"),
    [("53811", "53811"), (" 53811 ", "53811"), ("53811-1234", "53811"), ("538111234", "53811"),
     ("00501", "00501"), ("\t99501\n", "99501")],
)
def test_accepts_the_four_forms(text: str, expected: str) -> None:
    assert normalize_zip(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", " ", "5381", "538112", "53811-123", "53811-12345", "53811 1234", "5381a", "ABCDE", "53811--1234",
     "-53811", "١٢٣٤٥", "５３８１１", "53811²", "5 3811", "0x123", "12345-", None, 53811],
)
def test_rejects_everything_else(text: object) -> None:
    with pytest.raises(InvalidZip):
        normalize_zip(text)  # type: ignore[arg-type]


@given(st.text())
def test_every_string_normalises_to_five_ascii_digits_or_raises_invalid_zip(text: str) -> None:
    try:
        result = normalize_zip(text)
    except InvalidZip:
        return
    assert re.fullmatch(r"[0-9]{5}", result)
    assert text.strip().startswith(result)


@given(st.from_regex(r"\A\s*[0-9]{5}(-?[0-9]{4})?\s*\Z"))
def test_every_well_formed_zip_is_accepted(text: str) -> None:
    assert normalize_zip(text) == text.strip()[:5]
