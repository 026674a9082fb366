"""A stand-in for the CWC endpoint on loopback: parses and checks each document, records what it got.

It can be told to answer 500, 429 or 400, to return an <Error>, or to hang (every request, or only the
first one) until released, so that tests see the sender's timeouts and retries.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from lxml import etree

from actiontool.campaigns import LOC_POLICY_AREAS

PREFIXES = {"Mr.", "Mrs.", "Miss", "Ms.", "Dr."}
REQUIRED = [
    "CWCVersion", "Delivery/DeliveryId", "Delivery/DeliveryDate", "Delivery/DeliveryAgent",
    "Delivery/DeliveryAgentAckEmailAddress", "Delivery/DeliveryAgentContact/DeliveryAgentContactName",
    "Delivery/DeliveryAgentContact/DeliveryAgentContactEmail",
    "Delivery/DeliveryAgentContact/DeliveryAgentContactPhone", "Delivery/CampaignId",
    "Recipient/MemberOffice", "Constituent/Prefix", "Constituent/FirstName", "Constituent/LastName",
    "Constituent/Address1", "Constituent/City", "Constituent/StateAbbreviation", "Constituent/Zip",
    "Constituent/Email", "Message/Subject", "Message/LibraryOfCongressTopics/LibraryOfCongressTopic",
]


@dataclass(frozen=True)
class Received:
    """One request as the stand-in saw it."""

    path: str
    delivery_id: str | None
    office: str | None
    document: bytes
    problems: tuple[str, ...]


def check_document(body: bytes) -> tuple[list[str], etree._Element | None]:
    """Return the problems of a CWC 2.0 document (empty when it is valid) and its parsed root."""
    try:
        root = etree.fromstring(body, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        return [f"not XML: {exc}"], None
    problems = [] if root.tag == "CWC" else [f"root is {root.tag}, not CWC"]
    for path in REQUIRED:
        element = root.find(path)
        if element is None or not (element.text or "").strip():
            problems.append(f"missing {path}")
    if root.findtext("CWCVersion") != "2.0":
        problems.append("CWCVersion is not 2.0")
    if not re.fullmatch(r"[A-Za-z0-9]{32}", root.findtext("Delivery/DeliveryId") or ""):
        problems.append("The 'DeliveryId' element is invalid")
    try:
        datetime.strptime(root.findtext("Delivery/DeliveryDate") or "", "%Y%m%d")
    except ValueError:
        problems.append("DeliveryDate is not YYYYMMDD")
    if not re.fullmatch(r"H[A-Z]{2}\d{2}", root.findtext("Recipient/MemberOffice") or ""):
        problems.append("MemberOffice is not H + state + two digits")
    if root.findtext("Constituent/Prefix") not in PREFIXES:
        problems.append("Prefix is not from the list")
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", root.findtext("Constituent/Email") or ""):
        problems.append("invalid e-mail address")
    if not re.fullmatch(r"\d{3}-\d{3}-\d{4}",
                        root.findtext("Delivery/DeliveryAgentContact/DeliveryAgentContactPhone") or ""):
        problems.append("DeliveryAgentContactPhone is not xxx-xxx-xxxx")
    for topic in root.findall("Message/LibraryOfCongressTopics/LibraryOfCongressTopic"):
        if topic.text not in LOC_POLICY_AREAS:
            problems.append(f"unknown topic {topic.text!r}")
    if root.find("Message/OrganizationStatement") is None and root.find("Message/ConstituentMessage") is None:
        problems.append("neither OrganizationStatement nor ConstituentMessage")
    return problems, root


class CwcStandIn:
    """The HTTP server, its mode and what it received."""

    def __init__(self, api_key: str = "test-secret-apikey") -> None:
        self.api_key = api_key
        self.mode = "ok"  # ok | 500 | 429 | 400 | error | hang
        self.hang_first = False  # hang only the first /v2/message request, answer the rest normally
        self.release = threading.Event()
        self.first_request = threading.Event()
        self.received: list[Received] = []
        self.accepted: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Return the base URL (no trailing slash)."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> CwcStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def ids(self) -> list[str | None]:
        """Return the DeliveryId of every /v2/message request, in order."""
        with self._lock:
            return [r.delivery_id for r in self.received if r.path == "/v2/message"]

    def _respond(self, path: str, body: bytes, query: dict[str, list[str]]) -> tuple[int, bytes, bool]:
        """Return (status, body, hang) for one request, and record it."""
        problems, root = check_document(body)
        if query.get("apikey") != [self.api_key]:
            problems.append("bad api key")
        delivery_id = root.findtext("Delivery/DeliveryId") if root is not None else None
        office = root.findtext("Recipient/MemberOffice") if root is not None else None
        with self._lock:
            first = path == "/v2/message" and not any(r.path == "/v2/message" for r in self.received)
            self.received.append(Received(path, delivery_id, office, body, tuple(problems)))
        if first:
            self.first_request.set()
        hang = self.mode == "hang" or (self.hang_first and first)
        if hang:
            return 200, b"", True
        if self.mode in ("500", "429"):
            return int(self.mode), b"<Error>try later</Error>", False
        if self.mode == "400":
            return 400, b"bad request", False
        if self.mode == "error" or problems:
            text = "; ".join(problems) or f"Message delivery is not enabled for {office}"
            error = etree.Element("Error")
            error.text = text
            return 400 if problems else 200, etree.tostring(error), False
        if path == "/v2/message" and delivery_id:
            with self._lock:
                self.accepted[delivery_id] += 1
        return 200, b"<Response><Status>accepted</Status></Response>", False

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, answer, hang = standin._respond(parts.path, body, parse_qs(parts.query))
                if hang:
                    standin.release.wait(60)  # bounded: the test releases it at teardown
                    return
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:  # quiet
                return

        return Handler
