"""What the organizer pages say in the reader's language that the services say in English: channel and
audit-event names, the fixed delivery reasons, and the services' refusals (packets, retries, sign-in).

The services keep English (the command line and the audit log use it); their exceptions carry the parts of
each message (`details`), so a page can say it in Spanish too. A message not known here is shown as the
service wrote it, marked as English for screen readers.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from markupsafe import Markup, escape

from actiontool.delivery.smtp import NO_SMTPUTF8
from actiontool.models import LEFT_OFFICE
from actiontool.services import organizers, packets, retries
from actiontool.web.i18n import current_language, format_number


def channel_labels() -> dict[str, str]:
    """Return the delivery channels' names (campaigns.CHANNELS) in the page's language."""
    return {"handoff": _("hand-off"), "smtp": _("e-mail"), "cwc": _("CWC"), "packet": _("office packet")}


def party_names() -> dict[str, str]:
    """Return the parties' names (as the district data writes them) in the page's language."""
    return {"Democrat": _("Democrat"), "Republican": _("Republican"), "Independent": _("Independent")}


def how_labels() -> dict[str, str]:
    """Return the ways a packet reaches an office (models.DELIVERED_HOW) in the page's language."""
    return {"emailed": _("e-mailed"), "hand_delivered": _("hand-delivered"), "mailed": _("mailed")}


def audit_kind_labels() -> dict[str, str]:
    """Return the audit events' names in the page's language (the code stays in the log)."""
    return {
        organizers.SIGN_IN: _("signed in"), organizers.SIGN_IN_FAILED: _("sign-in failed"),
        organizers.SIGN_IN_THROTTLED: _("sign-in throttled"), organizers.SIGN_OUT: _("signed out"),
        organizers.EXPORT: _("export"), organizers.RETRY: _("retry"),
        organizers.ORGANIZER_CHANGE: _("organizer change"), organizers.CAMPAIGN_CHANGE: _("campaign change"),
        packets.MAKE_PACKET: _("packet made"), packets.MARK_DELIVERED: _("packet delivered"),
        packets.LEFT_OFFICE_ENDED: _("letters ended: member left office"), "purge": _("personal data purged"),
    }


def english(text: str) -> Markup:
    """Return text the service or a channel wrote in English, marked so on a page in another language."""
    if current_language() == "en":
        return Markup(escape(text))
    return Markup('<span lang="en">{}</span>').format(text)


_GAVE_UP = "gave up after "


def reason_text(reason: str | None) -> Markup:
    """Return a failed message's reason for a page: the fixed ones in the page's language, a channel's own
    answer (an SMTP or CWC reply) as it came, marked as English."""
    return Markup("").join(english(text) if raw else Markup(escape(text))
                           for text, raw in _reason_parts(reason or ""))


def reason_label(reason: str | None) -> str:
    """Return a failed message's reason as plain text (a list option), translated where it is known."""
    return "".join(text for text, _raw in _reason_parts(reason or ""))


def _reason_parts(reason: str) -> list[tuple[str, bool]]:
    """Return the reason as (text, still in English) pieces."""
    if not reason:
        return []
    known = {LEFT_OFFICE: _("member left office"), NO_SMTPUTF8: _(
        "the SMTP server does not offer SMTPUTF8, which an address with non-ASCII characters before the @ "
        "needs"), "the message has no text": _("the message has no text"),
        "nothing to deliver": _("nothing to deliver")}
    if reason in known:
        return [(known[reason], False)]
    head, sep, rest = reason.partition(": ")
    number = head.removeprefix(_GAVE_UP).split(" ")[0]
    if sep and head.startswith(_GAVE_UP) and number.isdigit():  # the worker's "gave up after N attempts: …"
        attempts = int(number)
        prefix = ngettext("gave up after %(count)s attempt", "gave up after %(count)s attempts", attempts,
                          count=format_number(attempts))
        return [(f"{prefix}: ", False), *_reason_parts(rest)]
    return [(reason, True)]


def _day(value: date | None) -> str:
    return format_date(value, "medium") if value is not None else ""


def packet_error(exc: packets.PacketError, number: int | None = None) -> str:
    """Return a packet service's refusal in the page's language."""
    d = exc.details
    if isinstance(exc, packets.NothingWaiting):
        return _("No letter to %(member)s is waiting for a packet.", member=d.get("bioguide", ""))
    if isinstance(exc, packets.MemberLeftOffice):
        ended = int(d.get("ended", 0))
        return ngettext("%(member)s is no longer in office: %(count)s waiting letter was ended as failed "
                        "instead of going into a packet.",
                        "%(member)s is no longer in office: %(count)s waiting letters were ended as failed "
                        "instead of going into a packet.", ended, member=d.get("bioguide", ""),
                        count=format_number(ended))
    if isinstance(exc, packets.UnknownPacket):
        return _("There is no packet %(number)s in this campaign.", number=d.get("packet", number))
    if isinstance(exc, packets.AlreadyDelivered):
        return _("Packet %(number)s was marked delivered on %(day)s by %(who)s.",
                 number=d.get("packet", number), day=_day(d.get("on")), who=d.get("by", ""))
    if isinstance(exc, packets.InvalidDelivery):
        problem = {
            "note_control": _("Note: it holds a control character; type or paste it again as plain text."),
            "note_length": _("Note: at most %(count)s characters.", count=format_number(d.get("limit", 0))),
            "how": _("How: choose one of the ways offered."),
            "future": _("Date: the delivery date cannot be in the future."),
            "before_made": _("Date: the packet was made on %(day)s; it cannot have been delivered before.",
                             day=_day(d.get("made"))),
        }.get(str(d.get("problem")), str(exc))
        return _("Packet %(number)s was not marked delivered. %(problem)s", number=number, problem=problem)
    return str(exc)


def organizer_error(exc: organizers.OrganizerError) -> str:
    """Return the organizer service's refusal (sign-in, a single retry) in the page's language."""
    if isinstance(exc, organizers.Throttled):
        return _("too many failed sign-ins; try again in a few minutes")
    if isinstance(exc, organizers.SignInFailed):
        return _("wrong e-mail or password")
    if isinstance(exc, organizers.NotRetryable):
        refused = exc.details.get("refused")
        if refused == retries.PURGED:
            return _("This message cannot be retried: its personal data was purged, so it cannot be sent "
                     "again.")
        if refused == retries.ACCEPTED:
            return _("This message cannot be retried: a channel has already accepted it, so sending it again "
                     "would deliver it twice.")
        return _("Only failed messages of this campaign can be retried.")
    return str(exc)


def retry_filter_error(exc: retries.InvalidRetryFilter) -> str:
    """Return why a failed-message filter cannot be used, in the page's language."""
    return {
        "reason": _("Reason: at most %(count)s characters.", count=format_number(retries.MAX_REASON)),
        "member": _("Member: expected a member id (bioguide id) such as S000148."),
        "since": _("Failed since: expected a date like 2026-01-31."),
    }.get(exc.field, str(exc))


def form_expired() -> str:
    """Return the message for a post whose CSRF token expired."""
    return _("the form expired; reload the page and try again")


def detail_text(detail: Any) -> Markup:
    """Return an audit row's detail: a record written in English, marked so."""
    return english(str(detail)) if detail else Markup("")
