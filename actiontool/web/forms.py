"""Flask-WTF forms of the constituent flow. Validation here is about shape; the lookup checks the ZIP."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Any

from babel import support
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.i18n import messages_path
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp, ValidationError

from actiontool.addresses import InvalidEmail, normalise_email
from actiontool.campaigns import Campaign
from actiontool.compose import is_control
from actiontool.districts.model import InvalidZip

# CWC takes the prefix from a fixed list, and only CWC campaigns ask for one.
CWC_PREFIXES: tuple[str, ...] = ("Mr.", "Mrs.", "Miss", "Ms.", "Dr.")
# What each prefix is called in the interface; the value sent stays the one CWC knows.
PREFIX_LABELS: dict[str, Any] = {"Mr.": _l("Mr."), "Mrs.": _l("Mrs."), "Miss": _l("Miss"), "Ms.": _l("Ms."),
                                 "Dr.": _l("Dr.")}
PHONE_RE = re.compile(r"^\+?[0-9().\-\s]{7,40}$")
LABEL_RE = r"^[A-Z]{2}-(AL|[0-9]{1,2})$"

MAX_NAME = 100
MAX_ADDRESS = 200
MAX_EMAIL = 320
MAX_PERSONAL = 5000
MAX_LETTER = 10000


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


# Line breaks and tabs: the only control characters a multi-line box keeps.
_LINE_BREAKS = frozenset("\r\n\t")


# Bidirectional embeddings, overrides and isolates: a one-line detail never closes them, so one would turn
# around whatever follows it where it is shown (the city after a name in the signature, an organizer's
# table). Right-to-left names need none of them; the marks U+200E/U+200F stay allowed.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def single_line(form: Any, field: Any) -> None:
    """Refuse line breaks and control characters: one-line details must not start a new paragraph."""
    if isinstance(field.data, str) and any(is_control(char) or char in _BIDI_CONTROLS for char in field.data):
        raise ValidationError(_l("Use one line, without line breaks or special characters."))


def no_control_characters(form: Any, field: Any) -> None:
    """Refuse control characters other than line breaks and tabs in a multi-line box."""
    if isinstance(field.data, str) and any(c not in _LINE_BREAKS and unicodedata.category(c) == "Cc"
                                           for c in field.data):
        raise ValidationError(_l("Remove the special characters this text contains."))


def email_address(form: Any, field: Any) -> None:
    """Check an e-mail address and keep its canonical form (NFC, IDNA domain), so repeats are found."""
    if not isinstance(field.data, str) or not field.data:
        return
    try:
        field.data = normalise_email(field.data)
    except InvalidEmail as exc:
        raise ValidationError(_l("Enter an e-mail address like name@example.com.")) from exc


def _normalize_zip(text: str) -> str:
    """Normalise a ZIP with the lookup's own rules (imported late: the lookup loads data lazily)."""
    from actiontool.districts import normalize_zip

    return normalize_zip(text)


@cache
def _wtforms_catalog(lang: str) -> support.NullTranslations:
    """Return WTForms' own messages in `lang`, read once per process (Flask-WTF reads them per request)."""
    return support.Translations.load(messages_path(), [lang], domain="wtforms")


class _WTFormsTranslations:
    """WTForms' built-in messages ("Not a valid choice.") in the request's interface language."""

    def gettext(self, string: str) -> str:
        from actiontool.web.i18n import current_language

        return _wtforms_catalog(current_language()).ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        from actiontool.web.i18n import current_language

        return _wtforms_catalog(current_language()).ungettext(singular, plural, n)


class ComposeForm(FlaskForm):
    """The constituent's details and words. Call `for_campaign` to fit it to a campaign."""

    class Meta:
        def get_translations(self, form: Any) -> _WTFormsTranslations:
            return _WTFORMS_TRANSLATIONS

    prefix = SelectField(_l("Title (optional)"), choices=[], validate_choice=True)
    first_name = StringField(_l("First name"), filters=[_strip],
                             validators=[DataRequired(_l("Enter your first name.")), Length(max=MAX_NAME),
                                         single_line],
                             render_kw={"autocomplete": "given-name"})
    last_name = StringField(_l("Last name"), filters=[_strip],
                            validators=[DataRequired(_l("Enter your last name.")), Length(max=MAX_NAME),
                                        single_line],
                            render_kw={"autocomplete": "family-name"})
    email = EmailField(_l("E-mail address"), filters=[_strip],
                       validators=[DataRequired(_l("Enter your e-mail address.")), Length(max=MAX_EMAIL),
                                   single_line, email_address],
                       render_kw={"autocomplete": "email", "inputmode": "email", "spellcheck": "false"})
    address1 = StringField(_l("Street address"), filters=[_strip],
                           validators=[DataRequired(_l("Enter your street address.")),
                                       Length(max=MAX_ADDRESS), single_line],
                           render_kw={"autocomplete": "street-address"})
    city = StringField(_l("City"), filters=[_strip],
                       validators=[DataRequired(_l("Enter your city.")), Length(max=MAX_NAME), single_line],
                       render_kw={"autocomplete": "address-level2"})
    zip = StringField(_l("ZIP code"), filters=[_strip],
                      validators=[DataRequired(_l("Enter your ZIP code.")), single_line],
                      render_kw={"autocomplete": "postal-code", "inputmode": "numeric"})
    phone = StringField(_l("Phone (optional)"), filters=[_strip],
                        validators=[Optional(), single_line, Regexp(PHONE_RE, message=_l(
                            "Enter a phone number using digits, such as 608-555-0123."))],
                        render_kw={"autocomplete": "tel", "inputmode": "tel"})
    personal_message = TextAreaField(_l("Your own words (optional)"), filters=[_strip],
                                     validators=[Optional(), Length(max=MAX_PERSONAL, message=_l(
                                         "Keep your own words under %(max)d characters.", max=MAX_PERSONAL)),
                                         no_control_characters])
    suggested_text = TextAreaField(_l("The letter"), validators=[Length(max=MAX_LETTER, message=_l(
        "Keep the letter under %(max)d characters.", max=MAX_LETTER)), no_control_characters])
    wants_receipt = BooleanField(_l("E-mail me my receipt"))
    district = HiddenField(validators=[Optional(), Regexp(LABEL_RE)])
    basis = HiddenField()  # how the page decided the district (compose.district_basis reads it)
    letter_lang = HiddenField()
    # The digest of the letter as shown (compose.FormValues): only ever compared, so any value is harmless.
    shown = HiddenField(filters=[lambda v: v[:64] if isinstance(v, str) else v])
    ref = HiddenField()

    def for_campaign(self, campaign: Campaign) -> ComposeForm:
        """Fit the form to `campaign`: only the details its channels carry; the letter if editable.

        A field the campaign does not need is removed, so a value posted for it anyway is never read or
        stored: the title and phone only for CWC, the street address for CWC and office packets.
        """
        if campaign.requires_prefix:
            self.prefix.label.text = _l("Title")
            self.prefix.choices = [("", _l("Choose…"))] + [(p, PREFIX_LABELS[p]) for p in CWC_PREFIXES]
            self.prefix.validators = [InputRequired(_l("Choose your title."))]
        else:
            del self.prefix
        if not campaign.needs_street_address:
            del self.address1
        if not campaign.needs_phone:
            del self.phone
        if not campaign.editable:
            del self.suggested_text
        self.letter_lang.data = self.letter_lang.data if self.letter_lang.data in campaign.letters else None
        return self

    def validate_zip(self, field: StringField) -> None:
        """Accept 53703, 53703-1234 and 537031234; store the five-digit form."""
        try:
            field.data = _normalize_zip(field.data or "")
        except InvalidZip as exc:
            raise ValidationError(_l("Enter a five-digit ZIP code, such as 53703.")) from exc

    def validate_suggested_text(self, field: TextAreaField) -> None:
        """Refuse an empty letter: clear the box only to rewrite it."""
        if field.data is not None and not field.data.strip():
            raise ValidationError(_l("The letter cannot be empty."))

    def error_list(self) -> list[tuple[str, str]]:
        """Return (field id, message) for every error, in the order the fields appear."""
        return error_list(self)


def error_list(form: FlaskForm) -> list[tuple[str, str]]:
    """Return (field id, message) for every error of `form`, in the order the fields appear.

    An expired or missing CSRF token gets one plain message with no field to link to: the form is
    shown again with a fresh token, so sending it again works.
    """
    found: list[tuple[str, str]] = []
    for field in form:
        if not field.errors:
            continue
        if field.type == "CSRFTokenField":
            found.insert(0, ("", str(_l("This form expired. Check your details and send it again."))))
            continue
        # A hidden field (the district) has nothing to link to: its message stands alone.
        target = "" if field.type == "HiddenField" else field.id
        found.extend((target, str(message)) for message in field.errors)
    return found


_WTFORMS_TRANSLATIONS = _WTFormsTranslations()


class AddressForm(FlaskForm):
    """A split ZIP's street address, sent to the geocoder to find the district (the ZIP is kept apart)."""

    class Meta:
        def get_translations(self, form: Any) -> _WTFormsTranslations:
            return _WTFORMS_TRANSLATIONS

    address1 = StringField(_l("Street address"), filters=[_strip],
                           validators=[DataRequired(_l("Enter your street address.")),
                                       Length(max=MAX_ADDRESS, message=_l(
                                           "Keep the street address under %(max)d characters.",
                                           max=MAX_ADDRESS)),
                                       single_line],
                           render_kw={"autocomplete": "address-line1"})

    def error_list(self) -> list[tuple[str, str]]:
        """Return (field id, message) for every error, in the order the fields appear."""
        return error_list(self)


class HandedOffForm(FlaskForm):
    """The "I sent it" button of a hand-off message: only the CSRF token."""


class ReceiptLinkForm(FlaskForm):
    """"E-mail me my receipt link" after a repeat from another browser: the address that wrote."""

    email = HiddenField(validators=[DataRequired(), Length(max=MAX_EMAIL), email_address])
