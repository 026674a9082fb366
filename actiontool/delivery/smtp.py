"""The e-mail channel: letters to the addresses a campaign gives, and the constituent's receipt e-mail.

Messages are built with `email.message.EmailMessage`. Any CR, LF or NUL in a header value is refused
before anything is built (a permanent failure that names the header), so no input can add headers or
recipients. The whole SMTP session, from connecting to QUIT, runs under one wall-clock deadline
(ACTIONTOOL_SMTP_TIMEOUT, see actiontool.delivery.deadline), not a timeout per command.
Any other error raised while building a message (an address the e-mail library cannot write, say) is a
permanent failure: building it again gives the same error, so retrying would only burn attempts.

Addresses whose local part is not ASCII (`josé@example.org`; domains are stored in their ASCII form) are
sent with SMTPUTF8 when the server offers it; when it does not, the letter fails for good with that reason.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Callable, Sequence
from email import policy
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, parseaddr
from typing import TypeVar

from actiontool.delivery import deadline
from actiontool.delivery.errors import NotConfigured, PermanentFailure, TransientFailure
from actiontool.delivery.job import DeliveryJob
from actiontool.delivery.settings import SmtpSettings
from actiontool.letters import full_text

_FORBIDDEN = ("\r", "\n", "\x00")
# The headers whose addresses decide whether a message needs SMTPUTF8.
_ADDRESS_HEADERS = ("From", "To", "Cc", "Reply-To", "Sender")
NO_SMTPUTF8 = ("the SMTP server does not offer SMTPUTF8, which an address with non-ASCII characters "
               "before the @ needs")
_T = TypeVar("_T")


def built(build: Callable[[], _T]) -> _T:
    """Return build(); an error while building a message is permanent (building again fails again)."""
    try:
        return build()
    except (ValueError, TypeError, LookupError, MessageError) as exc:  # UnicodeError is a ValueError
        if isinstance(exc, PermanentFailure):
            raise
        raise PermanentFailure(f"the message could not be built: {type(exc).__name__}: {exc}"[:500]) from None


def formataddr(pair: tuple[str, str]) -> str:
    """Return "Name <address>" for a header; unlike email.utils.formataddr, non-ASCII addresses are fine."""
    name, address = pair
    local, _, domain = address.rpartition("@")
    return str(Address(display_name=name, username=local, domain=domain))


def check_header(name: str, value: str) -> str:
    """Return `value`, or raise PermanentFailure when it holds a CR, LF or NUL (header injection)."""
    if any(char in value for char in _FORBIDDEN):
        raise PermanentFailure(f"refused: the {name} header would contain a line break or NUL character")
    return value


def _domain(address: str) -> str:
    """Return the domain of an address (for Message-IDs), or "localhost"."""
    _, addr = parseaddr(address)
    return addr.rpartition("@")[2] or "localhost"


def build_email(*, mail_from: str, to: Sequence[str], subject: str, body: str, message_id: str,
                reply_to: str | None = None, from_name: str | None = None) -> EmailMessage:
    """Return an EmailMessage after checking every header value; the Message-ID is stable per message."""
    return built(lambda: _build_email(mail_from=mail_from, to=to, subject=subject, body=body,
                                      message_id=message_id, reply_to=reply_to, from_name=from_name))


def _build_email(*, mail_from: str, to: Sequence[str], subject: str, body: str, message_id: str,
                 reply_to: str | None, from_name: str | None) -> EmailMessage:
    if not to:
        raise PermanentFailure("no recipient address")
    headers = {
        "From": (formataddr((check_header("From", from_name), check_header("From", mail_from)))
                 if from_name else mail_from),
        "To": ", ".join(check_header("To", address) for address in to),
        "Subject": subject,
        "Message-ID": f"<{message_id}@{_domain(mail_from)}>",
    }
    if reply_to:
        headers["Reply-To"] = reply_to
    email = EmailMessage()
    for name, value in headers.items():
        email[name] = check_header(name, value)
    email["Date"] = formatdate(usegmt=True)
    email.set_content(body.replace("\x00", ""))
    return email


def letter_email(job: DeliveryJob, to: Sequence[str], mail_from: str) -> EmailMessage:
    """Return the letter of `job` as an e-mail from the tool's address on the constituent's behalf."""
    sender = job.sender
    if not sender.email:
        raise PermanentFailure("the constituent's e-mail address is missing (purged?)")
    name = check_header("Reply-To", sender.name)
    email = check_header("Reply-To", sender.email)
    reply_to = built(lambda: formataddr((name, email))) if name else email
    body = full_text(job.suggested_text or "", job.constituent_text).strip()
    if not body:
        raise PermanentFailure("the message has no text")
    return build_email(mail_from=mail_from, to=to, subject=job.subject, body=body + "\n",
                       message_id=job.message_id, reply_to=reply_to, from_name=name or None)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _classify(exc: smtplib.SMTPException | OSError) -> Exception:
    """Turn an smtplib or socket error into a Transient- or PermanentFailure."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(f"{addr}: {code} {_text(text)}" for addr, (code, text) in exc.recipients.items())
        if any(400 <= code < 500 for code in codes):
            return TransientFailure(f"SMTP server deferred the recipients: {detail}")
        return PermanentFailure(f"SMTP server refused the recipients: {detail}")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        # The operator's credentials, not the message: retry once they are fixed.
        return TransientFailure(f"SMTP login refused ({exc.smtp_code}); "
                                "check ACTIONTOOL_SMTP_USERNAME and ACTIONTOOL_SMTP_PASSWORD")
    if isinstance(exc, smtplib.SMTPResponseException):
        reason = f"SMTP server answered {exc.smtp_code} {_text(exc.smtp_error)}"[:500]
        return PermanentFailure(reason) if exc.smtp_code >= 500 else TransientFailure(reason)
    if isinstance(exc, TimeoutError):
        return TransientFailure("SMTP server did not answer in time")
    return TransientFailure(f"cannot talk to the SMTP server: {type(exc).__name__}: {exc}"[:500])


class _SMTP(smtplib.SMTP):
    """smtplib.SMTP whose socket is shut down when the session's deadline passes."""

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = super()._get_socket(host, port, deadline.op_timeout(timeout))  # type: ignore[misc]
        deadline.register(sock)
        return sock


class _SMTP_SSL(smtplib.SMTP_SSL):  # noqa: N801 (smtplib's naming)
    """smtplib.SMTP_SSL whose socket is shut down when the session's deadline passes."""

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = super()._get_socket(host, port, deadline.op_timeout(timeout))  # type: ignore[misc]
        deadline.register(sock)
        return sock


def send_email(email: EmailMessage, settings: SmtpSettings) -> None:
    """Send `email` through the configured server; raise Transient/PermanentFailure on failure.

    The whole session must end within settings.timeout seconds; past it, the connection is cut and the
    attempt counts as a transient failure (the server may have the letter: the retry carries the same
    Message-ID).
    """
    if not settings.configured:
        raise NotConfigured("e-mail is not configured on this server "
                            "(ACTIONTOOL_SMTP_HOST, ACTIONTOOL_MAIL_FROM)")
    host, port, timeout = str(settings.host), settings.port, settings.timeout
    sent = False
    with deadline.Deadline(timeout) as limit:
        try:
            if settings.tls == "ssl":
                client: smtplib.SMTP = _SMTP_SSL(host, port, timeout=timeout,
                                                 context=ssl.create_default_context())
            else:
                client = _SMTP(host, port, timeout=timeout)
            with client:
                if settings.tls == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if settings.username:
                    client.login(settings.username, settings.password or "")
                # Some recipients refused while others accepted: a retry would send the accepted ones
                # twice, so the message counts as delivered.
                _send(client, email)
                sent = True
        except (smtplib.SMTPException, OSError) as exc:
            if sent:  # accepted; only saying goodbye (QUIT) failed
                return
            if limit.expired:
                raise TransientFailure(f"the SMTP session did not finish within {timeout:g} s") from None
            raise _classify(exc) from None


def needs_smtputf8(email: EmailMessage) -> bool:
    """Return True when an address in the message's headers has non-ASCII characters."""
    return any(not str(value).isascii() for name in _ADDRESS_HEADERS for value in email.get_all(name, []))


def _send(client: smtplib.SMTP, email: EmailMessage) -> None:
    """Send `email`, with SMTPUTF8 when an address needs it; permanent failure when the server lacks it."""
    if not needs_smtputf8(email):
        client.send_message(email)
        return
    client.ehlo_or_helo_if_needed()
    if not client.has_extn("smtputf8"):
        raise PermanentFailure(NO_SMTPUTF8)
    sender = parseaddr(str(email["From"]))[1]
    recipients = [address for _, address in getaddresses([str(v) for v in email.get_all("To", [])])]
    data = built(lambda: email.as_bytes(policy=policy.SMTPUTF8))
    client.sendmail(sender, recipients, data, mail_options=["SMTPUTF8", "BODY=8BITMIME"])


class SmtpChannel:
    """Deliver letters by e-mail to the addresses the campaign file gives per member or chamber."""

    name = "smtp"

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def deliver(self, job: DeliveryJob) -> str:
        """Send the job's letter; return a short note for the log."""
        if not self.settings.configured:
            raise NotConfigured("e-mail is not configured on this server")
        to = job.campaign.options(job.chamber).recipients(job.bioguide)
        if not to:
            raise PermanentFailure(f"campaign {job.campaign.slug} gives no e-mail address for {job.bioguide}")
        send_email(letter_email(job, to, str(self.settings.mail_from)), self.settings)
        return f"accepted by the SMTP server for {', '.join(to)}"
