"""A stand-in for the CWC endpoint on loopback: parses and checks each document, records what it got.

It can be told to answer 500, 429 or 400, to return an <Error>, or to hang (every request, or only the
first one) until released, so that tests see the sender's timeouts and retries. For the fault tests it can
also follow a script (one mode per request), trickle its acceptance a byte at a time, answer slowly, and
call a hook before it accepts; it counts an acceptance only once its whole answer is written, and notes
when a letter arrives while another POST of the same letter is still in flight (a double send).
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
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
        self.mode = "ok"  # ok | 500 | 429 | 400 | error | hang | trickle | slow
        self.script: list[str] = []  # modes for the next /v2/message requests, one each, before `mode`
        self.trickle_seconds = 0.3  # between the bytes of a trickled answer
        self.slow_seconds = 0.2  # before a slow answer
        self.before_accept: Callable[[str], None] | None = None  # called with the DeliveryId
        self.in_flight: Counter[str] = Counter()
        self.overlaps: Counter[str] = Counter()  # a POST of a letter that was already being posted
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

    @staticmethod
    def delivery_id(body: bytes) -> str:
        """Return the DeliveryId of a document ("" when there is none)."""
        match = re.search(rb"<DeliveryId>([A-Za-z0-9]+)</DeliveryId>", body)
        return match.group(1).decode() if match else ""

    def _begin(self, body: bytes) -> str:
        """Note a POST of a letter as in flight (an overlap when one is already); return its DeliveryId."""
        delivery_id = self.delivery_id(body)
        with self._lock:
            if delivery_id and self.in_flight[delivery_id]:
                self.overlaps[delivery_id] += 1
            self.in_flight[delivery_id] += 1
        return delivery_id

    def _end(self, delivery_id: str) -> None:
        with self._lock:
            self.in_flight[delivery_id] -= 1

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
            mode = self.script.pop(0) if self.script and path == "/v2/message" else self.mode
        if first:
            self.first_request.set()
        hang = mode == "hang" or (self.hang_first and first)
        if hang:
            return 200, b"", True
        if mode in ("500", "429"):
            return int(mode), b"<Error>try later</Error>", False
        if mode == "400":
            return 400, b"bad request", False
        if mode in ("trickle", "slow") and not problems and delivery_id:
            return 200, mode.encode(), False
        if mode == "error" or problems:
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
                delivery_id = standin._begin(body)
                try:
                    self._answer(parts, body)
                finally:
                    standin._end(delivery_id)

            def _answer(self, parts: Any, body: bytes) -> None:
                status, answer, hang = standin._respond(parts.path, body, parse_qs(parts.query))
                if answer in (b"trickle", b"slow"):
                    self._accept(answer.decode(), standin.delivery_id(body))
                    return
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

            def _accept(self, mode: str, delivery_id: str) -> None:
                """Accept slowly: the whole answer after a pause, or a byte at a time."""
                if standin.before_accept is not None:
                    standin.before_accept(delivery_id)
                answer = b"<Response><Status>accepted</Status></Response>"
                raw = (b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nConnection: close\r\n"
                       b"Content-Length: " + str(len(answer)).encode() + b"\r\n\r\n" + answer)
                try:
                    if mode == "slow":
                        time.sleep(standin.slow_seconds)
                        self.wfile.write(raw)
                    else:
                        for i in range(len(raw)):
                            self.wfile.write(raw[i:i + 1])
                            self.wfile.flush()
                            time.sleep(standin.trickle_seconds)
                    self.wfile.flush()
                except OSError:  # the sender hung up before the answer was complete: not an acceptance
                    return
                finally:
                    self.close_connection = True
                with standin._lock:
                    standin.accepted[delivery_id] += 1

            def log_message(self, format: str, *args: object) -> None:  # quiet
                return

        return Handler
