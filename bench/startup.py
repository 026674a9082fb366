"""Startup benchmark: wall time of `actiontool lookup 53703 --json`, a whole process (target: < 0.25 s).

The command is documented as needing neither the web app nor a database, so its cost should be the
interpreter, click, the pure `actiontool.districts` and the data load. Each run is a fresh process (the
console script's own import and call), timed from start to exit, in turn with the baselines so that
machine noise hits all of them alike. ACTIONTOOL_BENCH_BEFORE=<folder of another checkout> adds a column
measuring that checkout the same way (its `actiontool` package first on PYTHONPATH).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench._report import machine

REPEATS = 21
LIMIT_S = 0.25
ZIP = "53703"
# What the `actiontool` console script runs.
_LOOKUP = ("import sys; from actiontool.cli import main; "
           f"sys.argv = ['actiontool', 'lookup', '{ZIP}', '--json']; main()")
_HEAVY = ("flask", "sqlalchemy", "jinja2", "yaml", "shapely", "numpy")


def _command(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def _env(checkout: Path | None) -> dict[str, str]:
    """Return the environment that puts `checkout` (or this one) first on the import path."""
    return {**os.environ, "PYTHONPATH": str(checkout or Path(__file__).resolve().parent.parent)}


def _run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `cmd` in the checkout on its PYTHONPATH (`python -c` puts the working folder first)."""
    return subprocess.run(cmd, env=env, cwd=env["PYTHONPATH"], check=True, capture_output=True, text=True)


def _interleaved(runs: dict[str, tuple[list[str], dict[str, str]]]) -> dict[str, float]:
    """Return the median wall time in seconds of each command, run in turn REPEATS times after a warm-up."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(REPEATS + 1):
        for name, (cmd, env) in runs.items():
            start = time.perf_counter()
            _run(cmd, env)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values[1:]) for name, values in times.items()}


def _heavy_modules(env: dict[str, str]) -> list[str]:
    """Return which of the heavy modules the lookup command imports (from `python -X importtime`)."""
    result = _run([sys.executable, "-X", "importtime", "-c", _LOOKUP], env)
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    return [name for name in _HEAVY if name in imported]


def run() -> str:
    """Run the startup benchmark and return its Markdown section."""
    before_dir = os.environ.get("ACTIONTOOL_BENCH_BEFORE")
    before = Path(before_dir).resolve() if before_dir else None
    here = _env(None)
    runs = {
        "interpreter": (_command("pass"), here),
        "click": (_command("import click"), here),
        "flask": (_command("import flask"), here),
        "lookup": (_command(_LOOKUP), here),
    }
    if before is not None:
        runs["before"] = (_command(_LOOKUP), _env(before))
        outputs = {_run(cmd, env).stdout
                   for name, (cmd, env) in runs.items() if name in ("lookup", "before")}
        assert len(outputs) == 1, "the two checkouts answer differently"
    medians = _interleaved(runs)
    lookup_s = medians["lookup"]
    heavy = _heavy_modules(here)
    rows = [
        ("interpreter start (`python -c pass`)", medians["interpreter"], ""),
        ("`import click`", medians["click"], ""),
        ("`import flask` (for comparison: what every command paid before)", medians["flask"], ""),
        (f"`actiontool lookup {ZIP} --json`", lookup_s,
         f"< {LIMIT_S * 1000:.0f} ms: {'ok' if lookup_s < LIMIT_S else '**over the limit**'}"),
    ]
    table = ["| process | median wall | target |", "|---|---:|---|"]
    table += [f"| {name} | {seconds * 1000:.0f} ms | {target} |" for name, seconds, target in rows]
    if before is not None:
        table.append(f"| the same command before (the checkout in ACTIONTOOL_BENCH_BEFORE) "
                     f"| {medians['before'] * 1000:.0f} ms | |")
    return "\n".join([
        "## Startup (`python -m bench startup`)",
        "",
        f"Whole processes on the bundled data, {machine()}; medians of {REPEATS} runs of each, run in turn "
        "(after one warm-up round).",
        "",
        *table,
        "",
        "Notes:",
        "- Heavy modules the lookup command imports: " + (", ".join(heavy) if heavy else "none") +
        f" (of {', '.join(_HEAVY)}). The command group imports a command's module only when that command "
        "runs, and `import actiontool` no longer imports Flask, so the command pays for the interpreter, "
        "click, `actiontool.districts` and the data load (about 45 ms, see Lookup).",
        "- Before issue 9 (commit d278a9d) `actiontool/__init__.py` imported Flask and the command group "
        "was Flask's, importing every command module at start. Reproduce the comparison: "
        "`git archive d278a9d | tar -x -C /tmp/before` and "
        "`ACTIONTOOL_BENCH_BEFORE=/tmp/before python -m bench startup`.",
    ])
