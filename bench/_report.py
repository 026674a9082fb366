"""Write one benchmark's section into docs/PERFORMANCE.md, leaving the other sections as they are."""

from __future__ import annotations

import platform
import re
import sys
from pathlib import Path

PERFORMANCE_MD = Path(__file__).resolve().parent.parent / "docs" / "PERFORMANCE.md"
HEADER = (
    "# Performance\n\n"
    "Each section is written by a benchmark under `bench/` (`python -m bench` runs them all,\n"
    "`python -m bench <name>` one). Limits are checked as ratios against a baseline measured in the same\n"
    "run, so the numbers travel between machines; the absolute times are for orientation only.\n"
)


def machine() -> str:
    """Return a one-line description of the machine and interpreter."""
    return f"Python {sys.version.split()[0]} on {platform.system()} {platform.machine()}"


def write_section(name: str, markdown: str, path: Path = PERFORMANCE_MD) -> None:
    """Replace (or append) the section between the `bench:<name>` markers."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
