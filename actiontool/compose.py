"""Compose a constituent's letters: campaign + lookup + chosen district + form values -> one submit.

Pure: no Flask, no database. The view parses the request into `FormValues`, calls `compose` once, and either
shows the draft again (a preview, or errors) or hands `Draft.submission(...)` to `services.submit`.

The compose form shows the suggested letter with placeholders ("[city]") where the constituent's details
go, in the interface language of the page. A letter sent back unchanged (in any language's placeholders)
is not an edit; an edited one has the placeholders it still holds filled with the constituent's details.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from babel import support
from jinja2.sandbox import SandboxedEnvironment

from actiontool import letters
from actiontool.campaigns import Campaign
from actiontool.districts.model import District, Lookup, LookupError_, Member
from actiontool.letters import Constituent, Letter

# The interface languages: the placeholders of a form may have been shown in any of them.
LANGUAGES: tuple[str, ...] = letters.LANGUAGES


# -- what one submit writes (services.submit stores it) ------------------------------------------------

@dataclass(frozen=True, slots=True)
class ConstituentDetails:
    """Who is writing: the personal data an Action holds until it is purged."""

    email: str
    first_name: str
    last_name: str
    address1: str
    city: str
    zip: str
    prefix: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One letter to one member, ready to be written to the outbox."""

    bioguide: str
    member_name: str
    member_title: str
    chamber: str
    state: str
    district: int | None
    channel: str
    subject: str
    suggested_text: str
    edited: bool


@dataclass(frozen=True, slots=True)
class Submission:
    """Everything one submit writes."""

    campaign: str
    lang: str
    ref: str | None
    state: str
    district_label: str | None
    constituent: ConstituentDetails
    constituent_text: str | None  # the constituent's own words, apart from the suggested text
    wants_receipt_email: bool
    messages: Sequence[OutgoingMessage]
    receipt_base_url: str | None = None  # the site's origin the constituent used, for the receipt e-mail
    district_basis: str = "zip"  # how the district was decided: one of BASES


# -- domain errors ---------------------------------------------------------------------------------------

class NoDistrict(Exception):
    """The lookup has several districts and none of them was chosen (or the chosen one is not among them)."""


@dataclass(frozen=True, slots=True)
class ZipNotFound:
    """The constituent's ZIP is not in the dataset."""

    zip: str


@dataclass(frozen=True, slots=True)
class ZipOutsideState:
    """The constituent's ZIP lies outside the state of the district they chose."""

    zip: str
    state: str
    label: str


@dataclass(frozen=True, slots=True)
class ZipOutsideDistrict:
    """The constituent's ZIP is in the district's state but cannot reach the chosen district."""

    zip: str
    label: str


ZipProblem = ZipNotFound | ZipOutsideState | ZipOutsideDistrict

# How the district of an action was decided: the ZIP had one district; the geocoder placed the street
# address in one of the ZIP's districts; the browser's location picked one; the constituent chose.
BASES: tuple[str, ...] = ("zip", "address", "location", "choice")


def district_basis(lookup: Lookup, asked: str | None) -> str:
    """Return how the district was decided: `zip` when the ZIP has one, else the form's word for it.

    The form's word is the page's own report (a split ZIP's district is still checked against the ZIP's
    candidates); anything else counts as the constituent's choice.
    """
    if len(lookup.districts) == 1:
        return "zip"
    return asked if asked in ("address", "location", "choice") else "choice"


# -- the district from a street address ------------------------------------------------------------------

FOUND, NO_MATCH, SEVERAL, OUTSIDE, FAILED = "found", "no_match", "several", "outside", "failed"


@dataclass(frozen=True, slots=True)
class AddressAnswer:
    """What a geocoder's answer means for a split ZIP: a district, or why the constituent must choose."""

    outcome: str  # FOUND, NO_MATCH, SEVERAL, OUTSIDE or FAILED
    district: District | None = None


def district_from_address(lookup: Lookup, labels: Sequence[str]) -> AddressAnswer:
    """Judge the geocoder's districts (one per address match) against the ZIP's candidates.

    The answer is used only when every match names the same district and it is one of the ZIP's: the
    bundled data stays the authority on which seats a ZIP can reach.
    """
    found = set(labels)
    if not found:
        return AddressAnswer(NO_MATCH)
    if len(found) > 1:
        return AddressAnswer(SEVERAL)
    district = lookup.district(found.pop())
    if district is None:
        return AddressAnswer(OUTSIDE)
    return AddressAnswer(FOUND, district)


# -- the members ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Choice:
    """What the members step knows: the lookup, the chosen district (if any), and the target members."""

    lookup: Lookup
    district: District | None
    members: tuple[Member, ...]
    vacant: tuple[District, ...]


def choose(campaign: Campaign, lookup: Lookup, label: str | None) -> Choice:
    """Return the chosen district (given, or the only candidate) and the members to write to."""
    district = lookup.district(label) if label else None
    if district is None and len(lookup.districts) == 1:
        district = lookup.districts[0]
    if district is None:
        return Choice(lookup, None, (), ())
    members: list[Member] = []
    vacant: list[District] = []
    if campaign.targets_chamber("house"):
        if district.member is not None:
            members.append(district.member)
        else:
            vacant.append(district)
    if campaign.targets_chamber("senate"):
        # A ZIP in two states lists the senators of both: write only to the chosen district's state.
        members.extend(s for s in lookup.senators if s.state == district.state)
    return Choice(lookup, district, tuple(members), tuple(vacant))


def zip_problem(zip_code: str, district: District, find: Callable[[str], Lookup], *,
                lookup_zip: str | None = None, check_district: bool = True) -> ZipProblem | None:
    """Return why the constituent's ZIP does not fit the chosen district; None when it fits.

    The ZIP must lie in the district's state and, when `check_district`, reach the district itself (be one
    of its candidates), unless it is the ZIP the district was looked up by (`lookup_zip`).
    """
    try:
        lookup = find(zip_code)
    except LookupError_:
        return ZipNotFound(zip_code)
    states = set(lookup.states) | ({lookup.state} if lookup.state else set())
    states |= {d.state for d in lookup.districts}
    if district.state not in states:
        return ZipOutsideState(zip_code, district.state, district.label)
    if check_district and zip_code != lookup_zip and lookup.district(district.label) is None:
        return ZipOutsideDistrict(zip_code, district.label)
    return None


# -- how each letter travels ---------------------------------------------------------------------------

# Who carries a letter to the office. The members step promises this before the constituent sends, so
# it must match what delivery really does (see delivery/worker.py: a channel this server has not
# configured hands the letter back to the constituent).
SERVER = "server"  # this server delivers it: by e-mail (smtp) or Congress's system for messages (cwc)
ORGANIZATION = "organization"  # the organization takes it to the office with the others (office packets)
CONSTITUENT = "constituent"  # the constituent sends it, with the office's form and phone (handoff)

SERVER_CHANNELS: frozenset[str] = frozenset({"smtp", "cwc"})
ORGANIZATION_CHANNELS: frozenset[str] = frozenset({"packet"})


def carrier(channel: str, server_can_deliver: bool) -> str:
    """Return who carries a letter sent through `channel`: SERVER, ORGANIZATION or CONSTITUENT.

    `server_can_deliver` says whether this server is configured to deliver the channel to that member;
    it matters only for the server's own channels. Anything unknown is the constituent's to send: the
    honest answer when no one else will.
    """
    if channel in ORGANIZATION_CHANNELS:
        return ORGANIZATION
    if channel in SERVER_CHANNELS and server_can_deliver:
        return SERVER
    return CONSTITUENT


@dataclass(frozen=True)
class Route:
    """How one member's letter travels: the campaign's channel and who carries it."""

    member: Member
    channel: str
    carrier: str

    @property
    def delivered_for_them(self) -> bool:
        """Return True when someone other than the constituent takes the letter to the office."""
        return self.carrier != CONSTITUENT


def routes(campaign: Campaign, members: Sequence[Member],
           server_can_deliver: Callable[[str, Member], bool]) -> tuple[Route, ...]:
    """Return how each member's letter travels, from the campaign's channels and the server's abilities."""
    found = []
    for member in members:
        channel = campaign.channel_for(member.chamber)
        found.append(Route(member, channel, carrier(channel, server_can_deliver(channel, member))))
    return tuple(found)


def all_delivered_for_them(found: Sequence[Route]) -> bool:
    """Return True when every letter reaches its office without the constituent carrying it."""
    return bool(found) and all(route.delivered_for_them for route in found)


# -- placeholders ------------------------------------------------------------------------------------

@cache
def _catalog(lang: str) -> support.NullTranslations:
    """Return the interface's translations in `lang` (the catalog Flask-Babel reads), loaded once."""
    return support.Translations.load(str(resources.files("actiontool") / "translations"), [lang])


def placeholder(state: str, lang: str) -> Constituent:
    """Return the stand-in constituent that previews show before the form is filled, in interface `lang`."""
    _ = _catalog(lang).ugettext
    return Constituent(first_name=_("[first name]"), last_name=_("[last name]"), city=_("[city]"),
                       state=state)


def placeholders_in_every_language(state: str) -> list[Constituent]:
    """Return the stand-in constituent in each interface language (the form may have been shown in any)."""
    return [placeholder(state, code) for code in LANGUAGES]


def fill_placeholders(text: str, constituent: Constituent, state: str) -> str:
    """Replace the preview's placeholders left in an edited letter with the constituent's details."""
    for blank in placeholders_in_every_language(state):
        for stand_in, value in ((blank.first_name, constituent.first_name),
                                (blank.last_name, constituent.last_name), (blank.city, constituent.city)):
            text = text.replace(stand_in, value)
    return text


# -- the letters ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FormValues:
    """The compose form's values once parsed: blank strings for what the constituent left empty."""

    first_name: str = ""
    last_name: str = ""
    email: str = ""
    address1: str = ""
    city: str = ""
    zip: str = ""
    prefix: str = ""
    phone: str = ""
    personal_message: str = ""
    letter: str | None = None  # the letter box as sent; None when there is none (not editable, not sent yet)
    # letters.text_digest of the suggested text as the form last showed it ("" when it showed an edit): a
    # box sent back as shown is no edit, whatever details were typed since. Forging it only makes the
    # letter the suggested one again.
    shown_digest: str = ""
    wants_receipt: bool = False
    ref: str | None = None
    basis: str | None = None  # how the page decided the district (see district_basis)


def is_control(char: str) -> bool:
    """Return True for a control character (NUL, CR, LF, DEL, C1) or a Unicode line/paragraph separator."""
    return unicodedata.category(char) in ("Cc", "Zl", "Zp")


def one_line(value: str) -> str:
    """Return `value` with every control character and line or paragraph separator made a space.

    The form refuses them already; this keeps the promise for any other caller: a detail filled into
    the organisation's words (its statement to Congress) can never start a paragraph of its own there.
    """
    return "".join(" " if is_control(char) else char for char in value)


def constituent(values: FormValues, state: str, lang: str) -> Constituent:
    """Return the constituent as the form has it, with placeholders (in interface `lang`) for blanks."""
    blank = placeholder(state, lang)
    return Constituent(
        first_name=one_line(values.first_name) or blank.first_name,
        last_name=one_line(values.last_name) or blank.last_name,
        city=one_line(values.city) or blank.city,
        state=state,
        prefix=one_line(values.prefix or ""),
    )


def shown_body(env: SandboxedEnvironment, campaign: Campaign, choice: Choice, lang: str,
               shown_to: Constituent) -> str:
    """Return the suggested text as the form shows it to `shown_to` (a constituent of placeholders)."""
    member = choice.members[0] if choice.members else letters.sample_members()[0]
    return letters.render_body(env, campaign.letter_template(lang), member=member, constituent=shown_to,
                               campaign=campaign.template_vars(lang))


def is_edited(env: SandboxedEnvironment, campaign: Campaign, choice: Choice, lang: str,
              submitted: str, sender: Constituent | None = None) -> bool:
    """Return True unless `submitted` is the suggested text as the form showed it: with the placeholders
    of any language, or filled with `sender`'s details (the page fills them in as they are typed)."""
    assert choice.district is not None
    shown_to = [*placeholders_in_every_language(choice.district.state), *([sender] if sender else [])]
    return all(letters.is_edited(submitted, shown_body(env, campaign, choice, lang, who)) for who in shown_to)


def build_letters(env: SandboxedEnvironment, campaign: Campaign, choice: Choice, lang: str,
                  sender: Constituent, edited_body: str | None) -> tuple[Letter, ...]:
    """Return each target member's letter as it will be sent."""
    subject = campaign.text(lang).subject
    template, variables = campaign.letter_template(lang), campaign.template_vars(lang)
    return tuple(letters.build_letter(env, template, lang=lang, subject=subject, member=m, constituent=sender,
                                      campaign=variables, edited_body=edited_body)
                 for m in choice.members)


@dataclass(frozen=True)
class Draft:
    """The letters one submit would send, and everything needed to send or show them again."""

    campaign: Campaign
    choice: Choice
    district: District
    lang: str  # the letters' language
    interface_lang: str
    values: FormValues
    constituent: Constituent
    letters: tuple[Letter, ...]
    edited: bool  # whether the constituent changed the suggested text

    @property
    def members(self) -> tuple[Member, ...]:
        """Return the members the letters go to."""
        return self.choice.members

    def submission(self, receipt_base_url: str | None = None) -> Submission:
        """Return what one submit writes: the constituent's details and one message per member."""
        values, campaign = self.values, self.campaign
        return Submission(
            campaign=campaign.slug,
            lang=self.interface_lang,
            ref=values.ref or None,
            state=self.district.state,
            district_label=self.district.label if campaign.targets_chamber("house") else None,
            constituent=ConstituentDetails(
                email=values.email, first_name=values.first_name, last_name=values.last_name,
                address1=values.address1, city=values.city, zip=values.zip,
                prefix=values.prefix or None, phone=values.phone or None),
            constituent_text=values.personal_message or None,
            wants_receipt_email=values.wants_receipt,
            receipt_base_url=receipt_base_url,
            district_basis=district_basis(self.choice.lookup, values.basis),
            messages=[OutgoingMessage(
                bioguide=m.bioguide, member_name=m.name, member_title=m.title, chamber=m.chamber,
                state=m.state, district=m.district, channel=campaign.channel_for(m.chamber),
                subject=letter.subject, suggested_text=letter.suggested_text, edited=letter.edited)
                for m, letter in zip(self.members, self.letters, strict=True)],
        )


def compose(env: SandboxedEnvironment, campaign: Campaign, lookup: Lookup, label: str | None,
            values: FormValues, *, lang: str, interface_lang: str) -> Draft:
    """Return the draft of `values` for the district `label` of `lookup`, or raise NoDistrict.

    `lang` is the letters' language; `interface_lang` the pages' (the placeholders' and the Submission's).
    """
    choice = choose(campaign, lookup, label)
    if choice.district is None:
        raise NoDistrict(label)
    edited_body = None
    sender = constituent(values, choice.district.state, interface_lang)
    if campaign.editable and choice.members and values.letter is not None:
        as_shown = bool(values.shown_digest) and values.shown_digest == letters.text_digest(values.letter)
        if not as_shown and is_edited(env, campaign, choice, lang, values.letter, sender):
            edited_body = values.letter
    if edited_body is not None:
        edited_body = fill_placeholders(edited_body, sender, choice.district.state)
    return Draft(campaign=campaign, choice=choice, district=choice.district, lang=lang,
                 interface_lang=interface_lang, values=values, constituent=sender,
                 letters=build_letters(env, campaign, choice, lang, sender, edited_body),
                 edited=edited_body is not None)
