"""E-mail addresses in one canonical form, so one person is one constituent (pure: no Flask, no database).

Two spellings of one address must give one action: `josé@example.org` typed with a composed é (NFC) or
an e followed by a combining accent (NFD), and `exämple.org` or its IDNA form `xn--exmple-cua.org`. The
canonical form is the local part in NFC with its case kept (a mail server may tell cases apart), `@`, and the
domain in its ASCII (IDNA) form, lower-cased: every mail server can deliver to an ASCII domain, while a
non-ASCII local part needs a server that offers SMTPUTF8 (delivery checks that, and fails the letter for
good, with the reason, where it does not). The de-duplication key lower-cases the whole canonical form.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email


class InvalidEmail(ValueError):
    """The text is not an e-mail address."""


@lru_cache(maxsize=1024)
def normalise_email(text: str) -> str:
    """Return the canonical form of an e-mail address, or raise InvalidEmail.

    Cached: a submit needs the canonical form four times (the form's check, the stored address, the
    de-duplication key and the repeat key) and email_validator's parse is most of each.
    """
    try:
        checked = validate_email(unicodedata.normalize("NFC", text.strip()), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from None
    return f"{unicodedata.normalize('NFC', checked.local_part)}@{checked.ascii_domain.lower()}"


def email_key_text(text: str) -> str:
    """Return the text the de-duplication key is made of: the canonical form lower-cased.

    Text that is not an address (stored before the form checked it) falls back to stripped and lower-cased.
    """
    try:
        return normalise_email(text).lower()
    except InvalidEmail:
        return unicodedata.normalize("NFC", text.strip()).lower()


def needs_smtputf8(address: str) -> bool:
    """Return True when an address can only be sent with SMTPUTF8 (non-ASCII characters)."""
    return not address.isascii()
