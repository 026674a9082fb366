"""The pure core and `actiontool lookup` import neither Flask nor the database (issue 9: startup time)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("flask", "sqlalchemy", "werkzeug", "flask_wtf", "flask_login")


def _modules_after(code: str, cwd: Path) -> set[str]:
    """Run `code` in a fresh interpreter and return the top-level modules it imported."""
    probe = f"{code}\nimport sys\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


@pytest.mark.parametrize("module", ["actiontool.districts", "actiontool.campaigns", "actiontool.letters"])
def test_importing_a_core_module_loads_no_web_framework_or_database(module: str, tmp_path: Path) -> None:
    loaded = _modules_after(f"import {module}", tmp_path)
    assert "actiontool" in loaded
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_the_lookup_command_runs_without_importing_flask(tmp_path: Path) -> None:
    # standalone_mode=False returns instead of exiting, so the probe can print what was imported.
    code = "from actiontool.cli import main\nmain(['lookup', '53703', '--json'], standalone_mode=False)"
    loaded = _modules_after(code, tmp_path)
    assert "click" in loaded
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))



def test_every_command_module_provides_the_command_named_after_it() -> None:
    # The group finds a command by importing the module of the same name: a mismatch would hide it.
    from click.testing import CliRunner

    from actiontool.cli import _COMMAND_MODULES, main

    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    listed = {line.split()[0] for line in result.output.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == set(_COMMAND_MODULES)


def test_a_web_process_on_a_current_database_imports_no_pdf_map_or_migration_library(tmp_path: Path) -> None:
    # What `actiontool serve` and every web worker pay at start: the packet PDF (fpdf), the map's geometry
    # (numpy, shapely) and Alembic are imported on first use, not for a lookup by ZIP.
    root = Path(__file__).resolve().parent.parent
    start = ("import os, sys\n"
             f"sys.path.insert(0, {str(root)!r})\n"
             f"os.environ['ACTIONTOOL_DATABASE_URL'] = 'sqlite:///{tmp_path / 'web.sqlite3'}'\n"
             "os.environ['ACTIONTOOL_SECRET_KEY'] = 'a-test-secret-key-of-some-length'\n"
             "from actiontool import create_app\n"
             "app = create_app()\n"
             "assert app.test_client().get('/api/v1/lookup?zip=53703').status_code == 200\n")
    _modules_after(start, tmp_path)  # the first start builds the schema (with Alembic)
    loaded = _modules_after(start, tmp_path)
    assert "flask" in loaded
    assert loaded.isdisjoint({"fpdf", "fontTools", "PIL", "numpy", "shapely", "alembic"}), loaded
