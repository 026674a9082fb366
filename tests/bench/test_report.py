"""bench/_report.py: a benchmark rewrites its own section of PERFORMANCE.md and leaves the others alone."""

from __future__ import annotations

from pathlib import Path

from bench._report import write_section


def test_a_section_is_appended_then_replaced_without_touching_others(tmp_path: Path) -> None:
    path = tmp_path / "PERFORMANCE.md"
    write_section("one", "## One\nfirst", path)
    write_section("two", "## Two\nkept", path)
    write_section("one", "## One\nsecond", path)
    text = path.read_text()
    assert text.startswith("# Performance")
    assert "second" in text and "first" not in text
    assert text.count("<!-- bench:one -->") == 1
    assert "<!-- bench:two -->\n## Two\nkept\n<!-- /bench:two -->" in text
    assert text.index("bench:one") < text.index("bench:two")
