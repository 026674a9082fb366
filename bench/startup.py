"""Startup benchmark: wall time of `actiontool lookup 53703 --json`, a whole process (target: < 0.25 s).

The command is documented as needing neither the web app nor a database, so its cost should be the
interpreter, click, the pure `actiontool.districts` and the data load. Each run is a fresh process (the
console script's own import and call), timed from start to exit, in turn with the baselines so that
machine noise hits all of them alike. The target is judged on the process's CPU time (user + system):
on a shared machine the wall time also counts waiting for a core, which says more about the neighbours
than about the command. ACTIONTOOL_BENCH_BEFORE=<folder of another checkout> adds a row measuring that
checkout the same way (its `actiontool` package first on PYTHONPATH).
"""

from __future__ import annotations

import os
import resource
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


def _children_cpu() -> float:
    """Return the CPU seconds (user + system) used so far by this process's finished children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _interleaved(runs: dict[str, tuple[list[str], dict[str, str]]]) -> dict[str, tuple[float, float]]:
    """Return (median wall, median CPU) seconds of each command, run in turn REPEATS times after a warm-up."""
    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(REPEATS + 1):
        for name, (cmd, env) in runs.items():
            start, start_cpu = time.perf_counter(), _children_cpu()
            _run(cmd, env)
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(_children_cpu() - start_cpu)
    return {name: (statistics.median(wall[name][1:]), statistics.median(cpu[name][1:])) for name in runs}


def _heavy_modules(env: dict[str, str]) -> list[str]:
    """Return which of the heavy modules the lookup command imports (from `python -X importtime`)."""
    result = _run([sys.executable, "-X", "importtime", "-c", _LOOKUP], env)
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    return [name for name in _HEAVY if name in imported]


def _load() -> str:
    """Return the 1, 5 and 15 minute load averages."""
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


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
    lookup_cpu = medians["lookup"][1]
    heavy = _heavy_modules(here)
    rows = [
        ("interpreter start (`python -c pass`)", "interpreter", ""),
        ("`import click`", "click", ""),
        ("`import flask` (for comparison: what every command paid before)", "flask", ""),
        (f"`actiontool lookup {ZIP} --json`", "lookup",
         f"< {LIMIT_S * 1000:.0f} ms: {'ok' if lookup_cpu < LIMIT_S else '**over the limit**'}"),
    ]
    if before is not None:
        rows.append(("the same command before (the checkout in ACTIONTOOL_BENCH_BEFORE)", "before", ""))
    table = ["| process | median CPU | median wall | target |", "|---|---:|---:|---|"]
    table += [f"| {label} | {medians[name][1] * 1000:.0f} ms | {medians[name][0] * 1000:.0f} ms | {target} |"
              for label, name, target in rows]
    return "\n".join([
        "## Startup (`python -m bench startup`)",
        "",
        f"Whole processes on the bundled data, {machine()}, load average {_load()} at the end; medians of "
        f"{REPEATS} runs of each, run in turn (after one warm-up round). Target: under {LIMIT_S:g} s, judged "
        "on CPU time (see the module docstring of bench/startup.py).",
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
