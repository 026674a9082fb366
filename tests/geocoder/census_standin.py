"""A stand-in for the Census Bureau's geocoder (`/geocoder/geographies/address`) on loopback.

It answers in the documented JSON shape (`result.addressMatches[].geographies["119th Congressional
Districts"]`), from a small address book: street -> the districts of its matches (none: no match; two:
several matches). It checks every request it receives (path, benchmark, vintage, format, the address
fields) and records the problems; it can be told to answer 500, to send a body that is not JSON, or to
hold the answer until released (a slow service).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from actiontool.districts.states import STATE_BY_FIPS

PATH = "/geocoder/geographies/address"
FIPS_BY_STATE = {state: fips for fips, state in STATE_BY_FIPS.items()}

# street (as typed, case-insensitive) -> the district label of each match
ADDRESS_BOOK: dict[str, list[str]] = {
    "12 lake st": ["WI-2"],  # ZIP 53002 is split between WI-1 and WI-2
    "40 mill rd": ["WI-1"],
    "7 fork rd": ["WI-1", "WI-2"],  # two matches in two districts
    "3 north ave": ["WI-3"],  # a district the ZIP cannot reach
    "1 pine ct": ["MN-1"],  # a district of another state
}


@dataclass
class Received:
    """One request as the stand-in saw it."""

    path: str
    query: dict[str, str]
    problems: list[str] = field(default_factory=list)


def check_request(path: str, query: dict[str, list[str]]) -> list[str]:
    """Return what is wrong with a request (empty when it is as the geocoder documents it)."""
    problems = [] if path == PATH else [f"path is {path}, not {PATH}"]
    one = {k: v[0] for k, v in query.items() if len(v) == 1}
    problems += [f"{k} given {len(v)} times" for k, v in query.items() if len(v) != 1]
    expected = {"benchmark": "Public_AR_Current", "vintage": "Current_Current", "format": "json"}
    problems += [f"{k} is {one.get(k)!r}, not {v!r}" for k, v in expected.items() if one.get(k) != v]
    if not one.get("street", "").strip():
        problems.append("no street")
    if not re.fullmatch(r"\d{5}", one.get("zip", "")):
        problems.append("zip is not five digits")
    if one.get("state") not in FIPS_BY_STATE:
        problems.append("state is not a state's code")
    unknown = set(one) - {"street", "city", "state", "zip", "benchmark", "vintage", "format", "layers"}
    problems += [f"unknown parameter {k}" for k in sorted(unknown)]
    return problems


def district_entry(label: str) -> dict[str, Any]:
    """Return the "119th Congressional Districts" entry of a label, as the geocoder writes it."""
    state, number = label.split("-")
    code = ("98" if state in ("DC", "PR") else "00") if number == "AL" else f"{int(number):02d}"
    fips = FIPS_BY_STATE[state]
    return {"GEOID": fips + code, "CD119": code, "STATE": fips, "BASENAME": str(int(code)),
            "NAME": f"Congressional District {int(code)}", "CDSESSN": "119", "FUNCSTAT": "N",
            "LSAD": "C2", "MTFCC": "G5200", "AREALAND": 1000, "AREAWATER": 0,
            "CENTLAT": "+43.5", "CENTLON": "-089.0", "INTPTLAT": "+43.5", "INTPTLON": "-089.0"}


def match(street: str, zip_code: str, label: str) -> dict[str, Any]:
    """Return one address match with its geographies."""
    state = label.split("-")[0]
    return {
        "matchedAddress": f"{street.upper()}, TOWN, {state}, {zip_code}",
        "coordinates": {"x": -89.0, "y": 43.5},
        "tigerLine": {"side": "L", "tigerLineId": "123456"},
        "addressComponents": {"zip": zip_code, "streetName": "LAKE", "city": "TOWN", "state": state},
        "geographies": {
            "States": [{"STATE": FIPS_BY_STATE[state], "STUSAB": state, "NAME": state}],
            "119th Congressional Districts": [district_entry(label)],
            "Counties": [{"STATE": FIPS_BY_STATE[state], "COUNTY": "025", "NAME": "A County"}],
        },
    }


def answer(query: dict[str, str]) -> dict[str, Any]:
    """Return the geocoder's JSON for an address from the address book (no match when it is not there)."""
    street, zip_code = query.get("street", ""), query.get("zip", "")
    labels = ADDRESS_BOOK.get(" ".join(street.lower().split()), [])
    return {"result": {
        "input": {"address": {k: query[k] for k in ("street", "city", "state", "zip") if k in query},
                  "benchmark": {"benchmarkName": "Public_AR_Current", "isDefault": True, "id": "4"},
                  "vintage": {"vintageName": "Current_Current", "isDefault": True, "id": "4"}},
        "addressMatches": [match(street, zip_code, label) for label in labels],
    }}


class CensusStandIn:
    """The HTTP server, its mode and what it received. `url` is the base to configure (.../geocoder)."""

    def __init__(self) -> None:
        self.mode = "ok"  # ok | 500 | not-json | hold
        self.release = threading.Event()
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/geocoder"

    def start(self) -> CensusStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def problems(self) -> list[str]:
        """Return every problem found in the requests so far."""
        with self._lock:
            return [p for r in self.received for p in r.problems]

    def _respond(self, path: str, query: dict[str, list[str]]) -> tuple[int, bytes]:
        problems = check_request(path, query)
        flat = {k: v[0] for k, v in query.items()}
        with self._lock:
            self.received.append(Received(path, flat, problems))
        if problems:
            return 400, json.dumps({"errors": problems, "status": "400"}).encode()
        if self.mode == "hold":
            self.release.wait(30)
        if self.mode == "500":
            return 500, b'{"errors": ["Internal Server Error"], "status": "500"}'
        if self.mode == "not-json":
            return 200, b"<html>Service Unavailable</html>"
        return 200, json.dumps(answer(flat)).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
                parts = urlsplit(self.path)
                status, body = standin._respond(parts.path, parse_qs(parts.query, keep_blank_values=True))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout)
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def main(argv: list[str]) -> None:
    """Serve in a process of its own (the geocode benchmark measures its own process apart from this one).

    Arguments are extra address-book entries, `street=LABEL`; the base URL is printed on the first line.
    """
    import sys

    for entry in argv:
        street, label = entry.rsplit("=", 1)
        ADDRESS_BOOK[" ".join(street.lower().split())] = [label]
    server = CensusStandIn()
    print(server.url, flush=True)
    try:
        server._server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
