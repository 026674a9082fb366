"""Benchmarks. Each module `bench/<name>.py` defines `run() -> str`, which measures against a baseline
taken in the same run and returns a Markdown section; `python -m bench` runs them all,
`python -m bench <name>` one, and each section is written into docs/PERFORMANCE.md (bench/_report.py)."""
