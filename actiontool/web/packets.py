"""Organizer pages for office packets under /organizer/c/<slug>/offices: letters waiting per member, making
packets, their downloads, marking them delivered, and any member's office report.

Every route needs a signed-in organizer (the hook below, as in the dashboard). Views parse the request,
call services.packets and render; its domain errors become a flash message and a redirect, with nothing
changed. Downloads are audited as exports: packets carry constituents' names and addresses.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional

from actiontool import db, registry
from actiontool.districts.tenure import Roster
from actiontool.models import DELIVERED_HOW
from actiontool.services import organizers, packets, stats
from actiontool.timezones import local_day
from actiontool.web.i18n import format_number
from actiontool.web.organizer import words

bp = Blueprint("packets", __name__, url_prefix="/organizer")
_BIOGUIDE = re.compile(r"^[A-Z][0-9]{6}$")
_ID_MAX = 2**31 - 1  # packets.id is 32-bit on PostgreSQL: a larger number is no packet, not an error


class ButtonForm(FlaskForm):
    """A button that posts: only the CSRF token."""


class DeliveredForm(FlaskForm):
    """When and how a packet reached the office."""

    on = DateField(_l("Delivered on"), validators=[InputRequired()])
    how = SelectField(_l("How"), validators=[InputRequired()],
                      choices=[SelectChoice(h, packets.HOW_LABELS[h].capitalize()) for h in DELIVERED_HOW])
    # Its length and characters are checked by services.packets (a browser sends each line end as CR-LF).
    note = TextAreaField(_l("Note (optional)"), validators=[Optional()])


@bp.before_request
def require_sign_in() -> Any:
    """Send anyone not signed in to the sign-in form (401 for posts)."""
    if current_user.is_authenticated:
        return None
    if request.method != "GET":
        abort(401)
    return redirect(url_for("organizer.login", next=request.path))


@bp.after_request
def no_store(response: Response) -> Response:
    """Keep packet pages and downloads out of shared caches."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _campaign_or_404(slug: str) -> Any:
    """Return the campaign (None when only its counts exist); 404 for a campaign nobody knows."""
    campaign = registry.all_campaigns().get(slug)
    if campaign is None and slug not in stats.campaigns_with_counts(db.get_session()):
        abort(404, description=f"there is no campaign {slug}")
    return campaign


def _title(campaign: Any, slug: str) -> str:
    return campaign.title if campaign is not None else slug


def _now() -> datetime:
    """Return the current instant (a seam for tests)."""
    return datetime.now(UTC)


def _today() -> date:
    """Return today's UTC date: the day the district data's terms are counted on."""
    return _now().date()


def _local_today(slug: str) -> date:
    """Return today in the campaign's time zone: the day an organizer's calendar shows, for deliveries."""
    return local_day(_now(), registry.time_zone_of(slug))


def _roster() -> Roster:
    """Return who is in office today by the app's dataset."""
    data = registry.dataset()
    return Roster.from_members(data.members(), date.fromisoformat(data.info.as_of), _today())


def _organization() -> str:
    """Return the organization named on packet covers."""
    config = current_app.config
    return str(config.get("ORGANIZATION") or config.get("CWC_DELIVERY_AGENT") or request.host)


def _bioguide_or_404(bioguide: str) -> str:
    if not _BIOGUIDE.match(bioguide):
        abort(404, description=f"{bioguide!r} is not a member id")
    return bioguide


def _packet_number(raw: str) -> int:
    """Return a packet id from the URL; 404 for anything but a positive number."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or not 0 < int(raw) <= _ID_MAX:
        abort(404, description=f"there is no packet {raw}")
    return int(raw)


def _back(slug: str) -> Any:
    return redirect(url_for("packets.offices", slug=slug))


@bp.get("/c/<slug>/offices")
def offices(slug: str) -> Any:
    """Show the letters waiting per member, the packets made, and the office report chooser."""
    campaign = _campaign_or_404(slug)
    session = db.get_session()
    waiting = packets.waiting_by_member(session, slug, roster=_roster())
    made = packets.packets_of(session, slug)
    zone, today = registry.time_zone_of(slug), _local_today(slug)
    return render_template(
        "organizer/offices.html", slug=slug, title=_title(campaign, slug), waiting=waiting, packets=made,
        button=ButtonForm(), delivered_form=DeliveredForm(formdata=None, on=today), today=today,
        made_days={p.id: local_day(p.created_at, zone) for p in made},
        how_labels=words.how_labels(), left_office=packets.left_office_count(session, slug),
        report_members=_report_members(waiting, made), organization=_organization(),
        organization_named=bool(current_app.config.get("ORGANIZATION")
                                or current_app.config.get("CWC_DELIVERY_AGENT")))


def _report_members(waiting: list[packets.WaitingMember], made: list[Any],
                    limit: int = 10) -> list[tuple[str, str]]:
    """Return up to `limit` (bioguide, name) to offer office reports for: those waiting, then packets."""
    members: dict[str, str] = {}
    for bioguide, name in [(w.bioguide, w.member_name) for w in waiting] + [(p.bioguide, p.member_name)
                                                                            for p in made]:
        members.setdefault(bioguide, name)
    return list(members.items())[:limit]


@bp.post("/c/<slug>/offices/<bioguide>/packet")
def make_packet(slug: str, bioguide: str) -> Any:
    """Freeze the member's waiting letters into a packet."""
    _campaign_or_404(slug)
    _bioguide_or_404(bioguide)
    if not ButtonForm().validate_on_submit():
        abort(400, description=words.form_expired())
    try:
        packet = packets.make_packet(db.get_session(), slug, bioguide, current_user.email, roster=_roster())
    except packets.PacketError as exc:
        flash(words.packet_error(exc), "error")
    else:
        flash(ngettext("Packet %(number)s made: %(count)s letter to %(name)s.",
                       "Packet %(number)s made: %(count)s letters to %(name)s.", packet.letter_count,
                       number=packet.id, count=format_number(packet.letter_count), name=packet.member_name),
              "ok")
    return _back(slug)


@bp.post("/c/<slug>/packets/<packet_id>/delivered")
def mark_delivered(slug: str, packet_id: str) -> Any:
    """Record that the packet reached the office."""
    _campaign_or_404(slug)
    number = _packet_number(packet_id)
    form = DeliveredForm()
    if not form.validate_on_submit():
        problems = "; ".join(f"{form[name].label.text}: {', '.join(errors)}"
                             for name, errors in form.errors.items())
        flash(_("Packet %(number)s was not marked delivered. %(problem)s", number=number, problem=problems),
              "error")
        return _back(slug)
    try:
        moved = packets.mark_delivered(db.get_session(), slug, number, form.on.data, form.how.data or "",
                                       form.note.data, current_user.email, now=_now(),
                                       time_zone=registry.time_zone_of(slug))
    except packets.PacketError as exc:
        flash(words.packet_error(exc, number), "error")
    else:
        flash(ngettext("Packet %(number)s marked delivered: %(count)s letter now counts as delivered.",
                       "Packet %(number)s marked delivered: %(count)s letters now count as delivered.", moved,
                       number=number, count=format_number(moved)), "ok")
    return _back(slug)


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/c/<slug>/packets/<packet_id>.<fmt>")
def download_packet(slug: str, packet_id: str, fmt: str) -> Any:
    """Download a packet as PDF or CSV: the same frozen letters every time."""
    campaign = _campaign_or_404(slug)
    number = _packet_number(packet_id)
    if fmt not in ("pdf", "csv"):
        abort(404, description="a packet downloads as .pdf or .csv")
    session = db.get_session()
    try:
        packet = packets.get_packet(session, slug, number)
    except packets.UnknownPacket as exc:
        abort(404, description=str(exc))
    body = packets.render_packet(packet, campaign, _organization(), fmt)
    organizers.record_export(session, current_user.email, slug, f"packet {number} ({fmt}, personal data)",
                             ip=request.remote_addr)
    mimetype = "application/pdf" if fmt == "pdf" else "text/csv"
    return _download(body, mimetype, f"{slug}-packet-{number}-{packet.bioguide}.{fmt}")


@bp.get("/c/<slug>/offices/report")
def report_chooser(slug: str) -> Any:
    """Send the chooser's ?bioguide= on to that member's report."""
    _campaign_or_404(slug)
    bioguide = (request.args.get("bioguide") or "").strip().upper()
    if not _BIOGUIDE.match(bioguide):
        flash(_("Enter a member’s id like R000001 to get their office report."), "error")
        return _back(slug)
    return redirect(url_for("packets.office_report", slug=slug, bioguide=bioguide))


@bp.get("/c/<slug>/offices/<bioguide>/report.pdf")
def office_report(slug: str, bioguide: str) -> Any:
    """Download one member's office report: counts, places and own words, no contact details."""
    campaign = _campaign_or_404(slug)
    _bioguide_or_404(bioguide)
    session = db.get_session()
    summary = packets.office_report(session, slug, bioguide)
    member = registry.dataset().member(bioguide)
    if member is None and not summary.member_name:
        abort(404, description=f"{bioguide} is not in the district data and has no letters in {slug}")
    label = (packets.member_label(member.title, member.name, member.state, member.district) if member
             else summary.member_name)
    body = packets.render_office_report(summary, campaign, label, _local_today(slug))
    organizers.record_export(session, current_user.email, slug, f"office report {bioguide}",
                             ip=request.remote_addr)
    return _download(body, "application/pdf", f"{slug}-office-report-{bioguide}.pdf")
