"""The House's Communicating with Congress (CWC) 2.0 channel: an XML document POSTed over HTTPS.

The document is built with lxml, never by joining strings. The API key travels in the query string, so
every URL, error and exception text that leaves this module passes through `redact` first. The whole
POST, from connecting to the last byte of the answer, runs under one wall-clock deadline
(ACTIONTOOL_CWC_TIMEOUT, see actiontool.delivery.deadline), not a timeout per socket read.
"""

from __future__ import annotations

import logging
import re
import socket
from datetime import date
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from lxml import etree
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from actiontool.delivery import deadline
from actiontool.delivery.errors import NotConfigured, PermanentFailure, TransientFailure
from actiontool.delivery.job import DeliveryJob, Sender
from actiontool.delivery.settings import CwcSettings
from actiontool.models import utcnow

log = logging.getLogger(__name__)

# The prefixes CWC is known to accept; the form should offer exactly these when a campaign uses CWC.
CWC_PREFIXES: tuple[str, ...] = ("Mr.", "Mrs.", "Miss", "Ms.", "Dr.")
_PREFIX_ALIASES = {p.lower().rstrip("."): p for p in CWC_PREFIXES}
_DELIVERY_ID = re.compile(r"^[A-Za-z0-9]{32}$")
_APIKEY_PARAM = re.compile(r"(apikey=)[^&\s'\"]+", re.IGNORECASE)
# Characters XML 1.0 cannot carry at all (most C0 controls); dropped rather than failing the message.
_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ERROR_TEXT_LIMIT = 500


def member_office(state: str, district: int | None) -> str:
    """Return the House office code: H + state + two-digit district (HCA13; at-large and non-voting: 00)."""
    if not re.fullmatch(r"[A-Z]{2}", state or ""):
        raise ValueError(f"not a state abbreviation: {state!r}")
    number = 0 if district is None else int(district)
    if not 0 <= number <= 99:
        raise ValueError(f"not a district number: {district!r}")
    return f"H{state}{number:02d}"


def cwc_prefix(raw: str | None) -> str | None:
    """Return `raw` as one of CWC_PREFIXES ("mr" -> "Mr."), or None when it is not one of them."""
    if not raw:
        return None
    return _PREFIX_ALIASES.get(raw.strip().lower().rstrip("."))


def redact(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """Return `text` with every apikey=... parameter and every secret value replaced by a placeholder."""
    text = _APIKEY_PARAM.sub(r"\1REDACTED", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "REDACTED")
    return text


class RedactingFilter(logging.Filter):
    """Rewrite log records that carry an apikey= parameter (urllib3 logs each request line at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "apikey=" in message.lower():
            record.msg, record.args = redact(message), None
        return True


def install_log_redaction() -> None:
    """Make sure the HTTP library's own debug logs never show the key."""
    for name in ("urllib3.connectionpool", "requests"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())


def _clean(value: str) -> str:
    """Return `value` without the characters XML 1.0 cannot represent."""
    return _XML_INVALID.sub("", value)


def _phone(raw: str | None) -> str | None:
    """Return a US phone number as xxx-xxx-xxxx, or None when it is not ten digits (after a leading 1)."""
    digits = re.sub(r"\D", "", raw or "")
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10:
        return None
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = _clean(text)
    return element


def _required(value: str | None, what: str) -> str:
    if value is None or not str(value).strip():
        raise PermanentFailure(f"CWC needs the constituent's {what}, which is missing")
    return str(value).strip()


def build_document(job: DeliveryJob, settings: CwcSettings, today: date) -> bytes:
    """Return the CWC 2.0 XML for `job` (UTF-8 bytes), or raise PermanentFailure if a field is missing."""
    prefix = _checked_prefix(job)
    root = etree.Element("CWC")
    _sub(root, "CWCVersion", "2.0")
    _add_delivery(root, job, settings, today)
    _add_recipient(root, job)
    _add_constituent(root, job.sender, prefix)
    _add_message(root, job)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _checked_prefix(job: DeliveryJob) -> str:
    """Return the sender's prefix as CWC spells it, after checking what every document needs."""
    if not _DELIVERY_ID.match(job.message_id):
        raise PermanentFailure("the message id is not 32 letters or digits, so it cannot be a DeliveryId")
    prefix = cwc_prefix(job.sender.prefix)
    if prefix is None:
        raise PermanentFailure(f"CWC accepts only the prefixes {', '.join(CWC_PREFIXES)}; "
                               f"the constituent gave {job.sender.prefix!r}")
    if not job.campaign.topics:
        raise PermanentFailure(f"campaign {job.campaign.slug} has no Library of Congress topic")
    if not (job.suggested_text or job.constituent_text):
        raise PermanentFailure("the message has no text")
    return prefix


def _add_delivery(root: etree._Element, job: DeliveryJob, settings: CwcSettings, today: date) -> None:
    """Add the Delivery block: who delivers the message, when, for which campaign."""
    delivery = _sub(root, "Delivery")
    _sub(delivery, "DeliveryId", job.message_id)
    _sub(delivery, "DeliveryDate", today.strftime("%Y%m%d"))
    _sub(delivery, "DeliveryAgent", settings.delivery_agent)
    _sub(delivery, "DeliveryAgentAckEmailAddress", settings.ack_email)
    contact = _sub(delivery, "DeliveryAgentContact")
    _sub(contact, "DeliveryAgentContactName", settings.contact_name)
    _sub(contact, "DeliveryAgentContactEmail", settings.contact_email)
    _sub(contact, "DeliveryAgentContactPhone", settings.contact_phone)
    _sub(delivery, "CampaignId", job.campaign.slug)


def _add_recipient(root: etree._Element, job: DeliveryJob) -> None:
    """Add the Recipient block: the House office code, or a senator's bioguide id."""
    recipient = _sub(root, "Recipient")
    office = job.bioguide if job.chamber == "senate" else member_office(job.state, job.district)
    _sub(recipient, "MemberOffice", office)


def _add_constituent(root: etree._Element, sender: Sender, prefix: str) -> None:
    """Add the Constituent block; raise PermanentFailure for a missing required field."""
    constituent = _sub(root, "Constituent")
    _sub(constituent, "Prefix", prefix)
    _sub(constituent, "FirstName", _required(sender.first_name, "first name"))
    _sub(constituent, "LastName", _required(sender.last_name, "last name"))
    _sub(constituent, "Address1", _required(sender.address1, "street address"))
    _sub(constituent, "City", _required(sender.city, "city"))
    _sub(constituent, "StateAbbreviation", _required(sender.state, "state"))
    _sub(constituent, "Zip", _required(sender.zip, "ZIP code"))
    phone = _phone(sender.phone)
    if phone:
        _sub(constituent, "Phone", phone)
    _sub(constituent, "Email", _required(sender.email, "e-mail address"))


def _add_message(root: etree._Element, job: DeliveryJob) -> None:
    """Add the Message block: subject, topics, the bill (when there is one) and the texts."""
    message = _sub(root, "Message")
    _sub(message, "Subject", job.subject)
    topic_list = _sub(message, "LibraryOfCongressTopics")
    for topic in job.campaign.topics:
        _sub(topic_list, "LibraryOfCongressTopic", topic)
    bill = job.campaign.bill
    if bill is not None:
        bills = _sub(message, "Bills")
        entry = _sub(bills, "Bill")
        _sub(entry, "BillCongress", str(bill.congress))
        _sub(entry, "BillTypeAbbreviation", bill.type)
        _sub(entry, "BillNumber", str(bill.number))
        _sub(message, "ProOrCon", "pro")  # every campaign here urges passage
    organization_statement, constituent_message = message_texts(job)
    if organization_statement:
        _sub(message, "OrganizationStatement", organization_statement)
    if constituent_message:
        _sub(message, "ConstituentMessage", constituent_message)


def message_texts(job: DeliveryJob) -> tuple[str | None, str | None]:
    """Return (OrganizationStatement, ConstituentMessage) for a message.

    CWC keeps the organisation's words apart from the constituent's. A suggested letter the constituent
    did not change is the organisation's statement; once they edit it, the letter is theirs too, so it
    travels as their message (followed by any personal note) and is not passed off as the organisation's.
    """
    own_words = job.constituent_text or None
    if not job.edited:
        return job.suggested_text or None, own_words
    parts = [text for text in (job.suggested_text, own_words) if text]
    return None, "\n\n".join(parts) or None


def error_texts(body: bytes) -> list[str]:
    """Return the text of every <Error> element in a CWC answer (none when it is not XML)."""
    if not body or not body.lstrip().startswith(b"<"):
        return []
    try:
        root = etree.fromstring(body, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return []
    found = [root] if etree.QName(root).localname == "Error" else []
    found += [el for el in root.iter() if el is not root and isinstance(el.tag, str)
              and etree.QName(el).localname == "Error"]
    return [" ".join("".join(map(str, el.itertext())).split()) or "error" for el in found]


def _retry_after(value: str | None) -> float | None:
    """Return a Retry-After header (seconds or an HTTP date) in seconds."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return None


class _GuardedHTTPConnection(HTTPConnection):
    """A connection whose socket is shut down when the current delivery's deadline passes."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        deadline.register(sock)
        return sock


class _GuardedHTTPSConnection(HTTPSConnection):
    """The TLS twin of _GuardedHTTPConnection (the raw socket is registered, under the TLS layer)."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        deadline.register(sock)
        return sock


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    """requests' adapter with connections that obey the deadline."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


def _guarded_session() -> requests.Session:
    """Return a session for one POST: a fresh connection, so its socket is under this POST's deadline."""
    session = requests.Session()
    adapter = _GuardedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def post_document(document: bytes, base_url: str, api_key: str, timeout: float, *, path: str = "/v2/message",
                  secrets: tuple[str, ...] = ()) -> str:
    """POST `document`; return the answer's text on acceptance, else raise Transient/PermanentFailure.

    The whole exchange must end within `timeout` seconds; past it the connection is cut and the attempt
    is a transient failure (CWC may have the letter: the retry carries the same DeliveryId).
    """
    install_log_redaction()
    secrets = tuple(secrets) + (api_key,)
    url = f"{base_url.rstrip('/')}{path}"
    shown = f"{url}?apikey=REDACTED"
    with deadline.Deadline(timeout) as limit, _guarded_session() as session:
        try:
            # No redirects: following one would hand the key (in the query string) to another URL.
            response = session.post(url, params={"apikey": api_key}, data=document,
                                    timeout=(min(10.0, timeout), timeout),
                                    headers={"Content-Type": "application/xml; charset=utf-8"},
                                    allow_redirects=False)
            body = response.content or b""
        except (requests.RequestException, OSError) as exc:
            raise _post_failure(exc, expired=limit.expired, timeout=timeout, shown=shown,
                                secrets=secrets) from _scrubbed(exc)
    errors = error_texts(body)
    detail = redact("; ".join(errors) or body[:_ERROR_TEXT_LIMIT].decode("utf-8", "replace").strip(), secrets)
    log.info("CWC %s -> %s", shown, response.status_code)
    if 200 <= response.status_code < 300:
        if errors:
            raise PermanentFailure(f"CWC refused the message: {detail}"[:_ERROR_TEXT_LIMIT])
        return body.decode("utf-8", "replace")
    reason = f"CWC answered HTTP {response.status_code}" + (f": {detail}" if detail else "")
    reason = reason[:_ERROR_TEXT_LIMIT]
    if response.status_code == 429 or response.status_code >= 500:
        raise TransientFailure(reason, retry_after=_retry_after(response.headers.get("Retry-After")))
    raise PermanentFailure(reason)


def _post_failure(exc: BaseException, *, expired: bool, timeout: float, shown: str,
                  secrets: tuple[str, ...]) -> Exception:
    """Classify a failed POST: out of time or unreachable is transient, anything else permanent."""
    if expired or isinstance(exc, requests.Timeout):
        return TransientFailure(f"CWC did not answer within {timeout:g} s ({shown})")
    if isinstance(exc, (requests.ConnectionError, OSError)):
        return TransientFailure(redact(f"cannot reach CWC at {shown}: {exc}", secrets))
    return PermanentFailure(redact(f"cannot send to CWC at {shown}: {exc}", secrets))


def _scrubbed(exc: BaseException) -> Exception:
    """Return a stand-in for a requests exception whose text (and so any traceback) carries no key."""
    return RuntimeError(redact(f"{type(exc).__name__}: {exc}"))


class CwcChannel:
    """Deliver House (and, when configured, Senate) messages through CWC."""

    name = "cwc"

    def __init__(self, settings: CwcSettings) -> None:
        self.settings = settings
        install_log_redaction()

    def deliver(self, job: DeliveryJob) -> str:
        """Send the job's document; return a short note for the log."""
        if job.chamber == "senate" and not self.settings.senate_configured:
            raise NotConfigured("no Senate CWC endpoint is configured (ACTIONTOOL_CWC_SENATE_BASE_URL)")
        if not self.settings.configured:
            problems = "; ".join(self.settings.problems())
            raise NotConfigured(f"CWC is not configured on this server: {problems}")
        document = build_document(job, self.settings, utcnow().date())
        base_url, api_key = self.settings.endpoint(job.chamber)
        post_document(document, base_url, api_key, self.settings.timeout,
                      secrets=tuple(self.settings.secrets()))
        return f"accepted by CWC as DeliveryId {job.message_id}"
