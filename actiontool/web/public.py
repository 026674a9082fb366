"""The constituent's pages: campaign -> members and letter -> submit -> receipt. Every step works without
JavaScript; views parse the request, call the lookup, compose (actiontool/compose.py) or a service, and
render, turning the domain errors into messages."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any, NamedTuple

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from actiontool import geocoder as geocoding
from actiontool import letters
from actiontool.campaigns import Campaign, UnknownCampaign
from actiontool.compose import (
    NO_MATCH,
    OUTSIDE,
    SEVERAL,
    Draft,
    FormValues,
    NoDistrict,
    Route,
    ZipOutsideDistrict,
    ZipOutsideState,
    ZipProblem,
    all_delivered_for_them,
    choose,
    compose,
    district_basis,
    placeholder,
    routes,
    shown_body,
    zip_problem,
)
from actiontool.config import ConfigError
from actiontool.db import get_session
from actiontool.delivery.campaign_info import server_delivers
from actiontool.delivery.settings import DeliverySettings, from_config
from actiontool.districts.model import InvalidZip, Lookup, LookupError_, NotFound
from actiontool.registry import dataset, get_campaign, letter_environment, live_campaigns, time_zone_of
from actiontool.services import counts, receipts
from actiontool.services.submit import NothingToSend, clean_ref, submit
from actiontool.web import bots, funnel
from actiontool.web.forms import AddressForm, ComposeForm, HandedOffForm, ReceiptLinkForm
from actiontool.web.i18n import current_language
from actiontool.web.security import public_origin

bp = Blueprint("public", __name__)

ViewResult = str | Response | BaseResponse | tuple[str, int]
_GEOCODER = "actiontool.geocoder"


@bp.record_once
def _check_geocoder_settings(state: Any) -> None:
    """Refuse to start with a geocoder setting that cannot be used (a typo must not switch it off)."""
    try:
        geocoding.settings_from_config(state.app.config)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def _geocoder() -> geocoding.Geocoder | None:
    """Return the app's geocoder, None when it is off (settings read per request: tests change them)."""
    settings = geocoding.settings_from_config(current_app.config)
    held = current_app.extensions.get(_GEOCODER)
    if held is None or held[0] != settings:  # one client (and its connection pool) per settings
        held = (settings, geocoding.from_settings(settings))
        current_app.extensions[_GEOCODER] = held
    return held[1]


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


def _delivery_settings() -> DeliverySettings:
    """Return what this server is configured to deliver (read per request: tests change the config)."""
    return from_config(current_app.config)


def _can_email() -> bool:
    """Return True when this server can send e-mail (the receipt e-mail, the receipt link)."""
    return _delivery_settings().smtp.configured


def _routes(draft: Draft) -> tuple[Route, ...]:
    """Return how each of the draft's letters will travel, as this server is configured now."""
    delivers = server_delivers(draft.campaign, _delivery_settings())
    return routes(draft.campaign, draft.members, lambda channel, m: delivers(channel, m.chamber, m.bioguide))


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
    page = _campaign_page(_public_campaign(slug))
    funnel.count(funnel.VIEWS, slug)
    return page


def _lookup_or_error(campaign: Campaign, zip_text: str) -> Lookup | tuple[str, int]:
    """Return the lookup of `zip_text`, or the campaign page with a clear message and the input kept."""
    if not zip_text.strip():
        return _campaign_page(campaign, zip_error=_("Enter your ZIP code."), status=422)
    try:
        lookup = dataset().lookup(zip_text)
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


class _Opened(NamedTuple):
    """An open campaign with a good ZIP's lookup."""

    campaign: Campaign
    lookup: Lookup
    zip_code: str


def _open_lookup(slug: str, zip_text: str) -> _Opened | ViewResult:
    """Return (campaign, lookup, five-digit ZIP) for an open campaign, or the answer that stops here
    (the campaign page for a closed campaign, the ZIP form with its message for a bad ZIP)."""
    campaign = _public_campaign(slug)
    if not campaign.is_open:
        return redirect(url_for("public.campaign", slug=slug, ref=_ref()), code=303)
    lookup = _lookup_or_error(campaign, zip_text)
    if not isinstance(lookup, Lookup):
        return lookup
    return _Opened(campaign, lookup, lookup.query.get("zip", zip_text.strip()))


@bp.get("/c/<slug>/members")
def members(slug: str) -> ViewResult:
    """Show the members for a ZIP (or the district step an ambiguous ZIP needs) and the letter form."""
    opened = _open_lookup(slug, request.args.get("zip", ""))
    if not isinstance(opened, _Opened):
        return opened
    campaign, lookup, zip_code = opened
    if "district" not in request.args:  # a district chosen on the next page is the same lookup
        funnel.count(funnel.LOOKUPS, slug)
    choice = choose(campaign, lookup, request.args.get("district"))
    if choice.district is None:
        return _choose_page(campaign, lookup, zip_code, bad_choice=bool(request.args.get("district")))
    # Only the page's own words: "address" is decided by the geocoder (district_by_address), never a link.
    asked = request.args.get("basis")
    return _members_page(campaign, lookup, choice.district.label, zip_code,
                         basis=asked if asked in ("location", "choice") else None)


@bp.post("/c/<slug>/members/address")
def district_by_address(slug: str) -> ViewResult:
    """Find a split ZIP's district from the street address; fall back to the choice with a sentence.

    A POST, so the address stays out of URLs and access logs. The geocoder's answer counts only when it
    is one of the ZIP's candidates; the street typed here fills the letter form.
    """
    opened = _open_lookup(slug, request.form.get("zip", ""))
    if not isinstance(opened, _Opened):
        return opened
    campaign, lookup, zip_code = opened
    geocoder = _geocoder()
    if geocoder is None or len(lookup.districts) < 2:  # nothing to decide here: the usual step
        return redirect(url_for("public.members", slug=slug, zip=zip_code, ref=_ref()), code=303)
    form = AddressForm()
    if not form.validate():
        return _choose_page(campaign, lookup, zip_code, address_form=form, status=422)
    street = form.address1.data or ""
    answer = geocoding.resolve(geocoder, lookup, street)
    if answer.district is None:
        return _choose_page(campaign, lookup, zip_code, address_form=form,
                            address_note=_address_note(answer.outcome, zip_code))
    return _members_page(campaign, lookup, answer.district.label, zip_code, basis="address",
                         address1=street, city=lookup.city or "")


def _address_note(outcome: str, zip_code: str) -> str:
    """Return the plain sentence shown when the address did not settle the district."""
    if outcome == NO_MATCH:
        return _("We could not find that street address in ZIP code %(zip)s. Check it, or choose your "
                 "district below.", zip=zip_code)
    if outcome == SEVERAL:
        return _("That address matches places in more than one district. Choose your district below.")
    if outcome == OUTSIDE:
        return _("That address is not in one of the districts of ZIP code %(zip)s. Check the address and "
                 "the ZIP code, or choose your district below.", zip=zip_code)
    return _("We could not look up your address just now. Choose your district below.")


def _choose_page(campaign: Campaign, lookup: Lookup, zip_code: str, *, bad_choice: bool = False,
                 address_form: AddressForm | None = None, address_note: str | None = None,
                 status: int = 200) -> tuple[str, int]:
    """Return the district step: the street address first (when the geocoder is on), then the choice."""
    geocoder_on = _geocoder() is not None
    form = address_form if address_form is not None else AddressForm(formdata=None)
    return render_template("pages/choose.html", campaign=campaign, text=campaign.text(current_language()),
                           lookup=lookup, zip=zip_code, ref=_ref(), bad_choice=bad_choice,
                           geocoder_on=geocoder_on, address_form=form, address_note=address_note,
                           errors=form.error_list()), status


def _members_page(campaign: Campaign, lookup: Lookup, label: str, zip_code: str, *, basis: str | None,
                  address1: str = "", city: str = "") -> ViewResult:
    """Return the members step for the district `label` of the looked-up ZIP, with the letter form."""
    asked = request.args.get("letter", "")
    lang = asked if asked in campaign.letters else campaign.letter_lang(current_language())
    form = ComposeForm(formdata=None).for_campaign(campaign)
    form.zip.data = zip_code
    form.district.data = label
    form.basis.data = district_basis(lookup, basis)
    carries_street = form.address1 is not None  # None: a field the campaign does not ask for (for_campaign)
    if carries_street:  # otherwise the address served only to find the district
        form.address1.data = address1
    form.city.data = city
    form.letter_lang.data = lang
    form.ref.data = _ref() or ""
    known = FormValues(address1=address1 if carries_street else "", city=city, zip=zip_code)
    draft = compose(letter_environment(), campaign, lookup, label, known, lang=lang,
                    interface_lang=current_language())
    page = _compose_page(draft, form, lookup_zip=zip_code)
    if "letter" not in request.args:  # switching the letter's language shows the same form again
        funnel.count(funnel.FORMS, campaign.slug)
    return page


def _compose_page(draft: Draft, form: ComposeForm, *, lookup_zip: str, status: int = 200,
                  previewed: bool = False) -> tuple[str, int]:
    """Return the members step: the members, the letter once (editable) and each member's letter folded.

    An unedited letter is shown filled with the details typed so far (placeholders for the rest), and
    `template` keeps it with placeholders, for the page's script to fill as the person types.
    """
    campaign, district = draft.campaign, draft.district
    personal = form.personal_message.data or None
    found = _routes(draft)
    can_email = _can_email()
    if not can_email:
        del form.wants_receipt  # nothing could send it: do not offer it
    template = ""
    if campaign.editable and draft.members:
        env = letter_environment()
        blank = placeholder(district.state, draft.interface_lang)
        template = shown_body(env, campaign, draft.choice, draft.lang, blank)
        if not draft.edited:
            form.suggested_text.data = template if draft.constituent == blank else shown_body(
                env, campaign, draft.choice, draft.lang, draft.constituent)
            form.shown.data = letters.text_digest(form.suggested_text.data)
        else:
            form.shown.data = ""
    return render_template(
        "pages/members.html", campaign=campaign, text=campaign.text(current_language()), choice=draft.choice,
        routes=found, all_delivered=all_delivered_for_them(found), can_email=can_email,
        form=form, letters=draft.letters, personal=personal, template=template,
        placeholders=placeholder(district.state, draft.interface_lang), previewed=previewed,
        lookup_zip=lookup_zip, ref=form.ref.data or None, errors=form.error_list(), letter_lang=draft.lang,
        switch_base=url_for("public.members", slug=campaign.slug, zip=lookup_zip,
                            district=district.label, ref=form.ref.data or None),
        send_url=url_for("public.send", slug=campaign.slug),
    ), status


def _asked(form: ComposeForm, name: str) -> str:
    """Return a field's value, or "" for a field this campaign does not ask for (never read, never stored)."""
    field = getattr(form, name, None)
    return (field.data or "") if field is not None else ""


def _values(form: ComposeForm) -> FormValues:
    """Return the compose form's values (after validation) as a plain value."""
    letter_box = form.suggested_text  # None when the campaign's letter is not editable
    return FormValues(
        first_name=form.first_name.data or "", last_name=form.last_name.data or "",
        email=form.email.data or "", address1=_asked(form, "address1"), city=form.city.data or "",
        zip=form.zip.data or "", prefix=_asked(form, "prefix"), phone=_asked(form, "phone"),
        personal_message=form.personal_message.data or "",
        letter=None if letter_box is None else letter_box.data or "",
        shown_digest=form.shown.data or "",
        wants_receipt=bool(form.wants_receipt.data), ref=form.ref.data or None,
        basis=form.basis.data or None,
    )


def _switch_letter_language(draft: Draft, form: ComposeForm, asked: str) -> Draft:
    """Return the draft in the letter language a "letter:<code>" button asked for, keeping what was typed.

    An unedited letter becomes the suggested one in the new language; an edited one stays as written.
    """
    code = asked.removeprefix("letter:") if asked.startswith("letter:") else ""
    if code not in draft.campaign.letters or code == draft.lang:
        return draft
    values = draft.values if draft.edited else replace(draft.values, letter=None, shown_digest="")
    form.letter_lang.data = code
    return compose(letter_environment(), draft.campaign, draft.choice.lookup, draft.district.label, values,
                   lang=code, interface_lang=draft.interface_lang)


def _check_zip(form: ComposeForm, draft: Draft, lookup_zip: str) -> None:
    """Add a ZIP error unless the (well-formed) ZIP exists, lies in the chosen district's state and, when
    the campaign writes to the House, reaches the district itself (or is the ZIP it was looked up by)."""
    if form.zip.errors or not form.zip.data:
        return
    problem = zip_problem(form.zip.data, draft.district, dataset().lookup, lookup_zip=lookup_zip,
                          check_district=draft.campaign.targets_chamber("house"))
    if problem is not None:
        form.zip.errors = [*form.zip.errors, _zip_message(problem)]


def _zip_message(problem: ZipProblem) -> str:
    """Return the error shown under the ZIP field for `problem`."""
    if isinstance(problem, ZipOutsideState):
        return _(
            "ZIP code %(zip)s is not in %(state)s, where your district %(label)s is. Check your ZIP code.",
            zip=problem.zip, state=problem.state, label=problem.label)
    if isinstance(problem, ZipOutsideDistrict):
        return _("ZIP code %(zip)s is not in your district %(label)s. Check your ZIP code, or go back and "
                 "change your district.", zip=problem.zip, label=problem.label)
    return _("We could not find ZIP code %(zip)s. Check it and try again.", zip=problem.zip)


def _forged_district(campaign: Campaign, lookup: Lookup, form: ComposeForm, lookup_zip: str
                     ) -> ViewResult | None:
    """Answer a district that is not one of the looked-up ZIP's (tampered or stale); None when it is.

    A split ZIP asks again, with a sentence; a ZIP with one district shows the form again with an error.
    Nothing is written either way.
    """
    label = form.district.data or ""
    if lookup.district(label) is not None or (not label and len(lookup.districts) == 1):
        return None
    message = _("The district sent is not one of the districts of ZIP code %(zip)s. Choose one of the "
                "districts below.", zip=lookup_zip)
    if len(lookup.districts) != 1:
        return _choose_page(campaign, lookup, lookup_zip, bad_choice=True, address_note=message, status=422)
    form.district.data = lookup.districts[0].label
    form.district.errors = [_("The district sent is not the district of ZIP code %(zip)s, %(label)s. "
                              "Check your details and send the form again.",
                              zip=lookup_zip, label=lookup.districts[0].label)]
    return None


@bp.post("/c/<slug>/send")
def send(slug: str) -> ViewResult:
    """Validate the letter form; write the action and its messages; redirect to the receipt."""
    campaign = _public_campaign(slug)
    if not campaign.is_open:
        return redirect(url_for("public.campaign", slug=slug), code=303)
    # "preview" is every button that shows the form again: Update preview, the language switches.
    previewing = "preview" in request.form
    reason = None if previewing else bots.bot_reason(request.form)
    if reason:  # answered like a success; writes no action or message, counted apart (web/bots.py)
        return bots.answer_bot(campaign.slug, campaign.text(current_language()).title, reason)
    form = ComposeForm().for_campaign(campaign)
    form.ref.data = clean_ref(form.ref.data) or ""
    lang = form.letter_lang.data or campaign.letter_lang(current_language())
    lookup_zip = request.form.get("lookup_zip", "")
    try:
        lookup = dataset().lookup(lookup_zip)
    except LookupError_:
        return redirect(url_for("public.campaign", slug=slug, ref=form.ref.data or None), code=303)
    lookup_zip = str(lookup.query.get("zip", lookup_zip))
    valid = form.validate()
    forged = _forged_district(campaign, lookup, form, lookup_zip)
    if forged is not None:
        return forged
    try:
        draft = compose(letter_environment(), campaign, lookup, form.district.data, _values(form), lang=lang,
                        interface_lang=current_language())
    except NoDistrict:  # unreachable after _forged_district; kept so compose's contract is honoured
        return redirect(url_for("public.members", slug=slug, zip=lookup_zip, ref=form.ref.data or None),
                        code=303)
    _check_zip(form, draft, lookup_zip)
    if previewing:
        # A preview answers only with this page's own token: another site cannot have us render for it.
        # The constituent's words come back with a fresh token, so pressing the button again works.
        refused = _csrf_failed(form)
        _clear_errors(form, keep_csrf=refused)
        if refused:  # the letters as they stand before any details: nothing posted is rendered into them
            draft = compose(letter_environment(), campaign, lookup, form.district.data, FormValues(),
                            lang=lang, interface_lang=current_language())
        else:
            draft = _switch_letter_language(draft, form, request.form.get("preview", ""))
        return _compose_page(draft, form, lookup_zip=lookup_zip, status=400 if refused else 200,
                             previewed=True)
    if not valid or form.zip.errors or form.district.errors:
        return _compose_page(draft, form, lookup_zip=lookup_zip, status=422)
    try:
        result = submit(get_session(), draft.submission(receipt_base_url=public_origin()),
                        time_zone=time_zone_of(campaign.slug))
    except NothingToSend:
        return _compose_page(draft, form, lookup_zip=lookup_zip, status=422)
    if result.created:
        _remember_receipt(result.receipt_token)
    elif _receipt_digest(result.receipt_token) not in session.get(_RECEIPTS_KEY, []):
        # A repeat from another browser: the earlier receipt holds that person's name and address, and
        # knowing an e-mail address must not be enough to open it.
        return _already_sent(campaign, draft.values.email)
    return redirect(url_for("public.receipt", token=result.receipt_token), code=303)


def _already_sent(campaign: Campaign, email: str, *, link_sent: bool = False) -> str:
    """Return the page for a repeat from another browser, offering the receipt link by e-mail."""
    form = ReceiptLinkForm(formdata=None)
    form.email.data = email
    return render_template("pages/already_sent.html", campaign=campaign, form=form, link_sent=link_sent,
                           text=campaign.text(current_language()), can_email=_can_email())


@bp.post("/c/<slug>/receipt-link")
def receipt_link(slug: str) -> ViewResult:
    """E-mail the receipt link again, only to the address that wrote (rate-limited in web/limits.py)."""
    campaign = _public_campaign(slug)
    form = ReceiptLinkForm()
    if not _can_email():
        abort(404)
    if not form.validate():
        abort(400, description=_("Your session expired. Reload the page and try again."))
    email = form.email.data or ""
    # The same answer whether or not the address wrote: the page must not tell who took part.
    receipts.send_link_again(get_session(), campaign.slug, email, request.url_root.rstrip("/"))
    return _already_sent(campaign, email, link_sent=True)


_RECEIPTS_KEY = "receipts"
_RECEIPTS_KEPT = 10


def _receipt_digest(token: str) -> str:
    """Return what the session keeps of a receipt token: a digest, since the signed cookie is readable."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def _remember_receipt(token: str) -> None:
    """Remember in this browser's session the receipts it created, so a repeat can be sent back to them."""
    digest = _receipt_digest(token)
    kept = [t for t in session.get(_RECEIPTS_KEY, []) if t != digest]
    session[_RECEIPTS_KEY] = (kept + [digest])[-_RECEIPTS_KEPT:]


def _csrf_failed(form: ComposeForm) -> bool:
    """Return True when the form was validated and its CSRF token was missing, expired or wrong."""
    token = getattr(form, "csrf_token", None)  # absent only when CSRF is switched off (some tests)
    return token is not None and bool(token.errors)


def _clear_errors(form: ComposeForm, *, keep_csrf: bool = False) -> None:
    """Forget validation errors: a preview shows the letter, not complaints about blank fields."""
    for field in form:
        if keep_csrf and field.type == "CSRFTokenField":
            continue
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
    data = dataset()
    rows = [(m, data.member(m.bioguide),
             letters.full_text(m.suggested_text, m.constituent_text) if m.suggested_text else None)
            for m in action.messages]
    share = url_for("public.campaign", slug=action.campaign, ref=action.ref, _external=True)
    return render_template("pages/receipt.html", action=action, campaign=campaign, rows=rows, share_url=share,
                           text=campaign.text(current_language()) if campaign else None,
                           progress=receipts.progress(action.messages), form=HandedOffForm(),
                           is_left_office=receipts.is_left_office,
                           sent=request.args.get("sent"), undone=request.args.get("undone"))


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


@bp.post("/r/<token>/unsent/<message_id>")
def undo_handed_off(token: str, message_id: str) -> ViewResult:
    """Take back an "I sent it": the letter waits for the constituent again."""
    form = HandedOffForm()
    if not form.validate():
        abort(400, description=_("Your session expired. Reload the page and try again."))
    try:
        receipts.undo_handed_off(get_session(), token, message_id)
    except receipts.ReceiptNotFound:
        abort(404)
    except receipts.NotHandOff:
        pass  # nothing to take back: the receipt shows the message's real status
    return redirect(url_for("public.receipt", token=token, undone=message_id) + f"#m-{message_id}", code=303)
