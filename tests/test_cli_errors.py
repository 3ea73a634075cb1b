"""The CLI's edge: errors a person can fix are one clear message (exit 2); bugs keep a traceback.

Every exception class limes defines descends from `LimesError`, so the edge can map exactly the
known ones and nothing else.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import limes
from limes.cli import app
from limes.errors import LimesError

runner = CliRunner()


def _limes_modules() -> list[str]:
    names = [m.name for m in pkgutil.walk_packages(limes.__path__, "limes.")]
    # Migrations are scripts for alembic; __main__ modules run on import.
    return [n for n in names if ".migrations." not in n and not n.endswith("__main__")]


def test_every_exception_limes_defines_descends_from_limes_error() -> None:
    strays = []
    for name in _limes_modules():
        module = importlib.import_module(name)
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            # Errors, not control flow (a stop request is not an error).
            if cls.__module__ != name or not issubclass(cls, BaseException):
                continue
            if not cls_name.endswith("Error"):
                continue
            if not issubclass(cls, LimesError):
                strays.append(f"{name}.{cls_name}")
    assert strays == []


def test_a_known_error_is_one_clear_message_and_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    result = runner.invoke(app, ["scenario", "show", str(missing)])
    assert result.exit_code == 2, result.output
    assert "nowhere.yaml" in result.output
    assert "Traceback" not in result.output


def test_a_command_line_that_cannot_work_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", "iraq-syria", "--udp", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2, result.output
    assert "--udp goes with --cot" in result.output


def test_a_bug_raising_value_error_is_not_called_bad_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import limes.scenario.load

    def broken(name: str) -> None:
        raise ValueError("an index went wrong")

    monkeypatch.setattr(limes.scenario.load, "load_scenario", broken)
    result = runner.invoke(app, ["scenario", "show", "iraq-syria"])
    assert result.exit_code == 1
    assert isinstance(result.exception, ValueError)
    assert "error: an index went wrong" not in result.output


def test_a_bug_shows_its_traceback_on_the_terminal(tmp_path: Path) -> None:
    """Through the real console script: Python's own traceback reaches stderr."""
    script = tmp_path / "bug.py"
    script.write_text(
        "import sys\n"
        "import limes.scenario.load as load\n"
        "def broken(name):\n"
        "    raise ValueError('an index went wrong')\n"
        "load.load_scenario = broken\n"
        "from limes.cli import main\n"
        "sys.argv = ['limes', 'scenario', 'show', 'iraq-syria']\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert "Traceback (most recent call last)" in done.stderr
    assert "ValueError: an index went wrong" in done.stderr
