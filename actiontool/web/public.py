"""The constituent's pages: campaign -> members and letter -> submit -> receipt. Every step works without
JavaScript; views parse the request, call the lookup or a service, and render."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from actiontool import letters
from actiontool.campaigns import Campaign, UnknownCampaign
from actiontool.db import get_session
from actiontool.districts.model import District, InvalidZip, Lookup, LookupError_, Member, NotFound
from actiontool.services import counts, receipts
from actiontool.services.submit import (
    ConstituentDetails,
    NothingToSend,
    OutgoingMessage,
    Submission,
    clean_ref,
    submit,
)
from actiontool.web import bots
from actiontool.web.campaigns import get_campaign, letter_environment, live_campaigns
from actiontool.web.forms import ComposeForm, HandedOffForm
from actiontool.web.i18n import LANGUAGES, current_language

bp = Blueprint("public", __name__)

ViewResult = str | Response | BaseResponse | tuple[str, int]


def _dataset() -> Any:
    """Return the lookup dataset (a seam: tests put a tiny dataset here)."""
    from actiontool.web.deps import dataset

    return dataset()


def _public_campaign(slug: str) -> Campaign:
    """Return a live or closed campaign, or answer 404 (drafts are not public)."""
    try:
        campaign = get_campaign(slug)
    except UnknownCampaign:
        abort(404)
    if not campaign.is_public:
        abort(404)
    return campaign


def _ref() -> str | None:
    return clean_ref(request.values.get("ref"))


@dataclass(frozen=True)
class Choice:
    """What the members step knows: the lookup, the chosen district (if any), and the target members."""

    lookup: Lookup
    district: District | None
    members: tuple[Member, ...]
    vacant: tuple[District, ...]


def _choose(campaign: Campaign, lookup: Lookup, label: str | None) -> Choice:
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
        members.extend(s for s in lookup.senators if s.state == district.state)
    return Choice(lookup, district, tuple(members), tuple(vacant))


def _placeholder(state: str) -> letters.Constituent:
    """Return the stand-in constituent that previews show before the form is filled."""
    return letters.Constituent(first_name=_("[first name]"), last_name=_("[last name]"), city=_("[city]"),
                               state=state)


def _placeholders_in_every_language(state: str) -> list[letters.Constituent]:
    """Return the stand-in constituent in each interface language (the form may have been shown in any)."""
    found = []
    for code in LANGUAGES:
        with force_locale(code):
            found.append(_placeholder(state))
    return found


def _constituent(form: ComposeForm, state: str) -> letters.Constituent:
    """Return the constituent as the form has it, with placeholders for what is still blank."""
    blank = _placeholder(state)
    return letters.Constituent(
        first_name=form.first_name.data or blank.first_name,
        last_name=form.last_name.data or blank.last_name,
        city=form.city.data or blank.city,
        state=state,
        prefix=form.prefix.data or "",
    )


def _fill_placeholders(text: str, constituent: letters.Constituent, state: str) -> str:
    """Replace the preview's placeholders left in an edited letter with the constituent's details."""
    for blank in _placeholders_in_every_language(state):
        for placeholder, value in ((blank.first_name, constituent.first_name),
                                   (blank.last_name, constituent.last_name), (blank.city, constituent.city)):
            text = text.replace(placeholder, value)
    return text


def _shown_body(campaign: Campaign, choice: Choice, lang: str,
                constituent: letters.Constituent | None = None) -> str:
    """Return the suggested text as the form first shows it (rendered with placeholders)."""
    assert choice.district is not None
    member = choice.members[0] if choice.members else letters.sample_members()[0]
    return letters.render_body(letter_environment(), campaign.letter_template(lang), member=member,
                               constituent=constituent or _placeholder(choice.district.state),
                               campaign=campaign.template_vars(lang))


def _is_edited(campaign: Campaign, choice: Choice, lang: str, submitted: str) -> bool:
    """Return True unless `submitted` is the suggested text as the form showed it (in any language)."""
    assert choice.district is not None
    return all(letters.is_edited(submitted, _shown_body(campaign, choice, lang, blank))
               for blank in _placeholders_in_every_language(choice.district.state))


def _letters(campaign: Campaign, choice: Choice, lang: str, constituent: letters.Constituent,
             edited_body: str | None) -> list[letters.Letter]:
    """Return each target member's letter as it will be sent."""
    env = letter_environment()
    subject = campaign.text(lang).subject
    return [letters.build_letter(env, campaign.letter_template(lang), lang=lang, subject=subject, member=m,
                                 constituent=constituent, campaign=campaign.template_vars(lang),
                                 edited_body=edited_body)
            for m in choice.members]


# -- pages --------------------------------------------------------------------------------------------

@bp.get("/")
def index() -> ViewResult:
    """List the live campaigns, or go straight to the only one."""
    live = live_campaigns()
    if len(live) == 1:
        return redirect(url_for("public.campaign", slug=live[0].slug, ref=_ref()))
    return render_template("pages/index.html", campaigns=live, ref=_ref())


def _campaign_page(campaign: Campaign, *, zip_value: str = "", zip_error: str | None = None,
                   status: int = 200) -> tuple[str, int]:
    count = counts.shown_count(get_session(), campaign.slug, campaign.counter.show)
    return render_template("pages/campaign.html", campaign=campaign, text=campaign.text(current_language()),
                           count=count, ref=_ref(), zip_value=zip_value, zip_error=zip_error), status


@bp.get("/c/<slug>")
def campaign(slug: str) -> ViewResult:
    """Show the campaign: title, ask, background, the counter and the ZIP form."""
    return _campaign_page(_public_campaign(slug))


def _lookup_or_error(campaign: Campaign, zip_text: str) -> Lookup | tuple[str, int]:
    """Return the lookup of `zip_text`, or the campaign page with a clear message and the input kept."""
    if not zip_text.strip():
        return _campaign_page(campaign, zip_error=_("Enter your ZIP code."), status=422)
    try:
        lookup = _dataset().lookup(zip_text)
    except InvalidZip:
        return _campaign_page(campaign, zip_value=zip_text, status=422,
                              zip_error=_("Enter a five-digit ZIP code, such as 53703."))
    except NotFound:
        return _campaign_page(campaign, zip_value=zip_text, status=422, zip_error=_(
            "We could not find ZIP code %(zip)s. Check it and try again.", zip=zip_text.strip()))
    if not lookup.districts:
        return _campaign_page(campaign, zip_value=zip_text, status=422, zip_error=_(
            "We could not find ZIP code %(zip)s. Check it and try again.", zip=zip_text.strip()))
    return lookup


@bp.get("/c/<slug>/members")
def members(slug: str) -> ViewResult:
    """Show the members for a ZIP (or the district choice an ambiguous ZIP needs) and the letter form."""
    campaign = _public_campaign(slug)
    if not campaign.is_open:
        return redirect(url_for("public.campaign", slug=slug, ref=_ref()), code=303)
    zip_text = request.args.get("zip", "")
    lookup = _lookup_or_error(campaign, zip_text)
    if not isinstance(lookup, Lookup):
        return lookup
    choice = _choose(campaign, lookup, request.args.get("district"))
    if choice.district is None:
        return render_template("pages/choose.html", campaign=campaign, text=campaign.text(current_language()),
                               lookup=lookup, zip=lookup.query.get("zip", zip_text.strip()), ref=_ref(),
                               bad_choice=bool(request.args.get("district")))
    asked = request.args.get("letter", "")
    lang = asked if asked in campaign.letters else campaign.letter_lang(current_language())
    form = ComposeForm(formdata=None).for_campaign(campaign)
    form.zip.data = lookup.query.get("zip", zip_text.strip())
    form.district.data = choice.district.label
    form.letter_lang.data = lang
    form.ref.data = _ref() or ""
    if campaign.editable and choice.members:
        form.suggested_text.data = _shown_body(campaign, choice, lang)
    return _compose_page(campaign, choice, form, lang, lookup_zip=form.zip.data)


def _compose_page(campaign: Campaign, choice: Choice, form: ComposeForm, lang: str, *, lookup_zip: str,
                  status: int = 200, edited_body: str | None = None) -> tuple[str, int]:
    assert choice.district is not None
    constituent = _constituent(form, choice.district.state)
    previews = _letters(campaign, choice, lang, constituent, edited_body)
    personal = form.personal_message.data or None
    return render_template(
        "pages/members.html", campaign=campaign, text=campaign.text(current_language()), choice=choice,
        form=form, previews=[(letter, letter.text(personal)) for letter in previews],
        lookup_zip=lookup_zip, ref=form.ref.data or None, errors=form.error_list(), letter_lang=lang,
        switch_base=url_for("public.members", slug=campaign.slug, zip=lookup_zip,
                            district=choice.district.label, ref=form.ref.data or None),
        letter_links=[(code, url_for("public.members", slug=campaign.slug, zip=lookup_zip,
                                     district=choice.district.label, ref=form.ref.data or None, letter=code))
                      for code in campaign.letters] if len(campaign.letters) > 1 else [],
    ), status


@bp.post("/c/<slug>/send")
def send(slug: str) -> ViewResult:
    """Validate the letter form; write the action and its messages; redirect to the receipt."""
    campaign = _public_campaign(slug)
    if not campaign.is_open:
        return redirect(url_for("public.campaign", slug=slug), code=303)
    reason = None if "preview" in request.form else bots.bot_reason(request.form)
    if reason:  # answered like a success; writes no action or message, counted apart (web/bots.py)
        return bots.answer_bot(campaign.slug, campaign.text(current_language()).title, reason)
    form = ComposeForm().for_campaign(campaign)
    form.ref.data = clean_ref(form.ref.data) or ""
    lang = form.letter_lang.data or campaign.letter_lang(current_language())
    lookup_zip = request.form.get("lookup_zip", "")
    try:
        lookup = _dataset().lookup(lookup_zip)
    except LookupError_:
        return redirect(url_for("public.campaign", slug=slug, ref=form.ref.data or None), code=303)
    choice = _choose(campaign, lookup, form.district.data)
    if choice.district is None:  # a tampered or stale district: ask again
        return redirect(url_for("public.members", slug=slug, zip=lookup_zip, ref=form.ref.data or None),
                        code=303)

    valid = form.validate()
    if not form.zip.errors and form.zip.data:
        _check_zip_state(form, choice.district)
    if campaign.editable and choice.members:
        submitted = form.suggested_text.data or ""
        edited_body = submitted if _is_edited(campaign, choice, lang, submitted) else None
    else:
        edited_body = None
    constituent = _constituent(form, choice.district.state)
    if edited_body is not None:
        edited_body = _fill_placeholders(edited_body, constituent, choice.district.state)

    if "preview" in request.form or not valid or form.zip.errors:
        if "preview" in request.form:
            _clear_errors(form)
        status = 200 if "preview" in request.form else 422
        return _compose_page(campaign, choice, form, lang, lookup_zip=lookup_zip, status=status,
                             edited_body=edited_body)

    built = _letters(campaign, choice, lang, constituent, edited_body)
    submission = _submission(campaign, choice, form, built)
    try:
        result = submit(get_session(), submission)
    except NothingToSend:
        return _compose_page(campaign, choice, form, lang, lookup_zip=lookup_zip, status=422)
    if result.created:
        _remember_receipt(result.receipt_token)
    elif result.receipt_token not in session.get(_RECEIPTS_KEY, []):
        # A repeat from another browser: the earlier receipt holds that person's name and address, and
        # knowing an e-mail address must not be enough to open it.
        return render_template("pages/already_sent.html", campaign=campaign,
                               text=campaign.text(current_language()))
    return redirect(url_for("public.receipt", token=result.receipt_token), code=303)


_RECEIPTS_KEY = "receipts"
_RECEIPTS_KEPT = 10


def _remember_receipt(token: str) -> None:
    """Remember in this browser's session the receipts it created, so a repeat can be sent back to them."""
    kept = [t for t in session.get(_RECEIPTS_KEY, []) if t != token]
    session[_RECEIPTS_KEY] = (kept + [token])[-_RECEIPTS_KEPT:]


def _submission(campaign: Campaign, choice: Choice, form: ComposeForm,
                built: list[letters.Letter]) -> Submission:
    """Return what one submit writes: the constituent's details and one message per member."""
    assert choice.district is not None
    return Submission(
        campaign=campaign.slug,
        lang=current_language(),
        ref=form.ref.data or None,
        state=choice.district.state,
        district_label=choice.district.label if campaign.targets_chamber("house") else None,
        constituent=ConstituentDetails(
            email=form.email.data, first_name=form.first_name.data, last_name=form.last_name.data,
            address1=form.address1.data, city=form.city.data, zip=form.zip.data,
            prefix=form.prefix.data or None, phone=form.phone.data or None),
        constituent_text=form.personal_message.data or None,
        wants_receipt_email=bool(form.wants_receipt.data),
        receipt_base_url=request.url_root.rstrip("/"),
        messages=[OutgoingMessage(
            bioguide=m.bioguide, member_name=m.name, member_title=m.title, chamber=m.chamber, state=m.state,
            district=m.district, channel=campaign.channel_for(m.chamber), subject=letter.subject,
            suggested_text=letter.suggested_text, edited=letter.edited)
            for m, letter in zip(choice.members, built, strict=True)],
    )


def _check_zip_state(form: ComposeForm, district: District) -> None:
    """Add a ZIP error unless the ZIP exists and lies in the chosen district's state."""
    try:
        lookup = _dataset().lookup(form.zip.data)
    except LookupError_:
        form.zip.errors = [*form.zip.errors, _("We could not find ZIP code %(zip)s. Check it and try again.",
                                              zip=form.zip.data)]
        return
    states = set(lookup.states) | ({lookup.state} if lookup.state else set())
    states |= {d.state for d in lookup.districts}
    if district.state not in states:
        form.zip.errors = [*form.zip.errors, _(
            "ZIP code %(zip)s is not in %(state)s, where your district %(label)s is. Check your ZIP code.",
            zip=form.zip.data, state=district.state, label=district.label)]


def _clear_errors(form: ComposeForm) -> None:
    """Forget validation errors: a preview shows the letter, not complaints about blank fields."""
    for field in form:
        field.errors = []
    form.form_errors = []


@bp.get("/r/<token>")
def receipt(token: str) -> ViewResult:
    """Show the receipt: every message, its status, and what the constituent can do next."""
    try:
        action = receipts.get_receipt(get_session(), token)
    except receipts.ReceiptNotFound:
        abort(404)
    try:
        campaign: Campaign | None = get_campaign(action.campaign)
    except UnknownCampaign:
        campaign = None
    dataset = _dataset()
    rows = [(m, dataset.member(m.bioguide),
             letters.full_text(m.suggested_text, m.constituent_text) if m.suggested_text else None)
            for m in action.messages]
    share = url_for("public.campaign", slug=action.campaign, ref=action.ref, _external=True)
    return render_template("pages/receipt.html", action=action, campaign=campaign, rows=rows, share_url=share,
                           text=campaign.text(current_language()) if campaign else None,
                           form=HandedOffForm(), sent=request.args.get("sent"))


@bp.post("/r/<token>/sent/<message_id>")
def handed_off(token: str, message_id: str) -> ViewResult:
    """Record that the constituent sent a hand-off message themselves."""
    form = HandedOffForm()
    if not form.validate():
        abort(400, description=_("Your session expired. Reload the page and try again."))
    try:
        receipts.mark_handed_off(get_session(), token, message_id)
    except receipts.ReceiptNotFound:
        abort(404)
    except receipts.NotHandOff:
        pass  # nothing to record: the receipt shows the message's real status
    return redirect(url_for("public.receipt", token=token, sent=message_id) + f"#m-{message_id}", code=303)
