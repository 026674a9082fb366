"""HTTP benchmark: the JSON API against a bare Flask endpoint, under wrk, on the same gunicorn settings.

Three gunicorn servers run side by side with the same settings (GUNICORN_ARGS: sync workers, --preload):
a bare Flask app with one small JSON endpoint (bench/_minimal.py, the floor), and the app
(`actiontool.wsgi:app`) twice, once with rate limits off and once on (memory storage, a limit high enough
never to refuse). wrk, a compiled client, drives one endpoint at a time: the floor, the lookup API with
ZIPS_IN_ROTATION ZIPs in turn, and the public count; the endpoints alternate in ROUNDS rounds, in a new
order each round, so that a change in the machine's load falls on all of them alike, and each ratio is
taken within a round. Besides throughput, each run records the CPU time the server's workers spent per
request (from /proc), which the neighbours on a shared machine do not change.
Targets (issue 16): lookup >= 0.9x the floor with limits off, >= 0.8x with limits on; the count the same.

Then, on the limits-on server: the RSS of each web worker after MIXED_REQUESTS mixed requests and after a
second batch of the same mix (target: < 120 MB, no growth), and the time `actiontool serve` takes to
answer its first request (target: < 2 s).

RSS counts every page a worker maps, the pages it still shares with the master (the code and data loaded
before the fork) included; PSS divides each shared page among the processes sharing it, and USS counts only
the worker's own pages, both read from /proc/<pid>/smaps_rollup. The target is judged on RSS, as the issue
words it; PSS and USS say what a worker really adds to the machine.

Run: `python -m bench http` (needs wrk: `apt-get install wrk`). Not part of `make test`.
ACTIONTOOL_BENCH_PORTS=FIRST-LAST makes the servers listen on ports of that range (default: any free port).
"""

from __future__ import annotations

import compileall
import http.client
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from actiontool.districts import NotFound, bundled
from bench._report import machine
from tests.scale import servers

ROOT = Path(__file__).resolve().parent.parent
WEB_WORKERS = 2
GUNICORN_ARGS = ("--worker-class", "sync", "--preload")
WRK_THREADS, WRK_CONNECTIONS, WRK_SECONDS = 2, 32, 8
ROUNDS = 5
ZIPS_IN_ROTATION = 15
MIXED_REQUESTS = 10_000
MIXED_ZIPS = 2_000
COLD_STARTS = 3
SEED = 20261130
SLUG = "bench-http"
TARGETS = {"lookup, limits off": 0.9, "lookup, limits on": 0.8, "count, limits off": 0.9,
           "count, limits on": 0.8}
SECURED = "minimal endpoint + the app's security headers"
RSS_LIMIT_MB = 120
COLD_START_LIMIT_S = 2.0

CAMPAIGN = """\
slug: {slug}
status: live
targets: both
editable: false
goal: 1000
languages: [en]
loc_topics: [Health]
title: HTTP benchmark campaign
ask: Ask them to act.
subject: Please act
background: [A fact.]
letter: detect-and-defeat.en.txt.j2
delivery:
  house: {{channel: handoff}}
  senate: {{channel: handoff}}
"""

ROTATE_LUA = """\
local paths = {{{paths}}}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
"""


# -- servers ---------------------------------------------------------------------------------------

@dataclass
class Server:
    """One gunicorn server we started: its base URL and master process."""

    base: str
    proc: subprocess.Popen[bytes]

    def worker_pids(self) -> list[int]:
        """Return the pids of the master's worker processes."""
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        return [int(p) for p in children.split()]


def free_port() -> int:
    """Return a free loopback port, from ACTIONTOOL_BENCH_PORTS=FIRST-LAST when it is set."""
    allowed = os.environ.get("ACTIONTOOL_BENCH_PORTS")
    if not allowed:
        return servers.free_port()
    first, last = (int(part) for part in allowed.split("-"))
    for port in range(first, last + 1):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in ACTIONTOOL_BENCH_PORTS={allowed}")


@contextmanager
def gunicorn(app: str, settings: Mapping[str, object], ready: str, log: Path) -> Iterator[Server]:
    """Run `app` under gunicorn with the benchmark's settings; yield it once `ready` answers 200."""
    port = free_port()
    args = [str(servers.BIN / "gunicorn"), "--workers", str(WEB_WORKERS), "--bind", f"127.0.0.1:{port}",
            "--chdir", str(ROOT), *GUNICORN_ARGS, app]
    with open(log, "ab") as out:
        proc = subprocess.Popen(args, env=servers.environment(settings), stdout=out, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", proc)
    try:
        deadline = time.monotonic() + 60
        while _status(server.base, ready) != 200:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{app} did not start:\n{log.read_text()[-4000:]}")
            time.sleep(0.1)
        yield server
    finally:
        servers.stop(proc)


def _status(base: str, path: str) -> int | None:
    """Return the status of one GET, or None when nothing answers yet."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        conn.close()


# -- wrk -------------------------------------------------------------------------------------------

@dataclass
class Result:
    """One wrk run: throughput, latency percentiles (ms) and the answers that were not 2xx/3xx."""

    throughput: float
    p50: float
    p99: float
    requests: int
    errors: int
    cpu_us: float = 0.0  # the server workers' CPU time per request


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> Result:
    """Read throughput, p50, p99, the request count and non-2xx/3xx answers out of `wrk --latency`."""
    def find(pattern: str) -> str:
        match = re.search(pattern, output)
        if match is None:
            raise ValueError(f"no {pattern!r} in wrk's output:\n{output}")
        return match.group(1)

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return Result(throughput=float(find(r"Requests/sec:\s+([\d.]+)")),
                  p50=_ms(find(r"\s50%\s+([\d.]+\w+)")), p99=_ms(find(r"\s99%\s+([\d.]+\w+)")),
                  requests=int(find(r"(\d+) requests in")), errors=int(errors.group(1)) if errors else 0)


def cpu_seconds(pids: list[int]) -> float:
    """Return the user + system CPU time the processes have used."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def wrk(server: Server, paths: list[str], script_dir: Path) -> Result:
    """Drive `paths` in turn with wrk for WRK_SECONDS; return what it measured."""
    pids = server.worker_pids()
    before = cpu_seconds(pids)
    result = _wrk(server.base, paths, script_dir)
    result.cpu_us = (cpu_seconds(pids) - before) / max(1, result.requests) * 1e6
    return result


def _wrk(base: str, paths: list[str], script_dir: Path) -> Result:
    script = script_dir / "rotate.lua"
    script.write_text(ROTATE_LUA.format(paths=", ".join(f'"{p}"' for p in paths)), encoding="utf-8")
    output = subprocess.run(
        ["wrk", f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{WRK_SECONDS}s", "--latency",
         "-s", str(script), base], capture_output=True, text=True, check=True, timeout=WRK_SECONDS + 60,
    ).stdout
    return parse_wrk(output)


# -- memory and cold start -------------------------------------------------------------------------

@dataclass(frozen=True)
class Memory:
    """One process's memory in MB: resident (RSS), proportional (PSS) and unique (USS) set sizes."""

    rss: float
    pss: float
    uss: float


def memory_mb(pid: int) -> Memory:
    """Return a process's RSS, PSS and USS in MB, from /proc/<pid>/smaps_rollup."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0]) / 1024
    return Memory(fields["Rss"], fields["Pss"], fields["Private_Clean"] + fields["Private_Dirty"])


def mixed_paths(rng: random.Random, zips: list[str]) -> list[str]:
    """Return MIXED_REQUESTS paths: lookups (ZIP, ZIP+4, point, invalid, unknown), counts and pages."""
    kinds = [
        (50, lambda: f"/api/v1/lookup?zip={rng.choice(zips)}"),
        (5, lambda: f"/api/v1/lookup?zip={rng.choice(zips)}-{rng.randrange(10000):04d}"),
        (5, lambda: f"/api/v1/lookup?lat={rng.uniform(30, 45):.4f}&lon={rng.uniform(-120, -75):.4f}"),
        (3, lambda: "/api/v1/lookup?zip=12"),
        (2, lambda: "/api/v1/lookup?zip=00000"),
        (15, lambda: f"/api/v1/campaigns/{SLUG}/count"),
        (5, lambda: f"/api/v1/campaigns/{SLUG}/count?ref=partner-{rng.randrange(50)}"),
        (5, lambda: f"/c/{SLUG}/members?zip={rng.choice(zips)}"),
        (5, lambda: f"/c/{SLUG}"),
        (5, lambda: f"/embed/{SLUG}"),
    ]
    weights = [w for w, _ in kinds]
    return [rng.choices(kinds, weights)[0][1]() for _ in range(MIXED_REQUESTS)]


def drive(base: str, paths: list[str]) -> int:
    """Request each path once; return how many answered 5xx."""
    return sum(1 for p in paths if (_status(base, p) or 599) >= 500)


def cold_start(settings: Mapping[str, object], log: Path) -> tuple[float, float]:
    """Return the seconds from starting `actiontool serve` to its first answer of a lookup, and the CPU
    seconds the process used until then (which, unlike the wall time, the neighbours do not stretch)."""
    port = free_port()
    start = time.perf_counter()
    with open(log, "ab") as out:
        command = [str(servers.BIN / "actiontool"), "serve", "--no-worker", "--port", str(port)]
        proc = subprocess.Popen(command, env=servers.environment(settings), stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        while _status(f"http://127.0.0.1:{port}", "/api/v1/lookup?zip=53703") != 200:
            if proc.poll() is not None or time.perf_counter() - start > 60:
                raise RuntimeError(f"actiontool serve did not answer:\n{log.read_text()[-4000:]}")
            time.sleep(0.01)
        return time.perf_counter() - start, cpu_seconds([proc.pid])
    finally:
        servers.stop(proc)


def compile_package() -> None:
    """Write the package's bytecode, as installing it does: a deployment does not compile at each start."""
    compileall.compile_dir(ROOT / "actiontool", quiet=1)


# -- the run ---------------------------------------------------------------------------------------

@dataclass
class MemoryReport:
    """The limits-on server's memory: its master after the preload, each worker after each batch."""

    master: Memory
    workers: list[tuple[Memory, Memory]]  # per worker: after the first batch, after the second
    errors: int  # mixed requests answered 5xx


@dataclass
class Report:
    """Everything the section shows."""

    rounds: list[dict[str, Result]]
    zips: list[str]
    memory: MemoryReport
    cold: list[tuple[float, float]]  # per start: wall seconds, CPU seconds
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]


def answered_zips(rng: random.Random, count: int) -> list[str]:
    """Return up to `count` ZIPs of the bundled data, in random order, that have an answer."""
    data = bundled()
    chosen = []
    for zip_code in rng.sample(sorted(data.zip_codes()), count):
        try:
            data.lookup(zip_code)
        except NotFound:
            continue
        chosen.append(zip_code)
    return chosen


def app_settings(tmp: Path, name: str, limits: bool) -> dict[str, object]:
    """Return the app's settings for one server: its own SQLite file, the benchmark's campaign."""
    campaigns = tmp / "campaigns"
    if not campaigns.exists():
        campaigns.mkdir()
        (campaigns / f"{SLUG}.yaml").write_text(CAMPAIGN.format(slug=SLUG), encoding="utf-8")
    return {"SECRET_KEY": "bench-http-secret-key", "CAMPAIGNS_DIR": campaigns,
            "RATELIMIT_STORAGE_URL": "memory://", "DATABASE_URL": f"sqlite:///{tmp / f'{name}.sqlite3'}",
            "RATELIMIT_ENABLED": "true" if limits else "false",
            # High enough never to refuse: this measures the cost of counting, not a 429.
            "RATELIMIT_LOOKUP": "100000000/minute", "RATELIMIT_COUNT": "100000000/minute"}


def throughput(tmp: Path, rotation: list[str], rng: random.Random, log: Path) -> list[dict[str, Result]]:
    """Start the floor and the app (limits off, on) side by side; alternate the endpoints under wrk."""
    with ExitStack() as stack:
        floor = stack.enter_context(gunicorn("bench._minimal:app", {}, "/ping", log))
        apps = {}
        for limits in ("off", "on"):
            apps[limits] = stack.enter_context(gunicorn(
                "actiontool.wsgi:app", app_settings(tmp, f"limits-{limits}", limits == "on"),
                "/api/v1/openapi.json", log))
        lookups = [f"/api/v1/lookup?zip={z}" for z in rotation]
        count = [f"/api/v1/campaigns/{SLUG}/count"]
        plan = [("minimal Flask endpoint", floor, ["/ping"]),
                (SECURED, floor, ["/secured/ping"])]
        for limits, server in apps.items():
            plan += [(f"lookup, limits {limits}", server, lookups),
                     (f"count, limits {limits}", server, count)]
        for _name, server, paths in plan:  # warm-up: every worker, every cache
            for path in paths * 4:
                _status(server.base, path)
        rounds = []
        for number in range(ROUNDS):
            measured = {}
            for name, server, paths in rng.sample(plan, len(plan)):
                measured[name] = wrk(server, paths, tmp)
                print(f"round {number + 1}: {name}: {measured[name].throughput:.0f}/s, "
                      f"{measured[name].cpu_us:.0f} µs CPU per request", file=sys.stderr)
            rounds.append({name: measured[name] for name, _server, _paths in plan})
    return rounds


def memory(tmp: Path, zips: list[str], log: Path) -> MemoryReport:
    """Start the app with limits on, send the mixed requests twice; read the master's and workers' memory."""
    with gunicorn("actiontool.wsgi:app", app_settings(tmp, "memory", True), "/api/v1/openapi.json",
                  log) as server:
        master = memory_mb(server.proc.pid)
        mix = mixed_paths(random.Random(SEED), zips)
        errors = drive(server.base, mix)
        first = {pid: memory_mb(pid) for pid in server.worker_pids()}
        errors += drive(server.base, mix)
        workers = [(first[pid], memory_mb(pid)) for pid in server.worker_pids()]
    print(f"memory: master {master}, workers {workers}", file=sys.stderr)
    return MemoryReport(master, workers, errors)


def measure(tmp: Path) -> Report:
    """Alternate the endpoints under wrk, then measure memory and cold start."""
    if shutil.which("wrk") is None:
        raise SystemExit("bench http needs wrk (Debian: apt-get install wrk)")
    rng = random.Random(SEED)
    zips = answered_zips(rng, MIXED_ZIPS + MIXED_ZIPS // 4)[:MIXED_ZIPS]
    rotation = zips[:ZIPS_IN_ROTATION]
    log = tmp / "servers.log"
    load_before = os.getloadavg()
    rounds = throughput(tmp, rotation, rng, log)
    used = memory(tmp, zips, log)
    settings = app_settings(tmp, "cold", True)
    compile_package()
    cold_start(settings, log)  # builds the schema: not a start an operator makes twice
    cold = [cold_start(settings, log) for _ in range(COLD_STARTS)]
    if "Traceback" in log.read_text():
        raise AssertionError(f"a server logged a traceback: {log}")
    return Report(rounds, rotation, used, cold, load_before, os.getloadavg())


# -- the section -----------------------------------------------------------------------------------

def ratio(result: Result, floor: Result) -> float:
    """Return a throughput as a multiple of the floor's in the same round."""
    return result.throughput / floor.throughput


def section(report: Report) -> str:
    """Return the markdown section for docs/PERFORMANCE.md."""
    floor_name = "minimal Flask endpoint"
    names = list(report.rounds[0])
    lines = [
        "## HTTP: the JSON API against a bare Flask endpoint (`python -m bench http`)",
        "",
        f"{machine()}, {os.cpu_count()} CPU cores shared by the servers and the client; load average "
        f"{' / '.join(f'{x:.1f}' for x in report.load_before)} before, "
        f"{' / '.join(f'{x:.1f}' for x in report.load_after)} after (other jobs ran meanwhile). "
        f"Three gunicorn servers side by side, each `--workers {WEB_WORKERS} {' '.join(GUNICORN_ARGS)}` on "
        "loopback: the floor (a bare Flask app whose one view returns `jsonify({\"ok\": True})`; the "
        "same app also answers it with the app's security headers added, a row for orientation), and "
        "`actiontool.wsgi:app` with rate limits off and on (memory storage, a limit never reached). "
        f"Client: wrk, {WRK_THREADS} threads x {WRK_CONNECTIONS} connections, {WRK_SECONDS} s per run; "
        f"the lookup rotates {len(report.zips)} ZIPs of the bundled data; the count is a live "
        "campaign's. "
        f"The endpoints alternate in {ROUNDS} rounds; each ratio is to the floor of the same round.",
        "",
        "| endpoint | round | requests/s | p50 | p99 | × floor | server CPU per request | non-2xx |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for number, measured in enumerate(report.rounds, 1):
        floor = measured[floor_name]
        for name in names:
            r = measured[name]
            shown = "" if name == floor_name else f"{ratio(r, floor):.2f}x"
            lines.append(f"| {name} | {number} | {r.throughput:.0f} | {r.p50:.1f} ms | {r.p99:.1f} ms | "
                         f"{shown} | {r.cpu_us:.0f} µs | {r.errors} |")
    lines += ["",
              "| endpoint | median ratio (throughput) | target | | floor's CPU per request / this one's |",
              "|---|---:|---|---|---:|"]
    for name, target in TARGETS.items():
        median = statistics.median(ratio(m[name], m[floor_name]) for m in report.rounds)
        cpu = statistics.median(m[floor_name].cpu_us / m[name].cpu_us for m in report.rounds)
        verdict = "met" if median >= target else "MISSED"
        lines.append(f"| {name} | {median:.2f}x | >= {target}x | {verdict} | {cpu:.2f}x |")
    used = report.memory
    worst = max(after.rss for _before, after in used.workers)
    growth = max(after.rss - before.rss for before, after in used.workers)
    lines += [
        "",
        f"Memory (a fresh limits-on server, {MIXED_REQUESTS:,} mixed requests twice: lookups by ZIP, ZIP+4, "
        f"point, invalid and unknown ZIP over {MIXED_ZIPS:,} ZIPs, counts with and without a ref, the "
        f"campaign, members and embed pages; {used.errors} answers 5xx). The master after the preload: "
        f"RSS {used.master.rss:.0f} MB, USS {used.master.uss:.0f} MB.",
        "",
        "| worker | RSS after 10,000 | RSS after 20,000 | PSS after 20,000 | USS after 20,000 |",
        "|---|---:|---:|---:|---:|",
        *[f"| {number} | {before.rss:.1f} MB | {after.rss:.1f} MB | {after.pss:.1f} MB | {after.uss:.1f} MB |"
          for number, (before, after) in enumerate(used.workers, 1)],
        "",
        f"Target RSS < {RSS_LIMIT_MB} MB per worker and no growth over the second batch: "
        + ("met" if worst < RSS_LIMIT_MB and growth < 1.0 else "MISSED")
        + f" (largest {worst:.1f} MB, largest growth {growth:+.1f} MB). RSS counts the pages a worker "
        "shares with the master and its sibling (the code and data loaded before the fork); PSS shares "
        "them out; USS is the worker's own.",
        "",
        "Cold start: `actiontool serve` answered its first lookup "
        f"{', '.join(f'{wall:.2f}' for wall, _cpu in report.cold)} s after the process started, having "
        f"used {', '.join(f'{cpu:.2f}' for _wall, cpu in report.cold)} s of CPU (target < "
        f"{COLD_START_LIMIT_S:.0f} s: "
        + ("met" if max(wall for wall, _cpu in report.cold) < COLD_START_LIMIT_S else "MISSED")
        + "). The package's bytecode is compiled first, as installing it does, and one start that builds "
        "the database's schema goes before these.",
        "",
        "Notes:",
        *NOTES,
    ]
    return "\n".join(lines)


NOTES = [
    "- What a lookup by ZIP costs now: its answer's JSON bytes are built once per ZIP and dataset (by the "
    "app's JSON provider, so byte for byte what `jsonify` gave; tests/web/test_lookup_cache.py compares "
    "every ZIP of the tiny dataset) and kept in a per-process LRU of 4096 answers; the answer carries an "
    "ETag and `Cache-Control: public, max-age=86400`, and `If-None-Match` gets 304. API requests open "
    "no cookie session. With limits off the views are not wrapped by Flask-Limiter at all.",
    "- Limits on: Flask-Limiter checked each limited request twice (a before-request pass over default "
    "and application limits, of which the app has none, then the view's wrapper); the first pass is "
    "dropped. Its `memory://` storage started a timer thread whenever a hit came 10 ms after the last "
    "sweep, and each start waited for the new thread to get the GIL; the app's storage sweeps inline "
    "once a second instead. Before both: 0.34x with limits on in the same setting.",
    "- Cut from the app's own path (issue 16, second pass; a cProfile of the WSGI call against the floor's): "
    "the security headers are worked out once per endpoint and appended in one go instead of set one by one "
    "(each `set` scanned the headers: a fifth of a cached answer's time in the app); the lookup's and the "
    "count's own headers are built once; Flask-Limiter's after-request and teardown hooks are removed when "
    "limits are off; the cross-site check runs only on the organizer blueprints; the NUL and language hooks "
    "skip a request whose raw query string holds no `%00` / `lang=` without decoding it; `MultiDict.get` "
    "misses (which raise and catch an exception inside) are avoided on the two API views. The funnel counts "
    "nothing on the API (it names no campaign).",
    "- Limits on: the lookup's limit is checked with the `limits` library directly (web/limits.py, "
    "DirectLimit): one hit and one window read per request on Flask-Limiter's storage and keys, the same "
    "X-RateLimit-* and Retry-After headers and the same 429, an in-memory fallback while the storage is "
    "down; Flask-Limiter's header hook passes over it. In-process, a cached lookup with limits on went from "
    "about 250 to 135 µs of CPU (floor 50 µs); the members page and the POST forms keep Flask-Limiter.",
    "- What is left of the gap is the policy's price (the security headers, which the floor-plus-headers row "
    "shows) and Flask's per-hook cost for the hooks every page needs (language, sign-in cookie, headers).",
    "- The count is cached per process for COUNT_CACHE_SECONDS (5 s), and its JSON bytes with it: its "
    "CPU per request stays near the lookup's, with no database read on the path (an uncached read "
    "costs about 1-2 ms, see the stats section). Its remaining cost over the lookup is finding the "
    "campaign, checking `?ref=` and the cross-origin header partner pages need.",
    "- The machine is shared with other jobs: single rounds vary by a third; read the medians, and the "
    "CPU-per-request ratio, which does not depend on how much CPU the neighbours leave.",
    "- Third pass (memory, cold start, the last of the per-request cost). What a worker held: with "
    "`--preload` a worker's RSS is the master's resident pages plus its own, so the cut had to come from "
    "what the master imports. Measured in one process (VmRSS after each step): Flask and SQLAlchemy "
    "44 MB, `create_app` +82 MB, the dataset +10 MB, the boundaries +2 MB; of `create_app`'s share, "
    "the packet PDF renderer (fpdf with fontTools, uharfbuzz and Pillow) was about 28 MB, Alembic about "
    "10 MB. A worker's own pages (USS) are what it builds after the fork (the lookup's LRU of up to "
    "4096 answers of about 2 KB, the count and dashboard caches, Babel catalogs, compiled templates) "
    "and the master's pages that reference counting copies on first touch (`gc.freeze()` after the "
    "preload keeps the collector from copying the rest). Now the PDF renderer is imported on "
    "the first packet, Alembic only when the schema is not current (one query and the version files "
    "say when it is; tests/migrations holds the quick head to Alembic's), numpy and shapely by the "
    "dashboard only when it draws the map (a gunicorn master still loads them for the point lookup's "
    "boundaries), the sign-in's dummy scrypt hash on the first unknown-account sign-in (it cost "
    "0.28 s of CPU at every import), and the crawler list before the fork (web/funnel.py), so the "
    "workers share it. tests/test_core_imports.py holds a web process on a current database to "
    "importing none of fpdf, numpy, shapely or Alembic for a lookup by ZIP.",
    "- Cold start: CPU from process start to the first lookup answered, in one process (create_app "
    "and one lookup through the test client, bytecode compiled): 1.3-1.4 s before this pass, "
    "0.8-0.9 s after it; the rest is importing Flask, SQLAlchemy, Babel, Flask-Limiter and the app's "
    "own modules, reading the campaigns (each letter render-checked) and the ZIP table. The wall time "
    "is that CPU stretched by the machine's load: at a load average of 10 on 2 cores a process gets "
    "about a fifth of a core.",
    "- The last per-request cost (cProfile of a cached lookup against the floor): Werkzeug's "
    "`Headers.add` checked and converted each of the ~19 fixed headers on every answer; they are now "
    "checked once when built (web/headers.py) and appended as they are. Flask asked "
    "`inspect.iscoroutinefunction` of each of eight hooks and the view on every request "
    "(`ensure_sync`); the app's Flask class remembers the answer (web/application.py).",
    "- The count API has a rate limit of its own (RATELIMIT_COUNT, per IP, checked like the lookup's by "
    "DirectLimit); the limits-on rows above count it, at a limit never reached.",
]


def run() -> str:
    """Run the HTTP benchmark; return its section."""
    with tempfile.TemporaryDirectory(prefix="actiontool-http-") as tmp:
        return section(measure(Path(tmp)))


if __name__ == "__main__":
    print(run())
