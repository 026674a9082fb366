"""Run the benchmarks: `python -m bench` (all) or `python -m bench <name> ...`; see docs/PERFORMANCE.md."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import bench
from bench._report import PERFORMANCE_MD, write_section


def available() -> list[str]:
    """Return the names of the benchmark modules (every bench/<name>.py not starting with _)."""
    return sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    """Run the named benchmarks (all when none are named) and write their sections."""
    names = argv or available()
    unknown = [n for n in names if n not in available()]
    if unknown:
        known = ", ".join(available())
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {known}", file=sys.stderr)
        return 2
    for name in names:
        print(f"== {name}", file=sys.stderr)
        section = importlib.import_module(f"bench.{name}").run()
        write_section(name, section)
        print(section)
    print(f"written to {PERFORMANCE_MD.name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
